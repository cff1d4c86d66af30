/* Domain XML: every corpus file parses, formats to schema-valid XML, and
 * re-parses to the same typed values; libvirt's own normalisation (virsh
 * with the test driver) agrees with ours; unknown XML survives; errors name
 * the file, line and element. */
#include <ctype.h>
#include <inttypes.h>

#include "test-xml-util.h"

#include "core/model/domain.h"
#include "core/base/err.h"

static struct domain *parse_file(const char *path)
{
    size_t len;
    char *xml = test_read_file(path, &len);
    struct domain *d = NULL;
    if (domain_parse(xml, len, path, &d) < 0)
        fail_msg("%s: %s", path, err_msg());
    free(xml);
    return d;
}

static struct domain *parse_str(const char *xml)
{
    struct domain *d = NULL;
    if (domain_parse(xml, strlen(xml), "t.xml", &d) < 0)
        fail_msg("t.xml: %s", err_msg());
    return d;
}

/* Parse must fail with exactly this message. */
static void expect_error(const char *xml, const char *msg)
{
    struct domain *d = (void *)1;
    err_clear();
    assert_int_equal(domain_parse(xml, strlen(xml), "web.xml", &d), -1);
    assert_null(d);
    assert_string_equal(err_msg(), msg);
}

static void compare_domains(const struct domain *a, const struct domain *b)
{
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->uuid, b->uuid);
    assert_str_eq_null(a->title, b->title);
    assert_str_eq_null(a->description, b->description);
    assert_string_equal(a->type, b->type);
    assert_int_equal(a->memory_kib, b->memory_kib);
    assert_int_equal(a->current_memory_kib, b->current_memory_kib);
    assert_int_equal(a->max_memory_kib, b->max_memory_kib);
    assert_int_equal(a->max_memory_slots, b->max_memory_slots);
    assert_int_equal(a->vcpus, b->vcpus);
    assert_int_equal(a->vcpus_current, b->vcpus_current);
    assert_str_eq_null(a->vcpu_placement, b->vcpu_placement);
    assert_str_eq_null(a->cpu_mode, b->cpu_mode);
    assert_str_eq_null(a->cpu_model, b->cpu_model);
    assert_int_equal(a->cpu_sockets, b->cpu_sockets);
    assert_int_equal(a->cpu_dies, b->cpu_dies);
    assert_int_equal(a->cpu_cores, b->cpu_cores);
    assert_int_equal(a->cpu_threads, b->cpu_threads);
    assert_string_equal(a->os_type, b->os_type);
    assert_str_eq_null(a->os_arch, b->os_arch);
    assert_str_eq_null(a->os_machine, b->os_machine);
    assert_str_eq_null(a->os_kernel, b->os_kernel);
    assert_str_eq_null(a->os_initrd, b->os_initrd);
    assert_str_eq_null(a->os_cmdline, b->os_cmdline);
    assert_str_eq_null(a->os_loader, b->os_loader);
    assert_int_equal(a->os_nboot, b->os_nboot);
    for (unsigned i = 0; i < a->os_nboot; i++)
        assert_string_equal(a->os_boot[i], b->os_boot[i]);
    assert_int_equal(a->acpi, b->acpi);
    assert_int_equal(a->apic, b->apic);
    assert_str_eq_null(a->clock_offset, b->clock_offset);
    assert_str_eq_null(a->on_poweroff, b->on_poweroff);
    assert_str_eq_null(a->on_reboot, b->on_reboot);
    assert_str_eq_null(a->on_crash, b->on_crash);

    assert_int_equal(a->ndisks, b->ndisks);
    for (size_t i = 0; i < a->ndisks; i++) {
        const struct domain_disk *x = &a->disks[i], *y = &b->disks[i];
        assert_str_eq_null(x->type, y->type);
        assert_str_eq_null(x->device, y->device);
        assert_str_eq_null(x->driver_name, y->driver_name);
        assert_str_eq_null(x->driver_type, y->driver_type);
        assert_str_eq_null(x->cache, y->cache);
        assert_str_eq_null(x->discard, y->discard);
        assert_str_eq_null(x->source, y->source);
        assert_str_eq_null(x->source_pool, y->source_pool);
        assert_str_eq_null(x->source_volume, y->source_volume);
        assert_string_equal(x->target_dev, y->target_dev);
        assert_str_eq_null(x->target_bus, y->target_bus);
        assert_int_equal(x->readonly, y->readonly);
        assert_int_equal(x->shareable, y->shareable);
        assert_int_equal(x->boot_order, y->boot_order);
        assert_str_eq_null(x->serial, y->serial);
    }
    assert_int_equal(a->nnics, b->nnics);
    for (size_t i = 0; i < a->nnics; i++) {
        const struct domain_nic *x = &a->nics[i], *y = &b->nics[i];
        assert_string_equal(x->type, y->type);
        assert_string_equal(x->mac, y->mac);
        assert_str_eq_null(x->source, y->source);
        assert_str_eq_null(x->model, y->model);
        assert_str_eq_null(x->target_dev, y->target_dev);
        assert_str_eq_null(x->link_state, y->link_state);
        assert_int_equal(x->boot_order, y->boot_order);
    }
    assert_int_equal(a->ngraphics, b->ngraphics);
    for (size_t i = 0; i < a->ngraphics; i++) {
        const struct domain_graphics *x = &a->graphics[i], *y = &b->graphics[i];
        assert_string_equal(x->type, y->type);
        assert_int_equal(x->port, y->port);
        assert_int_equal(x->autoport, y->autoport);
        assert_str_eq_null(x->listen, y->listen);
        assert_str_eq_null(x->passwd, y->passwd);
    }
    assert_int_equal(a->nchardevs, b->nchardevs);
    for (size_t i = 0; i < a->nchardevs; i++) {
        const struct domain_chardev *x = &a->chardevs[i], *y = &b->chardevs[i];
        assert_string_equal(x->element, y->element);
        assert_str_eq_null(x->type, y->type);
        assert_str_eq_null(x->source_path, y->source_path);
        assert_str_eq_null(x->target_type, y->target_type);
        assert_int_equal(x->target_port, y->target_port);
        assert_str_eq_null(x->target_name, y->target_name);
    }
    assert_int_equal(a->ndevices, b->ndevices);
    for (size_t i = 0; i < a->ndevices; i++) {
        const struct domain_device *x = &a->devices[i], *y = &b->devices[i];
        assert_string_equal(x->element, y->element);
        assert_str_eq_null(x->type, y->type);
        assert_str_eq_null(x->model, y->model);
        assert_str_eq_null(x->bus, y->bus);
        assert_str_eq_null(x->backend, y->backend);
        assert_int_equal(x->index, y->index);
    }
}

