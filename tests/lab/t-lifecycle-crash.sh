#!/usr/bin/env bash
# destroy, start --paused, and a tvm-vmm killed behind tvm's back: states,
# reasons, run directories and processes as virsh users expect. Only the
# paused start waits for the guest to boot (after resume, not before).
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"

define c1 1 256 tvm.shell
u=$(uuid_of c1)

step "destroy"
expect_out "Domain 'c1' started" tvm start c1
pid=$(vmm_pid c1)
expect_out "Domain 'c1' destroyed" tvm destroy c1
[ "$(state c1)" = "shut off (destroyed)" ] || fail "after destroy: $(state c1)"
[ ! -e "$TVM_RUNDIR/$u" ] || fail "run directory left after destroy"
gone "$pid" || fail "tvm-vmm $pid still alive after destroy"
expect_err "domain is not running" tvm destroy c1

step "start --paused"
expect_out "Domain 'c1' started" tvm start c1 --paused
[ "$(state c1)" = "paused (user)" ] || fail "start --paused: $(state c1)"
tvm list | grep -E " c1 +paused" >/dev/null || fail "list after start --paused: $(tvm list)"
sleep 10 # a running guest prints its banner well within this
[ "$(count c1 TVM-GUEST-UP)" -eq 0 ] || fail "the guest ran while started paused"
expect_out "Domain 'c1' resumed" tvm resume c1
[ "$(state c1)" = "running (unpaused)" ] || fail "resume: $(state c1)"
wait_count c1 TVM-GUEST-UP 1

step "a killed tvm-vmm is recorded as crashed and cleaned up"
pid=$(vmm_pid c1)
kill -9 "$pid"
gone "$pid" || fail "tvm-vmm $pid survived kill -9"
tvm list --all | grep -E " c1 +crashed" >/dev/null || fail "list after kill -9: $(tvm list --all)"
[ "$(state c1)" = "crashed (unknown)" ] || fail "after kill -9: $(state c1)"
[ ! -e "$TVM_RUNDIR/$u" ] || fail "run directory of a killed VMM not removed"
expect_err "domain is not running" tvm shutdown c1

step "and it starts again"
expect_out "Domain 'c1' started" tvm start c1
[ "$(state c1)" = "running (booted)" ] || fail "restart after crash: $(state c1)"
expect_out "Domain 'c1' destroyed" tvm destroy c1
events_have c1 started destroyed suspended resumed crashed
echo "ok"
