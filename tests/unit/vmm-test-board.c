/* The board (src/vmm/board.c) on a VM from vm_new() (no vCPU, no
 * /dev/kvm): every virtio device sits at the slot its <address> names,
 * virtio consoles take the free slots the model derives for them, a domain
 * without addresses gets exactly tvm's assignment, ACPI is only there with
 * <features><acpi/>, a domain without <kernel> gets the BIOS and fw_cfg
 * (its tables through fw_cfg, not placed at boot), and the board comes
 * down again (sockets gone).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "board.h"
#include "core/base/err.h"
#include "core/model/domain.h"
#include "core/proto/vmstate-file.h"
#include "dev/vga.h"
#include "vm.h"

#define ADDR(s) "<address type='pci' domain='0x0000' bus='0x00' slot='" s "' function='0x0'/>"

struct h {
    char dir[64];
    struct loop *loop;
    struct domain *dom;
    struct vm *vm;
    struct board *board;
};

/* OS: what goes into <os> besides <type> (a <kernel>, or nothing: the BIOS). */
static void build_os(struct h *h, const char *os, const char *features, const char *devices)
{
    char xml[2048];
    snprintf(xml, sizeof xml,
             "<domain type='kvm'><name>b</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>"
             "<os><type>hvm</type>%s</os>%s<devices>%s</devices></domain>",
             os, features, devices);
    if (domain_parse(xml, strlen(xml), "t.xml", &h->dom) < 0)
        fail_msg("domain_parse: %s", err_msg());
    snprintf(h->dir, sizeof h->dir, "/tmp/vmm-test-board-XXXXXX");
    assert_non_null(mkdtemp(h->dir));
    struct vm_config cfg;
    board_vm_config(h->dom, &cfg);
    h->vm = vm_new(&cfg);
    h->loop = loop_new();
    assert_non_null(h->vm);
    assert_non_null(h->loop);
    struct board_opts o = {.loop = h->loop, .rundir = h->dir};
    h->board = board_new(h->vm, h->dom, &o);
}

static void build(struct h *h, const char *features, const char *devices)
{
    build_os(h, "<kernel>/boot/vmlinuz</kernel>", features, devices);
}

static void done(struct h *h)
{
    board_free(h->board);
    vm_free(h->vm);
    loop_free(h->loop);
    domain_free(h->dom);
    char sock[128];
    snprintf(sock, sizeof sock, "%s/console.sock", h->dir);
    assert_int_not_equal(access(sock, F_OK), 0); /* the board took its sockets down */
    assert_int_equal(rmdir(h->dir), 0);          /* and left nothing else */
}

/* Device id at SLOT through the 0xCF8/0xCFC ports, 0xFFFF when empty. */
static unsigned device_at(struct h *h, unsigned slot)
{
    uint32_t a = 0x80000000u | slot << 11 | 0x00, v = 0;
    io_dispatch_pio(h->vm, 0xCF8, (uint8_t *)&a, 4, true);
    io_dispatch_pio(h->vm, 0xCFC, (uint8_t *)&v, 4, false);
    return v >> 16;
}

static void test_slots_from_addresses(void **state)
{
    (void)state;
    struct h h;
    build(&h, "",
          "<rng model='virtio'><backend model='random'>/dev/urandom</backend>" ADDR(
              "0x07") "</rng>"
                      "<console type='pty'><target type='virtio' port='1'/></console>"
                      "<memballoon model='virtio'>" ADDR("0x01") "</memballoon>");
    if (!h.board)
        fail_msg("board_new: %s", err_msg());
    assert_int_equal(device_at(&h, 7), 0x1044); /* rng where its <address> says */
    assert_int_equal(device_at(&h, 1), 0x1045); /* the balloon too */
    assert_int_equal(domain_console_pci_slot(h.dom, 1), 2);
    assert_int_equal(device_at(&h, 2), 0x1043); /* the console in the first free slot */
    assert_int_equal(device_at(&h, 3), 0xFFFF);
    assert_null(h.vm->cfg.firmware); /* no <acpi/>, no tables */
    done(&h);
}

