#!/usr/bin/env bash
# ACPI tables on real KVM, tvm-vmm run directly: the guest's own dmesg
# shows our tables parsed (RSDP at 0xE0000, XSDT, FADT, FACS, MADT, DSDT,
# PM timer, fixed power button, S0/S5) and no ACPI errors or warnings; the
# SCI is level-triggered on IOAPIC pin 9; the guest's poweroff goes
# through \_S5 (SLP_EN in PM1_CNT) and the VMM exits with "shutdown".
# Env: TVM_VMM, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

LAB_TAG=acpit
. "$(dirname "${BASH_SOURCE[0]}")/vmm-lib.sh"

step "guest dmesg: our ACPI tables, no ACPI errors; poweroff via S5"
boot dmesg 2 256 "quiet tvm.run=dmesg;cat%20/proc/interrupts"
wait_for "$DIR/console.log" "TVM-GUEST-RC="
wait_exit shutdown
log=$DIR/console.log
bad=$(tr -d '\r' <"$log" | grep -iE 'acpi.*(error|warn|bug|fail|mismatch|invalid|incorrect)|ACPI BIOS' |
    grep -vF 'use "pci=nocrs" and report a bug' || true)
[ -z "$bad" ] || fail "ACPI complaints in the guest's dmesg:
$bad"
for want in "ACPI: RSDP 0x00000000000E0000" "ACPI: XSDT" "ACPI: FACP" "ACPI: DSDT" "ACPI: FACS" \
    "ACPI: APIC" "PM-Timer IO Port: 0x608" "Using IOAPIC for interrupt routing" \
    "ACPI: button: Power Button [PWRF]" "ACPI: Interpreter enabled" "(supports S0 S5)"; do
    grep -qaF -- "$want" "$log" || fail "guest dmesg lacks '$want'; its ACPI lines:
$(grep -a ACPI "$log" | sort -u)"
done
# The SCI is IRQ 9, level-triggered through the IOAPIC, as the MADT says.
grep -qaE '^ *9: .*IO-APIC +9-fasteoi +acpi' "$log" || fail "SCI not level on IOAPIC pin 9:
$(grep -a -A3 'CPU0' "$log")"
grep -qa "TVM-GUEST-UP.*cpus=2" "$log" || fail "guest did not see 2 CPUs"

echo "PASS"
