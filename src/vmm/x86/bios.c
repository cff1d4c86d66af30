/* Firmware boot: see bios.h. CMOS offsets are the PC's (SeaBIOS
 * src/hw/rtc.h, QEMU hw/i386/pc.c); the table loader's commands are
 * QEMU's (hw/acpi/bios-linker-loader.c), as SeaBIOS runs them
 * (src/fw/romfile_loader.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/err.h"
#include "dev/fw_cfg.h"
#include "pci.h"
#include "x86/acpi.h"
#include "x86/bios.h"
#include "x86/boot.h"

/* ---- the ROM ---- */

static int read_all(int fd, uint8_t *dst, size_t len, const char *path)
{
    size_t got = 0;
    while (got < len) {
        ssize_t r = read(fd, dst + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return err_errno("firmware %s: read", path);
        if (r == 0)
            return err_set("firmware %s: shorter than it was (%zu of %zu bytes)", path, got, len);
        got += (size_t)r;
    }
    return 0;
}

/* The image's size, checked: whole 64 KiB blocks, 64 to 256 KiB. */
static int rom_size(int fd, const char *path, uint64_t *size)
{
    struct stat st;
    if (fstat(fd, &st) < 0)
        return err_errno("firmware %s", path);
    if (!S_ISREG(st.st_mode))
        return err_set("firmware %s: not a regular file", path);
    uint64_t n = (uint64_t)st.st_size;
    if (n < BIOS_ROM_MIN || n > BIOS_ROM_MAX || n % BIOS_ROM_MIN)
        return err_set("firmware %s: %" PRIu64 " bytes; a BIOS image is 64, 128, 192 or 256 KiB",
                       path, n);
    *size = n;
    return 0;
}

int bios_load(struct vm *vm)
{
    const char *path = vm->cfg.bios;
    int fd = boot_open_image(path, vm->cfg.bios_fd);
    if (fd < 0)
        return err_errno("firmware %s", path);
    uint64_t size;
    int rc = rom_size(fd, path, &size);
    if (rc == 0 && vm->rom.host && vm->rom.size != size)
        rc = err_set("firmware %s: changed size since the guest started", path);
    if (rc == 0 && !vm->rom.host) {
        void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            rc = err_errno("firmware %s: cannot map %" PRIu64 " KiB", path, size >> 10);
        else
            vm->rom.host = p, vm->rom.size = size;
    }
    if (rc == 0)
        rc = read_all(fd, vm->rom.host, size, path);
    close(fd);
    if (rc < 0)
        return -1;
    /* The whole image below 1 MiB: what SeaBIOS copies there itself after
     * unlocking the PAM registers (code that a 256 KiB build links below
     * 0xE0000 included). */
    uint8_t *low = vm_gpa_ptr(vm, BIOS_LOW_END - size, size);
    if (!low)
        return err_set("firmware %s: no guest RAM below 1 MiB for its copy", path);
    memcpy(low, vm->rom.host, size);
    vm->entry = (struct boot_entry){.reset = true};
    return 0;
}

/* ---- CMOS ---- */

#define CMOS_EQUIPMENT 0x14
#define CMOS_BASE_MEM_LO 0x15 /* KiB below 1 MiB */
#define CMOS_EXT_MEM_LO 0x17  /* KiB from 1 MiB, at most 65535 */
#define CMOS_EXT_MEM2_LO 0x30 /* the same again */
#define CMOS_MEM_16M_LO 0x34  /* 64 KiB blocks from 16 MiB to the hole */
#define CMOS_BOOTFLAG1 0x38   /* third boot device << 4 | 1: no floppy check */
#define CMOS_BOOTFLAG2 0x3D   /* second << 4 | first */
#define CMOS_MEM_4G_LO 0x5B   /* 64 KiB blocks above 4 GiB, 3 bytes */
#define CMOS_SMP_COUNT 0x5F   /* CPUs - 1 */

static void put_le(uint8_t *nvram, unsigned at, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++)
        nvram[at + i] = (uint8_t)(v >> (8 * i));
}

