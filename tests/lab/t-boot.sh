#!/usr/bin/env bash
# tvm-vmm boots the lab's Linux guest directly (no tvm) with 1, 2 and 4
# vCPUs and 256 MiB, 512 MiB and 1 GiB; the guest's own banner must show
# that many CPUs and a MemTotal of at least 85 % of the configured memory
# (and not more than it). The guest then powers off: tvm-vmm exits 0 with
# exit.json reason "shutdown" and leaves no socket or pid file.
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"

for spec in 1:256 2:512 4:1024; do
    cpus=${spec%:*} mem=${spec#*:}
    step "boot with $cpus vCPUs and $mem MiB"
    domain "b$cpus" "$cpus" "$mem" ""
    start
    wait_console 'TVM-GUEST-UP'
    line=$(grep -m1 'TVM-GUEST-UP' "$DIR/console.log" | tr -d '\r')
    echo "   $line"
    got_cpus=$(echo "$line" | sed -n 's/.* cpus=\([0-9]*\).*/\1/p')
    got_kb=$(echo "$line" | sed -n 's/.* mem_kb=\([0-9]*\).*/\1/p')
    [ "$got_cpus" = "$cpus" ] || fail "guest sees $got_cpus CPUs, configured $cpus"
    want_kb=$((mem * 1024))
    [ "$got_kb" -ge $((want_kb * 85 / 100)) ] || fail "guest MemTotal $got_kb KiB < 85% of $want_kb KiB"
    [ "$got_kb" -le "$want_kb" ] || fail "guest MemTotal $got_kb KiB > configured $want_kb KiB"
    wait_exit
    [ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC after guest poweroff"
    check_clean
    [ "$(exit_reason)" = shutdown ] || fail "exit.json reason '$(exit_reason)', want shutdown"
    ! grep -q 'Call Trace\|WARNING:\|BUG:' "$DIR/console.log" || fail "guest kernel warned or oopsed"
done
echo "ok"
