# vol-upload / vol-download as virsh spells them, on real files compared
# byte for byte (cmp): whole volumes, --offset/--length windows, --sparse
# keeping holes both ways, a qcow2 volume moved as its image's bytes
# (qemu-img compare/check), refusals that change nothing (too long for a
# raw volume, a volume another process has open for writing), and the
# progress bar: on a terminal only.
source "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"
command -v qemu-io >/dev/null || fail "qemu-io (package qemu-utils) is missing: run scripts/install-deps.sh"
command -v script >/dev/null || fail "script (package bsdutils) is missing"

P="$tmp/pool"
ok tvm pool-create-as pool dir --target "$P" --build
ok tvm vol-create-as pool vol.img 4M --format raw --allocation 0
allocated() { echo $(($(stat -c %b "$1") * 512)); }

# 4 MiB: 1 MiB of data, a 2 MiB hole, 1 MiB of data
head -c 1M /dev/urandom >"$tmp/src"
truncate -s 3M "$tmp/src"
head -c 1M /dev/urandom >>"$tmp/src"

# ---- whole volume, both ways ----
ok tvm vol-upload vol.img "$tmp/src" --pool pool
[ ! -s "$tmp/out" ] || fail "vol-upload printed something on success"
[ ! -s "$tmp/err" ] || fail "vol-upload wrote to a stderr that is not a terminal"
cmp "$tmp/src" "$P/vol.img" || fail "the volume is not the uploaded file"
ok tvm vol-download vol.img "$tmp/back" pool
cmp "$tmp/src" "$tmp/back" || fail "the downloaded file is not the volume"

# ---- --sparse: the source's hole becomes a hole, not written zeros ----
head -c 4M /dev/urandom >"$P/vol.img"
ok tvm vol-upload vol.img "$tmp/src" --pool pool --sparse
cmp "$tmp/src" "$P/vol.img" || fail "sparse upload: the volume differs from the file"
[ "$(allocated "$P/vol.img")" -lt $((3 << 20)) ] || fail "sparse upload left the hole allocated"
ok tvm vol-download vol.img "$tmp/back-sparse" --pool pool --sparse
cmp "$tmp/src" "$tmp/back-sparse" || fail "sparse download differs"
[ "$(allocated "$tmp/back-sparse")" -lt $((3 << 20)) ] || fail "sparse download wrote the hole"
[ "$(allocated "$tmp/back")" -ge $((4 << 20)) ] || fail "a plain download should write every byte"

# ---- --offset / --length windows ----
head -c 5000 /dev/urandom >"$tmp/small"
cp "$P/vol.img" "$tmp/want"
dd if="$tmp/small" of="$tmp/want" bs=1 seek=4096 count=1000 conv=notrunc status=none
ok tvm vol-upload vol.img "$tmp/small" --pool pool --offset 4096 --length 1000
cmp "$tmp/want" "$P/vol.img" || fail "--offset 4096 --length 1000 wrote something else"
ok tvm vol-download vol.img "$tmp/window" --pool pool --offset 1048000 --length 12345
dd if="$P/vol.img" of="$tmp/want-window" bs=1 skip=1048000 count=12345 status=none
cmp "$tmp/want-window" "$tmp/window" || fail "download window differs"

# ---- refusals change nothing ----
head -c 5M /dev/urandom >"$tmp/big"
cp "$P/vol.img" "$tmp/before"
run 1 tvm vol-upload vol.img "$tmp/big" --pool pool
err_has "cannot upload 5242880 bytes at offset 0 into volume 'vol.img' of 4194304 bytes"
run 1 tvm vol-upload vol.img "$tmp/small" --pool pool --offset 4194000
err_has "into volume 'vol.img' of 4194304 bytes"
run 1 tvm vol-upload vol.img "$tmp/nosuch" --pool pool
err_has "cannot open '$tmp/nosuch'"
run 2 tvm vol-upload vol.img "$tmp/small" --pool pool --offset 12x
err_has "--offset '12x' is not a number of bytes"
run 1 tvm vol-upload nosuch.img "$tmp/small" --pool pool
cmp "$tmp/before" "$P/vol.img" || fail "a refused upload changed the volume"
# a volume open for writing elsewhere (qemu-io holds QEMU's image locks, as a guest's disk does)
qemu-io -f raw "$P/vol.img" -c 'sleep 20000' >/dev/null 2>&1 &
holder=$!
inode=$(stat -c %i "$P/vol.img")
for _ in $(seq 200); do # until its lock shows (QEMU's byte 100 on that file)
    grep -qE "OFDLCK .*:$inode 100 " /proc/locks && break
    sleep 0.05
done
run 1 tvm vol-upload vol.img "$tmp/src" --pool pool
kill "$holder"
wait "$holder" 2>/dev/null || true
err_has "vol.img: image is in use (open for writing elsewhere)"
cmp "$tmp/before" "$P/vol.img" || fail "the refused upload into a volume in use changed it"

# ---- qcow2: the volume's file takes the image's bytes, as libvirt moves them ----
ok tvm vol-create-as pool q.qcow2 1M --format qcow2
qemu-img convert -f raw -O qcow2 "$tmp/src" "$tmp/src.qcow2"
ok tvm vol-upload q.qcow2 "$tmp/src.qcow2" --pool pool
cmp "$tmp/src.qcow2" "$P/q.qcow2" || fail "the qcow2 volume is not the uploaded image"
qemu-img check -q "$P/q.qcow2" || fail "qemu-img check: the uploaded qcow2"
qemu-img compare -q "$tmp/src" "$P/q.qcow2" || fail "the uploaded qcow2 does not read as the source"
ok tvm vol-info q.qcow2 --pool pool
out_has "Capacity:       4.00 MiB"
ok tvm vol-download q.qcow2 "$tmp/q-back" --pool pool
cmp "$tmp/src.qcow2" "$tmp/q-back" || fail "the downloaded qcow2 is not the volume's file"

# ---- the progress bar: on a terminal, and only there ----
script -qec "$(printf '%q ' "$TVM" --db "$DB" vol-download vol.img "$tmp/tty-back" --pool pool)" \
    /dev/null >"$tmp/tty" </dev/null || fail "vol-download on a terminal failed"
grep -qF "downloading vol.img [" "$tmp/tty" || fail "no progress bar on a terminal"
grep -qF "100% 4.00 MiB of 4.00 MiB" "$tmp/tty" || fail "the bar did not reach 100%"
cmp "$P/vol.img" "$tmp/tty-back" || fail "download on a terminal differs"
echo "vol-upload: ok"
