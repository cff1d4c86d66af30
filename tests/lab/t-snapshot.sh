#!/usr/bin/env bash
# Snapshots around a real guest (one boot): the guest writes its qcow2 disk
# through tvm-vmm after an internal snapshot was taken (so every write
# copies a cluster the snapshot shares). Once it is off: qemu-img check is
# clean, the snapshot reverted reads as the disk did before the boot (qemu-img
# compare with a copy taken then), and in a three-level tree with a branch
# (s1 - s2 - s3, s2 - s4) deleting the middle node s2 leaves s3 and s4
# revertible, each with its own content.
# A running guest's snapshots (checkpoints): t-snapshot-live.sh.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || fail "qemu-img/qemu-io missing"

reads() { # PATTERN OFF LEN
    qemu-io -r -c "read -P $1 $2 $3" "$T/vda.qcow2" | grep -q '^read ' ||
        fail "vda does not read $1 at $2 (+$3)"
}
tags() { qemu-img snapshot -l "$T/vda.qcow2" | awk 'NR > 2 { printf "%s ", $2 }'; }

step "disk made, 0x11 written by the host, snapshot s1 of the shut-off guest"
"$TVM" img create -f qcow2 "$T/vda.qcow2" 16M >/dev/null
qemu-io -c 'write -P 0x11 0 4M' "$T/vda.qcow2" >/dev/null
run='dd if=/dev/vda bs=65536 count=1 2>/dev/null | hexdump -C | head -1 | sed s/^/SNAP-SEEN:/;'
run+=' head -c 1048576 /dev/zero | tr \\000 \\042 >/tmp/p;'
run+=' dd if=/tmp/p of=/dev/vda bs=65536 seek=16 conv=fsync 2>/dev/null || exit 1;'
run+=' sync; echo SNAP-WROTE; sleep 8'
guest_xml snapg 1 256 "console=ttyS0 quiet panic=-1 tvm.run=${run// /%20}" restart \
    "$(disk_xml "$T/vda.qcow2" qcow2 vda)" >"$T/snapg.xml"
tvm define "$T/snapg.xml" >/dev/null || fail "define"
expect_out "Domain snapshot s1 created" tvm snapshot-create-as snapg --name s1
cp "$T/vda.qcow2" "$T/before-boot.qcow2"

step "the guest writes 0x22 at 1 MiB"
tvm start snapg >/dev/null || fail "start"
wait_count snapg SNAP-WROTE 1
grep -aq '^SNAP-SEEN:00000000  11 11 11 11' "$LOGDIR/snapg.console.log" || fail "guest did not read 0x11"
until [ "$(tvm domstate snapg | head -1)" = "shut off" ]; do
    [ $SECONDS -lt 400 ] || fail "guest did not power off"
    sleep 1
done
qemu-img check -q "$T/vda.qcow2" || fail "qemu-img check after the guest's writes"
reads 0x22 1M 1M
[ "$(tags)" = "s1 " ] || fail "snapshots after the boot: $(tags)"

step "s2 of what the guest wrote; revert to s1 gives the disk from before the boot"
expect_out "Domain snapshot s2 created" tvm snapshot-create-as snapg --name s2
expect_out "Domain snapshot s1 reverted" tvm snapshot-revert snapg s1
qemu-img compare -q "$T/vda.qcow2" "$T/before-boot.qcow2" || fail "s1 reverted differs from the disk before the boot"

step "tree s1 - s2 - s3, s2 - s4; delete s2; s3 and s4 keep their own content"
expect_out "Domain snapshot s2 reverted" tvm snapshot-revert snapg s2
qemu-io -c 'write -P 0x33 8M 64k' "$T/vda.qcow2" >/dev/null
expect_out "Domain snapshot s3 created" tvm snapshot-create-as snapg --name s3
expect_out "Domain snapshot s2 reverted" tvm snapshot-revert snapg s2 --force
qemu-io -c 'write -P 0x44 8M 64k' "$T/vda.qcow2" >/dev/null
expect_out "Domain snapshot s4 created" tvm snapshot-create-as snapg --name s4
expect_out "Domain snapshot s2 deleted" tvm snapshot-delete snapg s2
qemu-img check -q "$T/vda.qcow2" || fail "qemu-img check after deleting s2"
[ "$(tags)" = "s1 s3 s4 " ] || fail "snapshots after deleting s2: $(tags)"
expect_out "s1" tvm snapshot-parent snapg s3
expect_out "s1" tvm snapshot-parent snapg s4
expect_out "Domain snapshot s3 reverted" tvm snapshot-revert snapg s3
reads 0x22 1M 1M
reads 0x33 8M 64k
expect_out "Domain snapshot s4 reverted" tvm snapshot-revert snapg s4
reads 0x22 1M 1M
reads 0x44 8M 64k
expect_out "Domain snapshot s1 reverted" tvm snapshot-revert snapg s1
qemu-img compare -q "$T/vda.qcow2" "$T/before-boot.qcow2" || fail "s1 changed after the tree's edits"
qemu-img check -q "$T/vda.qcow2" || fail "qemu-img check at the end"
echo "ok"