/* parse -> format -> validate -> parse: same values, and formatting is stable. */
static void test_corpus_roundtrip(void **state)
{
    (void)state;
    size_t n;
    char **files = test_corpus("domain", &n);
    assert_true(n >= 30);
    for (size_t i = 0; i < n; i++) {
        struct domain *a = parse_file(files[i]);
        char *text = domain_format(a);
        assert_non_null(text);
        assert_true(strncmp(text, "<?xml", 5) != 0);
        test_validate(text, "domain", files[i]);
        struct domain *b = parse_str(text);
        compare_domains(a, b);
        char *again = domain_format(b);
        assert_string_equal(text, again);
        free(again);
        free(text);
        domain_free(a);
        domain_free(b);
    }
    test_free_list(files);
}

/* libvirt itself is the oracle for normalisation: define every corpus file
 * in virsh's test driver and compare what it dumps with what we parsed. */
static void test_corpus_matches_virsh(void **state)
{
    (void)state;
    size_t n;
    char **files = test_corpus("domain", &n);
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *xml = test_read_file(files[i], &len);
        bool had_uuid = strstr(xml, "<uuid>") != NULL;
        free(xml);
        struct domain *ours = parse_file(files[i]);
        char *dump = NULL;
        int rc = test_run(&dump, "virsh -q -c test:///default 'define %s; dumpxml --inactive %s'",
                          files[i], ours->name);
        if (rc != 0)
            fail_msg("%s: virsh define failed:\n%s", files[i], dump);
        struct domain *virsh = parse_str(dump);
        assert_string_equal(ours->name, virsh->name);
        if (had_uuid)
            assert_string_equal(ours->uuid, virsh->uuid);
        assert_int_equal(ours->memory_kib, virsh->memory_kib);
        assert_int_equal(ours->current_memory_kib, virsh->current_memory_kib);
        assert_int_equal(ours->max_memory_kib, virsh->max_memory_kib);
        assert_int_equal(ours->max_memory_slots, virsh->max_memory_slots);
        assert_int_equal(ours->vcpus, virsh->vcpus);
        assert_int_equal(ours->vcpus_current, virsh->vcpus_current);
        assert_str_eq_null(ours->vcpu_placement, virsh->vcpu_placement);
        assert_str_eq_null(ours->cpu_mode, virsh->cpu_mode);
        assert_int_equal(ours->cpu_cores, virsh->cpu_cores);
        assert_str_eq_null(ours->os_kernel, virsh->os_kernel);
        assert_str_eq_null(ours->os_initrd, virsh->os_initrd);
        assert_str_eq_null(ours->os_cmdline, virsh->os_cmdline);
        assert_str_eq_null(ours->title, virsh->title);
        assert_str_eq_null(ours->description, virsh->description);
        assert_int_equal(ours->ndisks, virsh->ndisks);
        /* libvirt sorts disks by bus and target; match them by target. */
        for (size_t j = 0; j < ours->ndisks; j++) {
            const struct domain_disk *x = &ours->disks[j], *y = NULL;
            for (size_t k = 0; k < virsh->ndisks && !y; k++)
                if (!strcmp(virsh->disks[k].target_dev, x->target_dev))
                    y = &virsh->disks[k];
            if (!y)
                fail_msg("%s: virsh lost disk %s", files[i], x->target_dev);
            assert_str_eq_null(x->source, y->source);
            assert_str_eq_null(x->cache, y->cache);
            assert_str_eq_null(x->target_bus, y->target_bus);
            assert_int_equal(x->readonly, y->readonly);
            assert_int_equal(x->shareable, y->shareable);
        }
        /* Consoles are mirrored as serial ports, serial ports numbered. */
        size_t nchar = 0;
        for (size_t j = 0; j < virsh->nchardevs; j++)
            if (strcmp(virsh->chardevs[j].element, "channel"))
                nchar++;
        for (size_t j = 0, k = 0; j < ours->nchardevs; j++) {
            if (!strcmp(ours->chardevs[j].element, "channel"))
                continue;
            while (!strcmp(virsh->chardevs[k].element, "channel"))
                k++;
            assert_string_equal(ours->chardevs[j].element, virsh->chardevs[k].element);
            assert_int_equal(ours->chardevs[j].target_port, virsh->chardevs[k].target_port);
            assert_str_eq_null(ours->chardevs[j].target_type, virsh->chardevs[k].target_type);
            k++;
            nchar--;
        }
        assert_int_equal(nchar, 0);
        /* Controller indexes, libvirt's implicit controllers aside. */
        for (size_t j = 0; j < ours->ndevices; j++) {
            const struct domain_device *x = &ours->devices[j];
            if (strcmp(x->element, "controller"))
                continue;
            bool found = false;
            for (size_t k = 0; k < virsh->ndevices && !found; k++) {
                const struct domain_device *y = &virsh->devices[k];
                /* tvm writes its SCSI default (virtio-scsi); the test driver none */
                bool scsi_default = !strcmp(x->type, "scsi") && x->model &&
                                    !strcmp(x->model, "virtio-scsi") && !y->model;
                bool same_model = (!y->model && !x->model) ||
                                  (y->model && x->model && !strcmp(y->model, x->model));
                found = !strcmp(y->element, "controller") && !strcmp(y->type, x->type) &&
                        (same_model || scsi_default) && y->index == x->index;
            }
            if (!found)
                fail_msg("%s: controller %s/%s index %d not in virsh's", files[i], x->type,
                         x->model, x->index);
        }
        assert_int_equal(ours->ngraphics, virsh->ngraphics);
        for (size_t j = 0; j < ours->ngraphics; j++) {
            assert_int_equal(ours->graphics[j].autoport, virsh->graphics[j].autoport);
            assert_int_equal(ours->graphics[j].port, virsh->graphics[j].port);
            assert_str_eq_null(ours->graphics[j].listen, virsh->graphics[j].listen);
        }
        assert_int_equal(ours->nnics, virsh->nnics);
        for (size_t j = 0; j < ours->nnics && had_uuid; j++)
            if (strncmp(ours->nics[j].mac, "52:54:00", 8) || strstr(files[i], "nic-"))
                assert_string_equal(ours->nics[j].mac, virsh->nics[j].mac);
        free(dump);
        domain_free(ours);
        domain_free(virsh);
    }
    test_free_list(files);
}

