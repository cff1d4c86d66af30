# tvm img convert -c against qemu-img convert -c on the same sources (a raw
# file of text, random bytes and holes with a partial last cluster; a qcow2
# overlay over a backing file): the same stdout and exit status; the copy
# reads like its source (qemu-img compare, qemu-io read -P), qemu-img check
# finds it clean and finds compressed clusters in it (and qemu-img map sees
# them: data without an offset; tvm img check reports what qemu-img check
# does), it is smaller than the plain copy, and tvm reads it back (tvm img
# compare). -c with -O raw is refused as qemu-img refuses it, creating
# nothing.
source "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"
command -v qemu-io >/dev/null || fail "qemu-io (package qemu-utils) is missing: run scripts/install-deps.sh"
cd "$tmp"
head -c 3M < <(yes "tvm compresses its clusters as qemu-img does") >src.raw
head -c 1M /dev/urandom >>src.raw
truncate -s $((9 * 1024 * 1024 + 4096)) src.raw
qemu-io -f raw -c "write -P 0x5a 6M 64k" -c "write -P 0x6b 9M 4k" src.raw >/dev/null
qemu-img create -q -f qcow2 base.qcow2 8M
qemu-io -c "write -P 1 0 2M" base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2
qemu-io -c "write -P 2 1M 128k" -c "write -z 4k 8k" top.qcow2 >/dev/null

same_as_qemu() { # -f FMT SRC
    local qrc=0 trc=0
    rm -f q.qcow2 t.qcow2
    qemu-img convert -c -O qcow2 "$@" q.qcow2 >q.out 2>q.err || qrc=$?
    tvm img convert -c -O qcow2 "$@" t.qcow2 >t.out 2>t.err || trc=$?
    [ "$trc" = "$qrc" ] || fail "img convert -c $*: exit $trc, qemu-img $qrc ($(cat t.err))"
    diff -u q.out t.out >&2 || fail "img convert -c $*: stdout differs from qemu-img's"
    qemu-img check t.qcow2 >check.out || fail "qemu-img check after convert -c $*: $(cat check.out)"
    grep -q ' [1-9][0-9.]*% compressed clusters' check.out || fail "no compressed clusters: $(cat check.out)"
    tvm img check t.qcow2 >tcheck.out || fail "tvm img check after convert -c $*: $(cat tcheck.out)"
    diff -u check.out tcheck.out >&2 || fail "tvm img check's figures differ from qemu-img check's"
    qemu-img compare "$@" t.qcow2 >/dev/null || fail "convert -c $*: the copy reads differently"
    qemu-img compare q.qcow2 t.qcow2 >/dev/null || fail "convert -c $*: differs from qemu-img's copy"
    tvm img compare -f qcow2 -F qcow2 t.qcow2 q.qcow2 >/dev/null || fail "tvm cannot read its own compressed copy"
    qemu-img convert -O qcow2 "$@" plain.qcow2
    [ "$(stat -c %s t.qcow2)" -lt "$(stat -c %s plain.qcow2)" ] || fail "convert -c $*: not smaller than the plain copy"
    rm -f plain.qcow2
}
same_as_qemu -f raw src.raw
qemu-io -c "read -P 0x5a 6M 64k" -c "read -P 0x6b 9M 4k" -c "read -P 0 8M 64k" t.qcow2 | grep -c '^read' | grep -qx 3 || fail "patterns not read back from the compressed copy"
qemu-img map --output json t.qcow2 | grep -q '"present": true, "zero": false, "data": true}' || fail "qemu-img map sees no compressed run"
same_as_qemu -f qcow2 top.qcow2
qemu-io -c "read -P 2 1M 128k" -c "read -P 1 1536k 512k" -c "read -P 0 4k 8k" t.qcow2 | grep -c '^read' | grep -qx 3 || fail "chain not copied whole"

qrc=0 && qemu-img convert -c -O raw src.raw q.raw 2>q.err || qrc=$?
run "$qrc" tvm img convert -c -O raw src.raw t.raw
err_has "Compression not supported for this file format"
[ ! -e t.raw ] || fail "a refused convert -c created its destination"
echo "img-convert-compress: ok"
