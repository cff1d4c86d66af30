# tvm img resize [--shrink] [-f FMT] FILE [+|-]SIZE, in qemu-img's spelling,
# checked with qemu-img: raw grows and shrinks (the kept bytes unchanged),
# qcow2 grows (data kept, qemu-img check clean) as far as its L1 table has
# room, and every refusal (a shrink without --shrink, a qcow2 shrink, more
# taken off than there is, a size too large for the L1 table) changes nothing.
source "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"
command -v qemu-io >/dev/null || fail "qemu-io (package qemu-utils) is missing: run scripts/install-deps.sh"
vsize() { qemu-img info --output json "$1" | sed -n 's/^ *"virtual-size": \([0-9]*\),$/\1/p'; }

# ---- raw ----
head -c 10M /dev/urandom >"$tmp/r.img"
cp "$tmp/r.img" "$tmp/orig"
ok tvm img resize "$tmp/r.img" +5M
out_is "Image resized."$'\n'
[ "$(vsize "$tmp/r.img")" -eq $((15 << 20)) ] || fail "raw +5M is not 15 MiB"
cmp -n $((10 << 20)) "$tmp/orig" "$tmp/r.img" || fail "growing changed the data"
cmp -i $((10 << 20)) -n $((5 << 20)) "$tmp/r.img" /dev/zero || fail "the grown part is not zeros"
run 1 tvm img resize "$tmp/r.img" -2M
err_has "use the --shrink option"
[ "$(vsize "$tmp/r.img")" -eq $((15 << 20)) ] || fail "a refused shrink changed the size"
ok tvm img resize --shrink -f raw "$tmp/r.img" -7M
[ "$(vsize "$tmp/r.img")" -eq $((8 << 20)) ] || fail "raw --shrink -7M is not 8 MiB"
cmp -n $((8 << 20)) "$tmp/orig" "$tmp/r.img" || fail "shrinking changed the kept data"
ok tvm img resize --shrink "$tmp/r.img" 4M
[ "$(vsize "$tmp/r.img")" -eq $((4 << 20)) ] || fail "raw --shrink 4M"
run 1 tvm img resize --shrink "$tmp/r.img" -5M
err_has "fewer than the 5242880 to take off"

# ---- qcow2: grows in place, data kept, check clean ----
qemu-img create -q -f qcow2 "$tmp/q.qcow2" 1G
qemu-io -f qcow2 -c 'write -P 0x11 0 1M' -c 'write -P 0x22 1023M 1M' "$tmp/q.qcow2" >/dev/null
ok tvm img resize "$tmp/q.qcow2" 3T
[ "$(vsize "$tmp/q.qcow2")" -eq $((3 << 40)) ] || fail "qcow2 is not 3 TiB"
qemu-img check -q "$tmp/q.qcow2" || fail "qemu-img check after the qcow2 grew"
qemu-io -f qcow2 -c 'read -P 0x11 0 1M' -c 'read -P 0x22 1023M 1M' -c 'read -P 0 1G 1M' \
    "$tmp/q.qcow2" | grep -qi fail && fail "the qcow2's data changed or the new part is not zeros"
# the image is usable past the old end
qemu-io -f qcow2 -c 'write -P 0x33 2T 64k' "$tmp/q.qcow2" >/dev/null
qemu-img check -q "$tmp/q.qcow2" || fail "qemu-img check after a write past the old end"
ok tvm img resize -f qcow2 "$tmp/q.qcow2" +1T
[ "$(vsize "$tmp/q.qcow2")" -eq $((4 << 40)) ] || fail "qcow2 +1T is not 4 TiB"
run 1 tvm img resize "$tmp/q.qcow2" 5T
err_has "needs a larger L1 table than the image has room for"
run 1 tvm img resize --shrink "$tmp/q.qcow2" 1G
err_has "shrinking a qcow2 image is not supported"
[ "$(vsize "$tmp/q.qcow2")" -eq $((4 << 40)) ] || fail "a refusal changed the qcow2"
qemu-img check -q "$tmp/q.qcow2" || fail "qemu-img check at the end"
run 1 tvm img resize "$tmp/nosuch.img" 1G
echo "img-resize: ok"
