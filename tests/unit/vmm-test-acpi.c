/* ACPI tables and the PM block: tables built into a buffer for several CPU
 * counts and checked field by field against the spec layout (and
 * disassembled by iasl, from acpica-tools, as an outside oracle);
 * the PM registers driven through their port handlers with recorders in
 * place of the VM. */
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
#include "dev/acpi-pm.h"
#include "x86/acpi.h"

#define BASE ACPI_REGION_GPA
static uint8_t region[ACPI_REGION_LEN];

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
    return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

/* Host pointer of a table at guest address gpa, after checking it lies in
 * the region, carries sig, and sums to zero over its length. */
static const uint8_t *table_at(uint64_t gpa, const char *sig)
{
    assert_true(gpa >= BASE && gpa + 36 <= BASE + sizeof(region));
    const uint8_t *t = region + (gpa - BASE);
    assert_memory_equal(t, sig, 4);
    uint32_t len = rd32(t + 4);
    assert_true(len >= 36 && gpa + len <= BASE + sizeof(region));
    assert_int_equal(acpi_checksum(t, len), 0);
    return t;
}

static struct acpi_config config(unsigned ncpus)
{
    return (struct acpi_config){.ncpus = ncpus, .pm_base = ACPI_PM_BASE, .sci_irq = ACPI_SCI_IRQ};
}

static const uint8_t *build(const struct acpi_config *cfg)
{
    uint64_t rsdp = 0;
    memset(region, 0xAA, sizeof(region));
    assert_int_equal(acpi_build_tables(region, BASE, sizeof(region), cfg, &rsdp), 0);
    /* Linux's legacy scan wants the RSDP 16-byte aligned in E0000-FFFFF. */
    assert_true(rsdp >= 0xE0000 && rsdp < 0x100000 && rsdp % 16 == 0);
    const uint8_t *r = region + (rsdp - BASE);
    assert_memory_equal(r, "RSD PTR ", 8);
    assert_int_equal(acpi_checksum(r, 20), 0);
    assert_int_equal(r[15], 2);
    assert_int_equal(rd32(r + 20), 36);
    assert_int_equal(acpi_checksum(r, 36), 0);
    return table_at(rd64(r + 24), "XSDT");
}

/* The XSDT entry with this signature. */
static const uint8_t *xsdt_find(const uint8_t *xsdt, const char *sig)
{
    uint32_t n = (rd32(xsdt + 4) - 36) / 8;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t gpa = rd64(xsdt + 36 + 8 * i);
        if (memcmp(region + (gpa - BASE), sig, 4) == 0)
            return table_at(gpa, sig);
    }
    fail_msg("XSDT has no %s entry", sig);
    return NULL;
}

static void check_madt(const uint8_t *madt, const struct acpi_config *cfg)
{
    uint32_t len = rd32(madt + 4);
    assert_int_equal(rd32(madt + 36), 0xFEE00000);
    unsigned cpus = 0, ioapics = 0, sci_iso = 0, nmi = 0;
    for (uint32_t off = 44; off < len;) {
        const uint8_t *e = madt + off;
        assert_true(e[1] >= 2 && off + e[1] <= len);
        switch (e[0]) {
        case 0: /* local APIC: UID, APIC id, flags */
            assert_int_equal(e[2], cpus);
            assert_int_equal(e[3], cfg->apic_ids ? cfg->apic_ids[cpus] : cpus);
            assert_int_equal(rd32(e + 4) & 1, 1);
            cpus++;
            break;
        case 9: /* x2APIC: id, flags, UID */
            assert_int_equal(rd32(e + 4), cfg->apic_ids ? cfg->apic_ids[cpus] : cpus);
            assert_int_equal(rd32(e + 8) & 1, 1);
            assert_int_equal(rd32(e + 12), cpus);
            cpus++;
            break;
        case 1:
            assert_int_equal(rd32(e + 4), 0xFEC00000);
            assert_int_equal(rd32(e + 8), 0);
            ioapics++;
            break;
        case 2:
            if (e[3] == cfg->sci_irq) {
                assert_int_equal(rd32(e + 4), cfg->sci_irq);
                assert_int_equal(rd16(e + 8), 0x000D); /* level, active high */
                sci_iso++;
            } else {
                assert_int_equal(e[3], 0);
                assert_int_equal(rd32(e + 4), cfg->timer_gsi);
            }
            break;
        case 4:
            assert_int_equal(e[2], 0xFF);
            assert_int_equal(e[5], 1);
            nmi++;
            break;
        case 10:
            break;
        default:
            fail_msg("unexpected MADT entry type %u", e[0]);
        }
        off += e[1];
    }
    assert_int_equal(cpus, cfg->ncpus);
    assert_int_equal(ioapics, 1);
    assert_int_equal(sci_iso, 1);
    assert_int_equal(nmi, 1);
}

