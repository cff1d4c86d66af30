/* Linux direct boot: see boot.h. The VMM plays the boot loader: it puts
 * the kernel, initrd, command line and zero page in guest RAM, builds
 * identity page tables and a GDT, and the BSP starts in long mode at the
 * kernel's 64-bit entry (or in 32-bit protected mode at the PVH entry).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/err.h"
#include "pci.h"
#include "x86/bios.h"
#include "x86/boot.h"

#define SETUP_HDR_OFF 0x1F1
#define HDRS_OFF 0x202
#define HDRS_MAGIC 0x53726448 /* "HdrS" */
#define SETUP_SECTS_DEFAULT 4
#define SECTOR 512
#define LOW_MEM_MIN (BOOT_KERNEL_GPA + (2ULL << 20))

/* screen_info as a PC BIOS leaves it in text mode 3 (vgacon: 80x25,
 * colour, VGA, 16-line font, cursor at the top left), or as EFI firmware
 * describes a GOP framebuffer (efifb; sysfb registers it without an EFI
 * boot): 32 bits a pixel, red at bit 16, green 8, blue 0. */
void boot_screen_info(struct screen_info *si, const struct vm_screen *s)
{
    memset(si, 0, sizeof *si);
    if (s->text) {
        si->orig_video_mode = 3;
        si->orig_video_cols = 80;
        si->orig_video_lines = 25;
        si->orig_video_isVGA = VIDEO_TYPE_VGAC;
        si->orig_video_points = 16;
        return;
    }
    si->orig_video_isVGA = VIDEO_TYPE_EFI;
    si->lfb_width = s->width;
    si->lfb_height = s->height;
    si->lfb_depth = 32;
    si->lfb_linelength = s->stride;
    si->lfb_base = (uint32_t)s->lfb_base;
    si->ext_lfb_base = (uint32_t)(s->lfb_base >> 32);
    if (s->lfb_base >> 32)
        si->capabilities |= VIDEO_CAPABILITY_64BIT_BASE;
    si->lfb_size = s->lfb_size;
    si->pages = 1;
    si->red_size = 8;
    si->red_pos = 16;
    si->green_size = 8;
    si->green_pos = 8;
    si->blue_size = 8;
    si->blue_pos = 0;
    si->rsvd_size = 8;
    si->rsvd_pos = 24;
}

/* ---- PVH start info (xen/include/public/arch-x86/hvm/start_info.h layout) ---- */
#define PVH_MAGIC 0x336ec578
#define XEN_ELFNOTE_PHYS32_ENTRY 18

struct pvh_start_info {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;
    uint32_t memmap_entries;
    uint32_t reserved;
};

struct pvh_module {
    uint64_t paddr;
    uint64_t size;
    uint64_t cmdline_paddr;
    uint64_t reserved;
};

struct pvh_memmap_entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};

static uint16_t le16(const uint8_t *p)
{
    return p[0] | (uint16_t)p[1] << 8;
}

static uint32_t le32(const uint8_t *p)
{
    return le16(p) | (uint32_t)le16(p + 2) << 16;
}

int bzimage_parse(const uint8_t *img, size_t len, const char *path, struct bzimage_info *out)
{
    struct setup_header h;
    memset(out, 0, sizeof *out);
    if (len < SETUP_HDR_OFF + sizeof h || len < 2 * SECTOR)
        return err_set("%s: not a Linux kernel (only %zu bytes)", path, len);
    if (le32(img + HDRS_OFF) != HDRS_MAGIC)
        return err_set("%s: not a Linux kernel (no HdrS signature)", path);
    memcpy(&h, img + SETUP_HDR_OFF, sizeof h);
    if (h.version < BOOT_PROTOCOL_MIN)
        return err_set("%s: boot protocol %u.%02u is too old (2.06 or newer needed)", path,
                       h.version >> 8, h.version & 0xFF);
    if (!(h.loadflags & LOADED_HIGH))
        return err_set("%s: a zImage (not loaded high) is not supported", path);
    if (!(h.xloadflags & XLF_KERNEL_64))
        return err_set("%s: the kernel has no 64-bit entry point (xloadflags 0x%x)", path,
                       h.xloadflags);
    unsigned sects = h.setup_sects ? h.setup_sects : SETUP_SECTS_DEFAULT;
    size_t setup = (size_t)(sects + 1) * SECTOR;
    if (setup >= len)
        return err_set("%s: setup_sects %u puts the kernel past the end of the file (%zu bytes)",
                       path, h.setup_sects, len);
    out->version = h.version;
    out->xloadflags = h.xloadflags;
    out->loadflags = h.loadflags;
    out->setup_sects = sects;
    out->setup_size = setup;
    out->kernel_size = len - setup;
    out->init_size = h.init_size;
    out->initrd_addr_max = h.initrd_addr_max;
    out->cmdline_size = h.cmdline_size;
    /* The header proper ends where the jump at 0x200 lands. */
    out->hdr_end = 0x202 + img[0x201];
    if (out->hdr_end > SETUP_HDR_OFF + sizeof h)
        out->hdr_end = SETUP_HDR_OFF + sizeof h;
    return 0;
}

