/* Firmware boot on x86 (a domain without <kernel>): a PC BIOS image, by
 * default SeaBIOS from Debian's seabios package, started the way a PC
 * starts it, and what it reads about the machine.
 *
 * - bios_load(): the image as a read-only ROM ending at 4 GiB, also copied
 *   into RAM ending at 1 MiB (0xC0000-0xFFFFF for 256 KiB; the top 128 KiB
 *   are the legacy BIOS segments 0xE0000-0xFFFFF), and the BSP left in its
 *   power-on state, so it runs from the reset vector (CS base 0xFFFF0000,
 *   IP 0xFFF0). The low copy is RAM, not a read-only slot: on QEMU's PC
 *   SeaBIOS unlocks the shadow RAM through the host bridge's PAM registers
 *   and copies its code there itself; tvm's host bridge has none, so the
 *   copy is made here, writable from the start. Every (re)boot copies it
 *   again, so a reset always starts a fresh POST.
 * - bios_cmos_fill(): the CMOS bytes the BIOS reads (memory sizes, CPU
 *   count, boot devices), as QEMU's PC sets them.
 * - bios_e820(): the memory map handed over as fw_cfg etc/e820.
 * - bios_acpi_files(): tvm-vmm's ACPI tables as fw_cfg files with a table
 *   loader script (etc/table-loader, etc/acpi/tables, etc/acpi/rsdp), the
 *   way QEMU hands tables to SeaBIOS, which builds none of its own.
 */
#ifndef TVM_VMM_X86_BIOS_H
#define TVM_VMM_X86_BIOS_H

#include <asm/bootparam.h>
#include <stdint.h>

#include "vm.h"

#define BIOS_ROM_MIN (64ULL << 10)
#define BIOS_ROM_MAX (MEM_4G - KVM_PRIVATE_END) /* 256 KiB */
#define BIOS_LOW_END 0x100000ULL
/* The VGA BIOS for a text-mode display (board.c): ISA, standard VGA only. */
#define BIOS_VGA_ROM "/usr/share/seabios/vgabios-isavga.bin"
#define BIOS_VGA_ROM_MAX (64 << 10)

struct fw_cfg;
struct acpi_config;

int bios_load(struct vm *vm);

/* CMOS boot device codes (<os><boot dev>) */
#define BIOS_BOOT_FLOPPY 1
#define BIOS_BOOT_HD 2
#define BIOS_BOOT_CDROM 3
#define BIOS_BOOT_NETWORK 4

struct bios_cmos {
    uint64_t ram_bytes;
    unsigned ncpus;
    uint8_t boot[3]; /* BIOS_BOOT_*, 0: none; boot[0] first */
};
/* Sets the BIOS's bytes of NVRAM (128 bytes of CMOS, clock registers
 * untouched). */
void bios_cmos_fill(const struct bios_cmos *c, uint8_t *nvram);

/* The map for a machine with RAM_BYTES of RAM: RAM below the hole and
 * above 4 GiB, ECAM and KVM's private pages reserved. Returns the count
 * (at most MAX) or -1. The BIOS adds its own reservations. */
int bios_e820(uint64_t ram_bytes, struct boot_e820_entry *tab, unsigned max);

/* Adds etc/acpi/tables, etc/acpi/rsdp and etc/table-loader for the
 * tables CFG describes. */
int bios_acpi_files(struct fw_cfg *f, const struct acpi_config *cfg);

#endif