/* A domain given to tvm-vmm by hand: the same slots tvm start would store. */
static void test_missing_addresses_as_tvm_assigns(void **state)
{
    (void)state;
    struct h h;
    build(&h, "<features><acpi/></features>",
          "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
          "<memballoon model='virtio'>" ADDR("0x01") "</memballoon>");
    if (!h.board)
        fail_msg("board_new: %s", err_msg());
    assert_true(domain_pci_complete(h.dom));
    assert_int_equal(device_at(&h, 1), 0x1045);
    assert_int_equal(device_at(&h, 2), 0x1044);
    assert_non_null(h.vm->cfg.firmware); /* <acpi/>: the tables are built at boot */
    done(&h);
}

/* Two devices in one slot (tvm start refuses that already, naming both):
 * the bus refuses the second, and the board leaves nothing behind. */
static void test_refused_cleanly(void **state)
{
    (void)state;
    struct h h;
    build(&h, "",
          "<rng model='virtio'><backend model='random'>/dev/urandom</backend>" ADDR(
              "0x03") "</rng>"
                      "<memballoon model='virtio'>" ADDR("0x03") "</memballoon>");
    assert_null(h.board);
    assert_non_null(strstr(err_msg(), "PCI slot 0x03 is already taken"));
    done(&h);
}

/* No <kernel>: the BIOS boots, so the tables go to fw_cfg, not into RAM
 * at boot, and fw_cfg answers on its ports with the signature. */
static void test_firmware_boot(void **state)
{
    (void)state;
    struct h h;
    build_os(&h, "", "<features><acpi/></features>", "");
    if (!h.board)
        fail_msg("board_new: %s", err_msg());
    assert_string_equal(h.vm->cfg.bios, "/usr/share/seabios/bios-256k.bin");
    assert_null(h.vm->cfg.firmware);
    uint16_t key = 0;
    io_dispatch_pio(h.vm, 0x510, (uint8_t *)&key, 2, true);
    char sig[4];
    for (int i = 0; i < 4; i++)
        io_dispatch_pio(h.vm, 0x511, (uint8_t *)&sig[i], 1, false);
    assert_memory_equal(sig, "QEMU", 4);
    done(&h);
}

/* The fw_cfg file NAME as the BIOS reads it through the ports, or "". */
static void fw_cfg_file(struct h *h, const char *name, char *out, size_t len)
{
    uint16_t key = 0x19; /* the file directory */
    io_dispatch_pio(h->vm, 0x510, (uint8_t *)&key, 2, true);
    uint8_t dir[4 + 32 * 64];
    for (size_t i = 0; i < sizeof dir; i++)
        io_dispatch_pio(h->vm, 0x511, &dir[i], 1, false);
    out[0] = 0;
    unsigned n = (unsigned)dir[0] << 24 | dir[1] << 16 | dir[2] << 8 | dir[3];
    for (unsigned i = 0; i < n && i < 32; i++) {
        const uint8_t *e = dir + 4 + i * 64;
        if (strcmp((const char *)e + 8, name) != 0)
            continue;
        uint32_t size = (uint32_t)e[0] << 24 | e[1] << 16 | e[2] << 8 | e[3];
        key = (uint16_t)(e[4] << 8 | e[5]);
        io_dispatch_pio(h->vm, 0x510, (uint8_t *)&key, 2, true);
        for (size_t k = 0; k < size && k + 1 < len; k++) {
            io_dispatch_pio(h->vm, 0x511, (uint8_t *)&out[k], 1, false);
            out[k + 1] = 0;
        }
    }
}

/* bootorder: lowest <boot order> first, as QEMU writes the paths: a
 * virtio-blk disk by its slot, a SCSI CD-ROM (sdb: unit 1) on the
 * virtio-scsi controller's slot; and the BIOS console on COM1. */
