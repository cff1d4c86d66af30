#!/usr/bin/env bash
# virtio-blk end to end: a qcow2 overlay on a raw base (made and checked by
# qemu-img/qemu-io) is the guest's /dev/vda. The guest reads the base's
# pattern through the overlay, writes a new pattern at 1 MiB and syncs;
# after poweroff qemu-img check is clean, qemu-io reads the new pattern from
# the overlay and the old one around it, and the base is unchanged. The
# serial comes through GET_ID, and a <readonly/> disk is read-only in the
# guest, refuses writes and keeps its bytes. (SIGKILL: t-virtio-blk-kill.sh.)
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || fail "qemu-img/qemu-io missing"

# vdomain NAME CMD DISKS_XML: a domain whose guest runs CMD (spaces -> %20).
vdomain() {
    local run=${2// /%20}
    domain "$1" 2 256 "tvm.run=$run" destroy "$3"
}

run_guest() {
    start
    wait_exit
    [ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC"
    grep -q 'TVM-GUEST-RC=0' "$DIR/console.log" || fail "guest command failed"
    ! grep -q 'Call Trace\|WARNING:\|BUG:' "$DIR/console.log" || fail "guest kernel warned or oopsed"
}

step "base (raw, 0xa5) and overlay (qcow2) made by qemu-img"
qemu-img create -q -f raw "$T/base.raw" 16M
qemu-io -f raw -c 'write -P 0xa5 0 16M' "$T/base.raw" >/dev/null
qemu-img create -q -f qcow2 -b "$T/base.raw" -F raw "$T/overlay.qcow2"
base_sum=$(md5sum <"$T/base.raw")
qemu-img create -q -f raw "$T/ro.raw" 1M
qemu-io -f raw -c 'write -P 0x3c 0 1M' "$T/ro.raw" >/dev/null
ro_sum=$(md5sum <"$T/ro.raw")

step "guest reads the backing pattern and writes 0x5a at 1 MiB"
cmd='echo VDA-SIZE=$(cat /sys/block/vda/size);'
cmd+=' echo VDA-SERIAL=$(cat /sys/block/vda/serial);'
cmd+=' echo VDB-RO=$(cat /sys/block/vdb/ro);'
cmd+=' dd if=/dev/vda bs=512 count=1 2>/dev/null | hexdump -C | head -1 | sed s/^/VDA-HEAD:/;'
cmd+=' head -c 65536 /dev/zero | tr \\000 \\132 >/tmp/p;'
cmd+=' dd if=/tmp/p of=/dev/vda bs=65536 seek=16 conv=fsync 2>/dev/null || exit 1;'
cmd+=' if dd if=/tmp/p of=/dev/vdb bs=512 count=1 conv=fsync 2>/dev/null; then echo VDB-WRITABLE; fi;'
cmd+=' sync; echo 3 >/proc/sys/vm/drop_caches;'
cmd+=' dd if=/dev/vda bs=65536 skip=16 count=1 2>/dev/null | hexdump -C | head -1 | sed s/^/VDA-NEW:/;'
cmd+=' dd if=/dev/vdb bs=512 count=1 2>/dev/null | hexdump -C | head -1 | sed s/^/VDB-HEAD:/'
vdomain blk "$cmd" "$(disk_xml "$T/overlay.qcow2" qcow2 vda '<serial>tvm-disk-1</serial>')
$(disk_xml "$T/ro.raw" raw vdb '<readonly/>')"
run_guest
grep -a 'VD[AB]-' "$DIR/console.log" | tr -d '\r' | sed 's/^/   /'
grep -aq '^VDA-SIZE=32768' "$DIR/console.log" || fail "guest does not see a 16 MiB vda"
grep -aq '^VDA-SERIAL=tvm-disk-1' "$DIR/console.log" || fail "serial (GET_ID) not seen by the guest"
grep -aq '^VDA-HEAD:00000000  a5 a5 a5 a5' "$DIR/console.log" || fail "backing pattern not read"
grep -aq '^VDA-NEW:00000000  5a 5a 5a 5a' "$DIR/console.log" || fail "new pattern not read back"
grep -aq '^VDB-RO=1' "$DIR/console.log" || fail "readonly disk not read-only in the guest"
! grep -aq 'VDB-WRITABLE' "$DIR/console.log" || fail "write to the readonly disk succeeded"
grep -aq '^VDB-HEAD:00000000  3c 3c 3c 3c' "$DIR/console.log" || fail "readonly disk not readable"

step "host: qemu-img check clean, qemu-io sees the patterns, base unchanged"
qemu-img check -q "$T/overlay.qcow2" || fail "qemu-img check: exit $?"
read_ok() { # PATTERN OFF LEN
    out=$(qemu-io -f qcow2 -c "read -P $1 $2 $3" "$T/overlay.qcow2")
    echo "$out" | grep -q 'read .* bytes' && ! echo "$out" | grep -qi 'fail' ||
        fail "overlay at $2+$3 is not $1: $out"
}
read_ok 0x5a 1M 64k
read_ok 0xa5 0 1M
read_ok 0xa5 1088k 1M
[ "$(md5sum <"$T/base.raw")" = "$base_sum" ] || fail "the backing file changed"
[ "$(md5sum <"$T/ro.raw")" = "$ro_sum" ] || fail "the readonly disk changed"

echo "ok"
