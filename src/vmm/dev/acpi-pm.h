/* ACPI fixed hardware in I/O space: PM1a event block (PM1_STS/PM1_EN),
 * PM1a control block (SCI_EN, SLP_TYP, SLP_EN), the 3.579545 MHz PM timer,
 * GPE0 (status/enable, no sources yet) and the reset register. The layout
 * below is what x86/acpi.c advertises in the FADT.
 *
 * Power button: acpi_pm_press_power_button() sets PWRBTN_STS; the SCI (a
 * level interrupt) is asserted while any status bit has its enable bit set
 * and drops when the guest clears the status (write 1 to clear).
 * Sleep: SLP_EN with SLP_TYP == ACPI_PM_SLP_TYP_S5 -> poweroff.
 * Reset: writing ACPI_PM_RESET_VALUE to the reset register -> reboot.
 *
 * The device is a singleton (one PM block per VM). Its outward actions go
 * through struct acpi_pm_ops so it can be driven without KVM in unit tests;
 * acpi_pm_init() wires it to the real VM.
 */
#ifndef TVM_VMM_DEV_ACPI_PM_H
#define TVM_VMM_DEV_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm.h"

#define ACPI_PM_BASE 0x600
#define ACPI_PM_LEN 0x20
#define ACPI_PM1_EVT_OFF 0x00 /* PM1_STS (2 bytes) then PM1_EN (2 bytes) */
#define ACPI_PM1_EVT_LEN 4
#define ACPI_PM1_CNT_OFF 0x04
#define ACPI_PM1_CNT_LEN 2
#define ACPI_PM_TMR_OFF 0x08
#define ACPI_PM_TMR_LEN 4
#define ACPI_GPE0_OFF 0x10 /* GPE0_STS (2 bytes) then GPE0_EN (2 bytes) */
#define ACPI_GPE0_LEN 4
#define ACPI_PM_RESET_OFF 0x18
#define ACPI_PM_RESET_VALUE 0x01
#define ACPI_SCI_IRQ 9
#define ACPI_PM_TIMER_HZ 3579545ULL

/* SLP_TYP value the DSDT's \_S5 package advertises. */
#define ACPI_PM_SLP_TYP_S5 5

/* PM1 bits */
#define ACPI_PM1_TMR_STS (1u << 0)
#define ACPI_PM1_PWRBTN_STS (1u << 8)
#define ACPI_PM1_GBL_STS (1u << 5)
#define ACPI_PM1_SLPBTN_STS (1u << 9)
#define ACPI_PM1_RTC_STS (1u << 10)
#define ACPI_PM1_WAK_STS (1u << 15)
/* PM1_EN bits the spec defines (TMR, GBL, PWRBTN, SLPBTN, RTC,
 * PCIEXP_WAKE_DIS): they read back as written, which ACPICA checks. */
#define ACPI_PM1_EN_BITS 0x4721u
#define ACPI_PM1_CNT_SCI_EN (1u << 0)
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP_MASK (7u << 10)
#define ACPI_PM1_CNT_SLP_EN (1u << 13)

struct acpi_pm_ops {
    void (*set_sci)(void *opaque, bool level); /* drive the SCI line */
    void (*poweroff)(void *opaque);            /* guest entered S5 */
    void (*reboot)(void *opaque);              /* guest wrote the reset register */
};

/* Create (or re-create) the singleton with these actions. */
int acpi_pm_setup(const struct acpi_pm_ops *ops, void *opaque);
/* The PM block's port handlers (register at ACPI_PM_BASE, ACPI_PM_LEN). */
extern const struct io_ops acpi_pm_io_ops;
/* Its saved-state section ("acpi-pm"). */
extern const struct vm_state_ops acpi_pm_state_ops;
void *acpi_pm_opaque(void);

/* Safe from any thread. No-op before setup. */
void acpi_pm_press_power_button(void);
/* Back to power-on state (system reset): status/enables cleared, SCI_EN
 * stays set (no SMI_CMD, so the platform is always in ACPI mode). */
void acpi_pm_reset(void);
void acpi_pm_close(void);

/* Glue for the board: wires the singleton to the VM (SCI on ACPI_SCI_IRQ,
 * vm_guest_poweroff, vm_guest_reboot) and claims the ports. Inline so that
 * unit tests, which use acpi_pm_setup() with recorders, need no vm.c. */
static inline void acpi_pm_vm_sci(void *vm, bool level)
{
    vm_irq_line((struct vm *)vm, ACPI_SCI_IRQ, level);
}
static inline void acpi_pm_vm_poweroff(void *vm)
{
    vm_guest_poweroff((struct vm *)vm);
}
static inline void acpi_pm_vm_reboot(void *vm)
{
    vm_guest_reboot((struct vm *)vm);
}
static inline int acpi_pm_init(struct vm *vm)
{
    static const struct acpi_pm_ops ops = {
        .set_sci = acpi_pm_vm_sci,
        .poweroff = acpi_pm_vm_poweroff,
        .reboot = acpi_pm_vm_reboot,
    };
    if (acpi_pm_setup(&ops, vm) < 0 || vm_add_state(vm, "acpi-pm", &acpi_pm_state_ops, NULL) < 0)
        return -1;
    return vm_register_pio(vm, ACPI_PM_BASE, ACPI_PM_LEN, &acpi_pm_io_ops, acpi_pm_opaque());
}

#endif