static void test_bootorder(void **state)
{
    (void)state;
    char img[] = "/tmp/vmm-test-board-img-XXXXXX";
    int fd = mkstemp(img);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1 << 20), 0);
    close(fd);
    /* the CD-ROM's medium is a file of its own: the disk holds img's write lock */
    char iso[] = "/tmp/vmm-test-board-iso-XXXXXX";
    fd = mkstemp(iso);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1 << 20), 0);
    close(fd);
    char devices[1024];
    snprintf(devices, sizeof devices,
             "<disk type='file' device='disk'><source file='%s'/><target dev='vda' "
             "bus='virtio'/><boot order='3'/>" ADDR(
                 "0x05") "</disk>"
                         "<disk type='file' device='cdrom'><source file='%s'/><target dev='sdb' "
                         "bus='scsi'/><boot order='1'/></disk>"
                         "<controller type='scsi' index='0' model='virtio-scsi'>" ADDR(
                             "0x06") "</controller>",
             img, iso);
    struct h h;
    build_os(&h, "", "", devices);
    if (!h.board)
        fail_msg("board_new: %s", err_msg());
    char order[256];
    fw_cfg_file(&h, "bootorder", order, sizeof order);
    assert_string_equal(order, "/pci@i0cf8/scsi@6/channel@0/disk@0,1\n/pci@i0cf8/scsi@5/disk@0,0");
    char port[4] = "";
    fw_cfg_file(&h, "etc/sercon-port", port, sizeof port);
    assert_int_equal((uint8_t)port[0] | (uint8_t)port[1] << 8, 0x3F8);
    done(&h);
    unlink(img);
    unlink(iso);
}

/* ---- saved state of a default virt-install guest's devices ---- */

#define MAX_SAVED 64

struct saved {
    char name[VSF_NAME_MAX];
    struct vsf_out o;
};

static void freeze(struct vm *vm, bool on)
{
    for (unsigned i = 0; i < vm->nstates; i++) {
        void (*fn)(void *) = on ? vm->states[i].ops->freeze : vm->states[i].ops->thaw;
        if (fn)
            fn(vm->states[i].opaque);
    }
}

/* Every section, as vm_state_save writes them: none may lack a save. */
static unsigned save_all(struct vm *vm, struct saved *s)
{
    assert_true(vm->nstates <= MAX_SAVED);
    freeze(vm, true);
    for (unsigned i = 0; i < vm->nstates; i++) {
        snprintf(s[i].name, sizeof s[i].name, "%s", vm->states[i].name);
        memset(&s[i].o, 0, sizeof s[i].o);
        if (!vm->states[i].ops->save)
            fail_msg("section '%s' has no saved state: a save would be refused", s[i].name);
        if (vm->states[i].ops->save(vm->states[i].opaque, &s[i].o) < 0)
            fail_msg("%s: %s", s[i].name, err_msg());
        assert_false(s[i].o.oom);
    }
    freeze(vm, false);
    return vm->nstates;
}

static int load_one(struct vm *vm, unsigned i, const uint8_t *data, size_t len)
{
    struct vsf_in in = {.section = vm->states[i].name, .data = data, .len = len};
    err_clear();
    freeze(vm, true);
    int rc = vm->states[i].ops->load(vm->states[i].opaque, &in);
    if (rc == 0)
        rc = vsf_in_done(&in);
    freeze(vm, false);
    if (rc < 0 && !*err_msg())
        fail_msg("section '%s': a load failed without a message", vm->states[i].name);
    return rc;
}

static struct vga *vga_of(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nstates; i++)
        if (!strcmp(vm->states[i].name, "vga"))
            return vm->states[i].opaque;
    fail_msg("no vga section");
    return NULL;
}

/* Hostile copies of section I: every prefix is refused with a message;
 * bytes flipped at random load or are refused, never read or write out
 * of bounds (ASan); the good section loads again afterwards. */
static void hostile(struct vm *vm, unsigned i, const struct vsf_out *good, unsigned *seed)
{
    uint8_t *copy = malloc(good->len + 1);
    assert_non_null(copy);
    for (size_t n = 0; n < good->len; n++)
        if (load_one(vm, i, good->data, n) == 0)
            fail_msg("section '%s': %zu of its %zu bytes loaded", vm->states[i].name, n, good->len);
    for (unsigned k = 0; good->len && k < 300; k++) {
        memcpy(copy, good->data, good->len);
        for (unsigned f = 0; f <= k % 4; f++)
            copy[rand_r(seed) % good->len] ^= (uint8_t)(1u << (rand_r(seed) % 8));
        load_one(vm, i, copy, good->len);
    }
    if (load_one(vm, i, good->data, good->len) < 0)
        fail_msg("section '%s' after the hostile ones: %s", vm->states[i].name, err_msg());
    free(copy);
}

