/* src/vmm/x86: what is x86 about the machine: Linux direct boot (boot.c),
 * firmware boot through a BIOS image (bios.c),
 * ACPI tables and their AML (acpi.c, aml.c), CPUID and MSRs for the vCPUs
 * (cpuid.c, msr.c; declared in vm.h, they belong to the VM core). They may
 * use vm.h/vmm.h and core/base; acpi.c gets what it describes as a struct
 * acpi_config from the board.
 *
 * This header: Linux direct boot on x86-64: the bzImage 64-bit boot protocol
 * (Documentation/arch/x86/boot.rst) and the PVH entry of an uncompressed
 * ELF vmlinux (XEN_ELFNOTE_PHYS32_ENTRY + hvm_start_info).
 *
 * Everything here works on guest memory through vm_gpa_ptr() only, so
 * unit tests can drive it with a struct vm from vm_new() and no /dev/kvm.
 */
#ifndef TVM_VMM_X86_BOOT_H
#define TVM_VMM_X86_BOOT_H

#include <asm/bootparam.h>
#include <stddef.h>
#include <stdint.h>

#include "vm.h"

/* Fixed guest-physical addresses in low memory. */
#define BOOT_GDT_GPA 0x500ULL
#define BOOT_PVH_INFO_GPA 0x6000ULL
#define BOOT_ZERO_PAGE_GPA 0x7000ULL
#define BOOT_STACK_GPA 0x8FF0ULL
#define BOOT_PML4_GPA 0x9000ULL /* PDPT at +0x1000, 4 PDs after it */
#define BOOT_CMDLINE_GPA 0x20000ULL
#define BOOT_CMDLINE_MAX 0x10000ULL
#define BOOT_KERNEL_GPA 0x100000ULL
#define BOOT_EBDA_GPA 0x9FC00ULL /* reserved from here to 1 MiB: EBDA, ACPI, BIOS */

#define BOOT_E820_RAM 1
#define BOOT_E820_RESERVED 2

#define BOOT_PROTOCOL_MIN 0x206

struct bzimage_info {
    uint16_t version;
    uint16_t xloadflags;
    uint8_t loadflags;
    unsigned setup_sects;
    size_t setup_size;  /* real-mode part, including the boot sector */
    size_t kernel_size; /* protected-mode part, loaded at 1 MiB */
    uint32_t init_size; /* memory the kernel needs from its load address */
    uint32_t initrd_addr_max;
    uint32_t cmdline_size;
    size_t hdr_end; /* end of the setup header in the file (0x202 + jump offset) */
};

/* Check a bzImage's setup header; errors name `path`. */
int bzimage_parse(const uint8_t *img, size_t len, const char *path, struct bzimage_info *out);

/* The e820 map for a VM with `ram_bytes` of RAM; returns the entry count
 * (at most `max`) or -1. */
int boot_e820(uint64_t ram_bytes, struct boot_e820_entry *tab, unsigned max);
/* boot_params.screen_info for the boot display S. */
void boot_screen_info(struct screen_info *si, const struct vm_screen *s);

/* Load the kernel (bzImage or PVH ELF), initrd and command line of
 * vm->cfg into guest memory (without a kernel: the BIOS, bios_load()) and describe the BSP's entry
 * state in vm->entry. rsdp_gpa (0 if none) is handed to the kernel. */
int boot_load(struct vm *vm, uint64_t rsdp_gpa);

/* A descriptor of the image at PATH from its start: a duplicate of FD
 * (opened before the sandbox, rewound) when FD > 0, else PATH opened. */
int boot_open_image(const char *path, int fd);

/* Lower-level pieces, exposed for tests. */
int boot_load_bzimage(struct vm *vm, const uint8_t *img, size_t len, uint64_t rsdp_gpa);
int boot_load_pvh(struct vm *vm, const uint8_t *img, size_t len, uint64_t rsdp_gpa);
/* Where the initrd of `size` bytes goes, or -1 if it does not fit between
 * kernel_end and min(low RAM end, addr_max). */
int boot_initrd_addr(struct vm *vm, uint64_t size, uint64_t kernel_end, uint64_t addr_max,
                     uint64_t *gpa);

#endif