/* Everything tvm does not model comes back byte for byte: this file is
 * already in normal form, so the output is the input. */
static void test_unknown_kept(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s/xml/domain/hand-unknown.xml", test_data_dir());
    char *in = test_read_file(path, NULL);
    struct domain *d = parse_file(path);
    char *out = domain_format(d);
    assert_string_equal(out, in);
    const char *kept[] = {
        "<app:owner team=\"web\">alice</app:owner>",
        "<entry name='serial'>XYZ-42</entry>",
        "<total_iops_sec>500</total_iops_sec>",
        "<inbound average='1000' peak='5000' burst='1024'/>",
        "<seclabel type='none' model='none'/>",
        "<driver name='qemu' type='qcow2' cache='none' io='native'/>",
        "<timer name='hpet' present='no'/>",
    };
    for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
        if (!strstr(out, kept[i]))
            fail_msg("lost '%s'", kept[i]);
    assert_int_equal(d->ndevices, 2); /* filesystem, panic */
    assert_string_equal(d->disks[0].driver_type, "qcow2");
    assert_string_equal(d->disks[0].driver_name, "qemu");
    assert_string_equal(d->devices[0].element, "filesystem");
    free(out);
    free(in);
    domain_free(d);
}

/* Field values from the corpus, checked against libvirt's documented rules. */
static void test_values(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s/xml/domain/mem-units-gib.xml", test_data_dir());
    struct domain *d = parse_file(path);
    assert_int_equal(d->memory_kib, 2 * 1024 * 1024);                    /* 2 GiB */
    assert_int_equal(d->current_memory_kib, (1500000000 + 1023) / 1024); /* 1500 MB rounded up */
    assert_int_equal(d->max_memory_kib, 8192 * 1024);
    assert_int_equal(d->max_memory_slots, 16);
    char *out = domain_format(d);
    assert_non_null(strstr(out, "<memory unit='KiB'>2097152</memory>"));
    assert_non_null(strstr(out, "<currentMemory unit='KiB'>1464844</currentMemory>"));
    free(out);
    domain_free(d);

    snprintf(path, sizeof(path), "%s/xml/domain/full.xml", test_data_dir());
    d = parse_file(path);
    assert_int_equal(d->vcpus, 4);
    assert_int_equal(d->cpu_cores, 2);
    assert_int_equal(d->cpu_threads, 2);
    assert_string_equal(d->cpu_mode, "host-passthrough");
    assert_string_equal(d->os_kernel, "/var/lib/tvm/vmlinuz");
    assert_string_equal(d->os_cmdline, "console=ttyS0");
    assert_int_equal(d->ndisks, 2);
    assert_string_equal(d->disks[0].cache, "none");
    assert_string_equal(d->disks[0].discard, "unmap");
    assert_true(d->disks[1].readonly);
    assert_int_equal(d->nnics, 2);
    assert_string_equal(d->nics[0].mac, "52:54:00:fa:ce:01");
    assert_string_equal(d->nics[1].type, "bridge");
    assert_string_equal(d->nics[1].source, "br0");
    assert_int_equal(d->ngraphics, 1);
    assert_int_equal(d->graphics[0].port, 5910);
    assert_false(d->graphics[0].autoport);
    assert_string_equal(d->graphics[0].listen, "127.0.0.1");
    domain_free(d);

    snprintf(path, sizeof(path), "%s/xml/domain/metadata.xml", test_data_dir());
    d = parse_file(path);
    /* virt-install wrote it in upper case; libvirt stores lower case. */
    assert_string_equal(d->uuid, "4b1f3e0a-9c2d-4e5f-8a6b-7c8d9e0f1a2b");
    assert_string_equal(d->title, "Web server");
    assert_string_equal(d->description, "Front end\nsecond line");
    domain_free(d);
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
            return false;
    return true;
}

