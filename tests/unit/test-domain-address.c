/* PCI addresses in domain XML (src/core/domain-address.c), through the
 * real parser and formatter (libxml2):
 * - at define, <address type='pci'> is range-checked with libvirt's limits
 *   (errors name the file and line) and rewritten in libvirt's full form;
 * - domain_assign_pci() gives devices tvm-vmm puts on PCI and that lack an
 *   address the lowest free slot in document order, skipping slots any
 *   device names, writes the addresses into the document, and is stable
 *   (a second call and a re-parse change nothing);
 * - a slot used twice, slot 0, another bus or a function other than 0 on
 *   a device tvm-vmm emulates is refused, naming the device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/model/domain.h"
#include "core/base/err.h"

#define HEAD                                                                                       \
    "<domain type='kvm'>\n<name>a</name>\n<memory>131072</memory>\n<vcpu>1</vcpu>\n"               \
    "<os><type arch='x86_64'>hvm</type></os>\n<devices>\n"
#define TAIL "</devices>\n</domain>\n"
#define DISK(dev, bus, extra)                                                                      \
    "<disk type='file' device='disk'><source file='/x/" dev "'/><target dev='" dev "' bus='" bus   \
    "'/>" extra "</disk>\n"
#define RNG(extra)                                                                                 \
    "<rng model='virtio'><backend model='random'>/dev/urandom</backend>" extra "</rng>\n"
#define ADDR(attrs) "<address type='pci' " attrs "/>"

static struct domain *parse_ok(const char *xml)
{
    struct domain *d = NULL;
    if (domain_parse(xml, strlen(xml), "t.xml", &d) < 0)
        fail_msg("domain_parse: %s", err_msg());
    return d;
}

static void parse_fails(const char *xml, const char *want1, const char *want2)
{
    struct domain *d = NULL;
    assert_int_equal(domain_parse(xml, strlen(xml), "t.xml", &d), -1);
    if (!strstr(err_msg(), want1) || !strstr(err_msg(), want2))
        fail_msg("error '%s' lacks '%s' / '%s'", err_msg(), want1, want2);
}

static void assign_fails(const char *xml, const char *want1, const char *want2)
{
    struct domain *d = parse_ok(xml);
    char *before = domain_format(d);
    assert_int_equal(domain_assign_pci(d), -1);
    if (!strstr(err_msg(), want1) || !strstr(err_msg(), want2))
        fail_msg("error '%s' lacks '%s' / '%s'", err_msg(), want1, want2);
    free(before);
    domain_free(d);
}

static void test_define_normalises(void **state)
{
    (void)state;
    struct domain *d =
        parse_ok(HEAD RNG(ADDR("slot='6'")) DISK("vda", "virtio",
                                                 ADDR("bus='0' slot='0x1f' "
                                                      "function='0' domain='0'")) TAIL);
    char *xml = domain_format(d);
    assert_non_null(
        strstr(xml, "<address type='pci' domain='0x0000' bus='0x00' slot='0x06' function='0x0'/>"));
    assert_non_null(
        strstr(xml, "<address type='pci' domain='0x0000' bus='0x00' slot='0x1f' function='0x0'/>"));
    assert_true(d->devices[0].pci.set);
    assert_int_equal(d->devices[0].pci.slot, 6);
    assert_int_equal(d->disks[0].pci.slot, 31);
    free(xml);
    domain_free(d);
}

static void test_define_range_errors(void **state)
{
    (void)state;
    parse_fails(HEAD RNG(ADDR("slot='0x25'")) TAIL, "t.xml:7:", "slot='0x25', must be <= 0x1F");
    parse_fails(HEAD RNG(ADDR("slot='1' function='8'")) TAIL,
                "t.xml:7:", "function='8', must be <= 7");
    parse_fails(HEAD RNG(ADDR("bus='0x100' slot='1'")) TAIL,
                "t.xml:7:", "bus='0x100', must be <= 0xFF");
    parse_fails(HEAD RNG(ADDR("slot='abc'")) TAIL, "t.xml:7:", "'slot': 'abc'");
    parse_fails(HEAD RNG(ADDR("slot='-1'")) TAIL, "t.xml:7:", "'slot': '-1'");
    parse_fails(HEAD RNG(ADDR("slot='1' multifunction='maybe'")) TAIL, "t.xml:7:", "multifunction");
}

static void test_assign_lowest_free_in_document_order(void **state)
{
    (void)state;
    const char *src = HEAD DISK("vda", "virtio", "") DISK("vdb", "virtio", ADDR("slot='0x01'"))
        DISK("sda", "sata",
             "") "<interface type='ethernet'><mac address='52:54:00:00:00:01'/><model "
                 "type='virtio'/>"
                 "</interface>\n"
                 "<video><model type='vga'/>" ADDR(
                     "slot='0x02'") "</video>\n"
                                    "<controller type='usb' model='piix3-uhci'>" ADDR(
                                        "bus='0x01' slot='0x03'") "</controller>\n"
                                                                  "<memballoon "
                                                                  "model='virtio'/>\n" RNG("") TAIL;
    struct domain *d = parse_ok(src);
    assert_int_equal(domain_assign_pci(d), 4);
    /* vdb has 1, video 2: vda 3, the NIC 4, the balloon 5, the rng 6 */
    assert_int_equal(d->disks[0].pci.slot, 3);
    assert_int_equal(d->disks[1].pci.slot, 1);
    assert_false(d->disks[2].pci.set); /* sata: not on tvm-vmm's PCI bus */
    assert_int_equal(d->nics[0].pci.slot, 4);
    size_t balloon = 0, rng = 0;
    for (size_t i = 0; i < d->ndevices; i++) {
        if (!strcmp(d->devices[i].element, "memballoon"))
            balloon = i;
        if (!strcmp(d->devices[i].element, "rng"))
            rng = i;
    }
    assert_int_equal(d->devices[balloon].pci.slot, 5);
    assert_int_equal(d->devices[rng].pci.slot, 6);

    char *xml = domain_format(d);
    const char *vda = strstr(xml, "<target dev='vda'");
    assert_non_null(vda);
    const char *a = strstr(vda, "<address");
    assert_non_null(a);
    static const char want[] =
        "<address type='pci' domain='0x0000' bus='0x00' slot='0x03' function='0x0'/>";
    assert_int_equal(strncmp(a, want, sizeof want - 1), 0);
    assert_non_null(strstr(xml, "<memballoon model='virtio'>"));
    assert_non_null(strstr(xml, "slot='0x05'"));
    assert_non_null(strstr(xml, "slot='0x06'"));

    /* stable: nothing more to assign, and the stored text parses to the same slots */
    assert_int_equal(domain_assign_pci(d), 0);
    char *again = domain_format(d);
    assert_string_equal(xml, again);
    struct domain *d2 = parse_ok(xml);
    assert_int_equal(domain_assign_pci(d2), 0);
    assert_int_equal(d2->disks[0].pci.slot, 3);
    assert_int_equal(d2->nics[0].pci.slot, 4);
    char *third = domain_format(d2);
    assert_string_equal(xml, third);
    free(third);
    free(again);
    free(xml);
    domain_free(d2);
    domain_free(d);
}

