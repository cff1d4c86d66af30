/* ACPI tables (ACPI 6.3): RSDP -> XSDT -> {FADT, MADT, MCFG}; FADT -> FACS, DSDT.
 * Field offsets below are the spec's; every multi-byte field is little
 * endian. The tables are laid out back to back in the region, each aligned
 * as the spec wants (RSDP 16, FACS 64, the rest 8). */
#include "x86/acpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"
#include "dev/acpi-pm.h"
#include "x86/aml.h"

#define ACPI_OEM_ID "TVM   "      /* 6 bytes */
#define ACPI_OEM_TABLE "TVMVMM  " /* 8 bytes */
#define ACPI_CREATOR "TVMM"
#define ACPI_HDR_LEN 36

#define RSDP_LEN 36
#define FACS_LEN 64
#define FADT_LEN 276
#define MCFG_LEN (ACPI_HDR_LEN + 8 + 16) /* one allocation: segment 0 */

/* FADT flags */
#define FADT_WBINVD (1u << 0)
#define FADT_PROC_C1 (1u << 2)
#define FADT_SLP_BUTTON (1u << 5) /* no fixed sleep button; PWR_BUTTON (bit 4) clear */
#define FADT_TMR_VAL_EXT (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)
/* IA-PC boot architecture flags */
#define BOOT_LEGACY_DEVICES (1u << 0)
#define BOOT_8042 (1u << 1)
#define BOOT_VGA_NOT_PRESENT (1u << 2)

/* MADT */
#define MADT_PCAT_COMPAT 1u
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_NMI 4
#define MADT_X2APIC 9
#define MADT_X2APIC_NMI 10
#define MADT_ENABLED 1u
#define MPS_ACTIVE_HIGH 0x1
#define MPS_LEVEL 0xC

/* Generic Address Structure */
#define GAS_IO 1
#define GAS_ACCESS_BYTE 1
#define GAS_ACCESS_WORD 2
#define GAS_ACCESS_DWORD 3

