/* Linux boot without KVM: bzImage header checks with crafted images, the
 * e820 map, guest memory layout and vm_gpa_ptr() bounds, zero page and
 * initrd placement, PVH ELF loading, and the APIC-id topology.
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
#include <elf.h>

#include "core/base/err.h"
#include "pci.h"
#include "vm.h"
#include "x86/boot.h"

#define IMG_LEN (64 * 1024)
#define MIB (1ULL << 20)
#define GIB (1ULL << 30)

/* A minimal image with a valid 2.15 64-bit boot header. */
static uint8_t *make_bzimage(size_t len)
{
    uint8_t *img = calloc(1, len);
    img[0x1F1] = 4;                 /* setup_sects */
    memcpy(img + 0x202, "HdrS", 4); /* header signature */
    img[0x206] = 0x0F;              /* version 2.15 */
    img[0x207] = 0x02;
    img[0x201] = 0x66;          /* jump: header runs to 0x268 */
    img[0x211] = LOADED_HIGH;   /* loadflags */
    img[0x236] = XLF_KERNEL_64; /* xloadflags */
    uint32_t init_size = 4 * MIB, cmdline_size = 2047, initrd_max = 0x7FFFFFFF;
    memcpy(img + 0x260, &init_size, 4);
    memcpy(img + 0x238, &cmdline_size, 4);
    memcpy(img + 0x22C, &initrd_max, 4);
    for (size_t i = 5 * 512; i < len; i++)
        img[i] = (uint8_t)(i * 7);
    return img;
}

static void expect_parse_error(const uint8_t *img, size_t len, const char *want)
{
    struct bzimage_info bi;
    assert_int_equal(bzimage_parse(img, len, "/x/y", &bi), -1);
    if (!strstr(err_msg(), want))
        fail_msg("error '%s' lacks '%s'", err_msg(), want);
    assert_non_null(strstr(err_msg(), "/x/y"));
}

static void test_bzimage_good(void **state)
{
    (void)state;
    uint8_t *img = make_bzimage(IMG_LEN);
    struct bzimage_info bi;
    assert_int_equal(bzimage_parse(img, IMG_LEN, "k", &bi), 0);
    assert_int_equal(bi.version, 0x20F);
    assert_int_equal(bi.setup_size, 5 * 512);
    assert_int_equal(bi.kernel_size, IMG_LEN - 5 * 512);
    assert_int_equal(bi.init_size, 4 * MIB);
    assert_int_equal(bi.hdr_end, 0x268);
    /* setup_sects 0 means 4, as boot.rst says */
    img[0x1F1] = 0;
    assert_int_equal(bzimage_parse(img, IMG_LEN, "k", &bi), 0);
    assert_int_equal(bi.setup_size, 5 * 512);
    free(img);
}

static void test_bzimage_bad(void **state)
{
    (void)state;
    uint8_t *img = make_bzimage(IMG_LEN);
    expect_parse_error(img, 100, "not a Linux kernel");

    memcpy(img + 0x202, "HdrZ", 4);
    expect_parse_error(img, IMG_LEN, "not a Linux kernel (no HdrS signature)");
    memcpy(img + 0x202, "HdrS", 4);

    img[0x206] = 0x05; /* 2.05 */
    expect_parse_error(img, IMG_LEN, "boot protocol 2.05 is too old");
    img[0x206] = 0x0F;

    img[0x236] = 0;
    expect_parse_error(img, IMG_LEN, "no 64-bit entry point");
    img[0x236] = XLF_KERNEL_64;

    img[0x211] = 0;
    expect_parse_error(img, IMG_LEN, "zImage");
    img[0x211] = LOADED_HIGH;

    img[0x1F1] = 200; /* 201 sectors = 100 KiB > 64 KiB image */
    expect_parse_error(img, IMG_LEN, "setup_sects 200 puts the kernel past the end");
    free(img);
}