static void build_default_guest(struct h *h, const char *iso)
{
    char devices[1024];
    snprintf(devices, sizeof devices,
             "<controller type='scsi' index='0' model='virtio-scsi'>" ADDR(
                 "0x04") "</controller>"
                         "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
                         "<source file='%s'/><target dev='sda' bus='scsi'/><readonly/></disk>"
                         "<memballoon model='virtio'>" ADDR(
                             "0x05") "</memballoon>"
                                     "<video><model type='vga' vram='16384' heads='1' "
                                     "primary='yes'/>" ADDR("0x01") "</video>",
             iso);
    build(h, "<features><acpi/></features>", devices);
    if (!h->board)
        fail_msg("board_new: %s", err_msg());
}

/* The devices virt-install gives a guest by default (virtio-scsi and its
 * CD-ROM, the balloon, VGA) all save and load: a fresh board built from
 * the same XML takes the saved sections and saves them back identical,
 * the screen's pixels and registers included; and each section survives
 * hostile copies of itself. */
static void test_saved_state_default_devices(void **state)
{
    (void)state;
    char iso[] = "/tmp/vmm-test-board-iso-XXXXXX";
    int fd = mkstemp(iso);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 1 << 20), 0);
    close(fd);
    static struct saved a[MAX_SAVED], b[MAX_SAVED];
    struct h h;
    build_default_guest(&h, iso);
    /* Something of the guest's own in the adapter: a palette entry, the
     * cursor, pixels in two places of the video memory. */
    uint8_t v = 7;
    io_dispatch_pio(h.vm, 0x3C8, &v, 1, true);
    for (v = 0x11; v < 0x14; v++)
        io_dispatch_pio(h.vm, 0x3C9, &v, 1, true);
    unsigned w, ht, stride;
    uint8_t *fb = vga_framebuffer(vga_of(h.vm), &w, &ht, &stride);
    assert_non_null(fb);
    memset(fb, 0x5A, 4096 * 3 + 17);
    fb[(size_t)stride * (ht - 1)] = 0xC3;
    unsigned n = save_all(h.vm, a);
    done(&h);

    build_default_guest(&h, iso);
    assert_int_equal(h.vm->nstates, n);
    for (unsigned i = 0; i < n; i++) {
        assert_string_equal(h.vm->states[i].name, a[i].name);
        if (load_one(h.vm, i, a[i].o.data, a[i].o.len) < 0)
            fail_msg("%s", err_msg());
    }
    fb = vga_framebuffer(vga_of(h.vm), &w, &ht, &stride);
    assert_int_equal(fb[4096 * 3 + 16], 0x5A);
    assert_int_equal(fb[4096 * 3 + 17], 0);
    assert_int_equal(fb[(size_t)stride * (ht - 1)], 0xC3);
    assert_int_equal(save_all(h.vm, b), n);
    /* The clocks (the PM timer, the RTC) read the host's time, not a copy. */
    for (unsigned i = 0; i < n; i++)
        if (strcmp(a[i].name, "acpi-pm") && strcmp(a[i].name, "rtc") &&
            (a[i].o.len != b[i].o.len || memcmp(a[i].o.data, b[i].o.data, a[i].o.len)))
            fail_msg("section '%s' saved again differs", a[i].name);
    unsigned seed = 1;
    for (unsigned i = 0; i < n; i++)
        hostile(h.vm, i, &a[i].o, &seed);
    for (unsigned i = 0; i < n; i++) {
        vsf_out_free(&a[i].o);
        vsf_out_free(&b[i].o);
    }
    done(&h);
    unlink(iso);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_firmware_boot),
        cmocka_unit_test(test_bootorder),
        cmocka_unit_test(test_slots_from_addresses),
        cmocka_unit_test(test_missing_addresses_as_tvm_assigns),
        cmocka_unit_test(test_refused_cleanly),
        cmocka_unit_test(test_saved_state_default_devices),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