static void put8(uint8_t *p, uint8_t v)
{
    p[0] = v;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint8_t acpi_checksum(const uint8_t *p, uint64_t len)
{
    uint8_t sum = 0;
    for (uint64_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

/* Make the bytes of [p, p+len) sum to zero through the byte at p[at]. */
static void fix_checksum(uint8_t *p, uint64_t len, unsigned at)
{
    p[at] = 0;
    p[at] = (uint8_t)(0 - acpi_checksum(p, len));
}

static void put_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    put8(t + 8, rev);
    memcpy(t + 10, ACPI_OEM_ID, 6);
    memcpy(t + 16, ACPI_OEM_TABLE, 8);
    put32(t + 24, 1);
    memcpy(t + 28, ACPI_CREATOR, 4);
    put32(t + 32, 1);
}

static void put_gas_io(uint8_t *p, uint16_t port, uint8_t bits, uint8_t access)
{
    put8(p, GAS_IO);
    put8(p + 1, bits);
    put8(p + 2, 0);
    put8(p + 3, access);
    put64(p + 4, port);
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static uint32_t apic_id_of(const struct acpi_config *cfg, unsigned i)
{
    return cfg->apic_ids ? cfg->apic_ids[i] : i;
}

/* xAPIC entries carry 8-bit ids and UIDs (0xFF is "all processors"). */
static int madt_uses_x2apic(const struct acpi_config *cfg, unsigned i)
{
    return apic_id_of(cfg, i) >= 0xFF || i >= 0xFF;
}

static uint64_t madt_size(const struct acpi_config *cfg)
{
    uint64_t n = ACPI_HDR_LEN + 8 + 12 + 10 + 6; /* hdr, lapic addr+flags, ioapic, SCI ISO, NMI */
    int any_x2 = 0;
    if (cfg->timer_gsi != 0)
        n += 10;
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        int x2 = madt_uses_x2apic(cfg, i);
        any_x2 |= x2;
        n += x2 ? 16 : 8;
    }
    if (any_x2)
        n += 12;
    return n;
}

static void build_madt(uint8_t *t, uint32_t len, const struct acpi_config *cfg)
{
    put_header(t, "APIC", len, 5);
    put32(t + 36, ACPI_LAPIC_GPA);
    put32(t + 40, MADT_PCAT_COMPAT);
    uint8_t *p = t + 44;
    int any_x2 = 0;
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        uint32_t id = apic_id_of(cfg, i);
        if (madt_uses_x2apic(cfg, i)) {
            any_x2 = 1;
            put8(p, MADT_X2APIC);
            put8(p + 1, 16);
            put16(p + 2, 0);
            put32(p + 4, id);
            put32(p + 8, MADT_ENABLED);
            put32(p + 12, i);
            p += 16;
        } else {
            put8(p, MADT_LAPIC);
            put8(p + 1, 8);
            put8(p + 2, (uint8_t)i);
            put8(p + 3, (uint8_t)id);
            put32(p + 4, MADT_ENABLED);
            p += 8;
        }
    }
    put8(p, MADT_IOAPIC);
    put8(p + 1, 12);
    put8(p + 2, 0); /* IOAPIC id */
    put8(p + 3, 0);
    put32(p + 4, ACPI_IOAPIC_GPA);
    put32(p + 8, 0); /* GSI base */
    p += 12;
    if (cfg->timer_gsi != 0) {
        put8(p, MADT_ISO);
        put8(p + 1, 10);
        put8(p + 2, 0); /* ISA */
        put8(p + 3, 0); /* IRQ0 */
        put32(p + 4, cfg->timer_gsi);
        put16(p + 8, 0); /* conforms to the bus: edge, active high */
        p += 10;
    }
    /* Without an override the SCI would default to level/active-low; the
     * PM block drives it active-high, as QEMU and most VMMs do. */
    put8(p, MADT_ISO);
    put8(p + 1, 10);
    put8(p + 2, 0);
    put8(p + 3, cfg->sci_irq);
    put32(p + 4, cfg->sci_irq);
    put16(p + 8, MPS_ACTIVE_HIGH | MPS_LEVEL);
    p += 10;
    /* LINT1 of every local APIC is the NMI input. */
    put8(p, MADT_LAPIC_NMI);
    put8(p + 1, 6);
    put8(p + 2, 0xFF);
    put16(p + 3, 0);
    put8(p + 5, 1);
    p += 6;
    if (any_x2) {
        put8(p, MADT_X2APIC_NMI);
        put8(p + 1, 12);
        put16(p + 2, 0);
        put32(p + 4, 0xFFFFFFFF);
        put8(p + 8, 1);
        memset(p + 9, 0, 3);
    }
    fix_checksum(t, len, 9);
}

static void build_fadt(uint8_t *t, const struct acpi_config *cfg, uint64_t facs, uint64_t dsdt)
{
    uint16_t pm = cfg->pm_base;
    put_header(t, "FACP", FADT_LEN, 6);
    /* FIRMWARE_CTRL must be 0 when X_FIRMWARE_CTRL is used. */
    put32(t + 40, (uint32_t)dsdt);
    put16(t + 46, cfg->sci_irq);
    /* SMI_CMD = 0: no SMM, the platform is always in ACPI mode. */
    put32(t + 56, pm + ACPI_PM1_EVT_OFF);
    put32(t + 64, pm + ACPI_PM1_CNT_OFF);
    put32(t + 76, pm + ACPI_PM_TMR_OFF);
    put32(t + 80, pm + ACPI_GPE0_OFF);
    put8(t + 88, ACPI_PM1_EVT_LEN);
    put8(t + 89, ACPI_PM1_CNT_LEN);
    put8(t + 91, ACPI_PM_TMR_LEN);
    put8(t + 92, ACPI_GPE0_LEN);
    put16(t + 96, 0x0FFF); /* C2 latency > 100: no C2 */
    put16(t + 98, 0x0FFF); /* C3 latency > 1000: no C3 */
    put16(t + 109, BOOT_LEGACY_DEVICES | BOOT_8042 | BOOT_VGA_NOT_PRESENT);
    put32(t + 112,
          FADT_WBINVD | FADT_PROC_C1 | FADT_SLP_BUTTON | FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP);
    put_gas_io(t + 116, pm + ACPI_PM_RESET_OFF, 8, GAS_ACCESS_BYTE);
    put8(t + 128, ACPI_PM_RESET_VALUE);
    put8(t + 131, 3); /* FADT minor version: 6.3 */
    put64(t + 132, facs);
    put64(t + 140, dsdt);
    put_gas_io(t + 148, pm + ACPI_PM1_EVT_OFF, ACPI_PM1_EVT_LEN * 8, GAS_ACCESS_WORD);
    put_gas_io(t + 172, pm + ACPI_PM1_CNT_OFF, ACPI_PM1_CNT_LEN * 8, GAS_ACCESS_WORD);
    put_gas_io(t + 208, pm + ACPI_PM_TMR_OFF, ACPI_PM_TMR_LEN * 8, GAS_ACCESS_DWORD);
    put_gas_io(t + 220, pm + ACPI_GPE0_OFF, ACPI_GPE0_LEN * 8, GAS_ACCESS_BYTE);
    memcpy(t + 268, "TVMVMM  ", 8); /* hypervisor vendor identity */
    fix_checksum(t, FADT_LEN, 9);
}

static void build_facs(uint8_t *t)
{
    memcpy(t, "FACS", 4);
    put32(t + 4, FACS_LEN);
    put8(t + 32, 2); /* version */
}

/* ---- PCI root bridge ---- */

/* A resource template (_CRS) under construction; descriptors as in the
 * spec's "Resource Data Types for ACPI". */
struct rbuf {
    uint8_t b[128];
    size_t n;
};

static void rb_put(struct rbuf *r, uint64_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes && r->n < sizeof r->b; i++)
        r->b[r->n++] = (uint8_t)(v >> (8 * i));
}

