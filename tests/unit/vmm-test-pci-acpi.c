/* The PCI root bridge in ACPI and the ECAM path, without KVM:
 * - the tables built with a PCI description have an MCFG in the XSDT that
 *   points at PCI_ECAM_BASE for bus 0..0, and iasl (outside oracle)
 *   disassembles DSDT and MCFG without complaint, finding \_SB.PCI0 with
 *   PNP0A08/PNP0A03, its _CRS windows, a _PRT entry per slot and pin that
 *   matches the interrupt line the bus writes into each device, and the
 *   PNP0C02 device reserving the ECAM region;
 * - ECAM reads and writes reach the same config space as 0xCF8/0xCFC;
 * - devices go to the slot asked for, and a taken slot, slot 0 or a slot
 *   past the bus is refused with a message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "pci.h"
#include "vm.h"
#include "x86/acpi.h"

#define BASE 0xE0000ULL
static uint8_t region[0x10000];

static uint32_t rd32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

static const uint8_t *build(struct acpi_pci *pci)
{
    static const uint32_t ids[2] = {0, 1};
    struct acpi_config cfg = {
        .ncpus = 2, .apic_ids = ids, .pm_base = 0x600, .sci_irq = 9, .pci = pci};
    pci_acpi_describe(pci);
    uint64_t rsdp;
    if (acpi_build_tables(region, BASE, sizeof region, &cfg, &rsdp) < 0)
        fail_msg("acpi_build_tables: %s", err_msg());
    return region + (rd64(region + (rsdp - BASE) + 24) - BASE);
}

static const uint8_t *xsdt_find(const uint8_t *xsdt, const char *sig)
{
    for (uint32_t off = 36; off < rd32(xsdt + 4); off += 8) {
        const uint8_t *t = region + (rd64(xsdt + off) - BASE);
        if (memcmp(t, sig, 4) == 0)
            return t;
    }
    return NULL;
}

static void test_mcfg_points_at_ecam(void **state)
{
    (void)state;
    struct acpi_pci pci;
    const uint8_t *xsdt = build(&pci);
    const uint8_t *mcfg = xsdt_find(xsdt, "MCFG");
    assert_non_null(mcfg);
    assert_int_equal(rd32(mcfg + 4), 60);
    assert_int_equal(acpi_checksum(mcfg, 60), 0);
    assert_int_equal(rd64(mcfg + 44), PCI_ECAM_BASE);
    assert_int_equal(mcfg[52] | mcfg[53] << 8, 0); /* segment */
    assert_int_equal(mcfg[54], 0);                 /* start bus */
    assert_int_equal(mcfg[55], PCI_ECAM_BUSES - 1);
    /* ECAM sits in the hole, clear of low RAM and of the BAR window */
    assert_true(PCI_ECAM_BASE >= MEM_HOLE_START);
    assert_true(PCI_ECAM_BASE + PCI_ECAM_SIZE <= PCI_MMIO_BASE);
}

static int sh(const char *fmt, const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, fmt, dir, dir, dir, dir, dir);
    return system(cmd);
}

static void dump(const char *dir, const char *name, const uint8_t *t)
{
    char path[128];
    snprintf(path, sizeof path, "%s/%s.dat", dir, name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(t, 1, rd32(t + 4), f), rd32(t + 4));
    fclose(f);
}

