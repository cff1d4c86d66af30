# tvm img map against qemu-img map on the same files: the same stdout and
# exit status, human and json, for a raw file with data and holes, a qcow2
# image, an overlay over a two-level chain (data at every depth, a zero
# cluster, a run nothing holds, the overlay longer than its backing file),
# compressed clusters (json; human refuses them as qemu-img does), a zero
# cluster that keeps its host cluster, and an empty disk. The runs must be
# merged as qemu-img merges them, so any split or offset that differs
# shows.
source "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"
command -v qemu-io >/dev/null || fail "qemu-io (package qemu-utils) is missing: run scripts/install-deps.sh"
cd "$tmp"
truncate -s 5M r.raw
qemu-io -f raw -c "write -P 5 1M 64k" -c "write -P 6 4M 1M" r.raw >/dev/null
qemu-img create -q -f qcow2 base.qcow2 4M
qemu-io -c "write -P 1 0 1M" -c "write -P 2 2M 64k" base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 mid.qcow2
qemu-io -c "write -P 7 1536k 128k" mid.qcow2 >/dev/null
qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 top.qcow2 6M
qemu-io -c "write -P 3 512k 128k" -c "write -z 3M 64k" -c "write -P 8 5M 64k" top.qcow2 >/dev/null
qemu-img convert -c -O qcow2 base.qcow2 c.qcow2
qemu-img create -q -f qcow2 za.qcow2 1M
qemu-io -c "write -P 9 0 256k" -c "write -z 64k 64k" za.qcow2 >/dev/null  # zero, allocated

same_as_qemu() { # [OPTIONS] FILE
    local qrc=0 trc=0
    qemu-img map "$@" >"$tmp/q.out" 2>"$tmp/q.err" || qrc=$?
    tvm img map "$@" >"$tmp/t.out" 2>"$tmp/t.err" || trc=$?
    [ "$trc" = "$qrc" ] || fail "img map $*: exit $trc, qemu-img $qrc ($(cat "$tmp/t.err"))"
    diff -u "$tmp/q.out" "$tmp/t.out" >&2 || fail "img map $*: stdout differs from qemu-img's"
}
for f in r.raw base.qcow2 top.qcow2 za.qcow2; do
    fmt=qcow2 && [ "$f" = r.raw ] && fmt=raw
    same_as_qemu -f "$fmt" "$f"
    same_as_qemu -f "$fmt" --output json "$f"
done
same_as_qemu --output json c.qcow2
qemu-img create -q -f qcow2 empty.qcow2 0
same_as_qemu --output json empty.qcow2
same_as_qemu empty.qcow2
same_as_qemu --output human c.qcow2     # qemu-img: exit 1, the header only
grep -q "compressed clusters" "$tmp/t.err" || fail "img map: compressed refusal not explained"
# the chain is really looked through: three depths, a zero run held by the top
qemu-img map --output json top.qcow2 >q.json
for want in '"depth": 0, "present": true, "zero": true' '"depth": 1, "present": true' \
    '"depth": 2, "present": true' '"depth": 2, "present": false'; do
    grep -qF "$want" q.json || fail "test chain lacks a run with $want"
done
run 1 tvm img map nosuch.qcow2
err_has "nosuch.qcow2"
same_as_qemu -f raw --output yaml r.raw   # both exit 1
echo "img-map: ok"
