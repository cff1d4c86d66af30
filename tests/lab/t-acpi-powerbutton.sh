#!/usr/bin/env bash
# The ACPI power button on real KVM, tvm-vmm run directly: QMP
# system_powerdown sets PWRBTN_STS and raises the SCI; acpid in the guest
# prints TVM-GUEST-POWERBUTTON and powers off through \_S5; POWERDOWN and
# SHUTDOWN events reach a listening QMP client; exit.json says "shutdown"
# and the sockets and pid file are gone.
# Env: TVM_VMM, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

LAB_TAG=acpi
. "$(dirname "${BASH_SOURCE[0]}")/vmm-lib.sh"

step "system_powerdown -> power button -> acpid -> clean poweroff"
boot button 1 256 "quiet tvm.shell"
wait_for "$DIR/console.log" "TVM-GUEST-UP"
wait_socket
# A listener that stays connected to collect events.
qmp_listen 30
# A user presses once: the guest's banner comes after acpid listens (see
# tests/lab/lab), so the first press must power it off. If it does not,
# further presses only find out whether input is lost or the button is
# dead, and the test fails either way, saying which press worked.
# TVM-GUEST-POWERBUTTON comes from the guest's acpid handler, never from
# the kernel command line, and follows the shell's prompt on its line: it
# is matched anywhere in a line.
press() {
    presses=$((presses + 1))
    qmp '{"execute": "system_powerdown", "id": "pd"}' >"$DIR/powerdown.qmp"
    grep -q '"return": {}, "id": "pd"' "$DIR/powerdown.qmp" ||
        fail "system_powerdown reply: $(cat "$DIR/powerdown.qmp")"
    local deadline=$((SECONDS + $1))
    until grep -qa 'TVM-GUEST-POWERBUTTON' "$DIR/console.log" || [ $SECONDS -ge $deadline ]; do
        sleep 1
    done
    grep -qa 'TVM-GUEST-POWERBUTTON' "$DIR/console.log"
}
presses=0
if ! press 60; then
    worked=
    for _ in 2 3 4; do
        vmm_alive || break
        press 20 && { worked=$presses; break; }
    done
    fail "the first power button press was lost (presses: $presses; ${worked:+press $worked worked}${worked:-none worked})"
fi
echo "the first press powered the guest off"
wait_for "$DIR/console.log" "TVM-GUEST-POWERBUTTON" 5
wait_exit shutdown
exec 7>&-
wait_for "$DIR/listen.qmp" '"event": "SHUTDOWN"' 10
grep -q '"event": "POWERDOWN"' "$DIR/listen.qmp" || fail "no POWERDOWN event"
grep -q '"timestamp": {"seconds": [0-9]*, "microseconds": [0-9]*}' "$DIR/listen.qmp" ||
    fail "event without timestamp"
echo "PASS"
