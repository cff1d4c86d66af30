#!/usr/bin/env bash
# The TUI answers keys while a guest it started is still starting: `s` on
# a real guest whose tvm-vmm is held back (a wrapper waits for this test's
# word before it execs the real one), so the start is provably in progress
# for as long as the test wants -- the run directory is there, the store
# and `tvm domstate` still say shut off, the status line says "starting".
# Meanwhile Down/Up move the selection (the details pane follows) and `?`
# opens the help. Then the VMM is let go: the guest ends up running, and
# the TUI says so. A TUI that ran the start on its own thread fails here:
# no key is answered before the word is given.
# Env: TVM, TVM_VMM, TVM_SRC, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${LAB_KERNEL:?} ${LAB_INITRD:?} ${TVM_VMM:?}"
source "$TVM_SRC/tests/tui/lib.bash"
source "$TVM_SRC/tests/lab/tui-lib.sh"
BOOT=${LAB_BOOT_TIMEOUT:-240}

cleanup_guest() {
    touch "$TMP/go"
    "$TVM" --db "$DB" destroy labvm >/dev/null 2>&1 || true
    cleanup
}
trap cleanup_guest EXIT

define_labvm
# two neighbours to move the selection to (never started)
define aaa-other 1 128
define zzz-other 1 128

# tvm-vmm held back until $TMP/go exists
cat >"$TMP/held-vmm" <<SH
#!/bin/sh
touch "$TMP/vmm-launched"
while [ ! -e "$TMP/go" ]; do sleep 0.05; done
exec "$TVM_VMM" "\$@"
SH
chmod +x "$TMP/held-vmm"

TUI_ENV="TVM_VMM=$TMP/held-vmm TVM_START_TIMEOUT=300" tui_start 120 40
wait_for " labvm "
details_name() { screen | sed -n 's/^ Name  *\([^ ]*\) *$/\1/p' | head -n1; }
# the first row is selected; Down selects labvm
[ "$(details_name)" = aaa-other ] || fail "details show '$(details_name)', not aaa-other"
keys Down
for ((i = 0; i < 100; i++)); do [ "$(details_name)" = labvm ] && break; sleep 0.05; done
[ "$(details_name)" = labvm ] || fail "Down did not select labvm"

keys s
wait_for "starting labvm" 5
for ((i = 0; i < 200; i++)); do [ -e "$TMP/vmm-launched" ] && break; sleep 0.05; done
[ -e "$TMP/vmm-launched" ] || fail "tvm-vmm was not launched"
uuid=$("$TVM" --db "$DB" domuuid labvm)
[ -d "$TVM_RUNDIR/$uuid" ] || fail "no run directory while starting"
still_starting() {
    [ ! -e "$TMP/go" ] || fail "the start was let go too early"
    "$TVM" --db "$DB" domstate labvm | grep -qx "shut off" ||
        fail "domstate says '$("$TVM" --db "$DB" domstate labvm)' before tvm-vmm ran"
}
still_starting

# keys are answered while the start waits: the selection moves both ways ...
t0=$SECONDS
keys Down
for ((i = 0; i < 40; i++)); do [ "$(details_name)" = zzz-other ] && break; sleep 0.05; done
[ "$(details_name)" = zzz-other ] || fail "Down not answered while starting (details: $(details_name))"
screen | grep -q "starting labvm" || fail "the status line no longer says what is running"
keys Up
for ((i = 0; i < 40; i++)); do [ "$(details_name)" = labvm ] && break; sleep 0.05; done
[ "$(details_name)" = labvm ] || fail "Up not answered while starting (details: $(details_name))"
# ... and the help opens
keys '?'
wait_for "tvm keys" 2
screen | grep -q "start the domain" || fail "help text not shown"
[ $((SECONDS - t0)) -le 5 ] || fail "keys took $((SECONDS - t0)) s while starting"
still_starting
keys q
wait_gone "tvm keys" 2
wait_for "starting labvm" 2
still_starting

# let tvm-vmm go: the start completes and the TUI shows the result
touch "$TMP/go"
wait_for "Domain 'labvm' started" 60
for ((i = 0; i < 200; i++)); do row labvm | grep -q running && break; sleep 0.1; done
row labvm | grep -q running || fail "row not running: $(row labvm)"
"$TVM" --db "$DB" domstate labvm | grep -qx running || fail "domstate not running"
# and it is a real guest: its banner reaches the console log
deadline=$((SECONDS + BOOT))
while [ $SECONDS -lt $deadline ]; do
    grep -q TVM-GUEST-UP "$TMP/log/labvm.console.log" 2>/dev/null && break
    sleep 0.2
done
grep -q TVM-GUEST-UP "$TMP/log/labvm.console.log" || fail "the guest did not boot"

keys q
wait_for "TVM-EXIT=0"
echo ok
