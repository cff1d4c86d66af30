/* fw_cfg and the firmware boot's pieces, without KVM:
 * - the port interface: signature "QEMU", the id with the DMA bit, items
 *   read byte by byte and zeroes past their end or under unknown keys;
 *   the file directory lists each file with its size and key;
 * - DMA: select + read into guest RAM, skip, reads past an item's end
 *   zero-filled, and every bad request (buffer outside RAM, a write, an
 *   access structure outside RAM) refused with nothing written;
 * - the ACPI files: SeaBIOS's table loader, played here the way SeaBIOS
 *   runs it (ALLOCATE, ADD_POINTER, ADD_CHECKSUM at two made-up addresses),
 *   leaves an RSDP whose XSDT, FADT, FACS and DSDT are where the pointers
 *   say, every checksum valid: the same tables the direct boot places;
 * - the BIOS ROM: a file of a wrong size is refused naming the file, a good
 *   one is copied below 1 MiB and the vCPU is left at the reset vector;
 * - CMOS: memory sizes, CPU count and boot devices where a BIOS reads them.
 */
#include <endian.h>
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
#include "dev/fw_cfg.h"
#include "vm.h"
#include "x86/acpi.h"
#include "x86/bios.h"

#define MIB (1ULL << 20)

static struct vm *new_vm(void)
{
    struct vm_config cfg = {.ram_bytes = 64 * MIB, .vcpus = 2};
    struct vm *vm = vm_new(&cfg);
    if (!vm)
        fail_msg("vm_new: %s", err_msg());
    return vm;
}

static void read_item(struct fw_cfg *f, uint16_t key, uint8_t *buf, size_t len)
{
    fw_cfg_select(f, key);
    for (size_t i = 0; i < len; i++)
        buf[i] = fw_cfg_read_byte(f);
}

static void test_ports(void **state)
{
    (void)state;
    struct vm *vm = new_vm();
    struct fw_cfg *f = fw_cfg_new(vm, true);
    assert_non_null(f);
    uint8_t b[8];
    read_item(f, FW_CFG_SIGNATURE, b, 5);
    assert_memory_equal(b, "QEMU\0", 5); /* past the end: zero */
    read_item(f, FW_CFG_ID, b, 4);
    assert_int_equal(b[0], FW_CFG_VERSION | FW_CFG_VERSION_DMA);
    read_item(f, 0x7777, b, 2); /* no such key */
    assert_int_equal(b[0] | b[1], 0);
    assert_int_equal(fw_cfg_add_int(f, FW_CFG_NB_CPUS, 3, 2), 0);
    read_item(f, FW_CFG_NB_CPUS, b, 2);
    assert_int_equal(b[0], 3);
    assert_int_equal(fw_cfg_add_file(f, "etc/one", "abc", 3), 0);
    assert_int_equal(fw_cfg_add_file(f, "etc/two", "defgh", 5), 0);
    assert_int_equal(fw_cfg_add_file(f, "etc/one", "x", 1), -1); /* twice */
    char longname[80];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = 0;
    assert_int_equal(fw_cfg_add_file(f, longname, "x", 1), -1);
    assert_int_equal(fw_cfg_add(f, FW_CFG_FILE_DIR, "x", 1), -1); /* the directory is ours */
    uint8_t dir[4 + 2 * 64];
    read_item(f, FW_CFG_FILE_DIR, dir, sizeof dir);
    uint32_t count, size;
    uint16_t sel;
    memcpy(&count, dir, 4);
    assert_int_equal(be32toh(count), 2);
    memcpy(&size, dir + 4 + 64, 4);
    memcpy(&sel, dir + 4 + 64 + 4, 2);
    assert_int_equal(be32toh(size), 5);
    assert_string_equal((char *)dir + 4 + 64 + 8, "etc/two");
    read_item(f, be16toh(sel), b, 5);
    assert_memory_equal(b, "defgh", 5);
    vm_free(vm);
}