int boot_e820(uint64_t ram_bytes, struct boot_e820_entry *tab, unsigned max)
{
    struct mem_region r[2];
    unsigned n;
    if (mem_layout(ram_bytes, r, &n) < 0)
        return -1;
    if (max < 5)
        return err_set("e820: table too small");
    /* Sorted by address: low RAM, the PCI ECAM window in the 32-bit hole,
     * high RAM. */
    unsigned i = 0;
    tab[i++] = (struct boot_e820_entry){.addr = 0, .size = BOOT_EBDA_GPA, .type = BOOT_E820_RAM};
    /* EBDA, the ACPI tables (0xE0000) and the BIOS area: never RAM to the guest. */
    tab[i++] = (struct boot_e820_entry){
        .addr = BOOT_EBDA_GPA, .size = BOOT_KERNEL_GPA - BOOT_EBDA_GPA, .type = BOOT_E820_RESERVED};
    tab[i++] = (struct boot_e820_entry){
        .addr = BOOT_KERNEL_GPA, .size = r[0].size - BOOT_KERNEL_GPA, .type = BOOT_E820_RAM};
    /* Linux takes MMCONFIG at early PCI init only from a range e820 marks
     * reserved (else "PCI: not using MMCONFIG" until ACPI's PNP0C02 says so). */
    tab[i++] = (struct boot_e820_entry){
        .addr = PCI_ECAM_BASE, .size = PCI_ECAM_SIZE, .type = BOOT_E820_RESERVED};
    if (n > 1)
        tab[i++] =
            (struct boot_e820_entry){.addr = r[1].gpa, .size = r[1].size, .type = BOOT_E820_RAM};
    return (int)i;
}

/* The kernel or initrd from the start: the descriptor main.c opened
 * before the sandbox (a reboot cannot open paths any more), else PATH. */
int boot_open_image(const char *path, int fd)
{
    if (fd <= 0)
        return open(path, O_RDONLY | O_CLOEXEC);
    int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (d >= 0 && lseek(d, 0, SEEK_SET) < 0) {
        close(d);
        return -1;
    }
    return d;
}

/* Read a whole file; errors name the role ("kernel", "initrd") and path. */
static uint8_t *read_file(const char *role, const char *path, int path_fd, size_t *len)
{
    int fd = boot_open_image(path, path_fd);
    if (fd < 0) {
        err_errno("%s %s", role, path);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        err_set("%s %s: not a regular file", role, path);
        return NULL;
    }
    uint8_t *buf = malloc(st.st_size ? st.st_size : 1);
    if (!buf) {
        close(fd);
        err_set("%s %s: out of memory", role, path);
        return NULL;
    }
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + got, st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            err_errno("%s %s: read", role, path);
            free(buf);
            close(fd);
            return NULL;
        }
        got += r;
    }
    close(fd);
    *len = got;
    return buf;
}

static int put(struct vm *vm, uint64_t gpa, const void *src, size_t len, const char *what)
{
    void *dst = vm_gpa_ptr(vm, gpa, len);
    if (!dst)
        return err_set("%s (%zu bytes at 0x%" PRIx64 ") does not fit in guest memory", what, len,
                       gpa);
    memcpy(dst, src, len);
    return 0;
}

int boot_initrd_addr(struct vm *vm, uint64_t size, uint64_t kernel_end, uint64_t addr_max,
                     uint64_t *gpa)
{
    uint64_t top = mem_low_end(vm);
    if (addr_max && addr_max + 1 < top)
        top = addr_max + 1;
    if (size > top || ((top - size) & ~0xFFFULL) < kernel_end)
        return err_set("initrd %s (%" PRIu64 " MiB) does not fit in guest memory below 0x%" PRIx64
                       " above the kernel: give the guest more memory (now %" PRIu64 " MiB)",
                       vm->cfg.initrd ? vm->cfg.initrd : "", (size + (1 << 20) - 1) >> 20, top,
                       vm->ram_size >> 20);
    *gpa = (top - size) & ~0xFFFULL;
    return 0;
}