/* Missing uuid and MACs are generated, inserted where libvirt puts them, valid. */
static void test_generated(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s/xml/domain/hand-generate.xml", test_data_dir());
    struct domain *a = parse_file(path), *b = parse_file(path);
    assert_string_not_equal(a->uuid, b->uuid);
    const char *u = a->uuid;
    assert_int_equal(strlen(u), 36);
    assert_true(is_hex(u, 8) && u[8] == '-' && is_hex(u + 9, 4) && u[13] == '-' && u[14] == '4' &&
                is_hex(u + 15, 3) && u[18] == '-' && strchr("89ab", u[19]) && u[23] == '-' &&
                is_hex(u + 24, 12));
    assert_int_equal(a->nnics, 2);
    for (size_t i = 0; i < 2; i++) {
        const char *m = a->nics[i].mac;
        assert_int_equal(strlen(m), 17);
        assert_memory_equal(m, "52:54:00:", 9);
        assert_true(is_hex(m + 9, 2) && m[11] == ':' && is_hex(m + 12, 2) && m[14] == ':' &&
                    is_hex(m + 15, 2));
    }
    assert_string_not_equal(a->nics[0].mac, a->nics[1].mac);
    assert_int_equal(a->current_memory_kib, 65536);
    assert_int_equal(a->vcpus, 1);
    char *out = domain_format(a);
    test_validate(out, "domain", "hand-generate");
    char expect[256];
    snprintf(expect, sizeof(expect), "<name>gen</name>\n  <uuid>%s</uuid>\n  <memory", a->uuid);
    assert_non_null(strstr(out, expect));
    snprintf(expect, sizeof(expect), "<interface type='network'>\n      <mac address='%s'/>",
             a->nics[0].mac);
    assert_non_null(strstr(out, expect));
    assert_non_null(strstr(out, "<currentMemory unit='KiB'>65536</currentMemory>"));
    /* What we generated is kept from then on. */
    struct domain *c = parse_str(out);
    assert_string_equal(c->uuid, a->uuid);
    assert_string_equal(c->nics[1].mac, a->nics[1].mac);
    free(out);
    domain_free(a);
    domain_free(b);
    domain_free(c);
}

