# tvm img snapshot -c|-a|-d|-l: qcow2 internal snapshots written by tvm's
# own image layer, with qemu-img as the oracle. After every step qemu-img
# check finds no corruption and no leak; qemu-img snapshot -l lists what
# tvm lists, byte for byte; a snapshot applied by tvm reads as the same
# snapshot applied by qemu-img on a copy (qemu-img compare); snapshots
# made by qemu-img are applied and deleted by tvm and the other way round.
# Then a SIGKILL before each write of create, apply and delete (strace's
# syscall fault injection): the image is always the state before or the
# state after (snapshot names and disk content), never anything else, and
# qemu-img check finds neither corruption nor leak.
source "$(dirname "$0")/lib.sh"
for t in qemu-img qemu-io strace; do
    command -v $t >/dev/null || fail "$t is missing: run scripts/install-deps.sh"
done
cd "$tmp"

# clean IMG: qemu-img check finds nothing at all (exit 0: no corruption, no leak)
clean() {
    qemu-img check "$1" >check.out 2>&1 || { cat check.out >&2; fail "qemu-img check $1 after: $2"; }
}
# reads IMG PATTERN OFFSET LEN: the range holds the pattern byte
reads() {
    qemu-io -r -c "read -P $2 $3 $4" "$1" | grep -q "^read " ||
        fail "$1 does not read $2 at $3 (+$4)"
}

ok tvm img create -f qcow2 a.qcow2 64M
qemu-io -c 'write -P 1 0 1M' -c 'write -P 7 40M 64k' -c 'write -c -P 9 50M 64k' a.qcow2 >/dev/null
ok tvm img snapshot -l a.qcow2
out_is ""

ok tvm img snapshot -c s1 a.qcow2
out_is ""
clean a.qcow2 "create s1"
qemu-img snapshot -l a.qcow2 >qemu.list
ok tvm img snapshot -l a.qcow2
cmp -s qemu.list "$tmp/out" || { diff qemu.list "$tmp/out" >&2; fail "-l differs from qemu-img's"; }
grep -qE '^1 +s1 +0 B 20[0-9-]+ [0-9:]+ +00:00:00.000 +0$' qemu.list || fail "qemu-img does not see s1"

# the disk changes after s1; s2 holds the changed state
qemu-io -c 'write -P 2 0 512k' -c 'write -P 8 50M 4k' a.qcow2 >/dev/null
clean a.qcow2 "writes after s1"
reads a.qcow2 2 0 512k
ok tvm img snapshot -c s2 a.qcow2
clean a.qcow2 "create s2"
qemu-io -c 'write -P 3 256k 512k' -c 'write -P 4 60M 64k' a.qcow2 >/dev/null
clean a.qcow2 "writes after s2"
cp a.qcow2 oracle.qcow2

# apply s1: tvm's result equals qemu-img's on the copy
ok tvm img snapshot -a s1 a.qcow2
clean a.qcow2 "apply s1"
qemu-img snapshot -a s1 oracle.qcow2
qemu-img compare -q a.qcow2 oracle.qcow2 || fail "tvm's apply of s1 differs from qemu-img's"
reads a.qcow2 1 0 1M
reads a.qcow2 7 40M 64k
reads a.qcow2 9 50M 64k
reads a.qcow2 0 60M 64k
# writes after the revert copy shared clusters: s2 and s1 stay intact
qemu-io -c 'write -P 5 0 64k' -c 'write -P 5 40M 4k' a.qcow2 >/dev/null
clean a.qcow2 "writes after apply"

# delete s1 (the snapshot the disk was reverted to): s2 keeps its content
ok tvm img snapshot -d s1 a.qcow2
clean a.qcow2 "delete s1"
ok tvm img snapshot -l a.qcow2
out_lacks " s1 "
out_has " s2 "
reads a.qcow2 5 0 64k
cp a.qcow2 oracle.qcow2
ok tvm img snapshot -a 2 a.qcow2 # by ID, as qemu-img takes it
clean a.qcow2 "apply s2 by id"
qemu-img snapshot -a s2 oracle.qcow2
qemu-img compare -q a.qcow2 oracle.qcow2 || fail "tvm's apply of s2 differs from qemu-img's"
reads a.qcow2 2 0 512k
reads a.qcow2 1 512k 512k
reads a.qcow2 8 50M 4k

