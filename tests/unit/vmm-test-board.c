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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_firmware_boot),
        cmocka_unit_test(test_bootorder),
        cmocka_unit_test(test_slots_from_addresses),
        cmocka_unit_test(test_missing_addresses_as_tvm_assigns),
        cmocka_unit_test(test_refused_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
