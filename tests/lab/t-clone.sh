#!/usr/bin/env bash
# Clones boot: a template whose qcow2 disk holds a pattern (qemu-io) is
# cloned by tvm twice, full and --linked. The linked clone's definition, as
# tvm dumpxml prints it, boots on tvm-vmm with the full clone's disk added
# as vdb (one boot for both); the guest reads the template's pattern from
# each and writes its own at 1 MiB. Afterwards qemu-img and
# qemu-io see the full clone's disk standalone with the new pattern, the
# linked one layered on the template's disk (--backing-chain) with the new
# pattern on top, and the template's disk unchanged byte for byte.
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"
: "${TVM:?}"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || fail "qemu-img/qemu-io missing"
tvm() { "$TVM" --db "$T/tvm.db" "$@" >"$T/out" 2>"$T/err" || fail "tvm $* exited $?: $(cat "$T/err")"; }

step "template (qcow2, 0xa5) defined in tvm, cloned full and linked"
qemu-img create -q -f qcow2 "$T/tmpl.qcow2" 16M
qemu-io -f qcow2 -c 'write -P 0xa5 0 16M' "$T/tmpl.qcow2" >/dev/null
tmpl_sum=$(md5sum <"$T/tmpl.qcow2")
cmd='for d in vda vdb; do'
cmd+=' dd if=/dev/$d bs=512 count=1 2>/dev/null | hexdump -C | head -1 | sed s/^/$d-HEAD:/;'
cmd+=' head -c 65536 /dev/zero | tr \\000 \\132 >/tmp/p;'
cmd+=' dd if=/tmp/p of=/dev/$d bs=65536 seek=16 conv=fsync 2>/dev/null || exit 1;'
cmd+=' sync; echo 3 >/proc/sys/vm/drop_caches;'
cmd+=' dd if=/dev/$d bs=65536 skip=16 count=1 2>/dev/null | hexdump -C | head -1 | sed s/^/$d-NEW:/;'
cmd+=' done'
domain tmpl 1 256 "tvm.run=${cmd// /%20}" destroy "$(disk_xml "$T/tmpl.qcow2" qcow2 vda)"
tvm define "$DIR/domain.xml"
tvm template tmpl
tvm clone --original tmpl --name full
tvm clone --original tmpl --name thin --linked
[ -f "$T/full.qcow2" ] && [ -f "$T/thin.qcow2" ] || fail "the clones' disks are not $T/full.qcow2, $T/thin.qcow2"

step "thin boots with full's disk as vdb; the guest writes 0x5a at 1 MiB on both"
DIR=$T/thin
mkdir -p "$DIR"
tvm dumpxml thin
sed "s|</devices>|$(disk_xml "$T/full.qcow2" qcow2 vdb)</devices>|" "$T/out" >"$DIR/domain.xml"
start
wait_exit
[ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC"
grep -q 'TVM-GUEST-RC=0' "$DIR/console.log" || fail "the guest command failed"
for d in vda vdb; do
    grep -aq "^$d-HEAD:00000000  a5 a5 a5 a5" "$DIR/console.log" || fail "$d: the template's pattern is not read"
    grep -aq "^$d-NEW:00000000  5a 5a 5a 5a" "$DIR/console.log" || fail "$d: the new pattern is not read back"
done
for c in full thin; do
    qemu-img check -q "$T/$c.qcow2" || fail "qemu-img check: $c.qcow2"
    out=$(qemu-io -f qcow2 -c 'read -P 0x5a 1M 64k' -c 'read -P 0xa5 0 1M' "$T/$c.qcow2")
    ! echo "$out" | grep -qi 'fail' || fail "$c.qcow2 does not hold what the guest wrote: $out"
done

step "full is standalone, thin is layered on the template, the template is unchanged"
qemu-img info "$T/full.qcow2" | grep -q '^backing file' && fail "the full clone has a backing file"
qemu-img info --backing-chain "$T/thin.qcow2" >"$T/chain"
grep -q "^backing file: $T/tmpl.qcow2\$" "$T/chain" || fail "thin is not layered on tmpl.qcow2: $(cat "$T/chain")"
[ "$(md5sum <"$T/tmpl.qcow2")" = "$tmpl_sum" ] || fail "a clone's guest changed the template's disk"
"$TVM" --db "$T/tvm.db" undefine tmpl >/dev/null 2>&1 && fail "the template with a linked clone was undefined"
echo "ok"
