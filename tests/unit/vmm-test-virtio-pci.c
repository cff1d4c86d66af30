/* The PCI host bridge and the virtio-pci transport driven the way a guest
 * driver does it, through the VM's port and MMIO bus (no KVM): type-1
 * config cycles, BAR sizing, the capability list, feature negotiation,
 * queue setup, a kick, ISR and MSI-X masking with the PBA. Then
 * virtio-blk on real image files: reads, writes, GET_ID, FLUSH, an
 * out-of-range request, and a read-only disk answering writes with IOERR.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "core/image/image.h"
#include "pci.h"
#include "virtio/virtio.h"
#include "vm.h"

#define QSIZE 16
#define DESC_GPA 0x10000
#define AVAIL_GPA 0x11000
#define USED_GPA 0x12000
#define BUF_GPA 0x20000

struct t {
    struct vm *vm;
    struct pci_bus *bus;
    struct virtio_dev *dev;
    uint8_t slot;
    uint64_t bar4, bar1;
    uint16_t avail_idx;
    char dir[64];
};

static uint32_t cfg_read(struct t *t, uint8_t slot, uint8_t reg, uint32_t len)
{
    uint32_t a = 0x80000000u | slot << 11 | (reg & 0xFC), v = 0;
    io_dispatch_pio(t->vm, 0xCF8, (uint8_t *)&a, 4, true);
    io_dispatch_pio(t->vm, 0xCFC + (reg & 3), (uint8_t *)&v, len, false);
    return v;
}

static void cfg_write(struct t *t, uint8_t slot, uint8_t reg, uint32_t v, uint32_t len)
{
    uint32_t a = 0x80000000u | slot << 11 | (reg & 0xFC);
    io_dispatch_pio(t->vm, 0xCF8, (uint8_t *)&a, 4, true);
    io_dispatch_pio(t->vm, 0xCFC + (reg & 3), (uint8_t *)&v, len, true);
}

static uint64_t mmio_read(struct t *t, uint64_t addr, uint32_t len)
{
    uint64_t v = 0;
    assert_int_equal(io_dispatch_mmio(t->vm, addr, (uint8_t *)&v, len, false), 0);
    return v;
}

static void mmio_write(struct t *t, uint64_t addr, uint64_t v, uint32_t len)
{
    assert_int_equal(io_dispatch_mmio(t->vm, addr, (uint8_t *)&v, len, true), 0);
}

static void *gpa(struct t *t, uint64_t a, uint64_t len)
{
    void *p = vm_gpa_ptr(t->vm, a, len);
    assert_non_null(p);
    return p;
}

/* Finds the vendor capability of CFG_TYPE; returns its config offset or 0. */
static uint8_t find_cap(struct t *t, uint8_t id, int cfg_type)
{
    for (uint8_t at = cfg_read(t, t->slot, PCI_CAPABILITY_LIST, 1); at;
         at = cfg_read(t, t->slot, at + 1, 1)) {
        if (cfg_read(t, t->slot, at, 1) != id)
            continue;
        if (cfg_type < 0 || cfg_read(t, t->slot, at + 3, 1) == (uint32_t)cfg_type)
            return at;
    }
    return 0;
}

static void new_vm(struct t *t)
{
    memset(t, 0, sizeof *t);
    struct vm_config cfg = {.ram_bytes = 32 << 20, .vcpus = 1};
    t->vm = vm_new(&cfg);
    assert_non_null(t->vm);
    t->bus = pci_init(t->vm);
    if (!t->bus)
        fail_msg("pci_init: %s", err_msg());
}