#define HEAD "<domain type='kvm'>\n<name>web</name>\n"
#define OS "<os><type>hvm</type></os>\n"

static void test_parse_errors(void **state)
{
    (void)state;
    expect_error("<domain type='kvm'>\n<name>web</name>\n\n<memory>1</memory\n</domain>",
                 "web.xml:5: parse error: expected '>'");
    expect_error("<domain type='kvm'>\n<name>web</nam>\n</domain>",
                 "web.xml:2: parse error: Opening and ending tag mismatch: name line 2 and nam");
    expect_error("<domain type='kvm'>\n  <name>web</name>\n  <bogus a='1' a='2'/>\n</domain>\n",
                 "web.xml:3: parse error: Attribute a redefined");
    expect_error("\n<network/>", "web.xml:2: expected <domain>, found <network>");
    expect_error("", "web.xml:1: parse error: Document is empty");
    expect_error("<!DOCTYPE d [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n<domain>&x;</domain>",
                 "web.xml: <!DOCTYPE> is not accepted in libvirt XML");
    expect_error("<!DOCTYPE domain [<!ENTITY a 'aaaaaaaaaa'><!ENTITY b '&a;&a;&a;&a;&a;'>]>\n"
                 "<domain type='kvm'><name>&b;</name></domain>",
                 "web.xml: <!DOCTYPE> is not accepted in libvirt XML");
}

static void test_field_errors(void **state)
{
    (void)state;
    expect_error(HEAD "<memory>abc</memory>\n" OS "</domain>",
                 "web.xml:3: <memory>: invalid value 'abc'");
    expect_error(HEAD "<memory unit='XB'>1</memory>\n" OS "</domain>",
                 "web.xml:3: <memory>: unknown unit 'XB'");
    expect_error(HEAD "<memory unit='Kb'>1</memory>\n" OS "</domain>",
                 "web.xml:3: <memory>: unknown unit 'Kb'");
    expect_error(HEAD "<memory unit='EiB'>8</memory>\n" OS "</domain>",
                 "web.xml:3: <memory>: value too large");
    expect_error(HEAD "<memory>-5</memory>\n" OS "</domain>",
                 "web.xml:3: <memory>: invalid value '-5'");
    expect_error(HEAD "<memory>18446744073709551616</memory>\n" OS "</domain>",
                 "web.xml:3: <memory>: invalid value '18446744073709551616'");
    expect_error(HEAD "<memory>0</memory>\n" OS "</domain>",
                 "web.xml:3: <memory>: must be at least 1 KiB");
    expect_error(HEAD OS "</domain>", "web.xml:1: <memory>: missing");
    expect_error("<domain type='kvm'>\n<memory>1</memory>\n" OS "</domain>",
                 "web.xml:1: <name>: missing");
    expect_error("<domain type='kvm'>\n<name>a/b</name>\n</domain>",
                 "web.xml:2: <name>: name 'a/b' must not contain '/'");
    expect_error("<domain>\n<name>web</name>\n</domain>", "web.xml:1: <domain type>: missing");
    expect_error("<domain type='xen'>\n<name>web</name>\n</domain>",
                 "web.xml:1: <domain type>: unsupported value 'xen' (kvm, qemu or test)");
    expect_error(HEAD "<uuid>xyz</uuid>\n<memory>1024</memory>\n" OS "</domain>",
                 "web.xml:3: <uuid>: invalid 'xyz'");
    expect_error(HEAD "<memory>1024</memory>\n<vcpu>0</vcpu>\n" OS "</domain>",
                 "web.xml:4: <vcpu>: must be at least 1");
    expect_error(HEAD "<memory>1024</memory>\n<vcpu>two</vcpu>\n" OS "</domain>",
                 "web.xml:4: <vcpu>: invalid value 'two'");
    expect_error(HEAD "<memory>1024</memory>\n<vcpu current='3'>2</vcpu>\n" OS "</domain>",
                 "web.xml:4: <vcpu current>: must be between 1 and 2, not 3");
    expect_error(HEAD "<memory>1024</memory>\n<maxMemory slots='4'>512</maxMemory>\n" OS
                      "</domain>",
                 "web.xml:4: <maxMemory>: must be at least <memory> (1024 KiB)");
    expect_error(HEAD "<memory>1024</memory>\n</domain>", "web.xml:1: <os>: missing");
    expect_error(HEAD "<memory>1024</memory>\n<os>\n<type>hvm</type>\n<boot dev='usb'/>\n</os>\n"
                      "</domain>",
                 "web.xml:6: <boot dev>: invalid value 'usb'");
    expect_error(HEAD "<memory>1024</memory>\n" OS "<on_crash>explode</on_crash>\n</domain>",
                 "web.xml:5: <on_crash>: invalid value 'explode'");
    expect_error(HEAD "<memory>1024</memory>\n" OS
                      "<devices>\n<interface type='network'>\n<mac address='52:54:00:zz:00:01'/>\n"
                      "</interface>\n</devices>\n</domain>",
                 "web.xml:7: <mac address>: invalid '52:54:00:zz:00:01'");
    expect_error(HEAD "<memory>1024</memory>\n" OS
                      "<devices>\n<interface type='network'>\n<mac address='01:00:5e:00:00:01'/>\n"
                      "</interface>\n</devices>\n</domain>",
                 "web.xml:7: <mac address>: '01:00:5e:00:00:01' is a multicast address");
    expect_error(HEAD "<memory>1024</memory>\n" OS
                      "<devices>\n<disk type='file'>\n<source file='/a'/>\n</disk>\n</devices>\n"
                      "</domain>",
                 "web.xml:6: <target dev>: missing");
    expect_error(HEAD "<memory>1024</memory>\n" OS
                      "<devices>\n<disk type='file'>\n<driver cache='fast'/>\n<target dev='vda'/>\n"
                      "</disk>\n</devices>\n</domain>",
                 "web.xml:7: <driver cache>: invalid value 'fast'");
    expect_error(HEAD "<memory>1024</memory>\n" OS
                      "<devices>\n<graphics type='vnc' port='99999'/>\n</devices>\n</domain>",
                 "web.xml:6: <graphics port>: invalid value '99999'");
    expect_error(HEAD "<memory>1024</memory>\n<vcpu>4</vcpu>\n<cpu>\n"
                      "<topology sockets='1' cores='2' threads='1'/>\n</cpu>\n" OS "</domain>",
                 "web.xml:6: <topology>: 2 CPUs in the topology, but <vcpu> is 4");
}

