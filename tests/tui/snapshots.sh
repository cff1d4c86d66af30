# The snapshot dialog (T): the tree with dates, descriptions and the
# current node marked; take a snapshot (name and description asked),
# revert (also after snapshotting the current state) and delete (each
# asked first). What it did is checked on the
# disk with qemu-img and in the inventory with tvm.
source "$(dirname "$0")/lib.bash"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"

domain_xml web 1 256 | sed "s|/var/lib/tvm/images/web.qcow2|$TMP/web.qcow2|" >"$TMP/web.xml"
"$TVM" img create -f qcow2 "$TMP/web.qcow2" 16M >/dev/null
"$TVM" --db "$DB" define "$TMP/web.xml" >/dev/null
tags() { qemu-img snapshot -l "$TMP/web.qcow2" | awk 'NR > 2 { printf "%s ", $2 }'; }

tui_start 120 30
wait_for " web "
keys T
wait_for "Snapshots of web (* current)"
wait_for "Take a snapshot..."
keys Enter
wait_for "Snapshot name"
keys -l "s1"
keys Enter
wait_for "Description:"
keys -l "before the upgrade"
keys Enter
wait_for "Domain snapshot s1 created"
[ "$(tags)" = "s1 " ] || fail "the disk's snapshots: $(tags)"

keys T
wait_for "* s1"
screen | grep -E "\* s1 +$(date +%Y-%m-%d) [0-9:]+  before the upgrade" >/dev/null ||
    fail "the tree line lacks the date or the description"
keys Enter
wait_for "Snapshot name"
keys -l "s2"
keys Enter Enter
wait_for "Domain snapshot s2 created"
keys T
wait_for "* s2"
# s2 is s1's child: below it, indented further, and now the current one
# col TEXT: where TEXT starts inside the dialog's frame (bytes after its │)
col() { screen | grep -o '│[^│]*' | awk -v t="$1" 'index($0, t) { print index($0, t); exit }'; }
[ "$(line_of "* s2")" -gt "$(line_of "  s1 ")" ] || fail "s2 is not below s1"
[ "$(col "* s2")" -gt "$(col "  s1 ")" ] || fail "s2 is not indented under s1"

# revert to s1: asked first; n cancels, y reverts
keys Down Enter
wait_for "Revert to it"
keys Enter
wait_for "Revert 'web' to snapshot 's1'? Changes since are lost."
keys n
wait_for "revert of 'web' cancelled"
[ "$("$TVM" --db "$DB" snapshot-current web --name)" = s2 ] || fail "'n' reverted"
keys T
wait_for "* s2"
keys Down Enter Enter
wait_for "Revert 'web' to snapshot 's1'?"
keys y
wait_for "Domain snapshot s1 reverted"
[ "$("$TVM" --db "$DB" snapshot-current web --name)" = s1 ] || fail "revert did not make s1 current"

# back to s2, keeping what is now: the current state becomes a snapshot
# (named after its creation time, a child of s1) before the revert
keys T
wait_for "* s1"
keys Down Down Enter
wait_for "Snapshot the current state, then revert"
keys Down Enter
wait_for "Snapshot the current state of 'web', then revert it to 's2'?"
keys y
wait_for "Domain snapshot s2 reverted"
[ "$("$TVM" --db "$DB" snapshot-current web --name)" = s2 ] || fail "s2 is not current"
kept=$("$TVM" --db "$DB" snapshot-list web --name | sed '/^$/d' | grep -vx -e s1 -e s2)
[ -n "$kept" ] || fail "no snapshot of the state before the revert"
[ "$("$TVM" --db "$DB" snapshot-parent web "$kept")" = s1 ] || fail "$kept's parent is not s1"

# delete s2: asked first
keys T
wait_for "* s2"
keys Down Down Enter
wait_for "Delete it"
keys Down Down Enter
wait_for "Delete snapshot 's2' of 'web'?"
keys y
wait_for "Domain snapshot s2 deleted"
[ "$(tags)" = "s1 $kept " ] || fail "after deleting s2 the disk has: $(tags)"
"$TVM" --db "$DB" snapshot-list web --name | grep -qx s2 && fail "s2 still recorded"

keys q
wait_for "TVM-EXIT=0"
echo ok
