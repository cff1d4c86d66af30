/* ACPI tables for tvm-vmm: RSDP, XSDT, FADT, FACS, MADT, DSDT and (with a
 * PCI bus) MCFG, written into a guest-memory region the core reserves in
 * e820 (by convention ACPI_REGION_GPA, inside the 0xE0000-0xFFFFF window
 * Linux scans for the RSDP on legacy boot). The core passes the RSDP
 * address back to the guest in boot_params.acpi_rsdp_addr.
 *
 * The tables describe the fixed hardware that dev/acpi-pm.c emulates: PM1a
 * event/control blocks, PM timer, GPE0 and the reset register, all in I/O
 * space at cfg->pm_base, and the SCI on cfg->sci_irq (level, active high);
 * with cfg->pci also the PCI root bridge \_SB.PCI0 (windows, _PRT, _OSC),
 * the PNP0C02 device that reserves its ECAM region, and MCFG.
 */
#ifndef TVM_VMM_X86_ACPI_H
#define TVM_VMM_X86_ACPI_H

#include <stdint.h>

/* Where the core reserves room for the tables (e820 reserved). */
#define ACPI_REGION_GPA 0xE0000ULL
#define ACPI_REGION_LEN 0x10000ULL

/* DSDT processor names are C000..CFFF, so this is the hard upper bound;
 * the region size usually limits first. */
#define ACPI_MAX_CPUS 4096

#define ACPI_IOAPIC_GPA 0xFEC00000U
#define ACPI_LAPIC_GPA 0xFEE00000U

/* The PCI root bridge the DSDT describes (\_SB.PCI0) and its ECAM
 * region, which the MCFG table points at and a PNP0C02 device reserves. */
#define ACPI_PCI_SLOTS 32
struct acpi_pci {
    uint64_t ecam_base; /* config space of buses 0..end_bus, 1 MiB each */
    uint8_t end_bus;
    uint32_t mmio_base, mmio_size; /* the 32-bit window the BARs are in */
    /* _PRT: the GSI that INTA#..INTD# (pin 0..3) of each slot raises. */
    uint8_t intx_gsi[ACPI_PCI_SLOTS][4];
};

struct acpi_config {
    unsigned ncpus;
    /* APIC id of vCPU i; NULL means id = i. The ACPI processor UID is i. */
    const uint32_t *apic_ids;
    uint16_t pm_base; /* I/O base of the PM block, see dev/acpi-pm.h */
    uint8_t sci_irq;  /* ISA IRQ (== GSI) of the SCI */
    /* GSI that the PIT's IRQ0 reaches. KVM's default irq routing maps
     * GSI 0 to IOAPIC pin 0, so 0 (no override) is right unless the core
     * installs QEMU-style routing (IRQ0 -> pin 2), then say 2. */
    uint8_t timer_gsi;
    /* NULL: no PCI root bridge and no MCFG. */
    const struct acpi_pci *pci;
};

/* Build every table into mem, which maps guest physical
 * [mem_gpa, mem_gpa + mem_len). On success *rsdp_gpa is the RSDP's guest
 * address (16-byte aligned, first thing in the region) and 0 is returned;
 * on bad config or too small a region -1 with a message and mem untouched
 * beyond the region. */
int acpi_build_tables(uint8_t *mem, uint64_t mem_gpa, uint64_t mem_len,
                      const struct acpi_config *cfg, uint64_t *rsdp_gpa);

/* Where acpi_build_relocatable() put each table, as offsets into the
 * buffer, and the pointer fields a loader must relocate: RSDP+24 (XSDT,
 * 8 bytes), each XSDT entry (8 bytes at xsdt+36+8*i), FADT+40 (DSDT, 4
 * bytes), FADT+132 (FACS, 8) and FADT+140 (DSDT, 8). Checksums: RSDP (at
 * 8 over 20 bytes, at 32 over 36), XSDT and FADT (at 9 over the table). */
struct acpi_layout {
    uint64_t rsdp, facs, xsdt, fadt, dsdt, end;
    unsigned xsdt_entries;
};
#define ACPI_RSDP_LEN 36
#define ACPI_FADT_LEN 276
#define ACPI_TABLE_HDR_LEN 36

/* The same tables built as if the buffer were at guest address 0: every
 * pointer holds an offset into MEM, for firmware to relocate (SeaBIOS's
 * table loader, fw_cfg etc/table-loader). */
int acpi_build_relocatable(uint8_t *mem, uint64_t mem_len, const struct acpi_config *cfg,
                           struct acpi_layout *lay);

/* Sum of bytes, as ACPI checksums are defined (a valid table sums to 0). */
uint8_t acpi_checksum(const uint8_t *p, uint64_t len);

#endif