# qemu-img's snapshots, tvm's operations, and the other way round
qemu-img snapshot -c q1 a.qcow2
qemu-io -c 'write -P 6 0 1M' a.qcow2 >/dev/null
ok tvm img snapshot -a q1 a.qcow2
clean a.qcow2 "tvm applies qemu-img's snapshot"
reads a.qcow2 2 0 512k
ok tvm img snapshot -d q1 a.qcow2
clean a.qcow2 "tvm deletes qemu-img's snapshot"
ok tvm img snapshot -c t1 a.qcow2
qemu-io -c 'write -P 6 0 1M' a.qcow2 >/dev/null
qemu-img snapshot -a t1 a.qcow2
reads a.qcow2 2 0 512k
qemu-img snapshot -d t1 a.qcow2
qemu-img snapshot -d s2 a.qcow2
clean a.qcow2 "qemu-img deletes tvm's snapshots"
ok tvm img snapshot -l a.qcow2
out_is ""

# errors change nothing
cp a.qcow2 before.qcow2
run 1 tvm img snapshot -a nope a.qcow2
err_has "Could not apply snapshot 'nope'"
err_has "no snapshot 'nope'"
run 1 tvm img snapshot -d nope a.qcow2
err_has "Could not delete snapshot 'nope'"
run 1 tvm img snapshot -c x -l a.qcow2
err_has "cannot mix"
cmp -s a.qcow2 before.qcow2 || fail "a refused snapshot command changed the image"
ok tvm img create -f raw r.img 1M
run 1 tvm img snapshot -c s r.img
err_has "internal snapshots need a qcow2 image"

# ---- crash safety: SIGKILL before the Nth call of each kind ----
# names IMG: the snapshot names, one a line
names_of() { qemu-img snapshot -l "$1" | awk 'NR > 2 { print $2 }'; }
ok tvm img create -f qcow2 base.qcow2 8M
qemu-io -c 'write -P 1 0 2M' -c 'write -P 2 6M 1M' base.qcow2 >/dev/null
ok tvm img snapshot -c old1 base.qcow2
qemu-io -c 'write -P 3 0 1M' base.qcow2 >/dev/null
ok tvm img snapshot -c old2 base.qcow2
qemu-io -c 'write -P 4 512k 1M' base.qcow2 >/dev/null
names_of base.qcow2 >before.names
kills=0
for op in "-c new" "-a old1" "-d old2"; do
    cp base.qcow2 after.qcow2
    # shellcheck disable=SC2086
    ok tvm img snapshot $op after.qcow2
    names_of after.qcow2 >after.names
    # A killed process leaves what its writes left: a kill before each
    # pwrite reaches every state the file passes through.
    for call in pwrite64; do
        for n in $(seq 1 40); do
            cp base.qcow2 k.qcow2
            rc=0
            # shellcheck disable=SC2086
            strace -o /dev/null -e trace=$call -e inject=$call:signal=KILL:when=$n \
                "$TVM" img snapshot $op k.qcow2 >/dev/null 2>&1 || rc=$?
            qemu-img check k.qcow2 >check.out 2>&1 ||
                { cat check.out >&2; fail "$op killed at $call #$n: qemu-img check fails"; }
            names_of k.qcow2 >k.names
            if cmp -s k.names before.names && qemu-img compare -q k.qcow2 base.qcow2; then
                old=1
            elif cmp -s k.names after.names && qemu-img compare -q k.qcow2 after.qcow2; then
                old=0
            else
                fail "$op killed at $call #$n: neither the old nor the new state"
            fi
            [ "$rc" = 0 ] && break
            kills=$((kills + 1))
            [ "$call$old" = pwrite640 ] && [ "$n" = 1 ] && fail "$op: switched before its first write"
        done
    done
done
[ "$kills" -ge 12 ] || fail "only $kills kill points were reached"