#define RES_MEM 0
#define RES_IO 1
#define RES_BUS 2
/* general flags: producer (a window the bridge passes on), min and max fixed */
#define RES_WINDOW 0x0C

/* Word Address Space Descriptor (bus numbers, I/O windows) */
static void rb_word(struct rbuf *r, uint8_t type, uint8_t tflags, uint16_t min, uint16_t max)
{
    rb_put(r, 0x88, 1);
    rb_put(r, 13, 2);
    rb_put(r, type, 1);
    rb_put(r, RES_WINDOW, 1);
    rb_put(r, tflags, 1);
    rb_put(r, 0, 2); /* granularity */
    rb_put(r, min, 2);
    rb_put(r, max, 2);
    rb_put(r, 0, 2); /* translation */
    rb_put(r, (uint32_t)max - min + 1, 2);
}

/* DWord Address Space Descriptor: a memory window, read-write, not cacheable */
static void rb_dword_mem(struct rbuf *r, uint32_t base, uint32_t size)
{
    rb_put(r, 0x87, 1);
    rb_put(r, 23, 2);
    rb_put(r, RES_MEM, 1);
    rb_put(r, RES_WINDOW, 1);
    rb_put(r, 0x01, 1);
    rb_put(r, 0, 4);
    rb_put(r, base, 4);
    rb_put(r, base + size - 1, 4);
    rb_put(r, 0, 4);
    rb_put(r, size, 4);
}

/* I/O Port Descriptor, 16-bit decode, consumed by the bridge itself */
static void rb_io(struct rbuf *r, uint16_t port, uint8_t len)
{
    rb_put(r, 0x47, 1);
    rb_put(r, 1, 1);
    rb_put(r, port, 2);
    rb_put(r, port, 2);
    rb_put(r, 1, 1);
    rb_put(r, len, 1);
}

/* Memory32Fixed, read-write */
static void rb_mem32_fixed(struct rbuf *r, uint32_t base, uint32_t size)
{
    rb_put(r, 0x86, 1);
    rb_put(r, 9, 2);
    rb_put(r, 1, 1);
    rb_put(r, base, 4);
    rb_put(r, size, 4);
}