/* Elements in other namespaces are kept and never taken for libvirt's. */
static void test_foreign_namespace(void **state)
{
    (void)state;
    struct domain *d = parse_str(
        "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>\n"
        "<name>ns</name>\n<qemu:name>other</qemu:name>\n<memory>1024</memory>\n" OS
        "<devices><qemu:disk type='file'/></devices>\n"
        "<qemu:commandline>\n<qemu:arg value='-no-hpet'/>\n</qemu:commandline>\n</domain>");
    assert_string_equal(d->name, "ns");
    assert_int_equal(d->ndisks, 0);
    assert_int_equal(d->ndevices, 0);
    char *out = domain_format(d);
    assert_non_null(strstr(out, "  <qemu:commandline>\n    <qemu:arg value='-no-hpet'/>\n"
                                "  </qemu:commandline>\n"));
    free(out);
    domain_free(d);
}

static void test_memory_normalised(void **state)
{
    (void)state;
    /* currentMemory above memory is capped, as libvirt does. */
    struct domain *d =
        parse_str(HEAD "<memory unit='MiB'>512</memory>\n"
                       "<currentMemory unit='GiB'>1</currentMemory>\n" OS "</domain>");
    assert_int_equal(d->memory_kib, 524288);
    assert_int_equal(d->current_memory_kib, 524288);
    char *out = domain_format(d);
    assert_non_null(strstr(out, "<currentMemory unit='KiB'>524288</currentMemory>"));
    free(out);
    domain_free(d);
    /* Partial KiB round up; 1 KB is 1000 bytes. */
    d = parse_str(HEAD "<memory unit='bytes'>1025</memory>\n"
                       "<currentMemory unit='KB'>1</currentMemory>\n" OS "</domain>");
    assert_int_equal(d->memory_kib, 2);
    assert_int_equal(d->current_memory_kib, 1);
    domain_free(d);
}

