#!/usr/bin/env bash
# destroy, start --paused, and a tvm-vmm killed behind tvm's back: states,
# reasons, run directories and processes as virsh users expect. A guest
# started paused is proven stopped by tvm-vmm (QMP query-status) and by the
# guest itself (an empty console for 30 s, after a boot that printed its
# banner much sooner), and boots once resumed.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"

define c1 1 256 tvm.shell
u=$(uuid_of c1)

step "destroy"
expect_out "Domain 'c1' started" tvm start c1
pid=$(vmm_pid c1)
t_boot=$SECONDS
wait_count c1 TVM-GUEST-UP 1
echo "   the guest printed its banner $((SECONDS - t_boot)) s after start"
[ $((SECONDS - t_boot)) -le 10 ] || echo "   (slower than usual: the paused window below is 30 s)"
expect_out "Domain 'c1' destroyed" tvm destroy c1
[ "$(state c1)" = "shut off (destroyed)" ] || fail "after destroy: $(state c1)"
[ ! -e "$TVM_RUNDIR/$u" ] || fail "run directory left after destroy"
gone "$pid" || fail "tvm-vmm $pid still alive after destroy"
expect_err "domain is not running" tvm destroy c1

step "start --paused"
expect_out "Domain 'c1' started" tvm start c1 --paused
[ "$(state c1)" = "paused (user)" ] || fail "start --paused: $(state c1)"
tvm list | grep -E " c1 +paused" >/dev/null || fail "list after start --paused: $(tvm list)"
# The VMM's own word: its vCPUs are stopped (QMP query-status, as a QMP
# client such as virsh qemu-monitor-command would ask).
out=$(printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": "query-status"}' |
    socat -t 5 - "UNIX-CONNECT:$TVM_RUNDIR/$u/control.sock") || fail "QMP: $out"
grep -qF '"status": "paused"' <<<"$out" && grep -qF '"running": false' <<<"$out" ||
    fail "tvm-vmm of a guest started paused says: $out"
# And the guest's: not one byte on its console over 30 s, three times what
# this guest took to print its banner above (a start that ran the vCPUs
# would show the kernel's first lines or the banner).
sleep 30
[ ! -s "$LOGDIR/c1.console.log" ] ||
    fail "the guest ran while started paused: $(head -c 300 "$LOGDIR/c1.console.log")"
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
