# tvm img commit against qemu-img commit, each on its own copy of the same
# chain: the same stdout ("Image committed.") and exit status; the backing
# file then reads what the overlay read (qemu-img compare with a flattened
# copy taken first, and with qemu-img's result), data and zero clusters
# alike; without -d the overlay is emptied (qemu-img map finds nothing in
# it and it still reads the same through its backing file), with -d it
# keeps its clusters; a backing file smaller than the overlay is grown;
# qemu-img check is clean on both files. An image without a backing file
# is refused as qemu-img refuses it, and left unchanged.
source "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"
command -v qemu-io >/dev/null || fail "qemu-io (package qemu-utils) is missing: run scripts/install-deps.sh"
cd "$tmp"
clean() { qemu-img check "$1" >/dev/null || fail "qemu-img check $1: $(qemu-img check "$1" 2>&1)"; }
chain() { # BASE-FMT: b.$1 and t.qcow2 over it, written alike by qemu-io
    rm -f b.* t.qcow2
    if [ "$1" = raw ]; then
        truncate -s 4M b.raw && qemu-io -f raw -c "write -P 1 0 2M" b.raw >/dev/null
    else
        qemu-img create -q -f qcow2 b.qcow2 4M && qemu-io -c "write -P 1 0 2M" b.qcow2 >/dev/null
    fi
    qemu-img create -q -f qcow2 -b "b.$1" -F "$1" t.qcow2 6M
    qemu-io -c "write -P 3 100k 8k" -c "write -z 1M 128k" -c "write -P 4 3M 64k" \
        -c "write -P 5 5M 64k" t.qcow2 >/dev/null
}
same_as_qemu() { # BASE-FMT [-d]
    local fmt=$1 qrc=0 trc=0
    shift
    chain "$fmt" && mkdir -p q && cp "b.$fmt" t.qcow2 q/
    qemu-img convert -O raw t.qcow2 before.raw
    (cd q && qemu-img commit "$@" t.qcow2 >../q.out 2>../q.err) || qrc=$?
    tvm img commit "$@" t.qcow2 >t.out 2>t.err || trc=$?
    [ "$trc" = "$qrc" ] || fail "img commit $* ($fmt): exit $trc, qemu-img $qrc ($(cat t.err))"
    diff -u q.out t.out >&2 || fail "img commit $* ($fmt): stdout differs from qemu-img's"
    [ "$fmt" = qcow2 ] && clean "b.$fmt"
    clean t.qcow2
    qemu-img compare -f "$fmt" -F raw "b.$fmt" before.raw >/dev/null || fail "commit $* ($fmt): the backing file does not read what the overlay read"
    qemu-img compare -f "$fmt" -F "$fmt" "b.$fmt" "q/b.$fmt" >/dev/null || fail "commit $* ($fmt): backing differs from qemu-img's result"
    qemu-img compare t.qcow2 before.raw >/dev/null || fail "commit $* ($fmt): the overlay reads differently afterwards"
}
same_as_qemu qcow2
qemu-img map --output json t.qcow2 | grep -q '"depth": 0' && fail "commit left clusters in the overlay: $(qemu-img map --output json t.qcow2)"
qemu-io -c "read -P 4 3M 64k" -c "read -P 0 1M 128k" -c "read -P 5 5M 64k" b.qcow2 | grep -c '^read' | grep -qx 3 || fail "backing file lacks the committed data"
[ "$(qemu-img info --output json b.qcow2 | grep '"virtual-size"')" = '    "virtual-size": 6291456,' ] || fail "backing file not grown to the overlay's size"
same_as_qemu qcow2 -d
qemu-img map --output json t.qcow2 | grep -q '"depth": 0, "present": true, "zero": false, "data": true' || fail "commit -d emptied the overlay"
same_as_qemu raw
qemu-io -f raw -c "read -P 3 100k 8k" b.raw | grep -q "read 8192" || fail "raw backing file lacks the committed data"

# refused: no backing file; nothing changes
qemu-img create -q -f qcow2 alone.qcow2 1M && sum=$(sha256sum <alone.qcow2)
qrc=0 && qemu-img commit alone.qcow2 >q.out 2>q.err || qrc=$?
run "$qrc" tvm img commit alone.qcow2
err_has "Image does not have a backing file"
[ "$(sha256sum <alone.qcow2)" = "$sum" ] || fail "refused commit changed the image"
echo "img-commit: ok"