static void test_e820(void **state)
{
    (void)state;
    struct boot_e820_entry t[8];
    int n = boot_e820(256 * MIB, t, 8);
    assert_int_equal(n, 4);
    assert_true(t[0].addr == 0 && t[0].size == 0x9FC00 && t[0].type == BOOT_E820_RAM);
    assert_true(t[1].addr == 0x9FC00 && t[1].addr + t[1].size == MIB &&
                t[1].type == BOOT_E820_RESERVED);
    assert_true(t[2].addr == MIB && t[2].addr + t[2].size == 256 * MIB &&
                t[2].type == BOOT_E820_RAM);
    /* the PCI ECAM window is reserved, so Linux uses MMCONFIG from early boot */
    assert_true(t[3].addr == PCI_ECAM_BASE && t[3].size == PCI_ECAM_SIZE &&
                t[3].type == BOOT_E820_RESERVED);

    /* 4 GiB: 3 GiB below the PCI hole, 1 GiB from 4 GiB up */
    n = boot_e820(4 * GIB, t, 8);
    assert_int_equal(n, 5);
    assert_true(t[2].addr + t[2].size == 3 * GIB);
    assert_true(t[3].addr == PCI_ECAM_BASE && t[3].type == BOOT_E820_RESERVED);
    assert_true(t[4].addr == 4 * GIB && t[4].size == GIB && t[4].type == BOOT_E820_RAM);
    uint64_t ram = 0;
    for (int i = 0; i < n; i++) {
        if (t[i].type == BOOT_E820_RAM)
            ram += t[i].size;
        if (i)
            assert_true(t[i].addr >= t[i - 1].addr + t[i - 1].size); /* sorted, no overlap */
    }
    assert_int_equal(ram, 4 * GIB - (MIB - 0x9FC00));
    /* the ACPI region is inside the reserved range */
    assert_true(0xE0000 >= t[1].addr && 0xF0000 <= t[1].addr + t[1].size);

    assert_int_equal(boot_e820(1 * MIB, t, 8), -1); /* too small for a guest */
    assert_non_null(strstr(err_msg(), "too little"));
}

static struct vm *new_vm(uint64_t ram, const char *kernel, const char *initrd, const char *cmdline)
{
    struct vm_config cfg = {
        .ram_bytes = ram, .vcpus = 1, .kernel = kernel, .initrd = initrd, .cmdline = cmdline};
    struct vm *vm = vm_new(&cfg);
    if (!vm)
        fail_msg("vm_new: %s", err_msg());
    return vm;
}

static void test_gpa_bounds(void **state)
{
    (void)state;
    struct vm *vm = new_vm(64 * MIB, NULL, NULL, NULL);
    uint8_t *base = vm_gpa_ptr(vm, 0, 1);
    assert_non_null(base);
    assert_ptr_equal(vm_gpa_ptr(vm, 64 * MIB - 1, 1), base + 64 * MIB - 1);
    assert_ptr_equal(vm_gpa_ptr(vm, 0, 64 * MIB), base);
    assert_null(vm_gpa_ptr(vm, 64 * MIB - 1, 2));
    assert_null(vm_gpa_ptr(vm, 64 * MIB, 1));
    assert_null(vm_gpa_ptr(vm, 0, 64 * MIB + 1));
    assert_null(vm_gpa_ptr(vm, UINT64_MAX, 2)); /* gpa + len wraps */
    assert_null(vm_gpa_ptr(vm, 4096, UINT64_MAX));
    assert_null(vm_gpa_ptr(vm, 0xFEE00000, 4)); /* LAPIC, not RAM */
    assert_int_equal(vm_ram_size(vm), 64 * MIB);
    vm_free(vm);

    /* Above 3 GiB the RAM continues at 4 GiB; the hole is not RAM. */
    vm = new_vm(3 * GIB + 64 * MIB, NULL, NULL, NULL);
    base = vm_gpa_ptr(vm, 0, 1);
    assert_non_null(vm_gpa_ptr(vm, 3 * GIB - 1, 1));
    assert_null(vm_gpa_ptr(vm, 3 * GIB - 1, 2));
    assert_null(vm_gpa_ptr(vm, 3 * GIB, 1));
    assert_null(vm_gpa_ptr(vm, 4 * GIB - 1, 1));
    assert_ptr_equal(vm_gpa_ptr(vm, 4 * GIB, 1), base + 3 * GIB);
    assert_non_null(vm_gpa_ptr(vm, 4 * GIB + 64 * MIB - 8, 8));
    assert_null(vm_gpa_ptr(vm, 4 * GIB + 64 * MIB - 8, 9));
    assert_int_equal(mem_low_end(vm), 3 * GIB);
    vm_free(vm);

    struct vm_config cfg = {.ram_bytes = 8 * MIB, .vcpus = 1};
    assert_null(vm_new(&cfg));
    assert_non_null(strstr(err_msg(), "too little"));
    cfg.ram_bytes = 64 * MIB;
    cfg.vcpus = 0;
    assert_null(vm_new(&cfg));
    assert_non_null(strstr(err_msg(), "vcpu"));
}