static int load_initrd(struct vm *vm, uint64_t kernel_end, uint64_t addr_max, uint64_t *gpa,
                       uint64_t *size)
{
    *gpa = *size = 0;
    if (!vm->cfg.initrd || !*vm->cfg.initrd)
        return 0;
    int fd = boot_open_image(vm->cfg.initrd, vm->cfg.initrd_fd);
    if (fd < 0)
        return err_errno("initrd %s", vm->cfg.initrd);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return err_set("initrd %s: not a regular file", vm->cfg.initrd);
    }
    if (boot_initrd_addr(vm, st.st_size, kernel_end, addr_max, gpa) < 0) {
        close(fd);
        return -1;
    }
    /* Read straight into guest RAM: no second copy of a large initrd. */
    uint8_t *dst = vm_gpa_ptr(vm, *gpa, st.st_size);
    size_t got = 0;
    while (dst && got < (size_t)st.st_size) {
        ssize_t r = read(fd, dst + got, st.st_size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            close(fd);
            return err_errno("initrd %s: read", vm->cfg.initrd);
        }
        got += r;
    }
    close(fd);
    *size = st.st_size;
    return 0;
}

static int put_cmdline(struct vm *vm, uint64_t max)
{
    const char *c = vm->cfg.cmdline ? vm->cfg.cmdline : "";
    size_t n = strlen(c);
    if (max == 0 || max > BOOT_CMDLINE_MAX - 1)
        max = BOOT_CMDLINE_MAX - 1;
    if (n > max)
        return err_set("cmdline: %zu characters, the kernel accepts at most %" PRIu64, n, max);
    return put(vm, BOOT_CMDLINE_GPA, c, n + 1, "command line");
}

/* GDT: 0x10 flat code, 0x18 flat data, 0x20 TSS. 64-bit code for the
 * bzImage entry, 32-bit code for PVH. */
static int put_gdt(struct vm *vm, bool code64)
{
    uint64_t gdt[5] = {
        0,
        0,
        code64 ? 0x00AF9B000000FFFFULL : 0x00CF9B000000FFFFULL,
        0x00CF93000000FFFFULL,
        0x00008B0000000067ULL,
    };
    return put(vm, BOOT_GDT_GPA, gdt, sizeof gdt, "GDT");
}

/* Identity map of the first 4 GiB with 2 MiB pages: what the 64-bit entry
 * requires (the kernel's code, zero page, command line and initrd mapped). */
static int put_page_tables(struct vm *vm)
{
    uint64_t *pml4 = vm_gpa_ptr(vm, BOOT_PML4_GPA, 6 * 4096);
    if (!pml4)
        return err_set("page tables do not fit in guest memory");
    memset(pml4, 0, 6 * 4096);
    uint64_t pdpt_gpa = BOOT_PML4_GPA + 0x1000, pd_gpa = BOOT_PML4_GPA + 0x2000;
    uint64_t *pdpt = pml4 + 512, *pd = pml4 + 1024;
    pml4[0] = pdpt_gpa | 0x3; /* present, writable */
    for (unsigned i = 0; i < 4; i++)
        pdpt[i] = (pd_gpa + i * 0x1000) | 0x3;
    for (unsigned i = 0; i < 4 * 512; i++)
        pd[i] = ((uint64_t)i << 21) | 0x83; /* present, writable, 2 MiB page */
    return 0;
}

