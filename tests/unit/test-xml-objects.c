/* Network, pool, volume and snapshot XML: corpus round trips validated by
 * libvirt's schemas, values compared with virsh's test driver, unknown XML
 * kept, errors with file, line and element. */
#include <inttypes.h>

#include "test-xml-util.h"

#include "core/base/err.h"
#include "core/model/network.h"
#include "core/model/pool.h"
#include "core/model/snapshot.h"

/* One kind of document, driven generically through the corpus. */
struct kind {
    const char *dir;    /* tests/data/xml/<dir> */
    const char *schema; /* virt-xml-validate schema name */
    int (*parse)(const char *, size_t, const char *, void **);
    char *(*format)(const void *);
    void (*free)(void *);
    void (*compare)(const void *, const void *);
};

static void compare_networks(const void *pa, const void *pb)
{
    const struct network *a = pa, *b = pb;
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->uuid, b->uuid);
    assert_str_eq_null(a->bridge, b->bridge);
    assert_int_equal(a->stp, b->stp);
    assert_str_eq_null(a->forward_mode, b->forward_mode);
    assert_str_eq_null(a->forward_dev, b->forward_dev);
    assert_string_equal(a->mac, b->mac);
    assert_str_eq_null(a->domain_name, b->domain_name);
    assert_int_equal(a->vlan_tag, b->vlan_tag);
    assert_int_equal(a->nips, b->nips);
    for (size_t i = 0; i < a->nips; i++) {
        const struct network_ip *x = &a->ips[i], *y = &b->ips[i];
        assert_str_eq_null(x->family, y->family);
        assert_string_equal(x->address, y->address);
        assert_str_eq_null(x->netmask, y->netmask);
        assert_int_equal(x->prefix, y->prefix);
        assert_str_eq_null(x->dhcp_start, y->dhcp_start);
        assert_str_eq_null(x->dhcp_end, y->dhcp_end);
        assert_int_equal(x->nhosts, y->nhosts);
        for (size_t j = 0; j < x->nhosts; j++) {
            assert_str_eq_null(x->hosts[j].mac, y->hosts[j].mac);
            assert_str_eq_null(x->hosts[j].name, y->hosts[j].name);
            assert_string_equal(x->hosts[j].ip, y->hosts[j].ip);
        }
    }
}

static void compare_pools(const void *pa, const void *pb)
{
    const struct pool *a = pa, *b = pb;
    assert_string_equal(a->name, b->name);
    assert_string_equal(a->uuid, b->uuid);
    assert_string_equal(a->type, b->type);
    assert_str_eq_null(a->target_path, b->target_path);
    assert_str_eq_null(a->source_device, b->source_device);
    assert_str_eq_null(a->source_host, b->source_host);
    assert_str_eq_null(a->source_dir, b->source_dir);
    assert_str_eq_null(a->source_name, b->source_name);
    assert_str_eq_null(a->source_format, b->source_format);
    assert_int_equal(a->capacity_bytes, b->capacity_bytes);
    assert_int_equal(a->allocation_bytes, b->allocation_bytes);
    assert_int_equal(a->available_bytes, b->available_bytes);
}

static void compare_volumes(const void *pa, const void *pb)
{
    const struct volume *a = pa, *b = pb;
    assert_string_equal(a->name, b->name);
    assert_str_eq_null(a->key, b->key);
    assert_str_eq_null(a->type, b->type);
    assert_int_equal(a->capacity_bytes, b->capacity_bytes);
    assert_int_equal(a->allocation_bytes, b->allocation_bytes);
    assert_str_eq_null(a->target_path, b->target_path);
    assert_str_eq_null(a->format, b->format);
    assert_str_eq_null(a->backing_path, b->backing_path);
    assert_str_eq_null(a->backing_format, b->backing_format);
}

