#!/usr/bin/env bash
# The TUI with a real guest (tmux inside the lab): a guest started by
# `tvm start` from another shell shows up as running with live CPU% and
# memory use, without a keypress; the console pane shows the guest's
# output and sends keys to its shell; Ctrl-] returns to the list; the
# full-screen attach works like `tvm console` and returns to the TUI;
# undefined by another tvm while it runs, the row and the details mark it
# transient; destroy asks first and the row leaves the list.
# Env: TVM, TVM_SRC, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${LAB_KERNEL:?} ${LAB_INITRD:?}"
source "$TVM_SRC/tests/tui/lib.bash"
source "$TVM_SRC/tests/lab/tui-lib.sh"
BOOT=${LAB_BOOT_TIMEOUT:-240}

cleanup_guest() {
    "$TVM" --db "$DB" destroy labvm >/dev/null 2>&1 || true
    cleanup
}
trap cleanup_guest EXIT

define_labvm

tui_start 120 40
wait_for " labvm "
row labvm | grep -q "shut off" || fail "labvm not shut off at first"

# started elsewhere: the row turns running by itself
"$TVM" --db "$DB" start labvm >/dev/null
wait_for "running" 30
# live figures from /proc of the tvm-vmm process (CPU% and RSS are numbers)
for ((i = 0; i < 100; i++)); do
    row labvm | grep -Eq "running +1 +256 MiB +[0-9]+\.[0-9] +[0-9]+ (KiB|MiB)" && break
    sleep 0.2
done
row labvm | grep -Eq "running +1 +256 MiB +[0-9]+\.[0-9] +[0-9]+ (KiB|MiB)" ||
    fail "no live CPU%/memory: $(row labvm)"

# console pane: the backlog holds the guest's banner; typed keys reach its shell
keys c
wait_for "console: labvm"
wait_for "TVM-GUEST-UP" "$BOOT"
sleep 1
keys 'echo TUI-$((6*7))-OK' Enter
wait_for "TUI-42-OK" 60
# the pane drops colour escapes and honours backspace: only the text remains
keys "printf 'A\\033[1;31mRED\\033[0mZ-X\\bY\\n'" Enter
for ((i = 0; i < 300; i++)); do screen | grep -qx "AREDZ-Y" && break; sleep 0.2; done
screen | grep -qx "AREDZ-Y" || fail "escape sequences or backspace not handled"
# Ctrl-] goes back to the list
keys C-]
wait_for "Enter menu"
screen | grep -q "console: labvm" && fail "console pane still shown after Ctrl-]"

# a picture of the main screen with a running guest, for the README
[ -n "${TVM_TUI_CAPTURE:-}" ] && screen >"$TVM_TUI_CAPTURE"

# full-screen attach: the same as `tvm console`, then back to the TUI
keys C
wait_for "Connected to domain 'labvm'" 30
sleep 1
keys 'echo FULL-$((7*6))-SCREEN' Enter
wait_for "FULL-42-SCREEN" 60
keys C-]
wait_for "detached from the console of 'labvm'" 30
wait_for "F1Help"

# undefined elsewhere while it runs, it is transient: marked so in the
# list and the details, as virt-manager marks it
"$TVM" --db "$DB" undefine labvm >/dev/null
for ((i = 0; i < 100; i++)); do row labvm | grep -q "labvm (transient) *running" && break; sleep 0.2; done
row labvm | grep -q "labvm (transient) *running" || fail "transient labvm not marked: $(row labvm)"
wait_for "no (transient: gone once it stops)" 10
screen | grep -Eq "Persistent +no \(transient" || fail "details do not say Persistent: no"

# destroy asks, then the transient guest leaves the list
keys D
wait_for "Destroy (power off at once) domain 'labvm'?"
keys y
for ((i = 0; i < 300; i++)); do [ -z "$(row labvm)" ] && break; sleep 0.2; done
[ -z "$(row labvm)" ] || fail "destroyed transient labvm still listed: $(row labvm)"
wait_for "no domains defined" 10
"$TVM" --db "$DB" dominfo labvm >/dev/null 2>&1 && fail "labvm still in the store after destroy"

keys q
wait_for "TVM-EXIT=0"
echo ok