static void test_iasl_reads_pci0_and_mcfg(void **state)
{
    (void)state;
    /* scripts/install-deps.sh installs acpica-tools: without iasl the only
     * outside check of the tables is gone, which is a failure, not a skip. */
    if (system("command -v iasl >/dev/null 2>&1") != 0)
        fail_msg("iasl (package acpica-tools) is missing: run scripts/install-deps.sh");
    struct acpi_pci pci;
    const uint8_t *xsdt = build(&pci);
    const uint8_t *fadt = xsdt_find(xsdt, "FACP");
    char dir[] = "/tmp/vmm-test-pci-acpi-XXXXXX";
    assert_non_null(mkdtemp(dir));
    dump(dir, "dsdt", region + (rd64(fadt + 140) - BASE));
    dump(dir, "mcfg", xsdt_find(xsdt, "MCFG"));
    if (sh("cd %s && iasl -d dsdt.dat mcfg.dat >iasl.out 2>&1 && "
           "! grep -qiE 'error|warning|incorrect|invalid' iasl.out dsdt.dsl mcfg.dsl",
           dir) != 0) {
        sh("cat %s/iasl.out %s/dsdt.dsl %s/mcfg.dsl >&2", dir);
        fail_msg("iasl complained");
    }
    /* What iasl decoded, checked field by field. */
    int rc = sh("cd %s && grep -q 'Device (PCI0)' dsdt.dsl && "
                "grep -q 'EisaId (\"PNP0A08\")' dsdt.dsl && "
                "grep -q 'EisaId (\"PNP0A03\")' dsdt.dsl && "
                "grep -q 'EisaId (\"PNP0C02\")' dsdt.dsl && "
                "grep -A2 'Method (_OSC, 4' dsdt.dsl | grep -q 'Return (Arg3)' && "
                "grep -q 'WordBusNumber (ResourceProducer' dsdt.dsl && "
                "grep -qi '0x0CF8,.*// Range Minimum' dsdt.dsl && "
                "grep -qi '0xE0000000,.*// Range Minimum' dsdt.dsl && "
                "grep -qi '0xFEBFFFFF,.*// Range Maximum' dsdt.dsl && "
                "grep -qi 'Memory32Fixed (ReadWrite' dsdt.dsl && "
                "grep -qi '0xD0000000,.*// Address Base' dsdt.dsl && "
                "grep -qi '0x00100000,.*// Address Length' dsdt.dsl && "
                "grep -qi 'Base Address : 00000000D0000000' mcfg.dsl && "
                "grep -qi 'End Bus Number : 00' mcfg.dsl",
                dir);
    if (rc != 0) {
        sh("cat %s/dsdt.dsl %s/mcfg.dsl >&2", dir);
        fail_msg("iasl's view of PCI0/MCFG lacks a field");
    }
    /* _PRT: 31 slots x 4 pins; slot 5 INTA# and slot 6 INTA# as the bus says. */
    char cmd[512];
    snprintf(
        cmd, sizeof cmd,
        "cd %s && test $(grep -ci '0x00[0-9A-F][0-9A-F]FFFF,' dsdt.dsl) -eq 124 && "
        "grep -m1 -A3 -i '0x0005FFFF,' dsdt.dsl | tail -1 | tr -d ' ,' | grep -qix '0x%02X' && "
        "grep -m1 -A3 -i '0x0006FFFF,' dsdt.dsl | tail -1 | tr -d ' ,' | grep -qix '0x%02X'",
        dir, pci_intx_gsi(5), pci_intx_gsi(6));
    if (system(cmd) != 0) {
        sh("grep -B1 -A5 -i '0x000[56]FFFF' %s/dsdt.dsl >&2", dir);
        fail_msg("_PRT does not route slots 5/6 to GSI %u/%u", pci_intx_gsi(5), pci_intx_gsi(6));
    }
    if (!getenv("KEEP"))
        sh("rm -rf %s", dir);
}

/* ---- ECAM and slots on a bus without KVM ---- */

struct t {
    struct vm *vm;
    struct pci_bus *bus;
    struct pci_device dev[3];
};

static int bus_setup(void **state)
{
    struct t *t = calloc(1, sizeof *t);
    struct vm_config cfg = {.ram_bytes = 32 << 20, .vcpus = 1};
    t->vm = vm_new(&cfg);
    assert_non_null(t->vm);
    t->bus = pci_init(t->vm);
    assert_non_null(t->bus);
    for (int i = 0; i < 3; i++) {
        t->dev[i].bar_size[0] = 0x1000;
        pci_device_setup(&t->dev[i], 0x1AF4, 0x1040 + i, 1, 0xFF0000, 0x1AF4, 0x1100);
    }
    *state = t;
    return 0;
}

static int bus_teardown(void **state)
{
    struct t *t = *state;
    vm_free(t->vm);
    free(t);
    return 0;
}

static uint32_t cf8_read(struct t *t, uint8_t slot, uint8_t reg, uint32_t len)
{
    uint32_t a = 0x80000000u | slot << 11 | (reg & 0xFC), v = 0;
    io_dispatch_pio(t->vm, 0xCF8, (uint8_t *)&a, 4, true);
    io_dispatch_pio(t->vm, 0xCFC + (reg & 3), (uint8_t *)&v, len, false);
    return v;
}

