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
# acpid starts in the background next to the banner and may not listen
# yet on a slow lab: press again (as a user would) if nothing happens.
for try in 1 2 3 4; do
    qmp '{"execute": "system_powerdown", "id": "pd"}' >"$DIR/powerdown.qmp"
    grep -q '"return": {}, "id": "pd"' "$DIR/powerdown.qmp" ||
        fail "system_powerdown reply: $(cat "$DIR/powerdown.qmp")"
    deadline=$((SECONDS + 30))
    until grep -qa TVM-GUEST-POWERBUTTON "$DIR/console.log" || [ $SECONDS -ge $deadline ]; do
        sleep 1
    done
    grep -qa TVM-GUEST-POWERBUTTON "$DIR/console.log" && break
done
wait_for "$DIR/console.log" "TVM-GUEST-POWERBUTTON" 5
wait_exit shutdown
exec 7>&-
wait_for "$DIR/listen.qmp" '"event": "SHUTDOWN"' 10
grep -q '"event": "POWERDOWN"' "$DIR/listen.qmp" || fail "no POWERDOWN event"
grep -q '"timestamp": {"seconds": [0-9]*, "microseconds": [0-9]*}' "$DIR/listen.qmp" ||
    fail "event without timestamp"
echo "PASS"
