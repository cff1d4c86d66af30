/* The model's <graphics>, <video> and <input>: what tvm-vmm's display is
 * built from (board_display_config), and libvirt's messages for what is
 * wrong (virsh -c test:///default define is the oracle). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "core/model/domain.h"

#define HEAD "<domain type='kvm'><name>g</name><memory>131072</memory><os><type>hvm</type></os><devices>"
#define TAIL "</devices></domain>"

static struct domain *parse(const char *devices)
{
    char xml[4096];
    snprintf(xml, sizeof xml, HEAD "%s" TAIL, devices);
    struct domain *d = NULL;
    if (domain_parse(xml, strlen(xml), "g.xml", &d) < 0)
        fail_msg("%s", err_msg());
    return d;
}

static void refused(const char *devices, const char *msg)
{
    char xml[4096];
    snprintf(xml, sizeof xml, HEAD "%s" TAIL, devices);
    struct domain *d = NULL;
    assert_int_equal(domain_parse(xml, strlen(xml), "g.xml", &d), -1);
    if (!strstr(err_msg(), msg))
        fail_msg("'%s' does not say '%s'", err_msg(), msg);
}

static void test_graphics(void **state)
{
    (void)state;
    struct domain *d = parse("<graphics type='vnc' port='5957' listen='127.0.0.1' passwd='pw'/>"
                             "<graphics type='vnc' autoport='yes'><listen type='address' "
                             "address='::1'/></graphics>");
    assert_int_equal(d->ngraphics, 2);
    assert_string_equal(d->graphics[0].type, "vnc");
    assert_int_equal(d->graphics[0].port, 5957);
    assert_false(d->graphics[0].autoport);
    assert_string_equal(d->graphics[0].listen, "127.0.0.1");
    assert_string_equal(d->graphics[0].passwd, "pw");
    assert_true(d->graphics[1].autoport);
    assert_int_equal(d->graphics[1].port, -1);
    assert_string_equal(d->graphics[1].listen, "::1");
    domain_free(d);
}

static void test_video(void **state)
{
    (void)state;
    struct domain *d = parse("<video><model type='virtio' vram='32768'><resolution x='800' "
                             "y='600'/></model></video><input type='tablet' bus='virtio'/>"
                             "<input type='keyboard' bus='ps2'/>");
    const struct domain_device *v = NULL;
    for (size_t i = 0; i < d->ndevices; i++)
        if (!strcmp(d->devices[i].element, "video"))
            v = &d->devices[i];
    assert_non_null(v);
    assert_string_equal(v->type, "virtio");
    assert_int_equal(v->vram_kib, 32768);
    assert_int_equal(v->res_x, 800);
    assert_int_equal(v->res_y, 600);
    assert_true(domain_device_on_pci(v));
    domain_free(d);
    d = parse("<video><model type='none'/></video>");
    assert_false(domain_device_on_pci(&d->devices[0]));
    domain_free(d);
}

/* virtio input devices take PCI slots (the document keeps them, so the
 * guest sees the same slots at the next start); ps2 and usb ones do not. */
static void test_input_slots(void **state)
{
    (void)state;
    struct domain *d = parse("<input type='tablet' bus='virtio'/><input type='keyboard' "
                             "bus='ps2'/><input type='mouse' bus='virtio'/><input "
                             "type='keyboard' bus='virtio'/><input type='tablet' bus='usb'/>"
                             "<input type='passthrough' bus='virtio'/>");
    bool want[] = {true, false, true, true, false, false};
    assert_int_equal(d->ndevices, 6);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(domain_device_on_pci(&d->devices[i]), want[i]);
    assert_int_equal(domain_assign_pci(d), 3);
    char *xml = domain_format(d);
    assert_non_null(xml);
    const char *t = strstr(xml, "<input type=\"tablet\" bus=\"virtio\">");
    if (!t)
        t = strstr(xml, "<input type='tablet' bus='virtio'>");
    if (!t)
        fail_msg("no tablet with an address in:\n%s", xml);
    assert_non_null(strstr(t, "<address type="));
    const char *ps2 = strstr(xml, "bus=\"ps2\"/>");
    if (!ps2)
        ps2 = strstr(xml, "bus='ps2'/>");
    assert_non_null(ps2); /* still empty: no address */
    free(xml);
    for (size_t i = 0; i < 6; i++)
        assert_int_equal(d->devices[i].pci.set, want[i]);
    domain_free(d);
}

static void test_messages(void **state)
{
    (void)state;
    refused("<video><model type='vga' vram='abc'/></video>", "cannot parse video vram 'abc'");
    refused("<video><model type='vga'><resolution x='0' y='768'/></model></video>",
            "video resolution values must be greater than 0");
    refused("<video><model type='vga'><resolution x='abc' y='768'/></model></video>",
            "Invalid value for attribute 'x' in element 'resolution': 'abc'. Expected "
            "non-negative integer value");
    refused("<video><model type='vga'><resolution y='768'/></model></video>",
            "Missing required attribute 'x' in element 'resolution'");
    refused("<video><model type='foo'/></video>", "unknown video model 'foo'");
    refused("<input type='foo' bus='ps2'/>", "unknown input device type 'foo'");
    refused("<input type='tablet' bus='foo'/>", "unknown input bus type 'foo'");
    refused("<graphics type='vnc' port='70000'/>", "graphics port");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_graphics),
        cmocka_unit_test(test_video),
        cmocka_unit_test(test_input_slots),
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