/* Writes a FWCfgDmaAccess at ACC and runs it; returns its control after. */
static uint32_t dma(struct vm *vm, struct fw_cfg *f, uint64_t acc, uint32_t control, uint32_t len,
                    uint64_t addr)
{
    uint8_t *p = vm_gpa_ptr(vm, acc, 16);
    uint32_t c = htobe32(control), l = htobe32(len);
    uint64_t a = htobe64(addr);
    memcpy(p, &c, 4);
    memcpy(p + 4, &l, 4);
    memcpy(p + 8, &a, 8);
    fw_cfg_dma(f, acc);
    memcpy(&c, p, 4);
    return be32toh(c);
}

static void test_dma(void **state)
{
    (void)state;
    struct vm *vm = new_vm();
    struct fw_cfg *f = fw_cfg_new(vm, true);
    assert_int_equal(fw_cfg_add_file(f, "etc/data", "0123456789", 10), 0);
    uint8_t *buf = vm_gpa_ptr(vm, 0x2000, 32);
    memset(buf, 0xAA, 32);
    uint32_t sel = (uint32_t)FW_CFG_FILE_FIRST << 16 | FW_CFG_DMA_SELECT;
    assert_int_equal(dma(vm, f, 0x1000, sel | FW_CFG_DMA_SKIP, 2, 0), 0);
    assert_int_equal(dma(vm, f, 0x1000, FW_CFG_DMA_READ, 3, 0x2000), 0);
    assert_memory_equal(buf, "234", 3);
    /* past the end: the rest of the buffer is zeroes */
    assert_int_equal(dma(vm, f, 0x1000, FW_CFG_DMA_READ, 8, 0x2000), 0);
    assert_memory_equal(buf, "56789\0\0\0", 8);
    assert_int_equal(buf[8], 0xAA);
    /* a buffer running off guest RAM, or wrapping: error, nothing written */
    assert_int_equal(dma(vm, f, 0x1000, sel | FW_CFG_DMA_READ, 16, 64 * MIB - 8), FW_CFG_DMA_ERROR);
    assert_int_equal(dma(vm, f, 0x1000, sel | FW_CFG_DMA_READ, 16, UINT64_MAX - 4),
                     FW_CFG_DMA_ERROR);
    assert_int_equal(dma(vm, f, 0x1000, sel | FW_CFG_DMA_WRITE, 4, 0x2000), FW_CFG_DMA_ERROR);
    assert_memory_equal(buf, "56789", 5);
    /* an access structure outside RAM is ignored (nowhere to answer) */
    fw_cfg_dma(f, 0xFFFFFFFFFFFFFFF0ULL);
    fw_cfg_dma(f, 64 * MIB - 8);
    vm_free(vm);
}

/* ---- SeaBIOS's table loader, as src/fw/romfile_loader.c runs it ---- */

struct file {
    char name[56];
    uint8_t *data;
    uint32_t size;
    uint64_t gpa;
};

static struct file *find_file(struct file *fs, unsigned n, const char *name)
{
    for (unsigned i = 0; i < n; i++)
        if (strncmp(fs[i].name, name, 56) == 0)
            return &fs[i];
    fail_msg("loader names unknown file %.56s", name);
    return NULL;
}

static uint32_t le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* Reads every fw_cfg file into FS, then runs etc/table-loader: tables at
 * 0x7F000000, the RSDP at 0xF5A00 (made-up "allocations"). */
static unsigned load_files(struct fw_cfg *f, struct file *fs)
{
    uint8_t dir[4 + 8 * 64];
    read_item(f, FW_CFG_FILE_DIR, dir, sizeof dir);
    uint32_t n;
    memcpy(&n, dir, 4);
    n = be32toh(n);
    assert_true(n <= 8);
    for (unsigned i = 0; i < n; i++) {
        const uint8_t *e = dir + 4 + i * 64;
        uint32_t size;
        uint16_t sel;
        memcpy(&size, e, 4);
        memcpy(&sel, e + 4, 2);
        memcpy(fs[i].name, e + 8, 56);
        fs[i].size = be32toh(size);
        fs[i].data = malloc(fs[i].size);
        read_item(f, be16toh(sel), fs[i].data, fs[i].size);
    }
    return n;
}