static void rb_end(struct rbuf *r)
{
    rb_put(r, 0x79, 1);
    rb_put(r, 0, 1); /* checksum 0: the spec says "treat as correct" */
}

/* Device (PCI0): a PCI Express root bridge (PNP0A08, compatible with the
 * PCI one, PNP0A03) for segment 0, bus 0. Its _CRS hands the OS the
 * bus range, I/O ports other than its own config ports, and the BAR
 * window; _PRT routes each slot's INTx pins to IOAPIC GSIs. */
static void dsdt_pci0(struct aml *a, const struct acpi_pci *pci)
{
    size_t dev = aml_device_begin(a, "PCI0");
    aml_name_integer(a, "_HID", aml_eisaid("PNP0A08"));
    aml_name_integer(a, "_CID", aml_eisaid("PNP0A03"));
    aml_name_integer(a, "_SEG", 0);
    aml_name_integer(a, "_BBN", 0);
    aml_name_integer(a, "_UID", 0);

    struct rbuf r = {0};
    rb_word(&r, RES_BUS, 0, 0, pci->end_bus);
    rb_io(&r, 0xCF8, 8);
    rb_word(&r, RES_IO, 0x03, 0x0000, 0x0CF7);
    rb_word(&r, RES_IO, 0x03, 0x0D00, 0xFFFF);
    rb_dword_mem(&r, pci->mmio_base, pci->mmio_size);
    rb_end(&r);
    aml_name_buffer(a, "_CRS", r.b, r.n);

    /* Slot 0 is the host bridge; it raises no interrupt. */
    size_t prt = aml_name_package_begin(a, "_PRT", (ACPI_PCI_SLOTS - 1) * 4);
    for (unsigned slot = 1; slot < ACPI_PCI_SLOTS; slot++) {
        for (unsigned pin = 0; pin < 4; pin++) {
            size_t e = aml_package_begin(a, 4);
            aml_integer(a, (uint64_t)slot << 16 | 0xFFFF); /* any function */
            aml_integer(a, pin);
            aml_integer(a, 0); /* source 0: the last field is a GSI */
            aml_integer(a, pci->intx_gsi[slot][pin]);
            aml_block_end(a, e);
        }
    }
    aml_block_end(a, prt);

    /* _OSC (UUID, revision, count, capabilities): the OS may have every
     * native PCIe control it asks for (there is no firmware to keep any),
     * so the buffer goes back as it came: no error bits, all granted.
     * Without _OSC Linux logs "_OSC failed" for a PCIe root. */
    size_t osc = aml_method_begin(a, "_OSC", 4, false);
    aml_return_arg(a, 3);
    aml_block_end(a, osc);
    aml_block_end(a, dev);
}

/* Device (MRES): motherboard resources (PNP0C02). Linux uses the MCFG
 * region only if firmware reserves it, in e820 or here. */
static void dsdt_mres(struct aml *a, const struct acpi_pci *pci)
{
    size_t dev = aml_device_begin(a, "MRES");
    aml_name_integer(a, "_HID", aml_eisaid("PNP0C02"));
    aml_name_integer(a, "_UID", 0);
    struct rbuf r = {0};
    rb_mem32_fixed(&r, (uint32_t)pci->ecam_base, ((uint32_t)pci->end_bus + 1) << 20);
    rb_end(&r);
    aml_name_buffer(a, "_CRS", r.b, r.n);
    aml_block_end(a, dev);
}

static void build_mcfg(uint8_t *t, const struct acpi_pci *pci)
{
    put_header(t, "MCFG", MCFG_LEN, 1);
    uint8_t *e = t + ACPI_HDR_LEN + 8; /* 8 reserved bytes */
    put64(e, pci->ecam_base);
    put16(e + 8, 0); /* segment */
    put8(e + 10, 0); /* start bus */
    put8(e + 11, pci->end_bus);
    fix_checksum(t, MCFG_LEN, 9);
}