static void compare_snapshots(const void *pa, const void *pb)
{
    const struct snapshot *a = pa, *b = pb;
    assert_string_equal(a->name, b->name);
    assert_str_eq_null(a->description, b->description);
    assert_str_eq_null(a->state, b->state);
    assert_str_eq_null(a->parent, b->parent);
    assert_int_equal(a->creation_time, b->creation_time);
    assert_str_eq_null(a->memory, b->memory);
    assert_str_eq_null(a->memory_file, b->memory_file);
    assert_str_eq_null(a->domain_uuid, b->domain_uuid);
    assert_int_equal(a->ndisks, b->ndisks);
    for (size_t i = 0; i < a->ndisks; i++) {
        assert_string_equal(a->disks[i].name, b->disks[i].name);
        assert_str_eq_null(a->disks[i].snapshot, b->disks[i].snapshot);
        assert_str_eq_null(a->disks[i].source, b->disks[i].source);
    }
}

#define KIND(dir_, schema_, pfx, cmp)                                                              \
    {                                                                                              \
        dir_, schema_, (int (*)(const char *, size_t, const char *, void **))pfx##_parse,          \
            (char *(*)(const void *))pfx##_format, (void (*)(void *))pfx##_free, cmp               \
    }

static const struct kind kinds[] = {
    KIND("network", "network", network, compare_networks),
    KIND("pool", "storagepool", pool, compare_pools),
    KIND("volume", "storagevol", volume, compare_volumes),
    KIND("snapshot", "domainsnapshot", snapshot, compare_snapshots),
};

static void *parse_kind(const struct kind *k, const char *text, size_t len, const char *origin)
{
    void *obj = NULL;
    if (k->parse(text, len, origin, &obj) < 0)
        fail_msg("%s: %s", origin, err_msg());
    return obj;
}

static void test_corpus_roundtrip(void **state)
{
    (void)state;
    for (size_t ki = 0; ki < sizeof(kinds) / sizeof(kinds[0]); ki++) {
        const struct kind *k = &kinds[ki];
        size_t n, len;
        char **files = test_corpus(k->dir, &n);
        assert_true(n >= 2);
        for (size_t i = 0; i < n; i++) {
            char *xml = test_read_file(files[i], &len);
            void *a = parse_kind(k, xml, len, files[i]);
            char *text = k->format(a);
            assert_non_null(text);
            test_validate(text, k->schema, files[i]);
            void *b = parse_kind(k, text, strlen(text), "formatted");
            k->compare(a, b);
            char *again = k->format(b);
            assert_string_equal(text, again);
            free(again);
            free(text);
            free(xml);
            k->free(a);
            k->free(b);
        }
        test_free_list(files);
    }
}

static char *corpus_path(const char *rel)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/xml/%s", test_data_dir(), rel);
    return path;
}

static void *parse_corpus(const struct kind *k, const char *rel)
{
    size_t len;
    char *xml = test_read_file(corpus_path(rel), &len);
    void *obj = parse_kind(k, xml, len, rel);
    free(xml);
    return obj;
}

static void test_network_values(void **state)
{
    (void)state;
    struct network *n = parse_corpus(&kinds[0], "network/route.xml");
    assert_string_equal(n->forward_mode, "route");
    assert_string_equal(n->forward_dev, "eth1");
    assert_string_equal(n->bridge, "virbr5");
    assert_false(n->stp);
    assert_string_equal(n->mac, "52:54:00:0a:0b:0c");
    assert_string_equal(n->domain_name, "lab.example");
    assert_int_equal(n->nips, 2);
    assert_int_equal(n->ips[0].prefix, 24);
    assert_string_equal(n->ips[0].dhcp_start, "10.10.0.100");
    assert_int_equal(n->ips[0].nhosts, 2);
    assert_string_equal(n->ips[0].hosts[1].name, "db");
    assert_string_equal(n->ips[1].family, "ipv6");
    network_free(n);

    n = parse_corpus(&kinds[0], "network/isolated.xml");
    assert_null(n->forward_mode);
    assert_string_equal(n->ips[0].netmask, "255.255.255.0");
    assert_true(n->stp);
    network_free(n);

    /* The nat port range is not modelled and must survive. */
    n = parse_corpus(&kinds[0], "network/nat.xml");
    char *out = network_format(n);
    assert_non_null(strstr(out, "<port start='1024' end='65535'/>"));
    free(out);
    network_free(n);

    const char *xml = "<network>\n<name>v</name>\n<forward dev='eth0'/>\n<bridge name='br9'/>\n"
                      "<vlan>\n<tag id='42'/>\n</vlan>\n<ip address='10.9.0.1' prefix='16'/>\n"
                      "</network>";
    assert_int_equal(network_parse(xml, strlen(xml), "v.xml", &n), 0);
    assert_int_equal(n->vlan_tag, 42);
    assert_int_equal(strlen(n->uuid), 36);
    out = network_format(n);
    char expect[128];
    snprintf(expect, sizeof(expect), "<name>v</name>\n  <uuid>%s</uuid>", n->uuid);
    assert_non_null(strstr(out, expect));
    assert_non_null(strstr(out, "<forward dev='eth0' mode='nat'/>"));
    assert_string_equal(n->forward_mode, "nat");
    test_validate(out, "network", "v.xml");
    free(out);
    network_free(n);
}