static uint32_t ecam_read(struct t *t, unsigned bus, uint8_t slot, unsigned fn, uint32_t reg,
                          uint32_t len)
{
    uint32_t v = 0;
    uint64_t a = PCI_ECAM_BASE + ((uint64_t)bus << 20 | slot << 15 | fn << 12 | reg);
    assert_int_equal(io_dispatch_mmio(t->vm, a, (uint8_t *)&v, len, false), 0);
    return v;
}

static void ecam_write(struct t *t, uint8_t slot, uint32_t reg, uint32_t v, uint32_t len)
{
    uint64_t a = PCI_ECAM_BASE + ((uint64_t)slot << 15 | reg);
    assert_int_equal(io_dispatch_mmio(t->vm, a, (uint8_t *)&v, len, true), 0);
}

static void test_ecam_is_the_same_config_space(void **state)
{
    struct t *t = *state;
    assert_int_equal(pci_add_device(t->bus, &t->dev[0], 7), 0);
    /* the host bridge and the device read the same both ways */
    for (uint8_t slot = 0; slot < 8; slot += 7)
        for (uint32_t reg = 0; reg < 64; reg += 4)
            assert_int_equal(ecam_read(t, 0, slot, 0, reg, 4), cf8_read(t, slot, reg, 4));
    assert_int_equal(ecam_read(t, 0, 7, 0, PCI_DEVICE_ID, 2), 0x1040);
    assert_int_equal(ecam_read(t, 0, 7, 0, PCI_INTERRUPT_PIN, 1), 1);
    assert_int_equal(ecam_read(t, 0, 7, 0, PCI_INTERRUPT_LINE, 1), pci_intx_gsi(7));
    /* BAR sizing through ECAM, seen through 0xCFC */
    ecam_write(t, 7, PCI_BAR0, 0xFFFFFFFF, 4);
    assert_int_equal(cf8_read(t, 7, PCI_BAR0, 4), 0xFFFFF000);
    ecam_write(t, 7, PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    assert_int_equal(cf8_read(t, 7, PCI_COMMAND, 2), PCI_COMMAND_MEMORY);
    /* extended space of a present device: zero (no extended capabilities) */
    assert_int_equal(ecam_read(t, 0, 7, 0, 0x100, 4), 0);
    /* absent slot, function 1, extended space of an absent slot: nothing */
    assert_int_equal(ecam_read(t, 0, 9, 0, 0, 4), 0xFFFFFFFF);
    assert_int_equal(ecam_read(t, 0, 7, 1, 0, 4), 0xFFFFFFFF);
    assert_int_equal(ecam_read(t, 0, 9, 0, 0x100, 4), 0xFFFFFFFF);
}

static void test_slots_as_asked(void **state)
{
    struct t *t = *state;
    assert_int_equal(pci_add_device(t->bus, &t->dev[0], 5), 0);
    assert_int_equal(t->dev[0].slot, 5);
    /* the bus never picks a slot itself */
    assert_int_equal(pci_add_device(t->bus, &t->dev[1], -1), -1);
    assert_non_null(strstr(err_msg(), "no PCI slot given"));
    assert_int_equal(pci_add_device(t->bus, &t->dev[1], 2), 0);
    assert_int_equal(t->dev[1].slot, 2);
    assert_int_equal(pci_add_device(t->bus, &t->dev[2], 5), -1);
    assert_non_null(strstr(err_msg(), "0x05 is already taken"));
    assert_int_equal(pci_add_device(t->bus, &t->dev[2], 0), -1);
    assert_non_null(strstr(err_msg(), "host bridge"));
    assert_int_equal(pci_add_device(t->bus, &t->dev[2], 32), -1);
    assert_non_null(strstr(err_msg(), "beyond"));
    assert_int_equal(pci_add_device(t->bus, &t->dev[2], 1), 0);
    assert_int_equal(cf8_read(t, 1, PCI_DEVICE_ID, 2), 0x1042);
    assert_int_equal(cf8_read(t, 5, PCI_DEVICE_ID, 2), 0x1040);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mcfg_points_at_ecam),
        cmocka_unit_test(test_iasl_reads_pci0_and_mcfg),
        cmocka_unit_test_setup_teardown(test_ecam_is_the_same_config_space, bus_setup,
                                        bus_teardown),
        cmocka_unit_test_setup_teardown(test_slots_as_asked, bus_setup, bus_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
