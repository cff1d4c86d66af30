# tvm img compare against qemu-img compare on the same files: the same
# words on stdout and the same exit status, for identical images (raw
# against qcow2, an overlay against its flattened copy), a difference in
# data, a difference against a hole, sizes that differ with zeros or data
# past the shorter end, and -s.
source "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"
command -v qemu-io >/dev/null || fail "qemu-io (package qemu-utils) is missing: run scripts/install-deps.sh"
cd "$tmp"
qemu-img create -q -f qcow2 a.qcow2 64M
qemu-io -c "write -P 0x11 1M 2M" -c "write -P 0x22 40M 64k" a.qcow2 >/dev/null
qemu-img convert -f qcow2 -O raw a.qcow2 a.raw
qemu-img create -q -f qcow2 -b a.qcow2 -F qcow2 top.qcow2
qemu-io -c "write -P 0x33 8M 4k" top.qcow2 >/dev/null
qemu-img convert -f qcow2 -O qcow2 top.qcow2 flat.qcow2
cp a.raw b.raw && qemu-io -f raw -c "write -P 0x11 3000k 1" b.raw >/dev/null   # data vs data
cp a.raw c.raw && qemu-io -f raw -c "write -P 0x44 20M 512" c.raw >/dev/null   # data vs a hole
cp a.raw long0.raw && truncate -s 80M long0.raw                                 # longer, zeros
cp long0.raw long1.raw && qemu-io -f raw -c "write -P 0x55 70M 1k" long1.raw >/dev/null

same_as_qemu() { # [OPTIONS] A B
    local qrc=0 trc=0
    qemu-img compare "$@" >"$tmp/q.out" 2>&1 || qrc=$?
    tvm img compare "$@" >"$tmp/t.out" 2>"$tmp/t.err" || trc=$?
    [ "$trc" = "$qrc" ] || fail "img compare $*: exit $trc, qemu-img $qrc ($(cat "$tmp/t.out" "$tmp/t.err"))"
    diff -u "$tmp/q.out" "$tmp/t.out" >&2 || fail "img compare $*: stdout differs from qemu-img's"
}
same_as_qemu a.qcow2 a.raw
same_as_qemu -f qcow2 -F raw a.qcow2 a.raw
same_as_qemu top.qcow2 flat.qcow2
same_as_qemu -f raw -F raw a.raw b.raw
same_as_qemu -f raw -F raw a.raw c.raw
same_as_qemu -f raw -F raw c.raw a.raw
same_as_qemu a.qcow2 top.qcow2
same_as_qemu -f raw -F raw a.raw long0.raw
same_as_qemu -f raw -F raw long1.raw a.raw
same_as_qemu -s -f raw -F raw a.raw long0.raw
run 2 tvm img compare a.qcow2 nosuch.qcow2
err_has "nosuch.qcow2"
echo "img-compare: ok"