static char *write_tmp(const void *data, size_t len)
{
    char *path = strdup("/tmp/vmm-test-boot-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_load_bzimage(void **state)
{
    (void)state;
    uint8_t *img = make_bzimage(IMG_LEN);
    size_t ilen = 3 * MIB + 123;
    uint8_t *initrd = malloc(ilen);
    for (size_t i = 0; i < ilen; i++)
        initrd[i] = (uint8_t)(i * 13 + 1);
    char *kpath = write_tmp(img, IMG_LEN), *ipath = write_tmp(initrd, ilen);
    struct vm *vm = new_vm(128 * MIB, kpath, ipath, "console=ttyS0 quiet");
    assert_int_equal(boot_load(vm, 0xE0000), 0);

    /* kernel body at 1 MiB, entry at +0x200, zero page in RSI */
    assert_memory_equal(vm_gpa_ptr(vm, BOOT_KERNEL_GPA, IMG_LEN - 2560), img + 2560,
                        IMG_LEN - 2560);
    assert_false(vm->entry.pvh);
    assert_int_equal(vm->entry.rip, BOOT_KERNEL_GPA + 0x200);
    assert_int_equal(vm->entry.zero_page, BOOT_ZERO_PAGE_GPA);

    struct boot_params *bp = vm_gpa_ptr(vm, BOOT_ZERO_PAGE_GPA, sizeof *bp);
    assert_int_equal(bp->hdr.type_of_loader, 0xFF);
    assert_true(bp->hdr.loadflags & CAN_USE_HEAP);
    assert_true(bp->hdr.loadflags & LOADED_HIGH);
    assert_int_equal(bp->hdr.version, 0x20F);
    assert_int_equal(bp->acpi_rsdp_addr, 0xE0000);
    assert_string_equal((char *)vm_gpa_ptr(vm, bp->hdr.cmd_line_ptr, 1), "console=ttyS0 quiet");
    assert_int_equal(bp->e820_entries, 4) /* + the ECAM window */;
    assert_int_equal(bp->e820_table[2].addr + bp->e820_table[2].size, 128 * MIB);

    /* initrd: page aligned, at the top of RAM, above the kernel's init_size, intact */
    uint64_t at = bp->hdr.ramdisk_image;
    assert_int_equal(bp->hdr.ramdisk_size, ilen);
    assert_int_equal(at & 0xFFF, 0);
    assert_true(at + ilen <= 128 * MIB && at + ilen > 128 * MIB - 4096);
    assert_true(at >= BOOT_KERNEL_GPA + 4 * MIB);
    assert_memory_equal(vm_gpa_ptr(vm, at, ilen), initrd, ilen);

    /* identity page tables: PML4 -> PDPT -> 2 MiB pages */
    uint64_t *pml4 = vm_gpa_ptr(vm, vm->entry.cr3, 4096);
    assert_int_equal(pml4[0] & ~0xFFFULL, BOOT_PML4_GPA + 0x1000);
    uint64_t *pd = vm_gpa_ptr(vm, BOOT_PML4_GPA + 0x2000, 4 * 4096);
    assert_int_equal(pd[3], (3ULL << 21) | 0x83);
    assert_int_equal(pd[2047], (2047ULL << 21) | 0x83);
    vm_free(vm);

    /* The same initrd does not fit in a 16 MiB guest above a 4 MiB kernel... */
    vm = new_vm(16 * MIB, kpath, ipath, NULL);
    uint8_t *big = calloc(1, 12 * MIB);
    char *bpath = write_tmp(big, 12 * MIB);
    vm->cfg.initrd = bpath;
    assert_int_equal(boot_load(vm, 0), -1);
    if (!strstr(err_msg(), "does not fit"))
        fail_msg("unexpected error: %s", err_msg());
    assert_non_null(strstr(err_msg(), bpath));
    vm_free(vm);

    /* ...a command line longer than the kernel takes is refused... */
    char *longcmd = malloc(3000);
    memset(longcmd, 'a', 2999);
    longcmd[2999] = 0;
    vm = new_vm(64 * MIB, kpath, NULL, longcmd);
    assert_int_equal(boot_load(vm, 0), -1);
    assert_non_null(strstr(err_msg(), "cmdline"));
    vm_free(vm);

    /* ...and a kernel file that is not there is named. */
    vm = new_vm(64 * MIB, "/nonexistent/vmlinuz", NULL, NULL);
    assert_int_equal(boot_load(vm, 0), -1);
    assert_string_equal(err_msg(), "kernel /nonexistent/vmlinuz: No such file or directory");
    vm_free(vm);

    unlink(kpath);
    unlink(ipath);
    unlink(bpath);
    free(kpath);
    free(ipath);
    free(bpath);
    free(big);
    free(longcmd);
    free(img);
    free(initrd);
}

/* An ELF vmlinux with one PT_LOAD at 16 MiB and a Xen PHYS32_ENTRY note. */
static uint8_t *make_pvh_elf(size_t *len, bool with_note)
{
    size_t n = 0x3000;
    uint8_t *e = calloc(1, n);
    Elf64_Ehdr *eh = (Elf64_Ehdr *)e;
    memcpy(eh->e_ident, ELFMAG, SELFMAG);
    eh->e_ident[EI_CLASS] = ELFCLASS64;
    eh->e_ident[EI_DATA] = ELFDATA2LSB;
    eh->e_type = ET_EXEC;
    eh->e_machine = EM_X86_64;
    eh->e_phoff = sizeof *eh;
    eh->e_phentsize = sizeof(Elf64_Phdr);
    eh->e_phnum = 2;
    Elf64_Phdr *ph = (Elf64_Phdr *)(e + sizeof *eh);
    ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
                         .p_offset = 0x1000,
                         .p_paddr = 16 * MIB,
                         .p_filesz = 0x1000,
                         .p_memsz = 0x3000};
    ph[1] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = 0x800, .p_filesz = 20};
    Elf64_Nhdr nh = {.n_namesz = 4, .n_descsz = 4, .n_type = with_note ? 18 : 17};
    memcpy(e + 0x800, &nh, sizeof nh);
    memcpy(e + 0x800 + sizeof nh, "Xen", 4);
    uint32_t entry = 16 * MIB + 0x40;
    memcpy(e + 0x800 + sizeof nh + 4, &entry, 4);
    memset(e + 0x1000, 0xAB, 0x1000);
    *len = n;
    return e;
}