static void test_setters(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s/xml/domain/full.xml", test_data_dir());
    struct domain *d = parse_file(path);
    assert_int_equal(domain_set_name(d, "renamed"), 0);
    assert_int_equal(domain_set_name(d, "bad/name"), -1);
    assert_int_equal(domain_set_title(d, "A title"), 0);
    assert_int_equal(domain_set_title(d, "two\nlines"), -1);
    assert_int_equal(domain_set_description(d, "x < y & z"), 0);
    assert_int_equal(domain_set_uuid(d, "AAAAAAAA-BBBB-4CCC-8DDD-EEEEEEEEEEEE"), 0);
    assert_int_equal(domain_set_uuid(d, "nope"), -1);
    assert_int_equal(domain_set_vcpus_current(d, 2), 0);
    assert_int_equal(domain_set_vcpus_current(d, 5), -1);
    assert_int_equal(domain_set_current_memory(d, 1048576), 0);
    assert_int_equal(domain_set_current_memory(d, d->memory_kib + 1), -1);
    assert_int_equal(domain_set_nic_mac(d, 1, "52:54:00:0A:0B:0C"), 0);
    assert_int_equal(domain_set_nic_mac(d, 1, "03:00:00:00:00:00"), -1);
    assert_int_equal(domain_set_nic_mac(d, 7, "52:54:00:0a:0b:0c"), -1);
    char *out = domain_format(d);
    test_validate(out, "domain", "after setters");
    struct domain *e = parse_str(out);
    compare_domains(d, e);
    assert_string_equal(e->name, "renamed");
    assert_string_equal(e->title, "A title");
    assert_string_equal(e->description, "x < y & z");
    assert_string_equal(e->uuid, "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee");
    assert_int_equal(e->vcpus_current, 2);
    assert_int_equal(e->current_memory_kib, 1048576);
    assert_string_equal(e->nics[1].mac, "52:54:00:0a:0b:0c");
    assert_int_equal(domain_set_title(d, NULL), 0);
    assert_int_equal(domain_set_vcpus_current(d, 4), 0);
    free(out);
    out = domain_format(d);
    assert_null(strstr(out, "<title>"));
    assert_null(strstr(out, "current="));
    free(out);
    domain_free(d);
    domain_free(e);
}

/* A running guest's live XML: <domain id=> after type, and each NIC's tap
 * as <target dev> where libvirt writes it (after <source>, before
 * <model>); a <target> the user wrote is reused. Parsing drops the id, so
 * a live dump defined again leaves none in the stored definition. */
static void test_live_attrs(void **state)
{
    (void)state;
    static const char xml[] =
        "<domain type='kvm'><name>l</name><memory>65536</memory><vcpu>1</vcpu>"
        "<os><type arch='x86_64'>hvm</type></os><devices>"
        "<interface type='network'><mac address='52:54:00:00:00:01'/>"
        "<source network='lan'/><model type='virtio'/></interface>"
        "<interface type='ethernet'><mac address='52:54:00:00:00:02'/>"
        "<target dev='mine'/><model type='virtio'/></interface>"
        "</devices></domain>";
    struct domain *d = parse_str(xml);
    assert_int_equal(domain_set_run_id(d, 7), 0);
    assert_int_equal(domain_set_nic_target_dev(d, 0, "vnet3"), 0);
    assert_int_equal(domain_set_nic_target_dev(d, 1, "mine"), 0);
    assert_int_equal(domain_set_nic_target_dev(d, 2, "vnet4"), -1);
    assert_string_equal(d->nics[0].target_dev, "vnet3");
    char *out = domain_format(d);
    assert_non_null(strstr(out, "<domain type='kvm' id='7'>"));
    assert_non_null(strstr(out, "<source network='lan'/>\n      <target dev='vnet3'/>\n"
                                "      <model type='virtio'/>"));
    assert_non_null(strstr(out, "<target dev='mine'/>"));
    assert_null(strstr(strstr(out, "<target dev='mine'/>") + 1, "<target dev='mine'/>"));
    struct domain *e = parse_str(out);
    char *again = domain_format(e);
    assert_null(strstr(again, " id='7'"));
    assert_string_equal(e->nics[0].target_dev, "vnet3");
    free(again);
    free(out);
    domain_free(e);
    domain_free(d);
}

/* Damaged documents (truncated, bytes changed) never crash the parser and
 * fail with a message that names the file; run under ASan in CI. */
static void test_mutations(void **state)
{
    (void)state;
    size_t n;
    char **files = test_corpus("domain", &n);
    uint32_t seed = 12345;
    size_t failures = 0, total = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len;
        char *xml = test_read_file(files[i], &len);
        char *copy = malloc(len + 1);
        for (int m = 0; m < 150; m++) {
            memcpy(copy, xml, len + 1);
            seed = seed * 1103515245 + 12345;
            size_t at = (seed >> 8) % len, use = len;
            static const char junk[] = "<>&'\"/=x0-9 \n";
            if (m % 3 == 0)
                use = at; /* truncated */
            else
                copy[at] = junk[(seed >> 20) % (sizeof(junk) - 1)];
            struct domain *d = NULL;
            total++;
            if (domain_parse(copy, use, "mut.xml", &d) < 0) {
                assert_null(d);
                assert_true(strncmp(err_msg(), "mut.xml", 7) == 0);
                failures++;
                continue;
            }
            char *out = domain_format(d);
            assert_non_null(out);
            free(out);
            domain_free(d);
        }
        free(copy);
        free(xml);
    }
    /* Most damage must be caught, and some must be harmless (a changed letter). */
    assert_true(failures > total / 3 && failures < total);
    test_free_list(files);
}