int boot_load_bzimage(struct vm *vm, const uint8_t *img, size_t len, uint64_t rsdp_gpa)
{
    const char *path = vm->cfg.kernel ? vm->cfg.kernel : "kernel";
    struct bzimage_info bi;
    if (bzimage_parse(img, len, path, &bi) < 0)
        return -1;
    uint64_t need = bi.init_size > bi.kernel_size ? bi.init_size : bi.kernel_size;
    uint64_t kernel_end = BOOT_KERNEL_GPA + ((need + 0xFFF) & ~0xFFFULL);
    if (kernel_end > mem_low_end(vm))
        return err_set("%s: the kernel needs %" PRIu64 " MiB from 1 MiB up; the guest has %" PRIu64
                       " MiB",
                       path, need >> 20, vm->ram_size >> 20);
    if (put(vm, BOOT_KERNEL_GPA, img + bi.setup_size, bi.kernel_size, "kernel") < 0)
        return -1;

    uint64_t initrd_gpa, initrd_size;
    uint64_t addr_max = bi.initrd_addr_max ? bi.initrd_addr_max : 0x37FFFFFF;
    if (load_initrd(vm, kernel_end, addr_max, &initrd_gpa, &initrd_size) < 0)
        return -1;
    if (put_cmdline(vm, bi.cmdline_size ? bi.cmdline_size : 255) < 0)
        return -1;

    struct boot_params *bp = vm_gpa_ptr(vm, BOOT_ZERO_PAGE_GPA, sizeof *bp);
    if (!bp)
        return err_set("zero page does not fit in guest memory");
    memset(bp, 0, sizeof *bp);
    /* The setup header goes over as the kernel wrote it; we then fill in
     * the fields boot.rst says a boot loader writes. */
    memcpy(&bp->hdr, img + SETUP_HDR_OFF, bi.hdr_end - SETUP_HDR_OFF);
    bp->hdr.type_of_loader = 0xFF;
    bp->hdr.vid_mode = 0xFFFF;
    bp->hdr.loadflags |= CAN_USE_HEAP;
    bp->hdr.heap_end_ptr = 0xFE00;
    bp->hdr.cmd_line_ptr = (uint32_t)BOOT_CMDLINE_GPA;
    bp->hdr.ramdisk_image = (uint32_t)initrd_gpa;
    bp->hdr.ramdisk_size = (uint32_t)initrd_size;
    bp->ext_ramdisk_image = (uint32_t)(initrd_gpa >> 32);
    bp->ext_ramdisk_size = (uint32_t)(initrd_size >> 32);
    if (bi.version >= 0x20E)
        bp->acpi_rsdp_addr = rsdp_gpa;
    int n = boot_e820(vm->ram_size, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
    if (n < 0)
        return -1;
    bp->e820_entries = (uint8_t)n;
    if (vm->cfg.screen)
        boot_screen_info(&bp->screen_info, vm->cfg.screen);

    if (put_gdt(vm, true) < 0 || put_page_tables(vm) < 0)
        return -1;
    vm->entry = (struct boot_entry){
        .pvh = false,
        .rip = BOOT_KERNEL_GPA + 0x200,
        .zero_page = BOOT_ZERO_PAGE_GPA,
        .gdt = BOOT_GDT_GPA,
        .cr3 = BOOT_PML4_GPA,
        .rsp = BOOT_STACK_GPA,
    };
    return 0;
}

/* ---- ELF vmlinux with a PVH entry note ---- */

static int elf_pvh_entry(const uint8_t *img, size_t len, const Elf64_Ehdr *eh, uint32_t *entry)
{
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff + i * sizeof(Elf64_Phdr));
        if (ph->p_type != PT_NOTE || ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
            continue;
        const uint8_t *p = img + ph->p_offset, *end = p + ph->p_filesz;
        while ((size_t)(end - p) >= sizeof(Elf64_Nhdr)) {
            const Elf64_Nhdr *nh = (const Elf64_Nhdr *)p;
            size_t name = (nh->n_namesz + 3) & ~3u, desc = (nh->n_descsz + 3) & ~3u;
            if (name > (size_t)(end - p) - sizeof *nh ||
                desc > (size_t)(end - p) - sizeof *nh - name)
                break;
            const char *nm = (const char *)(p + sizeof *nh);
            if (nh->n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh->n_namesz == 4 &&
                memcmp(nm, "Xen", 4) == 0 && nh->n_descsz >= 4) {
                *entry = le32(p + sizeof *nh + name);
                return 0;
            }
            p += sizeof *nh + name + desc;
        }
    }
    return -1;
}