void bios_cmos_fill(const struct bios_cmos *c, uint8_t *nvram)
{
    uint64_t low = c->ram_bytes < MEM_HOLE_START ? c->ram_bytes : MEM_HOLE_START;
    uint64_t high = c->ram_bytes - low;
    uint64_t ext = low > (1ULL << 20) ? (low - (1ULL << 20)) >> 10 : 0;
    uint64_t above16 = low > (16ULL << 20) ? (low - (16ULL << 20)) >> 16 : 0;
    nvram[CMOS_EQUIPMENT] = 0x02; /* an FPU, VGA/EGA display, no floppy */
    put_le(nvram, CMOS_BASE_MEM_LO, 640, 2);
    put_le(nvram, CMOS_EXT_MEM_LO, ext > 0xFFFF ? 0xFFFF : ext, 2);
    put_le(nvram, CMOS_EXT_MEM2_LO, ext > 0xFFFF ? 0xFFFF : ext, 2);
    put_le(nvram, CMOS_MEM_16M_LO, above16 > 0xFFFF ? 0xFFFF : above16, 2);
    put_le(nvram, CMOS_MEM_4G_LO, high >> 16, 3);
    nvram[CMOS_SMP_COUNT] = (uint8_t)(c->ncpus ? c->ncpus - 1 : 0);
    nvram[CMOS_BOOTFLAG2] = (uint8_t)((c->boot[1] & 0xF) << 4 | (c->boot[0] & 0xF));
    nvram[CMOS_BOOTFLAG1] = (uint8_t)((c->boot[2] & 0xF) << 4 | 1);
}

/* ---- memory map ---- */

int bios_e820(uint64_t ram_bytes, struct boot_e820_entry *tab, unsigned max)
{
    struct mem_region r[2];
    unsigned n;
    if (mem_layout(ram_bytes, r, &n) < 0)
        return -1;
    if (max < 4)
        return err_set("e820: table too small");
    unsigned i = 0;
    tab[i++] = (struct boot_e820_entry){.addr = 0, .size = r[0].size, .type = BOOT_E820_RAM};
    /* As in the direct boot's map: Linux takes MMCONFIG early only from a
     * reserved range. */
    tab[i++] = (struct boot_e820_entry){
        .addr = PCI_ECAM_BASE, .size = PCI_ECAM_SIZE, .type = BOOT_E820_RESERVED};
    tab[i++] = (struct boot_e820_entry){.addr = KVM_IDENTITY_MAP_GPA,
                                        .size = KVM_PRIVATE_END - KVM_IDENTITY_MAP_GPA,
                                        .type = BOOT_E820_RESERVED};
    if (n > 1)
        tab[i++] =
            (struct boot_e820_entry){.addr = r[1].gpa, .size = r[1].size, .type = BOOT_E820_RAM};
    return (int)i;
}

/* ---- ACPI through the table loader ---- */

#define LOADER_ALLOCATE 1
#define LOADER_ADD_POINTER 2
#define LOADER_ADD_CHECKSUM 3
#define LOADER_ZONE_HIGH 1
#define LOADER_ZONE_FSEG 2
#define LOADER_ENTRY_LEN 128
#define LOADER_MAX 32

#define FILE_TABLES "etc/acpi/tables"
#define FILE_RSDP "etc/acpi/rsdp"

struct loader {
    uint8_t buf[LOADER_MAX * LOADER_ENTRY_LEN];
    unsigned n;
};

static void put32(uint8_t *p, uint32_t v)
{
    put_le(p, 0, v, 4);
}

static uint8_t *entry(struct loader *l, uint32_t command)
{
    /* LOADER_MAX is more than the fixed script below ever uses. */
    uint8_t *e = l->buf + (l->n++ % LOADER_MAX) * LOADER_ENTRY_LEN;
    memset(e, 0, LOADER_ENTRY_LEN);
    put32(e, command);
    return e;
}

static void allocate(struct loader *l, const char *file, uint32_t align, uint8_t zone)
{
    uint8_t *e = entry(l, LOADER_ALLOCATE);
    strncpy((char *)e + 4, file, FW_CFG_NAME_LEN - 1);
    put32(e + 4 + FW_CFG_NAME_LEN, align);
    e[8 + FW_CFG_NAME_LEN] = zone;
}