/* The DSDT's AML:
 *   Name (\_S0, Package () { 0, 0, 0, 0 })    -- working state (SLP_TYP unused)
 *   Name (\_S5, Package () { S5, S5, 0, 0 })  -- SLP_TYP for poweroff
 *   Method (\_PIC, 1) { }                      -- IRQ model switch, nothing to do
 *   Scope (\_SB) { Device (Cnnn) { _HID "ACPI0007", _UID n } ...
 *                   Device (PCI0) { ... }  Device (MRES) { ... } }
 * Processor devices carry the MADT's processor UIDs, so CPU hotplug can add
 * _STA/_EJ0 later. PCI0 and MRES only with cfg->pci. */
static int build_dsdt_aml(struct aml *a, const struct acpi_config *cfg)
{
    uint64_t s0[4] = {0, 0, 0, 0};
    uint64_t s5[4] = {ACPI_PM_SLP_TYP_S5, ACPI_PM_SLP_TYP_S5, 0, 0};
    aml_name_package(a, "\\_S0", s0, 4);
    aml_name_package(a, "\\_S5", s5, 4);
    size_t pic = aml_method_begin(a, "\\_PIC", 1, false);
    aml_block_end(a, pic);
    size_t sb = aml_scope_begin(a, "\\_SB");
    for (unsigned i = 0; i < cfg->ncpus; i++) {
        char name[16];
        snprintf(name, sizeof(name), "C%03X", i & 0xFFF);
        size_t dev = aml_device_begin(a, name);
        aml_name_string(a, "_HID", "ACPI0007");
        aml_name_integer(a, "_UID", i);
        aml_block_end(a, dev);
    }
    if (cfg->pci) {
        dsdt_pci0(a, cfg->pci);
        dsdt_mres(a, cfg->pci);
    }
    aml_block_end(a, sb);
    return aml_failed(a) ? err_prefix("DSDT") : 0;
}

static int check_config(const struct acpi_config *cfg)
{
    if (cfg->ncpus == 0)
        return err_set("ACPI: 0 vCPUs configured (need at least 1)");
    if (cfg->ncpus > ACPI_MAX_CPUS)
        return err_set("ACPI: %u vCPUs configured (at most %u supported)", cfg->ncpus,
                       ACPI_MAX_CPUS);
    if (cfg->sci_irq == 0 || cfg->sci_irq >= 16 || cfg->sci_irq == 2)
        return err_set("ACPI: SCI IRQ %u is not a usable ISA IRQ", cfg->sci_irq);
    if (cfg->pm_base == 0 || (uint32_t)cfg->pm_base + ACPI_PM_LEN > 0x10000)
        return err_set("ACPI: PM block base 0x%x is not a valid I/O port range", cfg->pm_base);
    if (cfg->timer_gsi >= 24)
        return err_set("ACPI: timer GSI %u beyond the IOAPIC's 24 pins", cfg->timer_gsi);
    const struct acpi_pci *pci = cfg->pci;
    if (!pci)
        return 0;
    if ((pci->ecam_base & 0xFFFFF) ||
        pci->ecam_base + (((uint64_t)pci->end_bus + 1) << 20) > 0x100000000ULL)
        return err_set("ACPI: ECAM base 0x%llx is not 1 MiB aligned below 4 GiB",
                       (unsigned long long)pci->ecam_base);
    if (pci->mmio_size == 0 || (uint64_t)pci->mmio_base + pci->mmio_size > 0x100000000ULL)
        return err_set("ACPI: PCI window 0x%x+0x%x is not below 4 GiB", pci->mmio_base,
                       pci->mmio_size);
    for (unsigned s = 0; s < ACPI_PCI_SLOTS; s++)
        for (unsigned p = 0; p < 4; p++)
            if (pci->intx_gsi[s][p] >= 24)
                return err_set("ACPI: PCI slot %u INT%c# on GSI %u, beyond the IOAPIC's 24 pins", s,
                               'A' + p, pci->intx_gsi[s][p]);
    return 0;
}