static void test_pool_volume_values(void **state)
{
    (void)state;
    struct pool *p = parse_corpus(&kinds[1], "pool/netfs.xml");
    assert_string_equal(p->type, "netfs");
    assert_string_equal(p->source_host, "nas.example");
    assert_string_equal(p->source_dir, "/export/vms");
    assert_string_equal(p->source_format, "nfs");
    assert_string_equal(p->target_path, "/mnt/nfs");
    pool_free(p);
    p = parse_corpus(&kinds[1], "pool/logical.xml");
    assert_string_equal(p->source_name, "vg0");
    assert_string_equal(p->source_device, "/dev/sdc");
    pool_free(p);

    const char *xml = "<pool type='dir'>\n<name>p</name>\n<capacity unit='GiB'>2</capacity>\n"
                      "<allocation unit='KB'>3</allocation>\n<available>17</available>\n"
                      "<target><path>/srv/p</path></target>\n</pool>";
    assert_int_equal(pool_parse(xml, strlen(xml), "p.xml", &p), 0);
    assert_int_equal(p->capacity_bytes, 2147483648ull);
    assert_int_equal(p->allocation_bytes, 3000);
    assert_int_equal(p->available_bytes, 17);
    char *out = pool_format(p);
    assert_non_null(strstr(out, "<capacity unit='bytes'>2147483648</capacity>"));
    test_validate(out, "storagepool", "p.xml");
    free(out);
    pool_free(p);

    struct volume *v = parse_corpus(&kinds[2], "volume/backing.xml");
    assert_int_equal(v->capacity_bytes, 10000000000ull); /* 10 GB */
    assert_string_equal(v->format, "qcow2");
    assert_string_equal(v->backing_path, "/default-pool/base.img");
    assert_string_equal(v->backing_format, "raw");
    volume_free(v);
    v = parse_corpus(&kinds[2], "volume/alloc.xml");
    assert_int_equal(v->capacity_bytes, 512ull << 20);
    assert_int_equal(v->allocation_bytes, 128ull << 20);
    volume_free(v);

    xml = "<volume>\n<name>big</name>\n<capacity unit='E'>15</capacity>\n</volume>";
    assert_int_equal(volume_parse(xml, strlen(xml), "v.xml", &v), 0);
    assert_int_equal(v->capacity_bytes, 15ull << 60);
    volume_free(v);
    xml = "<volume>\n<name>big</name>\n<capacity unit='E'>16</capacity>\n</volume>";
    assert_int_equal(volume_parse(xml, strlen(xml), "v.xml", &v), -1);
    assert_string_equal(err_msg(), "v.xml:3: <capacity>: value too large");
}