static void test_assign_refuses(void **state)
{
    (void)state;
    assign_fails(HEAD DISK("vda", "virtio", ADDR("slot='5'")) RNG(ADDR("slot='5'")) TAIL,
                 "rng:", "slot 0x05 is also used by disk vda");
    assign_fails(
        HEAD "<video><model type='vga'/>" ADDR("slot='2'") "</video>\n" RNG(ADDR("slot='2'")) TAIL,
        "rng:", "slot 0x02 is also used by video");
    assign_fails(HEAD DISK("vda", "virtio", ADDR("slot='0'")) TAIL, "disk vda:", "host bridge");
    assign_fails(HEAD DISK("vda", "virtio", ADDR("bus='0x01' slot='0'")) TAIL,
                 "disk vda:", "0000:01:00.0 is not on bus 0");
    assign_fails(HEAD RNG(ADDR("slot='3' function='1'")) TAIL, "rng:", "function 1");
}

static void test_assign_full_bus(void **state)
{
    (void)state;
    /* 32 virtio disks: 31 slots, the 32nd finds none */
    char xml[16384];
    size_t n = (size_t)snprintf(xml, sizeof xml, "%s", HEAD);
    for (int i = 0; i < 32; i++)
        n += (size_t)snprintf(xml + n, sizeof xml - n,
                              "<disk type='file' device='disk'><source file='/x/%d'/>"
                              "<target dev='vd%c%c' bus='virtio'/></disk>\n",
                              i, 'a' + i / 26, 'a' + i % 26);
    snprintf(xml + n, sizeof xml - n, "%s", TAIL);
    assign_fails(xml, "disk vdbf:", "no free PCI slot");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_define_normalises),
        cmocka_unit_test(test_define_range_errors),
        cmocka_unit_test(test_assign_lowest_free_in_document_order),
        cmocka_unit_test(test_assign_refuses),
        cmocka_unit_test(test_assign_full_bus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
