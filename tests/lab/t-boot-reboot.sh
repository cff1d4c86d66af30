#!/usr/bin/env bash
# A guest that reboots (reboot -f, i.e. the kernel's reset path):
#  - on_reboot=restart: tvm-vmm resets it in place, the same process boots
#    it again (two TVM-GUEST-UP banners), and SIGTERM then destroys it
#    (exit.json reason "destroyed");
#  - on_reboot=destroy: tvm-vmm stops after the first reboot, exit.json
#    reason "shutdown", and the guest never came up twice.
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"

step "on_reboot=restart: the guest comes back"
domain rr 2 256 "tvm.reboot" restart
start
pid=$VMM_PID
wait_console 'TVM-GUEST-UP' 2
kill -0 "$pid" || fail "tvm-vmm gone"
[ "$(count_console TVM-GUEST-UP)" -ge 2 ] || fail "fewer than two boots"
grep 'TVM-GUEST-UP' "$DIR/console.log" | tail -1 | grep -q 'cpus=2 ' || fail "second boot lost a CPU"
kill -TERM "$pid"
wait_exit
[ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC after SIGTERM"
check_clean
[ "$(exit_reason)" = destroyed ] || fail "exit.json reason '$(exit_reason)', want destroyed"

step "on_reboot=destroy: the VMM stops"
domain rd 1 256 "tvm.reboot" destroy
start
wait_exit
[ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC"
check_clean
[ "$(exit_reason)" = shutdown ] || fail "exit.json reason '$(exit_reason)', want shutdown"
[ "$(count_console TVM-GUEST-UP)" -eq 1 ] || fail "guest booted again with on_reboot=destroy"
echo "ok"