/* Adds the address of SRC's copy to the SIZE-byte field at DEST+OFF. */
static void add_pointer(struct loader *l, const char *dest, uint64_t off, const char *src,
                        uint8_t size)
{
    uint8_t *e = entry(l, LOADER_ADD_POINTER);
    strncpy((char *)e + 4, dest, FW_CFG_NAME_LEN - 1);
    strncpy((char *)e + 4 + FW_CFG_NAME_LEN, src, FW_CFG_NAME_LEN - 1);
    put32(e + 4 + 2 * FW_CFG_NAME_LEN, (uint32_t)off);
    e[8 + 2 * FW_CFG_NAME_LEN] = size;
}

/* The byte at FILE+AT becomes what makes [START, START+LEN) sum to zero. */
static void add_checksum(struct loader *l, const char *file, uint64_t at, uint64_t start,
                         uint64_t len)
{
    uint8_t *e = entry(l, LOADER_ADD_CHECKSUM);
    strncpy((char *)e + 4, file, FW_CFG_NAME_LEN - 1);
    put32(e + 4 + FW_CFG_NAME_LEN, (uint32_t)at);
    put32(e + 8 + FW_CFG_NAME_LEN, (uint32_t)start);
    put32(e + 12 + FW_CFG_NAME_LEN, (uint32_t)len);
}

static void script(struct loader *l, const struct acpi_layout *a)
{
    allocate(l, FILE_RSDP, 16, LOADER_ZONE_FSEG);
    allocate(l, FILE_TABLES, 64, LOADER_ZONE_HIGH);
    add_pointer(l, FILE_TABLES, a->fadt + 40, FILE_TABLES, 4);
    add_pointer(l, FILE_TABLES, a->fadt + 132, FILE_TABLES, 8);
    add_pointer(l, FILE_TABLES, a->fadt + 140, FILE_TABLES, 8);
    add_checksum(l, FILE_TABLES, a->fadt + 9, a->fadt, ACPI_FADT_LEN);
    for (unsigned i = 0; i < a->xsdt_entries; i++)
        add_pointer(l, FILE_TABLES, a->xsdt + ACPI_TABLE_HDR_LEN + 8 * i, FILE_TABLES, 8);
    add_checksum(l, FILE_TABLES, a->xsdt + 9, a->xsdt, ACPI_TABLE_HDR_LEN + 8 * a->xsdt_entries);
    add_pointer(l, FILE_RSDP, 24, FILE_TABLES, 8);
    add_checksum(l, FILE_RSDP, 8, 0, 20);
    add_checksum(l, FILE_RSDP, 32, 0, ACPI_RSDP_LEN);
}

int bios_acpi_files(struct fw_cfg *f, const struct acpi_config *cfg)
{
    uint8_t *mem = calloc(1, ACPI_REGION_LEN);
    struct loader *l = calloc(1, sizeof *l);
    struct acpi_layout a;
    int rc = -1;
    if (!mem || !l) {
        err_set("out of memory");
        goto out;
    }
    if (acpi_build_relocatable(mem, ACPI_REGION_LEN, cfg, &a) < 0)
        goto out;
    script(l, &a);
    /* The RSDP is a file of its own (the loader puts it where the OS
     * looks, in the F segment); its bytes leave the tables' file. */
    uint8_t rsdp[ACPI_RSDP_LEN];
    memcpy(rsdp, mem + a.rsdp, sizeof rsdp);
    memset(mem + a.rsdp, 0, sizeof rsdp);
    rc = fw_cfg_add_file(f, FILE_RSDP, rsdp, sizeof rsdp) < 0 ||
                 fw_cfg_add_file(f, FILE_TABLES, mem, a.end) < 0 ||
                 fw_cfg_add_file(f, "etc/table-loader", l->buf, l->n * LOADER_ENTRY_LEN) < 0
             ? -1
             : 0;
out:
    free(mem);
    free(l);
    return rc;
}