int boot_load_pvh(struct vm *vm, const uint8_t *img, size_t len, uint64_t rsdp_gpa)
{
    const char *path = vm->cfg.kernel ? vm->cfg.kernel : "kernel";
    const Elf64_Ehdr *eh = (const Elf64_Ehdr *)img;
    if (len < sizeof *eh || eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64)
        return err_set("%s: not an x86-64 ELF kernel", path);
    if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phoff > len ||
        (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
        return err_set("%s: ELF program headers out of bounds", path);
    uint32_t entry;
    if (elf_pvh_entry(img, len, eh, &entry) < 0)
        return err_set("%s: ELF kernel without a PVH entry (XEN_ELFNOTE_PHYS32_ENTRY); use a "
                       "bzImage",
                       path);
    uint64_t kernel_end = BOOT_KERNEL_GPA;
    for (unsigned i = 0; i < eh->e_phnum; i++) {
        const Elf64_Phdr *ph = (const Elf64_Phdr *)(img + eh->e_phoff + i * sizeof(Elf64_Phdr));
        if (ph->p_type != PT_LOAD)
            continue;
        if (ph->p_offset > len || ph->p_filesz > len - ph->p_offset || ph->p_filesz > ph->p_memsz)
            return err_set("%s: ELF segment %u out of bounds", path, i);
        uint8_t *dst = vm_gpa_ptr(vm, ph->p_paddr, ph->p_memsz);
        if (!dst || ph->p_paddr < BOOT_KERNEL_GPA)
            return err_set("%s: ELF segment %u (0x%" PRIx64 "+0x%" PRIx64
                           ") is outside guest RAM above 1 MiB",
                           path, i, (uint64_t)ph->p_paddr, (uint64_t)ph->p_memsz);
        memcpy(dst, img + ph->p_offset, ph->p_filesz);
        memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
        uint64_t end = (ph->p_paddr + ph->p_memsz + 0xFFF) & ~0xFFFULL;
        if (end > kernel_end)
            kernel_end = end;
    }
    uint64_t initrd_gpa, initrd_size;
    if (load_initrd(vm, kernel_end, MEM_HOLE_START - 1, &initrd_gpa, &initrd_size) < 0)
        return -1;
    if (put_cmdline(vm, 2047) < 0)
        return -1;

    struct boot_e820_entry e820[8];
    int n = boot_e820(vm->ram_size, e820, 8);
    if (n < 0)
        return -1;
    struct pvh_start_info si = {
        .magic = PVH_MAGIC,
        .version = 1,
        .cmdline_paddr = BOOT_CMDLINE_GPA,
        .rsdp_paddr = rsdp_gpa,
        .memmap_paddr = BOOT_PVH_INFO_GPA + 0x100,
        .memmap_entries = (uint32_t)n,
    };
    struct pvh_module mod = {.paddr = initrd_gpa, .size = initrd_size};
    if (initrd_size) {
        si.nr_modules = 1;
        si.modlist_paddr = BOOT_PVH_INFO_GPA + 0x80;
        if (put(vm, si.modlist_paddr, &mod, sizeof mod, "PVH module list") < 0)
            return -1;
    }
    for (int i = 0; i < n; i++) {
        struct pvh_memmap_entry m = {
            .addr = e820[i].addr, .size = e820[i].size, .type = e820[i].type};
        if (put(vm, si.memmap_paddr + i * sizeof m, &m, sizeof m, "PVH memory map") < 0)
            return -1;
    }
    if (put(vm, BOOT_PVH_INFO_GPA, &si, sizeof si, "PVH start info") < 0 || put_gdt(vm, false) < 0)
        return -1;
    vm->entry = (struct boot_entry){
        .pvh = true,
        .rip = entry,
        .zero_page = BOOT_PVH_INFO_GPA,
        .gdt = BOOT_GDT_GPA,
        .rsp = BOOT_STACK_GPA,
    };
    return 0;
}

int boot_load(struct vm *vm, uint64_t rsdp_gpa)
{
    if ((!vm->cfg.kernel || !*vm->cfg.kernel) && vm->cfg.bios && *vm->cfg.bios)
        return bios_load(vm);
    if (!vm->cfg.kernel || !*vm->cfg.kernel)
        return err_set("no kernel: the domain needs <os><kernel>PATH</kernel> (direct Linux boot)");
    if (mem_low_end(vm) < LOW_MEM_MIN)
        return err_set("memory: too small to boot a kernel");
    size_t len;
    uint8_t *img = read_file("kernel", vm->cfg.kernel, vm->cfg.kernel_fd, &len);
    if (!img)
        return -1;
    int rc;
    if (len >= 4 && memcmp(img, ELFMAG, SELFMAG) == 0)
        rc = boot_load_pvh(vm, img, len, rsdp_gpa);
    else
        rc = boot_load_bzimage(vm, img, len, rsdp_gpa);
    free(img);
    return rc;
}
