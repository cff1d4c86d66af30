#!/usr/bin/env bash
# tvm reboot is virsh's ACPI reboot: the guest sees the power button, shuts
# down cleanly, and the same tvm-vmm boots it again. tvm reset is a hard
# reset: no power button, a new banner. The state stays running throughout,
# and a shutdown after a reboot powers the guest off for good.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"

define r1 1 256 tvm.shell
step "start"
expect_out "Domain 'r1' started" tvm start r1
pid=$(vmm_pid r1)
wait_count r1 TVM-GUEST-UP 1

step "reboot (ACPI)"
expect_out "Domain 'r1' is being rebooted" tvm reboot r1 --mode acpi
wait_count r1 TVM-GUEST-UP 2
[ "$(count r1 TVM-GUEST-POWERBUTTON)" -eq 1 ] || fail "the guest did not see the power button"
[ "$(state r1)" = "running (booted)" ] || fail "after reboot: $(state r1)"
[ "$(vmm_pid r1)" = "$pid" ] || fail "reboot replaced the tvm-vmm process"

step "reset (hard)"
expect_out "Domain 'r1' was reset" tvm reset r1
wait_count r1 TVM-GUEST-UP 3
[ "$(count r1 TVM-GUEST-POWERBUTTON)" -eq 1 ] || fail "reset pressed the power button"
[ "$(state r1)" = "running (booted)" ] || fail "after reset: $(state r1)"
[ "$(vmm_pid r1)" = "$pid" ] || fail "reset replaced the tvm-vmm process"
events_have r1 started reboot reset

step "shutdown after a reboot powers off"
expect_out "Domain 'r1' is being shutdown" tvm shutdown r1
wait_state r1 "shut off (shutdown)"
[ "$(count r1 TVM-GUEST-UP)" -eq 3 ] || fail "the guest booted again after shutdown"
echo "ok"