static void run_loader(struct file *fs, unsigned n)
{
    struct file *l = find_file(fs, n, "etc/table-loader");
    assert_int_equal(l->size % 128, 0);
    for (uint32_t off = 0; off < l->size; off += 128) {
        const uint8_t *e = l->data + off;
        switch (le32(e)) {
        case 1: { /* ALLOCATE */
            struct file *t = find_file(fs, n, (const char *)e + 4);
            uint32_t align = le32(e + 60);
            t->gpa = e[64] == 2 ? 0xF5A00 : 0x7F000000;
            assert_int_equal(t->gpa % align, 0);
            break;
        }
        case 2: { /* ADD_POINTER */
            struct file *d = find_file(fs, n, (const char *)e + 4);
            struct file *s = find_file(fs, n, (const char *)e + 60);
            uint32_t at = le32(e + 116);
            uint8_t size = e[120];
            assert_true(size == 4 || size == 8);
            assert_true(at + size <= d->size);
            uint64_t v = size == 8 ? le64(d->data + at) : le32(d->data + at);
            v += s->gpa;
            for (unsigned k = 0; k < size; k++)
                d->data[at + k] = (uint8_t)(v >> (8 * k));
            break;
        }
        case 3: { /* ADD_CHECKSUM */
            struct file *t = find_file(fs, n, (const char *)e + 4);
            uint32_t at = le32(e + 60), start = le32(e + 64), len = le32(e + 68);
            assert_true(at < t->size && start + len <= t->size);
            t->data[at] -= acpi_checksum(t->data + start, len);
            break;
        }
        default:
            fail_msg("loader command %u", le32(e));
        }
    }
}

/* The table at guest address GPA inside the tables file. */
static const uint8_t *at_gpa(const struct file *tables, uint64_t gpa)
{
    assert_true(gpa >= tables->gpa && gpa - tables->gpa + 36 <= tables->size);
    return tables->data + (gpa - tables->gpa);
}

static void test_acpi_loader(void **state)
{
    (void)state;
    struct vm *vm = new_vm();
    struct fw_cfg *f = fw_cfg_new(vm, true);
    static const uint32_t ids[2] = {0, 1};
    struct acpi_config cfg = {.ncpus = 2, .apic_ids = ids, .pm_base = 0x600, .sci_irq = 9};
    assert_int_equal(bios_acpi_files(f, &cfg), 0);
    struct file fs[8] = {0};
    unsigned n = load_files(f, fs);
    assert_int_equal(n, 3);
    run_loader(fs, n);
    struct file *rsdp = find_file(fs, n, "etc/acpi/rsdp"),
                *tables = find_file(fs, n, "etc/acpi/tables");
    assert_memory_equal(rsdp->data, "RSD PTR ", 8);
    assert_int_equal(acpi_checksum(rsdp->data, 20), 0);
    assert_int_equal(acpi_checksum(rsdp->data, 36), 0);
    const uint8_t *xsdt = at_gpa(tables, le64(rsdp->data + 24));
    assert_memory_equal(xsdt, "XSDT", 4);
    assert_int_equal(acpi_checksum(xsdt, le32(xsdt + 4)), 0);
    const uint8_t *fadt = at_gpa(tables, le64(xsdt + 36));
    assert_memory_equal(fadt, "FACP", 4);
    assert_int_equal(acpi_checksum(fadt, le32(fadt + 4)), 0);
    const uint8_t *dsdt = at_gpa(tables, le64(fadt + 140));
    assert_memory_equal(dsdt, "DSDT", 4);
    assert_int_equal(le32(fadt + 40), (uint32_t)le64(fadt + 140));
    assert_int_equal(acpi_checksum(dsdt, le32(dsdt + 4)), 0);
    assert_memory_equal(at_gpa(tables, le64(fadt + 132)), "FACS", 4);
    const uint8_t *madt = at_gpa(tables, le64(xsdt + 44));
    assert_memory_equal(madt, "APIC", 4);
    assert_int_equal(acpi_checksum(madt, le32(madt + 4)), 0);
    /* The same DSDT as the direct boot's */
    static uint8_t region[0x10000];
    uint64_t direct_rsdp;
    assert_int_equal(acpi_build_tables(region, 0xE0000, sizeof region, &cfg, &direct_rsdp), 0);
    const uint8_t *d_xsdt = region + (le64(region + (direct_rsdp - 0xE0000) + 24) - 0xE0000);
    const uint8_t *d_fadt = region + (le64(d_xsdt + 36) - 0xE0000);
    const uint8_t *d_dsdt = region + (le64(d_fadt + 140) - 0xE0000);
    assert_int_equal(le32(d_dsdt + 4), le32(dsdt + 4));
    assert_memory_equal(d_dsdt, dsdt, le32(dsdt + 4));
    for (unsigned i = 0; i < n; i++)
        free(fs[i].data);
    vm_free(vm);
}

