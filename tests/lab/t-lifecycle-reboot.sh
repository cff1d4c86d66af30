#!/usr/bin/env bash
# tvm reboot and tvm reset (both a hard reset for now): the same tvm-vmm
# boots the guest again, which prints a new banner; the state stays running.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"

define r1 1 256 tvm.shell
step "start"
expect_out "Domain 'r1' started" tvm start r1
pid=$(vmm_pid r1)
wait_count r1 TVM-GUEST-UP 1

step "reboot"
expect_out "Domain 'r1' is being rebooted" tvm reboot r1
wait_count r1 TVM-GUEST-UP 2
[ "$(state r1)" = "running (booted)" ] || fail "after reboot: $(state r1)"

step "reset"
expect_out "Domain 'r1' was reset" tvm reset r1
wait_count r1 TVM-GUEST-UP 3
[ "$(state r1)" = "running (booted)" ] || fail "after reset: $(state r1)"
[ "$(vmm_pid r1)" = "$pid" ] || fail "reset replaced the tvm-vmm process"
events_have r1 started reset
expect_out "Domain 'r1' destroyed" tvm destroy r1
echo "ok"