static void check_gas_io(const uint8_t *g, uint64_t port, unsigned bits)
{
    assert_int_equal(g[0], 1); /* SystemIO */
    assert_int_equal(g[1], bits);
    assert_int_equal(rd64(g + 4), port);
}

static const uint8_t *check_fadt(const uint8_t *fadt, const struct acpi_config *cfg)
{
    uint16_t pm = cfg->pm_base;
    assert_int_equal(rd32(fadt + 4), 276);
    assert_int_equal(fadt[8], 6);
    assert_int_equal(rd16(fadt + 46), cfg->sci_irq);
    assert_int_equal(rd32(fadt + 48), 0); /* no SMI_CMD: always ACPI mode */
    assert_int_equal(rd32(fadt + 56), pm + ACPI_PM1_EVT_OFF);
    assert_int_equal(rd32(fadt + 64), pm + ACPI_PM1_CNT_OFF);
    assert_int_equal(rd32(fadt + 76), pm + ACPI_PM_TMR_OFF);
    assert_int_equal(rd32(fadt + 80), pm + ACPI_GPE0_OFF);
    assert_int_equal(fadt[88], 4);
    assert_int_equal(fadt[89], 2);
    assert_int_equal(fadt[91], 4);
    assert_int_equal(fadt[92], 4);
    uint32_t flags = rd32(fadt + 112);
    assert_int_equal(flags & (1u << 4), 0);      /* fixed power button present */
    assert_int_not_equal(flags & (1u << 8), 0);  /* 32-bit PM timer */
    assert_int_not_equal(flags & (1u << 10), 0); /* reset register supported */
    assert_int_equal(flags & (1u << 20), 0);     /* not hardware-reduced */
    check_gas_io(fadt + 116, pm + ACPI_PM_RESET_OFF, 8);
    assert_int_equal(fadt[128], ACPI_PM_RESET_VALUE);
    check_gas_io(fadt + 148, pm + ACPI_PM1_EVT_OFF, 32);
    check_gas_io(fadt + 172, pm + ACPI_PM1_CNT_OFF, 16);
    check_gas_io(fadt + 208, pm + ACPI_PM_TMR_OFF, 32);
    check_gas_io(fadt + 220, pm + ACPI_GPE0_OFF, 32);
    /* FACS through X_FIRMWARE_CTRL only (the 32-bit field must be 0). */
    assert_int_equal(rd32(fadt + 36), 0);
    uint64_t facs = rd64(fadt + 132);
    assert_true(facs >= BASE && facs % 64 == 0);
    assert_memory_equal(region + (facs - BASE), "FACS", 4);
    assert_int_equal(rd32(region + (facs - BASE) + 4), 64);
    /* DSDT through both fields, equal. */
    assert_int_equal(rd32(fadt + 40), rd64(fadt + 140));
    return table_at(rd64(fadt + 140), "DSDT");
}

static bool contains(const uint8_t *p, size_t len, const void *needle, size_t n)
{
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(p + i, needle, n) == 0)
            return true;
    return false;
}

static void check_dsdt(const uint8_t *dsdt, unsigned ncpus)
{
    uint32_t len = rd32(dsdt + 4);
    assert_int_equal(dsdt[8], 2); /* 64-bit AML integers */
    assert_true(contains(dsdt, len, "_S5_", 4));
    assert_true(contains(dsdt, len, "_S0_", 4));
    assert_true(contains(dsdt, len, "_SB_", 4));
    char name[8];
    snprintf(name, sizeof(name), "C%03X", ncpus - 1);
    assert_true(contains(dsdt, len, name, 4));
    snprintf(name, sizeof(name), "C%03X", ncpus);
    assert_false(contains(dsdt, len, name, 4));
    unsigned hids = 0;
    for (uint32_t i = 36; i + 8 <= len; i++)
        if (memcmp(dsdt + i, "ACPI0007", 8) == 0)
            hids++;
    assert_int_equal(hids, ncpus);
}

static void check_all(unsigned ncpus)
{
    struct acpi_config cfg = config(ncpus);
    const uint8_t *xsdt = build(&cfg);
    assert_int_equal(rd32(xsdt + 4), 36 + 2 * 8);
    check_madt(xsdt_find(xsdt, "APIC"), &cfg);
    check_dsdt(check_fadt(xsdt_find(xsdt, "FACP"), &cfg), ncpus);
}