static int build(uint8_t *mem, uint64_t mem_gpa, uint64_t mem_len, const struct acpi_config *cfg,
                 struct acpi_layout *lay)
{
    if (check_config(cfg) < 0)
        return -1;
    if (mem_gpa & 15)
        return err_set("ACPI: region 0x%llx is not 16-byte aligned", (unsigned long long)mem_gpa);

    struct aml aml;
    aml_init(&aml);
    if (build_dsdt_aml(&aml, cfg) < 0) {
        aml_free(&aml);
        return -1;
    }

    /* Layout, as offsets into the region. */
    uint64_t rsdp = 0;
    uint64_t facs = align_up(rsdp + RSDP_LEN, 64);
    uint64_t xsdt = align_up(facs + FACS_LEN, 8);
    unsigned ntables = cfg->pci ? 3 : 2;
    uint64_t xsdt_len = ACPI_HDR_LEN + ntables * 8;
    uint64_t fadt = align_up(xsdt + xsdt_len, 8);
    uint64_t madt = align_up(fadt + FADT_LEN, 8);
    uint64_t madt_len = madt_size(cfg);
    uint64_t dsdt = align_up(madt + madt_len, 8);
    uint64_t dsdt_len = ACPI_HDR_LEN + aml.len;
    uint64_t mcfg = align_up(dsdt + dsdt_len, 8);
    uint64_t end = cfg->pci ? mcfg + MCFG_LEN : dsdt + dsdt_len;
    if (end > mem_len || mem_gpa + end > 0x100000000ULL) {
        aml_free(&aml);
        return err_set("ACPI: tables for %u vCPUs need %llu bytes, region at 0x%llx has %llu",
                       cfg->ncpus, (unsigned long long)end, (unsigned long long)mem_gpa,
                       (unsigned long long)mem_len);
    }
    memset(mem, 0, end);

    uint8_t *t = mem + dsdt;
    put_header(t, "DSDT", (uint32_t)dsdt_len, 2);
    memcpy(t + ACPI_HDR_LEN, aml.buf, aml.len);
    fix_checksum(t, dsdt_len, 9);
    aml_free(&aml);

    build_facs(mem + facs);
    build_madt(mem + madt, (uint32_t)madt_len, cfg);
    build_fadt(mem + fadt, cfg, mem_gpa + facs, mem_gpa + dsdt);

    t = mem + xsdt;
    put_header(t, "XSDT", (uint32_t)xsdt_len, 1);
    put64(t + 36, mem_gpa + fadt);
    put64(t + 44, mem_gpa + madt);
    if (cfg->pci) {
        build_mcfg(mem + mcfg, cfg->pci);
        put64(t + 52, mem_gpa + mcfg);
    }
    fix_checksum(t, xsdt_len, 9);

    t = mem + rsdp;
    memcpy(t, "RSD PTR ", 8);
    memcpy(t + 9, ACPI_OEM_ID, 6);
    put8(t + 15, 2);
    put32(t + 16, 0); /* no RSDT: XSDT only */
    put32(t + 20, RSDP_LEN);
    put64(t + 24, mem_gpa + xsdt);
    fix_checksum(t, 20, 8);
    fix_checksum(t, RSDP_LEN, 32);
    *lay = (struct acpi_layout){
        .rsdp = rsdp,
        .facs = facs,
        .xsdt = xsdt,
        .xsdt_entries = ntables,
        .fadt = fadt,
        .dsdt = dsdt,
        .end = end,
    };
    return 0;
}

int acpi_build_tables(uint8_t *mem, uint64_t mem_gpa, uint64_t mem_len,
                      const struct acpi_config *cfg, uint64_t *rsdp_gpa)
{
    struct acpi_layout lay;
    if (build(mem, mem_gpa, mem_len, cfg, &lay) < 0)
        return -1;
    *rsdp_gpa = mem_gpa + lay.rsdp;
    return 0;
}

int acpi_build_relocatable(uint8_t *mem, uint64_t mem_len, const struct acpi_config *cfg,
                           struct acpi_layout *lay)
{
    return build(mem, 0, mem_len, cfg, lay);
}
