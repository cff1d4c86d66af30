#!/usr/bin/env bash
# QMP system_reset on a real guest: the guest boots a second time in the
# same tvm-vmm process, a RESET event reaches a listening client, and the
# VMM still answers and quits ("destroyed") afterwards.
# Env: TVM_VMM, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

LAB_TAG=qmpr
. "$(dirname "${BASH_SOURCE[0]}")/vmm-lib.sh"


step "boot a guest with a shell"
boot resetguest 1 256 "quiet tvm.shell"
wait_for "$DIR/console.log" "TVM-GUEST-UP"
wait_socket
qmp_listen 60

step "system_reset: the guest boots again"
expect '"return": {}' "$(qmp '{"execute": "system_reset"}')"
deadline=$((SECONDS + BOOT_TIMEOUT))
until [ "$(grep -ac 'TVM-GUEST-UP' "$DIR/console.log")" -ge 2 ]; do
    [ $SECONDS -lt $deadline ] || fail "no second boot after system_reset"
    vmm_alive || fail "tvm-vmm exited on system_reset"
    sleep 1
done
wait_for "$DIR/listen.qmp" '"event": "RESET"' 10

expect '"status": "running"' "$(qmp '{"execute": "query-status"}')"

step "quit"
expect '"return": {}' "$(qmp '{"execute": "quit"}')"
wait_exit destroyed 60
exec 7>&-
echo "PASS"