static void plug(struct t *t, struct virtio_dev *dev)
{
    if (!dev)
        fail_msg("device: %s", err_msg());
    t->dev = dev;
    assert_int_equal(virtio_pci_add(t->bus, dev, 1), 0);
    for (t->slot = 1; t->slot < 32; t->slot++)
        if (cfg_read(t, t->slot, PCI_VENDOR_ID, 2) != 0xFFFF)
            break;
    cfg_write(t, t->slot, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    t->bar4 = cfg_read(t, t->slot, PCI_BAR0 + 16, 4) & ~0xFu;
    t->bar1 = cfg_read(t, t->slot, PCI_BAR0 + 4, 4) & ~0xFu;
}

static void drop(struct t *t)
{
    virtio_dev_free(t->dev);
    vm_free(t->vm);
    if (t->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", t->dir);
        assert_int_equal(system(cmd), 0);
    }
}

/* The driver's side of 3.1.1 and 4.1.5.1.3, through BAR 4. */
static void driver_init(struct t *t, uint64_t features)
{
    uint64_t c = t->bar4;
    memset(gpa(t, AVAIL_GPA, 0x2000), 0, 0x2000);
    mmio_write(t, c + 0x14, 0, 1);
    mmio_write(t, c + 0x14, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
    mmio_write(t, c + 0x08, 0, 4);
    mmio_write(t, c + 0x0C, (uint32_t)features, 4);
    mmio_write(t, c + 0x08, 1, 4);
    mmio_write(t, c + 0x0C, features >> 32, 4);
    mmio_write(t, c + 0x14, 0x0B, 1);
    assert_int_equal(mmio_read(t, c + 0x14, 1) & VIRTIO_CONFIG_S_FEATURES_OK,
                     VIRTIO_CONFIG_S_FEATURES_OK);
    mmio_write(t, c + 0x16, 0, 2);
    assert_int_equal(mmio_read(t, c + 0x18, 2), VIRTQ_MAX_SIZE);
    mmio_write(t, c + 0x18, QSIZE, 2);
    mmio_write(t, c + 0x1A, 1, 2); /* queue 0 -> MSI-X vector 1 */
    assert_int_equal(mmio_read(t, c + 0x1A, 2), 1);
    mmio_write(t, c + 0x10, 0, 2); /* config -> vector 0 */
    /* 64-bit ring addresses in two halves, as Linux writes them */
    mmio_write(t, c + 0x20, DESC_GPA, 4);
    mmio_write(t, c + 0x24, 0, 4);
    mmio_write(t, c + 0x28, AVAIL_GPA, 4);
    mmio_write(t, c + 0x2C, 0, 4);
    mmio_write(t, c + 0x30, USED_GPA, 8);
    mmio_write(t, c + 0x1C, 1, 2);
    assert_int_equal(mmio_read(t, c + 0x1C, 2), 1);
    mmio_write(t, c + 0x14, 0x0F, 1);
    t->avail_idx = 0;
}

static void put_desc(struct t *t, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                     uint16_t next)
{
    uint8_t *d = gpa(t, DESC_GPA + 16 * i, 16);
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
}

/* Offers chain HEAD, kicks through the notify register, runs the worker's step. */
static void kick(struct t *t, uint16_t head)
{
    uint16_t *ring = gpa(t, AVAIL_GPA + 4, 2 * QSIZE);
    ring[t->avail_idx++ % QSIZE] = head;
    memcpy(gpa(t, AVAIL_GPA + 2, 2), &t->avail_idx, 2);
    uint32_t noff = mmio_read(t, t->bar4 + 0x1E, 2);
    mmio_write(t, t->bar4 + 0x3000 + 4 * noff, 0, 2);
    uint64_t n = 0;
    assert_int_equal(read(t->dev->kick_fd[0], &n, sizeof n), sizeof n);
    assert_true(n >= 1); /* DRIVER_OK kicks once on its own */
    virtio_dev_process(t->dev, 0);
}

static uint16_t used_idx(struct t *t)
{
    uint16_t v;
    memcpy(&v, gpa(t, USED_GPA + 2, 2), 2);
    return v;
}

#define FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC))

static void test_enumeration(void **state)
{
    (void)state;
    struct t t;
    new_vm(&t);
    plug(&t, virtio_rng_new(t.vm));
    /* host bridge at 00:00.0, what Linux's type-1 probe looks for */
    assert_int_equal(cfg_read(&t, 0, PCI_CLASS_DEVICE, 2), 0x0600);
    assert_int_equal(t.slot, 1);
    assert_int_equal(cfg_read(&t, 1, PCI_VENDOR_ID, 2), 0x1AF4);
    assert_int_equal(cfg_read(&t, 1, PCI_DEVICE_ID, 2), 0x1044);
    assert_int_equal(cfg_read(&t, 1, PCI_REVISION_ID, 1), 1);
    assert_int_equal(cfg_read(&t, 2, PCI_VENDOR_ID, 2), 0xFFFF);
    /* function 1 and bus 1 are empty */
    uint32_t a = 0x80000000u | 1 << 11 | 1 << 8, v = 0;
    io_dispatch_pio(t.vm, 0xCF8, (uint8_t *)&a, 4, true);
    io_dispatch_pio(t.vm, 0xCFC, (uint8_t *)&v, 4, false);
    assert_int_equal(v, 0xFFFFFFFF);
    /* BAR sizing */
    uint32_t bar4 = cfg_read(&t, 1, PCI_BAR0 + 16, 4);
    cfg_write(&t, 1, PCI_BAR0 + 16, 0xFFFFFFFF, 4);
    assert_int_equal(cfg_read(&t, 1, PCI_BAR0 + 16, 4), 0xFFFFC000);
    cfg_write(&t, 1, PCI_BAR0 + 16, bar4, 4);
    assert_true(bar4 >= PCI_MMIO_BASE && bar4 < PCI_MMIO_BASE + PCI_MMIO_SIZE);
    /* capabilities: common, notify, ISR, MSI-X (rng has no device config) */
    assert_true(cfg_read(&t, 1, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST);
    assert_int_not_equal(find_cap(&t, PCI_CAP_ID_VNDR, 1), 0);
    assert_int_not_equal(find_cap(&t, PCI_CAP_ID_VNDR, 3), 0);
    assert_int_equal(find_cap(&t, PCI_CAP_ID_VNDR, 4), 0);
    uint8_t n = find_cap(&t, PCI_CAP_ID_VNDR, 2);
    assert_int_not_equal(n, 0);
    assert_int_equal(cfg_read(&t, 1, n + 16, 4), 4); /* notify_off_multiplier */
    uint8_t m = find_cap(&t, PCI_CAP_ID_MSIX, -1);
    assert_int_not_equal(m, 0);
    assert_int_equal(cfg_read(&t, 1, m + 2, 2) & 0x7FF, 1); /* 2 vectors */
    /* VIRTIO_PCI_CAP_PCI_CFG: BAR 4 registers through config space */
    uint8_t pc = find_cap(&t, PCI_CAP_ID_VNDR, 5);
    assert_int_not_equal(pc, 0);
    cfg_write(&t, 1, pc + 4, 4, 1);    /* bar */
    cfg_write(&t, 1, pc + 8, 0x12, 4); /* offset: num_queues */
    cfg_write(&t, 1, pc + 12, 2, 4);   /* length */
    assert_int_equal(cfg_read(&t, 1, pc + 16, 2), 1);
    cfg_write(&t, 1, pc + 8, 0x00, 4); /* device_feature_select := 1 */
    cfg_write(&t, 1, pc + 12, 4, 4);
    cfg_write(&t, 1, pc + 16, 1, 4);
    assert_int_equal(mmio_read(&t, bar4 + 0x04, 4) & 1, 1); /* VERSION_1 in word 1 */
    /* a moved BAR follows: registers answer at the new address */
    cfg_write(&t, 1, PCI_BAR0 + 16, PCI_MMIO_BASE + 0x100000, 4);
    assert_int_equal(mmio_read(&t, PCI_MMIO_BASE + 0x100000 + 0x12, 2), 1); /* num_queues */
    drop(&t);
}

static void test_negotiation_and_kick(void **state)
{
    (void)state;
    struct t t;
    new_vm(&t);
    plug(&t, virtio_rng_new(t.vm));
    mmio_write(&t, t.bar4 + 0x00, 1, 4);
    assert_int_equal(mmio_read(&t, t.bar4 + 0x04, 4) & 1, 1); /* VERSION_1 offered */
    /* a driver without VERSION_1 cannot get FEATURES_OK */
    mmio_write(&t, t.bar4 + 0x14, 3, 1);
    mmio_write(&t, t.bar4 + 0x14, 0x0B, 1);
    assert_int_equal(mmio_read(&t, t.bar4 + 0x14, 1) & VIRTIO_CONFIG_S_FEATURES_OK, 0);

    driver_init(&t, FEATURES);
    put_desc(&t, 0, BUF_GPA, 32, VIRTQ_DESC_F_WRITE, 0);
    kick(&t, 0);
    assert_int_equal(used_idx(&t), 1);
    /* MSI-X off: the interrupt shows in the ISR, which reading clears */
    assert_int_equal(mmio_read(&t, t.bar4 + 0x1000, 1), 1);
    assert_int_equal(mmio_read(&t, t.bar4 + 0x1000, 1), 0);
    drop(&t);
}

static void test_msix_mask_and_pba(void **state)
{
    (void)state;
    struct t t;
    new_vm(&t);
    plug(&t, virtio_rng_new(t.vm));
    uint8_t m = find_cap(&t, PCI_CAP_ID_MSIX, -1);
    cfg_write(&t, t.slot, m + 2, 0x8000, 2); /* enable */
    assert_int_equal(cfg_read(&t, t.slot, m + 2, 2), 0x8001);
    /* vector 1: message written, still masked (power-on state) */
    mmio_write(&t, t.bar1 + 16, 0xFEE00000, 4);
    mmio_write(&t, t.bar1 + 24, 0x41, 4);
    assert_int_equal(mmio_read(&t, t.bar1 + 28, 4), 1);
    driver_init(&t, FEATURES);
    put_desc(&t, 0, BUF_GPA, 32, VIRTQ_DESC_F_WRITE, 0);
    kick(&t, 0);
    assert_int_equal(mmio_read(&t, t.bar1 + 0x800, 8), 2); /* pending bit of vector 1 */
    mmio_write(&t, t.bar1 + 28, 0, 4);                     /* unmask: delivered */
    assert_int_equal(mmio_read(&t, t.bar1 + 0x800, 8), 0);
    assert_int_equal(mmio_read(&t, t.bar1 + 24, 4), 0x41);
    drop(&t);
}

/* ---- virtio-blk ---- */

static struct virtio_dev *blk_on(struct t *t, const char *name, bool readonly)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/vmm-test-virtio-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    char path[128];
    snprintf(path, sizeof path, "%s/%s", t->dir, name);
    assert_int_equal(image_create_raw(path, 1 << 20), 0);
    struct image *img = image_open(path, IMAGE_FORMAT_RAW, 0);
    uint8_t pat[4096];
    memset(pat, 0xA5, sizeof pat);
    assert_int_equal(image_write(img, pat, 0, sizeof pat), 0);
    image_close(img);
    struct virtio_blk_config_in c = {
        .path = path, .format = "raw", .serial = "SER-1", .target = "vda", .readonly = readonly};
    return virtio_blk_new(t->vm, &c);
}

/* Request: header at BUF, data at BUF+0x100, status at BUF+0x3000. */
static uint8_t blk_request(struct t *t, uint32_t type, uint64_t sector, uint32_t len, bool write)
{
    uint8_t *h = gpa(t, BUF_GPA, 16);
    memset(h, 0, 16);
    memcpy(h, &type, 4);
    memcpy(h + 8, &sector, 8);
    uint8_t *st = gpa(t, BUF_GPA + 0x3000, 1);
    *st = 0xFF;
    put_desc(t, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, len ? 1 : 2);
    put_desc(t, 1, BUF_GPA + 0x100, len, (write ? 0 : VIRTQ_DESC_F_WRITE) | VIRTQ_DESC_F_NEXT, 2);
    put_desc(t, 2, BUF_GPA + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
    uint16_t before = used_idx(t);
    kick(t, 0);
    assert_int_equal(used_idx(t), before + 1);
    return *st;
}

static void test_blk_io(void **state)
{
    (void)state;
    struct t t;
    new_vm(&t);
    plug(&t, blk_on(&t, "d.raw", false));
    assert_int_not_equal(find_cap(&t, PCI_CAP_ID_VNDR, 4), 0);
    uint64_t cap = mmio_read(&t, t.bar4 + 0x2000, 8);
    assert_int_equal(cap, 2048); /* 1 MiB in sectors */
    /* blk takes no config writes: a guest writing capacity changes nothing */
    mmio_write(&t, t.bar4 + 0x2000, 0xFFFF, 8);
    assert_int_equal(mmio_read(&t, t.bar4 + 0x2000, 8), 2048);
    mmio_write(&t, t.bar4 + 0x00, 0, 4);
    assert_false(mmio_read(&t, t.bar4 + 0x04, 4) & (1u << 5)); /* not RO */
    driver_init(&t, FEATURES | (1u << 9));
    uint8_t *data = gpa(&t, BUF_GPA + 0x100, 0x2000);

    assert_int_equal(blk_request(&t, 0, 0, 1024, false), 0); /* IN */
    assert_int_equal(data[0], 0xA5);
    assert_int_equal(data[1023], 0xA5);
    memset(data, 0x5A, 512);
    assert_int_equal(blk_request(&t, 1, 8, 512, true), 0); /* OUT at 4 KiB */
    assert_int_equal(blk_request(&t, 4, 0, 0, false), 0);  /* FLUSH */
    memset(data, 0, 512);
    assert_int_equal(blk_request(&t, 0, 8, 512, false), 0);
    assert_int_equal(data[0], 0x5A);
    assert_int_equal(data[511], 0x5A);
    assert_int_equal(blk_request(&t, 8, 0, 20, false), 0); /* GET_ID */
    assert_memory_equal(data, "SER-1\0", 6);
    /* past the end, a partial sector, an unknown type */
    assert_int_equal(blk_request(&t, 0, 2047, 1024, false), 1);
    assert_int_equal(blk_request(&t, 0, 0, 100, false), 1);
    assert_int_equal(blk_request(&t, 99, 0, 0, false), 2);
    assert_false(t.dev->broken);

    /* the bytes are in the file */
    char path[128];
    snprintf(path, sizeof path, "%s/d.raw", t.dir);
    int fd = open(path, O_RDONLY);
    uint8_t b[2];
    assert_int_equal(pread(fd, b, 2, 4096 + 510), 2);
    close(fd);
    assert_int_equal(b[0], 0x5A);
    assert_int_equal(b[1], 0x5A);
    drop(&t);
}

static void test_blk_readonly(void **state)
{
    (void)state;
    struct t t;
    new_vm(&t);
    plug(&t, blk_on(&t, "ro.raw", true));
    mmio_write(&t, t.bar4 + 0x00, 0, 4);
    assert_true(mmio_read(&t, t.bar4 + 0x04, 4) & (1u << 5)); /* VIRTIO_BLK_F_RO */
    driver_init(&t, FEATURES);
    uint8_t *data = gpa(&t, BUF_GPA + 0x100, 512);
    memset(data, 0x11, 512);
    assert_int_equal(blk_request(&t, 1, 0, 512, true), 1); /* OUT -> IOERR */
    assert_int_equal(blk_request(&t, 0, 0, 512, false), 0);
    assert_int_equal(data[0], 0xA5); /* unchanged */
    drop(&t);
}

static void test_blk_bad_image(void **state)
{
    (void)state;
    struct t t;
    new_vm(&t);
    struct virtio_blk_config_in c = {
        .path = "/nonexistent/x.qcow2", .format = "qcow2", .target = "vdz"};
    assert_null(virtio_blk_new(t.vm, &c));
    assert_non_null(strstr(err_msg(), "vdz"));
    assert_non_null(strstr(err_msg(), "/nonexistent/x.qcow2"));
    vm_free(t.vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enumeration),       cmocka_unit_test(test_negotiation_and_kick),
        cmocka_unit_test(test_msix_mask_and_pba), cmocka_unit_test(test_blk_io),
        cmocka_unit_test(test_blk_readonly),      cmocka_unit_test(test_blk_bad_image),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
