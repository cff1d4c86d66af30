# The storage pane (S), end to end: a directory pool made, a qcow2 and a
# raw volume made, one grown, one wiped, both deleted, the pool deleted —
# all through keys, each result checked with qemu-img and tvm's own verbs.
source "$(dirname "$0")/lib.bash"

POOLDIR=$TMP/pool-dir
tvmc() { "$TVM" --db "$DB" "$@"; }

# wait_no_row NAME: until no list row starts with NAME (the message line may still name it).
wait_no_row() {
    local i
    for ((i = 0; i < 200; i++)); do
        screen | grep -qE "^ $1 " || return 0
        sleep 0.05
    done
    fail "row '$1' still on the screen after 10s"
}

tui_start 120 32
wait_for "S storage"
keys S
wait_for "AVAILABLE"
wait_for "no storage pools"

# N: a directory pool, asked name and directory; built and started
keys N
wait_for "New directory pool, name:"
keys -l tpool
keys Enter
wait_for "Directory of its volumes:"
keys -l "$POOLDIR"
keys Enter
wait_for "Pool tpool started"
wait_for " tpool "
screen | grep -E "^ tpool +active +no +dir " >/dev/null || fail "pool row lacks state/type"
[[ -d $POOLDIR ]] || fail "the pool's directory was not made"
tvmc pool-list --all | grep -E "^ tpool +active +no" >/dev/null || fail "pool-list does not show tpool active"
# the capacity bar: the file system's use, as pool-info has it
screen | grep -E "^ tpool .*[0-9] (KiB|MiB|GiB|TiB) .*%" >/dev/null || fail "no capacity figures/bar"

# n: a qcow2 volume (the format answer defaults to qcow2)
keys n
wait_for "New volume, name:"
keys -l disk1.qcow2
keys Enter
wait_for "Capacity (e.g. 10G):"
keys -l 64M
keys Enter
wait_for "Format (raw or qcow2): qcow2"
keys Enter
wait_for "Vol disk1.qcow2 created"
wait_for " disk1.qcow2 "
info=$(qemu-img info --output=json "$POOLDIR/disk1.qcow2")
grep -q '"format": "qcow2"' <<<"$info" || fail "disk1 is not qcow2: $info"
grep -q '"virtual-size": 67108864' <<<"$info" || fail "disk1 is not 64 MiB: $info"
qemu-img check "$POOLDIR/disk1.qcow2" >/dev/null || fail "qemu-img check disk1"
tvmc vol-list tpool | grep -qF "$POOLDIR/disk1.qcow2" || fail "vol-list lacks disk1"

# n: a raw one (Ctrl-U clears the suggested format)
keys n
wait_for "New volume, name:"
keys -l disk2.img
keys Enter
wait_for "Capacity (e.g. 10G):"
keys -l 32M
keys Enter
wait_for "Format (raw or qcow2):"
keys C-u
keys -l raw
keys Enter
wait_for " disk2.img "
qemu-img info --output=json "$POOLDIR/disk2.img" | grep -q '"format": "raw"' || fail "disk2 not raw"
[[ $(stat -c %s "$POOLDIR/disk2.img") == 33554432 ]] || fail "disk2 is not 32 MiB"
screen | grep -E "^ disk2.img +raw +32 MiB" >/dev/null || fail "volume row lacks format/capacity"

# Tab to the volumes; z grows disk1 by 64M
keys Tab
keys Home
keys z
wait_for "New capacity"
keys -l +64M
keys Enter
wait_for "Size of volume 'disk1.qcow2' successfully changed"
qemu-img info --output=json "$POOLDIR/disk1.qcow2" | grep -q '"virtual-size": 134217728' ||
    fail "disk1 was not grown to 128 MiB"
wait_for "128 MiB"

# w wipes disk2 (asks first): the bytes written into it read back as zeros
printf 'not zero at all' | dd of="$POOLDIR/disk2.img" bs=1 seek=1000000 conv=notrunc status=none
keys End
keys w
wait_for "Wipe volume 'disk2.img'"
keys y
wait_for "Vol disk2.img wiped"
cmp -n 33554432 "$POOLDIR/disk2.img" /dev/zero || fail "disk2 was not wiped"

# u uploads a local file into disk2 (asks the file, then first): its bytes
# are the volume's; n keeps the volume as it was
head -c 3000000 /dev/urandom >"$TMP/upload.bin"
keys u
wait_for "Upload into the volume from file"
keys -l "$TMP/upload.bin"
keys Enter
wait_for "Upload '$TMP/upload.bin' into volume 'disk2.img'"
keys n
wait_for "upload into volume 'disk2.img' cancelled"
cmp -n 33554432 "$POOLDIR/disk2.img" /dev/zero || fail "'n' uploaded anyway"
keys u
wait_for "Upload into the volume from file"
keys -l "$TMP/upload.bin"
keys Enter
wait_for "Upload '$TMP/upload.bin' into volume 'disk2.img'"
keys y
for ((i = 0; i < 100; i++)); do
    cmp -s -n 3000000 "$POOLDIR/disk2.img" "$TMP/upload.bin" && break
    sleep 0.1
done
cmp -n 3000000 "$POOLDIR/disk2.img" "$TMP/upload.bin" || fail "disk2 does not hold the uploaded bytes"

# d deletes (asks first): n keeps, y deletes
keys d
wait_for "Delete volume 'disk2.img' of pool 'tpool'"
keys n
wait_for "delete of volume 'disk2.img' cancelled"
[[ -f $POOLDIR/disk2.img ]] || fail "'n' deleted the volume"
keys d
wait_for "Delete volume 'disk2.img'"
keys y
wait_for "Vol disk2.img deleted"
wait_no_row disk2.img
[[ -e $POOLDIR/disk2.img ]] && fail "disk2.img still on disk"
keys Home d
wait_for "Delete volume 'disk1.qcow2'"
keys y
wait_for "Vol disk1.qcow2 deleted"
wait_no_row disk1.qcow2
[[ -e $POOLDIR/disk1.qcow2 ]] && fail "disk1.qcow2 still on disk"
tvmc vol-list tpool | grep -q disk && fail "vol-list still lists a deleted volume"

# Tab back to the pools; D deletes the pool: stopped, directory removed, undefined
keys Tab D
wait_for "Delete pool 'tpool': stop it, remove $POOLDIR"
keys y
wait_for "no storage pools"
[[ -e $POOLDIR ]] && fail "the pool's directory is still there"
tvmc pool-list --all --name | grep -q tpool && fail "tpool still defined"

# ? lists the pane's keys; S goes back to the domains
keys '?'
wait_for "tvm keys"
keys NPage
wait_for "Storage pane (S)"
for text in "new directory pool" "new volume in the pool" "resize the volume" "wipe the volume" \
    "upload a local file into the volume"; do
    screen | grep -qF -- "$text" || fail "help lacks '$text'"
done
keys q
keys S
wait_for "NAME"
keys q
wait_for "TVM-EXIT=0"
echo ok
