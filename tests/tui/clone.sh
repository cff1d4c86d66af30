# Clone from the domain list: 'y' (or the Enter menu) asks the new name
# (NAME-clone offered), then full or linked; the clone runs on the command
# worker and its row appears. The copies are checked with qemu-img: the
# full one reads as the original, the linked one is layered on it.
source "$(dirname "$0")/lib.bash"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"

mkdir -p "$TMP/img"
qemu-img create -q -f qcow2 "$TMP/img/base.qcow2" 1G
qemu-io -c "write -P 0x42 0 2M" "$TMP/img/base.qcow2" >/dev/null
domain_xml base 1 256 | sed "s|/var/lib/tvm/images/base.qcow2|$TMP/img/base.qcow2|" >"$TMP/base.xml"
"$TVM" --db "$DB" define "$TMP/base.xml" >/dev/null

tui_start 100 30
wait_for " base "
keys y
wait_for "Clone 'base' as: base-clone"
keys Enter
wait_for "Full copy"
keys Enter
wait_for " base-clone "
wait_for "Clone 'base-clone' created successfully."
qemu-img compare -q "$TMP/img/base.qcow2" "$TMP/img/base-clone.qcow2" || fail "the full clone reads otherwise"
qemu-img info "$TMP/img/base-clone.qcow2" | grep -q "^backing file" && fail "the full clone has a backing file"

# the Enter menu has it too; a name typed over the offered one; linked
keys Home Enter
wait_for "Clone..."
# down from the first entry to Clone...
downs=$(($(line_of "Clone...") - $(line_of "s  Start")))
[ "$downs" -gt 0 ] || fail "no Clone... entry below Start in the menu"
for ((i = 0; i < downs; i++)); do keys Down; done
keys Enter
wait_for "Clone 'base' as: base-clone"
keys C-u
keys -l thin
keys Enter
wait_for "Linked"
keys Down Enter
wait_for " thin "
qemu-img info --backing-chain "$TMP/img/thin.qcow2" >"$TMP/chain"
grep -q "^backing file: $TMP/img/base.qcow2$" "$TMP/chain" || fail "thin is not layered on base: $(cat "$TMP/chain")"
grep -q "^backing file format: qcow2$" "$TMP/chain" || fail "thin's backing format is not recorded"

# a refusal is shown, nothing is made
keys y
wait_for "Clone 'base' as:"
keys C-u
keys -l base-clone
keys Enter Enter
wait_for "already in use"
"$TVM" --db "$DB" list --all --name | sed '/^$/d' | sort | tr '\n' ' ' | grep -qx "base base-clone thin " ||
    fail "the domains are not base, base-clone, thin"

keys q
wait_for "TVM-EXIT=0"
echo ok