/* Quotes, ampersands, angle brackets, tabs and newlines survive a round
 * trip in text and attributes, escaped the way libvirt escapes them. */
static void test_escaping(void **state)
{
    (void)state;
    struct domain *d = parse_str(
        "<domain type='kvm'>\n<name>esc</name>\n"
        "<title>it&apos;s \"q\" &amp; &lt;b&gt;</title>\n"
        "<description>line1\n\tit's &amp; \"x\" &gt;</description>\n"
        "<memory>1024</memory>\n<os><type>hvm</type><cmdline>a=\"b c\" d='e'</cmdline></os>\n"
        "<metadata><x:n xmlns:x='urn:x' v='1&#10;2&#9;3 &lt;&amp;&gt;'>t</x:n></metadata>\n"
        "<devices><disk type='file'><source file=\"/a'b &quot;c&quot;\"/>"
        "<target dev='vda'/></disk></devices>\n</domain>");
    char *out = domain_format(d);
    test_validate(out, "domain", "escaping");
    assert_non_null(strstr(out, "<title>it&apos;s &quot;q&quot; &amp; &lt;b&gt;</title>"));
    assert_non_null(strstr(out, "<source file='/a&apos;b &quot;c&quot;'/>"));
    /* <metadata> as libvirt writes it, with libxml2's serialiser */
    assert_non_null(strstr(out, "<x:n xmlns:x=\"urn:x\" v=\"1&#10;2&#9;3 &lt;&amp;&gt;\">t</x:n>"));
    /* libvirt's defaults for a disk: device disk, bus from the vd prefix. */
    assert_non_null(strstr(out, "<disk type='file' device='disk'>"));
    assert_non_null(strstr(out, "<target dev='vda' bus='virtio'/>"));
    struct domain *e = parse_str(out);
    assert_string_equal(e->title, "it's \"q\" & <b>");
    assert_string_equal(e->description, "line1\n\tit's & \"x\" >");
    assert_string_equal(e->os_cmdline, "a=\"b c\" d='e'");
    assert_string_equal(e->disks[0].source, "/a'b \"c\"");
    compare_domains(d, e);
    char *again = domain_format(e);
    assert_string_equal(again, out);
    free(again);
    free(out);
    domain_free(d);
    domain_free(e);
}

static void test_format_public(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof(path), "%s/xml/domain/vnc-password.xml", test_data_dir());
    struct domain *d = parse_file(path);
    assert_string_equal(d->graphics[0].passwd, "s3cret");
    char *full = domain_format(d), *pub = domain_format_public(d);
    assert_non_null(strstr(full, "passwd='s3cret'"));
    assert_null(strstr(pub, "s3cret"));
    test_validate(pub, "domain", "public");
    /* Only the password differs, and the domain itself keeps it. */
    struct domain *e = parse_str(pub);
    assert_null(e->graphics[0].passwd);
    free(e->graphics[0].passwd);
    e->graphics[0].passwd = strdup("s3cret");
    compare_domains(d, e);
    char *again = domain_format(d);
    assert_string_equal(again, full);
    free(again);
    free(full);
    free(pub);
    domain_free(d);
    domain_free(e);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(domain_state_name(DOMAIN_RUNNING), "running");
    assert_string_equal(domain_state_name(DOMAIN_SHUTOFF), "shut off");
    assert_string_equal(domain_state_name(DOMAIN_BLOCKED), "idle");
    assert_string_equal(domain_state_name(DOMAIN_SHUTDOWN), "in shutdown");
    assert_string_equal(domain_state_name((enum domain_state)42), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_roundtrip),  cmocka_unit_test(test_corpus_matches_virsh),
        cmocka_unit_test(test_unknown_kept),      cmocka_unit_test(test_values),
        cmocka_unit_test(test_generated),         cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_field_errors),      cmocka_unit_test(test_memory_normalised),
        cmocka_unit_test(test_setters),           cmocka_unit_test(test_state_names),
        cmocka_unit_test(test_mutations),         cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_foreign_namespace), cmocka_unit_test(test_format_public),
        cmocka_unit_test(test_live_attrs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