static void test_snapshot_values(void **state)
{
    (void)state;
    struct snapshot *s = parse_corpus(&kinds[3], "snapshot/hand-external.xml");
    assert_string_equal(s->name, "before-upgrade");
    assert_string_equal(s->parent, "first");
    assert_int_equal(s->creation_time, 1700000000);
    assert_string_equal(s->memory, "external");
    assert_string_equal(s->memory_file, "/var/lib/tvm/snap/web.mem");
    assert_int_equal(s->ndisks, 2);
    assert_string_equal(s->disks[0].source, "/var/lib/tvm/snap/web-vda.qcow2");
    assert_string_equal(s->disks[1].snapshot, "no");
    assert_null(s->domain_uuid);
    snapshot_free(s);
    s = parse_corpus(&kinds[3], "snapshot/second.xml");
    assert_string_equal(s->domain_uuid, "6695eb01-f6a4-8304-79aa-97f2502e193f");
    assert_string_equal(s->parent, "first");
    assert_string_equal(s->description, "after upgrade");
    snapshot_free(s);
}

/* virsh's test driver as the oracle: define what we formatted, dump it back. */
static void test_virsh_agrees(void **state)
{
    (void)state;
    size_t n, len;
    char **files = test_corpus("network", &n);
    for (size_t i = 0; i < n; i++) {
        char *xml = test_read_file(files[i], &len);
        struct network *ours = parse_kind(&kinds[0], xml, len, files[i]);
        char *text = network_format(ours), *path = test_write_temp(text), *dump = NULL;
        int rc = test_run(&dump,
                          "virsh -q -c test:///default 'net-undefine %s; net-define %s; "
                          "net-dumpxml %s' | grep -v 'not found'",
                          ours->name, path, ours->name);
        (void)rc;
        char *start = strstr(dump, "<network");
        if (!start)
            fail_msg("%s: virsh net-define failed:\n%s", files[i], dump);
        struct network *theirs = parse_kind(&kinds[0], start, strlen(start), "virsh");
        compare_networks(ours, theirs);
        network_free(theirs);
        network_free(ours);
        free(dump);
        unlink(path);
        free(path);
        free(text);
        free(xml);
    }
    test_free_list(files);

    files = test_corpus("volume", &n);
    for (size_t i = 0; i < n; i++) {
        char *xml = test_read_file(files[i], &len);
        struct volume *ours = parse_kind(&kinds[2], xml, len, files[i]);
        char *text = volume_format(ours), *path = test_write_temp(text), *dump = NULL;
        /* The test driver needs the backing file to exist in its pool. */
        bool backed = ours->backing_path != NULL;
        test_run(&dump,
                 "virsh -q -c test:///default '%s vol-create default-pool %s; "
                 "vol-dumpxml --pool default-pool %s'",
                 backed ? "vol-create-as default-pool base.img 1M;" : "", path, ours->name);
        char *start = strstr(dump, "<volume");
        if (!start)
            fail_msg("%s: virsh vol-create failed:\n%s", files[i], dump);
        struct volume *theirs = parse_kind(&kinds[2], start, strlen(start), "virsh");
        assert_int_equal(ours->capacity_bytes, theirs->capacity_bytes);
        assert_str_eq_null(ours->format, theirs->format);
        assert_str_eq_null(ours->backing_path, theirs->backing_path);
        volume_free(theirs);
        volume_free(ours);
        free(dump);
        unlink(path);
        free(path);
        free(text);
        free(xml);
    }
    test_free_list(files);
}

static void expect_error(const struct kind *k, const char *xml, const char *msg)
{
    void *obj = (void *)1;
    err_clear();
    assert_int_equal(k->parse(xml, strlen(xml), "x.xml", &obj), -1);
    assert_null(obj);
    assert_string_equal(err_msg(), msg);
}