static void test_rom(void **state)
{
    (void)state;
    char path[] = "/tmp/tvm-fw-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    uint8_t *img = calloc(1, 128 << 10);
    img[0] = 0x11;
    img[(128 << 10) - 16] = 0xEA; /* the reset vector's far jump */
    assert_int_equal(write(fd, img, 100), 100);
    struct vm_config cfg = {.ram_bytes = 64 * MIB, .vcpus = 1, .bios = path};
    struct vm *vm = vm_new(&cfg);
    assert_int_equal(bios_load(vm), -1);
    assert_non_null(strstr(err_msg(), path));
    assert_non_null(strstr(err_msg(), "100 bytes"));
    assert_int_equal(pwrite(fd, img, 128 << 10, 0), 128 << 10);
    assert_int_equal(bios_load(vm), 0);
    assert_true(vm->entry.reset);
    assert_int_equal(vm->rom.size, 128 << 10);
    const uint8_t *low = vm_gpa_ptr(vm, 0xE0000, 128 << 10);
    assert_int_equal(low[0], 0x11);
    assert_int_equal(low[0xFFFF0 - 0xE0000], 0xEA);
    vm_free(vm);
    close(fd);
    unlink(path);
    free(img);
}

static void test_cmos(void **state)
{
    (void)state;
    uint8_t nv[128] = {0};
    struct bios_cmos c = {
        .ram_bytes = 4096 * MIB, .ncpus = 4, .boot = {BIOS_BOOT_CDROM, BIOS_BOOT_HD}};
    bios_cmos_fill(&c, nv);
    /* 3 GiB below the hole: 64 KiB blocks above 16 MiB; 1 GiB above 4 GiB */
    assert_int_equal(nv[0x34] | nv[0x35] << 8, (3072 - 16) * 16);
    assert_int_equal(nv[0x5b] | nv[0x5c] << 8 | nv[0x5d] << 16, 1024 * 16);
    assert_int_equal(nv[0x30] | nv[0x31] << 8, 0xFFFF);
    assert_int_equal(nv[0x5f], 3);
    assert_int_equal(nv[0x3d], BIOS_BOOT_HD << 4 | BIOS_BOOT_CDROM);
    assert_int_equal(nv[0x38], 1);
    struct boot_e820_entry e[8];
    int n = bios_e820(4096 * MIB, e, 8);
    assert_int_equal(n, 4);
    assert_int_equal(e[0].size, 3072 * MIB);
    assert_int_equal(e[3].addr, 1ULL << 32);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ports),       cmocka_unit_test(test_dma),
        cmocka_unit_test(test_acpi_loader), cmocka_unit_test(test_rom),
        cmocka_unit_test(test_cmos),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