static void test_load_pvh(void **state)
{
    (void)state;
    size_t len;
    uint8_t *elf = make_pvh_elf(&len, true);
    char *kpath = write_tmp(elf, len);
    struct vm *vm = new_vm(64 * MIB, kpath, NULL, "root=/dev/vda");
    uint8_t *seg = vm_gpa_ptr(vm, 16 * MIB, 0x3000);
    memset(seg, 0x55, 0x3000); /* stale bytes: the bss part must be zeroed */
    assert_int_equal(boot_load(vm, 0xE0000), 0);
    assert_true(vm->entry.pvh);
    assert_int_equal(vm->entry.rip, 16 * MIB + 0x40);
    assert_int_equal(seg[0], 0xAB);
    assert_int_equal(seg[0xFFF], 0xAB);
    assert_int_equal(seg[0x1000], 0);
    assert_int_equal(seg[0x2FFF], 0);
    uint32_t *si = vm_gpa_ptr(vm, vm->entry.zero_page, 56);
    assert_int_equal(si[0], 0x336ec578); /* magic */
    assert_int_equal(si[1], 1);          /* version */
    uint64_t cmdline, rsdp, memmap;
    memcpy(&cmdline, (uint8_t *)si + 24, 8);
    memcpy(&rsdp, (uint8_t *)si + 32, 8);
    memcpy(&memmap, (uint8_t *)si + 40, 8);
    assert_string_equal((char *)vm_gpa_ptr(vm, cmdline, 1), "root=/dev/vda");
    assert_int_equal(rsdp, 0xE0000);
    assert_int_equal(si[12], 4); /* memmap entries (with the ECAM window) */
    uint64_t *m = vm_gpa_ptr(vm, memmap, 3 * 24);
    assert_int_equal(m[6], MIB); /* third entry: RAM from 1 MiB */
    vm_free(vm);
    free(elf);
    unlink(kpath);
    free(kpath);

    elf = make_pvh_elf(&len, false);
    kpath = write_tmp(elf, len);
    vm = new_vm(64 * MIB, kpath, NULL, NULL);
    assert_int_equal(boot_load(vm, 0), -1);
    assert_non_null(strstr(err_msg(), "without a PVH entry"));
    vm_free(vm);
    free(elf);
    unlink(kpath);
    free(kpath);
}

static void test_apic_ids(void **state)
{
    (void)state;
    struct vm_config c = {.vcpus = 4};
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(vcpu_apic_id(&c, i), i);
    /* 2 sockets x 3 cores x 2 threads: thread bit 0, core bits 1-2, package from bit 3 */
    c = (struct vm_config){.vcpus = 12, .sockets = 2, .cores = 3, .threads = 2};
    assert_int_equal(vcpu_apic_id(&c, 1), 1);
    assert_int_equal(vcpu_apic_id(&c, 2), 2);
    assert_int_equal(vcpu_apic_id(&c, 5), 5);
    assert_int_equal(vcpu_apic_id(&c, 6), 8);
    assert_int_equal(vcpu_apic_id(&c, 11), 13);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bzimage_good), cmocka_unit_test(test_bzimage_bad),
        cmocka_unit_test(test_e820),         cmocka_unit_test(test_gpa_bounds),
        cmocka_unit_test(test_load_bzimage), cmocka_unit_test(test_load_pvh),
        cmocka_unit_test(test_apic_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
