# tvm img rebase against qemu-img rebase, each on its own copy of the same
# overlay: the same stdout and exit status; afterwards the disk reads as it
# did before (qemu-img compare with a flattened copy taken first, and with
# qemu-img's result), qemu-img info names the new backing file and format,
# qemu-img check is clean. -u changes the header only (the new backing
# file's data shows where the overlay holds nothing); -b '' makes the image
# stand alone; a name too long for the header's first sector still lands.
# Refusals (a raw image, a missing new backing file, no -F) change nothing.
source "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"
command -v qemu-io >/dev/null || fail "qemu-io (package qemu-utils) is missing: run scripts/install-deps.sh"
cd "$tmp"
qemu-img create -q -f qcow2 b1.qcow2 4M
qemu-io -c "write -P 1 0 2M" -c "write -P 2 3M 64k" b1.qcow2 >/dev/null
qemu-img create -q -f qcow2 b2.qcow2 4M
qemu-io -c "write -P 1 0 1M" -c "write -P 9 1M 512k" b2.qcow2 >/dev/null
truncate -s 3M b3.raw && qemu-io -f raw -c "write -P 4 0 64k" b3.raw >/dev/null
qemu-img create -q -f qcow2 -b b1.qcow2 -F qcow2 t.qcow2
qemu-io -c "write -P 3 100k 8k" -c "write -P 5 1536k 64k" -c "write -z 2M 64k" t.qcow2 >/dev/null
cp t.qcow2 q.qcow2
qemu-img convert -O raw t.qcow2 before.raw

clean() { qemu-img check "$1" >/dev/null || fail "qemu-img check $1 after $2: $(qemu-img check "$1" 2>&1)"; }
backing_of() { qemu-img info --output json "$1" | grep -E '"backing-filename(-format)?"' || true; }
same_as_qemu() { # REBASE-OPTIONS: on t.qcow2 (tvm) and q.qcow2 (qemu-img)
    local qrc=0 trc=0
    qemu-img rebase "$@" q.qcow2 >q.out 2>q.err || qrc=$?
    tvm img rebase "$@" t.qcow2 >t.out 2>t.err || trc=$?
    [ "$trc" = "$qrc" ] || fail "img rebase $*: exit $trc, qemu-img $qrc ($(cat t.err))"
    diff -u q.out t.out >&2 || fail "img rebase $*: stdout differs from qemu-img's"
    [ "$(backing_of t.qcow2)" = "$(backing_of q.qcow2)" ] || fail "img rebase $*: backing $(backing_of t.qcow2), qemu-img's $(backing_of q.qcow2)"
    clean t.qcow2 "rebase $*"
    qemu-img compare t.qcow2 q.qcow2 >/dev/null || fail "img rebase $*: reads differently from qemu-img's result"
}
unchanged() { # FILE SUM: a refusal left FILE alone
    [ "$(sha256sum <"$1")" = "$2" ] || fail "$1 changed by a refused rebase"
}

# safe: b1 -> b2 (they differ in 1M-2M and at 3M), then b2 -> a raw file
same_as_qemu -F qcow2 -b b2.qcow2
qemu-img compare t.qcow2 before.raw >/dev/null || fail "safe rebase onto b2 changed what the disk reads"
backing_of t.qcow2 | grep -q '"b2.qcow2"' || fail "backing file is not b2.qcow2: $(backing_of t.qcow2)"
same_as_qemu -F raw -b b3.raw
qemu-img compare t.qcow2 before.raw >/dev/null || fail "safe rebase onto a raw file changed what the disk reads"
# -u: only the header; b1's data shows where the overlay holds nothing
same_as_qemu -u -F qcow2 -b b1.qcow2
qemu-io -c "read -P 2 3M 64k" t.qcow2 | grep -q "read 65536" || fail "after -u the new backing's data does not show"
# a backing name longer than the header's first sector
long=$(printf './%.0s' $(seq 300))b2.qcow2
same_as_qemu -u -F qcow2 -b "$long"
qemu-img info t.qcow2 | grep -qF "backing file: $long" || fail "long backing name not recorded"
# -b '': the image stands alone and still reads the same
same_as_qemu -F qcow2 -b b2.qcow2
cp t.qcow2 mid.qcow2 && qemu-img convert -O raw mid.qcow2 mid.raw
same_as_qemu -b ''
[ -z "$(backing_of t.qcow2)" ] || fail "-b '' left a backing file: $(backing_of t.qcow2)"
qemu-img compare t.qcow2 mid.raw >/dev/null || fail "-b '' changed what the disk reads"

# refusals change nothing
qemu-img create -q -f qcow2 -b b1.qcow2 -F qcow2 t.qcow2 && cp t.qcow2 q.qcow2
sum=$(sha256sum <t.qcow2)
same_as_qemu -F qcow2 -b nosuch.qcow2
grep -qF "Could not open new backing file 'nosuch.qcow2'" t.err || fail "missing backing file: $(cat t.err)"
unchanged t.qcow2 "$sum"
run 1 tvm img rebase -b b2.qcow2 t.qcow2
err_has "-F"
unchanged t.qcow2 "$sum"
cp b3.raw r.raw && rsum=$(sha256sum <r.raw)
qrc=0 && qemu-img rebase -f raw -F qcow2 -b b1.qcow2 r.raw 2>q.err || qrc=$?
run "$qrc" tvm img rebase -f raw -F qcow2 -b b1.qcow2 r.raw
err_has "Could not change the backing file to 'b1.qcow2': Operation not supported"
unchanged r.raw "$rsum"
echo "img-rebase: ok"
