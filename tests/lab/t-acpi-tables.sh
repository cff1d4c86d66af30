#!/usr/bin/env bash
# ACPI tables on real KVM, tvm-vmm run directly: the guest's own dmesg
# shows our tables parsed (RSDP at 0xE0000, XSDT, FADT, FACS, MADT, DSDT,
# PM timer, fixed power button, S0/S5) and no ACPI errors or warnings; the
# SCI is level-triggered on IOAPIC pin 9; the guest's poweroff goes
# through \_S5 (SLP_EN in PM1_CNT) and the VMM exits with "shutdown".
# Env: TVM_VMM, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/tvm-lab-acpit-XXXXXX")
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-240}
VMM_PID= DIR=
cleanup() {
    [ -n "$VMM_PID" ] && kill -9 "$VMM_PID" 2>/dev/null
    for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for f in "$DIR"/console.log "$DIR"/vmm.log "$DIR"/*.qmp; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
    done
    exit 1
}
step() { echo "== $*"; }

# boot NAME VCPUS MEMMIB CMDLINE-EXTRA: start tvm-vmm on a fresh run dir.
boot() {
    DIR=$T/$1
    mkdir -p "$DIR"
    cat >"$DIR/domain.xml" <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>$3</memory>
  <vcpu>$2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$LAB_KERNEL</kernel>
    <initrd>$LAB_INITRD</initrd>
    <cmdline>console=ttyS0 $4</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
</domain>
XML
    "$TVM_VMM" --domain "$DIR/domain.xml" --rundir "$DIR" --console-log "$DIR/console.log" \
        >"$DIR/vmm.log" 2>&1 &
    VMM_PID=$!
}
# wait_for FILE PATTERN [TIMEOUT]
wait_for() {
    local deadline=$((SECONDS + ${3:-$BOOT_TIMEOUT}))
    until grep -qa -- "$2" "$1" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || fail "'$2' not seen in $1 within ${3:-$BOOT_TIMEOUT}s"
        vmm_alive || grep -qa -- "$2" "$1" 2>/dev/null || fail "tvm-vmm exited before '$2' appeared"
        sleep 1
    done
}
vmm_alive() { [ -n "$VMM_PID" ] && [ -e /proc/$VMM_PID ] && ! grep -q '^State:.*Z' /proc/$VMM_PID/status 2>/dev/null; }
# wait_exit REASON [TIMEOUT]: the VMM exits and exit.json carries REASON.
wait_exit() {
    local deadline=$((SECONDS + ${2:-120}))
    while vmm_alive; do
        [ $SECONDS -lt $deadline ] || fail "tvm-vmm still running after ${2:-120}s"
        sleep 1
    done
    wait "$VMM_PID" || true
    VMM_PID=
    [ -f "$DIR/exit.json" ] || fail "no exit.json"
    grep -q "\"reason\": *\"$1\"" "$DIR/exit.json" || fail "exit.json is $(cat "$DIR/exit.json"), wanted reason $1"
    for f in control.sock console.sock vmm.pid; do
        [ ! -e "$DIR/$f" ] || fail "$f left behind"
    done
}
wait_socket() {
    local deadline=$((SECONDS + 60))
    until [ -S "$DIR/control.sock" ]; do
        [ $SECONDS -lt $deadline ] || fail "no control socket"
        sleep 0.2
    done
}
# qmp CMD...: one connection, negotiate, run the commands, print replies.
qmp() {
    { echo '{"execute": "qmp_capabilities"}'; printf '%s\n' "$@"; } |
        socat -t 5 - "UNIX-CONNECT:$DIR/control.sock"
}

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
