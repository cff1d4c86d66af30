# Commands that must not touch a running guest refuse while one is alive.
# The "guest" is a stand-in process registered in the run directory the way
# tvm-vmm is (vm.h: RUNDIR/<uuid>/vmm.pid, its command line naming the run
# directory), so this runs without /dev/kvm; it answers no QMP, so the
# reconcile keeps it as running.
source "$(dirname "$0")/lib.sh"

ok tvm define "$DATA/domain/minimal.xml"
dom=$(names)
uuid=$(tvm domuuid "$dom" | head -1)
run="$TVM_RUNDIR/$uuid"
mkdir -p "$run"
# Short sleeps in a loop, stdio closed: nothing outlives the test holding
# ctest's output pipe.
sh -c 'while :; do sleep 0.2; done' fake-tvm-vmm "$run" </dev/null >/dev/null 2>&1 &
fake=$!
trap 'kill $fake 2>/dev/null || true; rm -rf "$tmp"' EXIT
echo "$fake" >"$run/vmm.pid"
for _ in $(seq 50); do # until the process has exec'd sh with its arguments
    grep -qF "$run" "/proc/$fake/cmdline" 2>/dev/null && break
    sleep 0.1
done

ok tvm list
out_has "$dom"
out_has "running"
# virsh's order: running domains first, then the others by name
sed -e "s:<name>$dom</name>:<name>aaa-inactive</name>:" -e '/<uuid>/d' \
    "$DATA/domain/minimal.xml" >"$tmp/aaa.xml"
ok tvm define "$tmp/aaa.xml"
ok tvm list --all --name
out_is "$dom"$'\n'"aaa-inactive"$'\n'
ok tvm undefine aaa-inactive
ok tvm dominfo "$dom"
out_has "State:          running"
grep -qE '^CPU time: +[0-9]+\.[0-9]s$' "$tmp/out" || fail "dominfo of a live guest has no CPU time"
run 1 tvm undefine "$dom"
err_has "Requested operation is not valid"
run 1 tvm domrename "$dom" other
err_has "cannot rename active domain"
[ "$(names)" = "$dom" ] || fail "a refused command changed the inventory"

# Once it is gone, the reconcile notices and the commands work again.
kill "$fake"
wait "$fake" 2>/dev/null || true
ok tvm list --all
out_lacks "running"
ok tvm dominfo "$dom"
out_lacks "CPU time"
ok tvm domrename "$dom" other
ok tvm undefine other
[ -z "$(names)" ] || fail "undefine after the guest stopped left $(names)"
echo "active-guard: ok"