static void test_tables_1cpu(void **state)
{
    (void)state;
    check_all(1);
}

static void test_tables_2cpus(void **state)
{
    (void)state;
    check_all(2);
}

static void test_tables_4cpus(void **state)
{
    (void)state;
    check_all(4);
}

static void test_tables_64cpus(void **state)
{
    (void)state;
    check_all(64);
}

/* Beyond 254, APIC ids and UIDs no longer fit xAPIC entries. */
static void test_tables_300cpus_x2apic(void **state)
{
    (void)state;
    check_all(300);
}

static void test_tables_custom_apic_ids_and_timer(void **state)
{
    (void)state;
    uint32_t ids[3] = {0, 2, 4};
    struct acpi_config cfg = config(3);
    cfg.apic_ids = ids;
    cfg.timer_gsi = 2;
    const uint8_t *xsdt = build(&cfg);
    check_madt(xsdt_find(xsdt, "APIC"), &cfg);
    /* IRQ0 -> GSI 2 override present. */
    const uint8_t *madt = xsdt_find(xsdt, "APIC");
    const uint8_t iso0[] = {2, 10, 0, 0, 2, 0, 0, 0};
    assert_true(contains(madt, rd32(madt + 4), iso0, sizeof(iso0)));
}

static void test_bad_config_refused(void **state)
{
    (void)state;
    uint64_t rsdp = 0x1234;
    struct acpi_config cfg = config(0);
    memset(region, 0xAA, sizeof(region));
    assert_int_equal(acpi_build_tables(region, BASE, sizeof(region), &cfg, &rsdp), -1);
    assert_non_null(strstr(err_msg(), "0 vCPUs"));

    /* Too many CPUs for the region: refused and the region left alone. */
    cfg = config(4000);
    assert_int_equal(acpi_build_tables(region, BASE, 4096, &cfg, &rsdp), -1);
    assert_non_null(strstr(err_msg(), "need"));
    assert_int_equal(region[0], 0xAA);
    assert_int_equal(rsdp, 0x1234);

    cfg = config(ACPI_MAX_CPUS + 1);
    assert_int_equal(acpi_build_tables(region, BASE, sizeof(region), &cfg, &rsdp), -1);

    cfg = config(1);
    cfg.sci_irq = 0;
    assert_int_equal(acpi_build_tables(region, BASE, sizeof(region), &cfg, &rsdp), -1);
    assert_non_null(strstr(err_msg(), "SCI"));
}

/* Outside oracle: iasl disassembles each table and complains about bad
 * checksums, lengths or AML. 300 CPUs exercise x2APIC entries and the
 * 3-byte AML package lengths of a large \_SB scope. */
static void check_with_iasl(unsigned ncpus)
{
    /* scripts/install-deps.sh installs acpica-tools: without iasl the only
     * outside check of the tables is gone, which is a failure, not a skip. */
    if (system("command -v iasl >/dev/null 2>&1") != 0)
        fail_msg("iasl (package acpica-tools) is missing: run scripts/install-deps.sh");
    struct acpi_config cfg = config(ncpus);
    const uint8_t *xsdt = build(&cfg);
    const uint8_t *fadt = xsdt_find(xsdt, "FACP");
    const uint8_t *tables[] = {xsdt, fadt, xsdt_find(xsdt, "APIC"),
                               region + (rd64(fadt + 140) - BASE)};
    char dir[] = "/tmp/vmm-test-acpi-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[512];
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++) {
        char path[128];
        snprintf(path, sizeof(path), "%s/t%zu.dat", dir, i);
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(tables[i], 1, rd32(tables[i] + 4), f), rd32(tables[i] + 4));
        fclose(f);
        snprintf(cmd, sizeof(cmd),
                 "cd %s && iasl -d t%zu.dat >iasl.out 2>&1 && "
                 "! grep -qiE 'error|warning|incorrect|invalid' iasl.out t%zu.dsl",
                 dir, i, i);
        if (system(cmd) != 0) {
            snprintf(cmd, sizeof(cmd), "cat %s/iasl.out %s/t%zu.dsl >&2", dir, dir, i);
            int shown = system(cmd); /* what iasl said, for the log; the verdict is below */
            fail_msg("iasl rejected table %zu (its output %s)", i,
                     shown == 0 ? "is above" : "could not be shown");
        }
    }
    snprintf(cmd, sizeof(cmd),
             "grep -q 'Name (\\\\_S5, Package' %s/t3.dsl && "
             "grep -c 'ACPI0007' %s/t3.dsl | grep -qx %u && "
             "grep -c 'Processor Enabled : 1' %s/t2.dsl | grep -qx %u",
             dir, dir, ncpus, dir, ncpus);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_iasl_accepts_tables_4cpus(void **state)
{
    (void)state;
    check_with_iasl(4);
}