static void test_errors(void **state)
{
    (void)state;
    const struct kind *net = &kinds[0], *pool = &kinds[1], *vol = &kinds[2], *snap = &kinds[3];
    expect_error(net, "<domain/>", "x.xml:1: expected <network>, found <domain>");
    expect_error(net, "<network>\n<name>n</name>\n<ip address='10.0.0.300'/>\n</network>",
                 "x.xml:3: <ip address>: invalid IPv4 address '10.0.0.300'");
    expect_error(net, "<network>\n<name>n</name>\n<ip address='10.0.0.1' prefix='33'/>\n</network>",
                 "x.xml:3: <ip prefix>: invalid value '33'");
    expect_error(net,
                 "<network>\n<name>n</name>\n<ip address='10.0.0.1' netmask='255.0.0.0' "
                 "prefix='8'/>\n</network>",
                 "x.xml:3: <ip>: give netmask or prefix, not both");
    expect_error(net, "<network>\n<name>n</name>\n<forward mode='tunnel'/>\n</network>",
                 "x.xml:3: <forward mode>: invalid value 'tunnel'");
    expect_error(net, "<network>\n<name>n</name>\n<mac address='52:54'/>\n</network>",
                 "x.xml:3: <mac address>: invalid '52:54'");
    expect_error(net, "<network>\n<name>n</name>\n<vlan><tag id='4096'/></vlan>\n</network>",
                 "x.xml:3: <tag id>: invalid value '4096'");
    expect_error(net, "<network>\n<uuid>1</uuid>\n</network>", "x.xml:1: <name>: missing");
    expect_error(net, "<network>\n<name>n</name>\n<forward/>\n</network>",
                 "x.xml:3: <forward mode>: nat forwarding needs an <ip> address on the network");
    expect_error(pool, "<pool type='lvm'>\n<name>p</name>\n</pool>",
                 "x.xml:1: <pool type>: unknown value 'lvm' (dir, fs, netfs, logical, disk, "
                 "iscsi, iscsi-direct, scsi, mpath, rbd, sheepdog, gluster, zfs, vstorage)");
    expect_error(pool, "<pool type='dir'>\n<name>p</name>\n<target/>\n</pool>",
                 "x.xml:3: <target path>: missing");
    expect_error(pool,
                 "<pool type='dir'>\n<name>p</name>\n<capacity unit='XB'>1</capacity>\n"
                 "<target><path>/p</path></target>\n</pool>",
                 "x.xml:3: <capacity>: unknown unit 'XB'");
    expect_error(pool,
                 "<pool type='netfs'>\n<name>p</name>\n<source>\n<dir path='/x'/>\n"
                 "</source>\n</pool>",
                 "x.xml:3: <source>: netfs pools need <host name=...> and <dir path=...>");
    expect_error(vol, "<volume>\n<name>v</name>\n</volume>", "x.xml:1: <capacity>: missing");
    expect_error(vol, "<volume>\n<name>v</name>\n<capacity>ten</capacity>\n</volume>",
                 "x.xml:3: <capacity>: invalid value 'ten'");
    expect_error(vol,
                 "<volume>\n<name>v</name>\n<capacity>1</capacity>\n<allocation unit='b'>"
                 "99999999999999999999</allocation>\n</volume>",
                 "x.xml:4: <allocation>: invalid value '99999999999999999999'");
    expect_error(snap,
                 "<domainsnapshot>\n<name>s</name>\n<state>dancing</state>\n"
                 "</domainsnapshot>",
                 "x.xml:3: <state>: invalid value 'dancing'");
    expect_error(snap,
                 "<domainsnapshot>\n<name>s</name>\n<creationTime>yesterday</creationTime>\n"
                 "</domainsnapshot>",
                 "x.xml:3: <creationTime>: invalid value 'yesterday'");
    expect_error(snap,
                 "<domainsnapshot>\n<name>s</name>\n<memory snapshot='external'/>\n"
                 "</domainsnapshot>",
                 "x.xml:3: <memory file>: missing (external memory snapshot)");
    expect_error(snap,
                 "<domainsnapshot>\n<disks>\n<disk snapshot='no'/>\n</disks>\n"
                 "</domainsnapshot>",
                 "x.xml:3: <disk name>: missing");
    expect_error(snap,
                 "<domainsnapshot>\n<name>s</name>\n<domain>\n<uuid>zz</uuid>\n</domain>\n"
                 "</domainsnapshot>",
                 "x.xml:4: <uuid>: invalid 'zz'");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_corpus_roundtrip),   cmocka_unit_test(test_network_values),
        cmocka_unit_test(test_pool_volume_values), cmocka_unit_test(test_snapshot_values),
        cmocka_unit_test(test_virsh_agrees),       cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