static void test_iasl_accepts_tables_300cpus(void **state)
{
    (void)state;
    check_with_iasl(300);
}

/* ---- PM block ---- */

static struct {
    int sci_level, sci_changes, poweroffs, reboots;
} rec;

static void rec_sci(void *opaque, bool level)
{
    assert_ptr_equal(opaque, &rec);
    rec.sci_level = level;
    rec.sci_changes++;
}

static void rec_poweroff(void *opaque)
{
    (void)opaque;
    rec.poweroffs++;
}

static void rec_reboot(void *opaque)
{
    (void)opaque;
    rec.reboots++;
}

static const struct acpi_pm_ops rec_ops = {
    .set_sci = rec_sci, .poweroff = rec_poweroff, .reboot = rec_reboot};

static int pm_setup(void **state)
{
    (void)state;
    memset(&rec, 0, sizeof(rec));
    return acpi_pm_setup(&rec_ops, &rec);
}

static int pm_teardown(void **state)
{
    (void)state;
    acpi_pm_close();
    return 0;
}

static uint32_t pm_in(uint16_t off, uint32_t len)
{
    uint8_t b[4] = {0};
    acpi_pm_io_ops.read(acpi_pm_opaque(), off, b, len);
    return rd32(b);
}

static void pm_out(uint16_t off, uint32_t v, uint32_t len)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    acpi_pm_io_ops.write(acpi_pm_opaque(), off, b, len);
}

static void test_pm_power_on_state(void **state)
{
    (void)state;
    assert_int_equal(pm_in(ACPI_PM1_CNT_OFF, 2) & ACPI_PM1_CNT_SCI_EN, ACPI_PM1_CNT_SCI_EN);
    assert_int_equal(pm_in(ACPI_PM1_EVT_OFF, 4), 0);
    assert_int_equal(pm_in(ACPI_GPE0_OFF, 4), 0);
    /* The guest cannot turn ACPI mode off. */
    pm_out(ACPI_PM1_CNT_OFF, 0, 2);
    assert_int_equal(pm_in(ACPI_PM1_CNT_OFF, 2) & ACPI_PM1_CNT_SCI_EN, ACPI_PM1_CNT_SCI_EN);
}

/* ACPICA enables the global lock and RTC events and reads PM1_EN back. */
static void test_pm_enable_bits_read_back(void **state)
{
    (void)state;
    pm_out(ACPI_PM1_EVT_OFF + 2, 1u << 5 | 1u << 10, 2);
    assert_int_equal(pm_in(ACPI_PM1_EVT_OFF + 2, 2), 1u << 5 | 1u << 10);
    pm_out(ACPI_PM1_EVT_OFF + 3, 0xFF, 1); /* undefined bits stay 0 */
    assert_int_equal(pm_in(ACPI_PM1_EVT_OFF + 2, 2), ACPI_PM1_EN_BITS & 0xFF20);
    assert_int_equal(rec.sci_level, 0); /* nothing pending */
}

static void test_pm_power_button_sci(void **state)
{
    (void)state;
    /* Not enabled: status latches, no SCI. */
    acpi_pm_press_power_button();
    assert_int_equal(pm_in(ACPI_PM1_EVT_OFF, 2) & ACPI_PM1_PWRBTN_STS, ACPI_PM1_PWRBTN_STS);
    assert_int_equal(rec.sci_level, 0);
    /* Enabling with status pending raises the (level) SCI at once. */
    pm_out(ACPI_PM1_EVT_OFF + 2, ACPI_PM1_PWRBTN_STS, 2);
    assert_int_equal(rec.sci_level, 1);
    /* Writing 0 to the status keeps it; writing 1 clears it and the SCI. */
    pm_out(ACPI_PM1_EVT_OFF, 0, 2);
    assert_int_equal(rec.sci_level, 1);
    pm_out(ACPI_PM1_EVT_OFF, ACPI_PM1_PWRBTN_STS, 2);
    assert_int_equal(pm_in(ACPI_PM1_EVT_OFF, 2), 0);
    assert_int_equal(rec.sci_level, 0);
    /* A second press, byte-wide clear of the high status byte. */
    acpi_pm_press_power_button();
    assert_int_equal(rec.sci_level, 1);
    pm_out(ACPI_PM1_EVT_OFF + 1, ACPI_PM1_PWRBTN_STS >> 8, 1);
    assert_int_equal(rec.sci_level, 0);
    assert_int_equal(rec.sci_changes, 4);
    assert_int_equal(rec.poweroffs + rec.reboots, 0);
}

static void test_pm_sleep_s5_powers_off(void **state)
{
    (void)state;
    uint16_t cnt = (uint16_t)pm_in(ACPI_PM1_CNT_OFF, 2);
    /* SLP_TYP alone does nothing; another sleep type with SLP_EN neither. */
    pm_out(ACPI_PM1_CNT_OFF, cnt | ACPI_PM_SLP_TYP_S5 << 10, 2);
    pm_out(ACPI_PM1_CNT_OFF, cnt | 3 << 10 | ACPI_PM1_CNT_SLP_EN, 2);
    assert_int_equal(rec.poweroffs, 0);
    /* What Linux does: SLP_TYP then SLP_TYP|SLP_EN. SLP_EN reads back 0. */
    pm_out(ACPI_PM1_CNT_OFF, cnt | ACPI_PM_SLP_TYP_S5 << 10 | ACPI_PM1_CNT_SLP_EN, 2);
    assert_int_equal(rec.poweroffs, 1);
    assert_int_equal(pm_in(ACPI_PM1_CNT_OFF, 2) & ACPI_PM1_CNT_SLP_EN, 0);
    assert_int_equal(rec.reboots, 0);
}

static void test_pm_reset_register(void **state)
{
    (void)state;
    pm_out(ACPI_PM_RESET_OFF, 0x02, 1);
    assert_int_equal(rec.reboots, 0);
    pm_out(ACPI_PM_RESET_OFF, ACPI_PM_RESET_VALUE, 1);
    assert_int_equal(rec.reboots, 1);
    assert_int_equal(rec.poweroffs, 0);
}

static void test_pm_timer_counts_at_3_58mhz(void **state)
{
    (void)state;
    uint32_t a = pm_in(ACPI_PM_TMR_OFF, 4);
    usleep(100 * 1000);
    uint32_t b = pm_in(ACPI_PM_TMR_OFF, 4);
    uint32_t ticks = b - a;
    /* 100 ms is 357954 ticks. A loaded machine may sleep far longer; the
     * upper bound (10 s) only catches a timer counting at the wrong rate. */
    assert_true(ticks >= 357000 && ticks < 35795450);
    /* Read-only. */
    pm_out(ACPI_PM_TMR_OFF, 0, 4);
    assert_true(pm_in(ACPI_PM_TMR_OFF, 4) - b < 3579545);
}

static void test_pm_reset_clears_events(void **state)
{
    (void)state;
    pm_out(ACPI_PM1_EVT_OFF + 2, ACPI_PM1_PWRBTN_STS, 2);
    pm_out(ACPI_GPE0_OFF + 2, 0xFFFF, 2);
    acpi_pm_press_power_button();
    assert_int_equal(rec.sci_level, 1);
    assert_int_equal(pm_in(ACPI_GPE0_OFF + 2, 2), 0xFFFF);
    acpi_pm_reset();
    assert_int_equal(rec.sci_level, 0);
    assert_int_equal(pm_in(ACPI_PM1_EVT_OFF, 4), 0);
    assert_int_equal(pm_in(ACPI_GPE0_OFF, 4), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_1cpu),
        cmocka_unit_test(test_tables_2cpus),
        cmocka_unit_test(test_tables_4cpus),
        cmocka_unit_test(test_tables_64cpus),
        cmocka_unit_test(test_tables_300cpus_x2apic),
        cmocka_unit_test(test_tables_custom_apic_ids_and_timer),
        cmocka_unit_test(test_bad_config_refused),
        cmocka_unit_test(test_iasl_accepts_tables_4cpus),
        cmocka_unit_test(test_iasl_accepts_tables_300cpus),
        cmocka_unit_test_setup_teardown(test_pm_power_on_state, pm_setup, pm_teardown),
        cmocka_unit_test_setup_teardown(test_pm_enable_bits_read_back, pm_setup, pm_teardown),
        cmocka_unit_test_setup_teardown(test_pm_power_button_sci, pm_setup, pm_teardown),
        cmocka_unit_test_setup_teardown(test_pm_sleep_s5_powers_off, pm_setup, pm_teardown),
        cmocka_unit_test_setup_teardown(test_pm_reset_register, pm_setup, pm_teardown),
        cmocka_unit_test_setup_teardown(test_pm_timer_counts_at_3_58mhz, pm_setup, pm_teardown),
        cmocka_unit_test_setup_teardown(test_pm_reset_clears_events, pm_setup, pm_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
