#!/usr/bin/env bash
# Live disk resize: QMP block_resize grows a running guest's qcow2 and raw
# disks and the guest sees the new sizes at once (virtio-blk config change:
# /sys/block/vdX/size moves while it runs), writes past the old end, and
# after poweroff the host files are the new sizes with the guest's bytes
# there (qemu-io) and the qcow2 is clean (qemu-img check). Bad requests
# (unknown disk, shrinking, unaligned, missing size) are refused and
# change nothing. tvm-vmm runs under its sandbox throughout.
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || fail "qemu-img/qemu-io missing"
command -v socat >/dev/null || fail "socat missing"

qmp() {
    { echo '{"execute": "qmp_capabilities"}'; printf '%s\n' "$@"; } |
        socat -t 5 - "UNIX-CONNECT:$DIR/control.sock" || fail "no QMP connection (tvm-vmm gone?)"
}
expect() { grep -qF -- "$1" <<<"$2" || fail "expected '$1' in: $2"; }
resize() { qmp "{\"execute\": \"block_resize\", \"arguments\": {\"device\": \"$1\", \"size\": $2}}"; }

# The guest names its virtio disks in probe order, so the targets are vda, vdb.
step "a 64 MiB qcow2 vda and a 32 MiB raw vdb"
qemu-img create -q -f qcow2 "$T/b.qcow2" 64M
qemu-img create -q -f raw "$T/c.raw" 32M
# The guest reports the sizes, waits (at most 60 s) until both change,
# reports again and writes 0x5a into the last sector of each new disk.
cmd='b0=$(cat /sys/block/vda/size); c0=$(cat /sys/block/vdb/size); echo SIZES-BEFORE=$b0,$c0;'
# (No '&' in it: the command line travels inside the domain XML.)
cmd+=' i=0; while [ $i -lt 60 ]; do'
cmd+=' if [ $(cat /sys/block/vda/size) != $b0 ]; then if [ $(cat /sys/block/vdb/size) != $c0 ]; then break; fi; fi;'
cmd+=' sleep 1; i=$((i+1)); done;'
cmd+=' b1=$(cat /sys/block/vda/size); c1=$(cat /sys/block/vdb/size); echo SIZES-AFTER=$b1,$c1;'
cmd+=' head -c 512 /dev/zero | tr \\000 \\132 >/tmp/p;'
cmd+=' dd if=/tmp/p of=/dev/vda bs=512 seek=$((b1-1)) conv=fsync 2>/dev/null || exit 1;'
cmd+=' dd if=/tmp/p of=/dev/vdb bs=512 seek=$((c1-1)) conv=fsync 2>/dev/null || exit 1'
domain rs 2 256 "tvm.run=${cmd// /%20}" destroy "$(disk_xml "$T/b.qcow2" qcow2 vda)
$(disk_xml "$T/c.raw" raw vdb)"
start
wait_console '^SIZES-BEFORE='
grep -aq '^SIZES-BEFORE=131072,65536' "$DIR/console.log" || fail "guest does not see 64 and 32 MiB"

step "block_resize is listed; bad requests are refused"
out=$(qmp '{"execute": "query-commands"}')
expect '"block_resize"' "$out"
out=$(resize vdz 104857600)
expect "no disk 'vdz'" "$out"
out=$(resize vda 1048576)
expect 'shrink' "$out"
out=$(resize vda 100000001)
expect 'multiple of 512' "$out"
out=$(qmp '{"execute": "block_resize", "arguments": {"device": "vda"}}')
expect "'size'" "$out"
[ "$(stat -c %s "$T/c.raw")" -eq $((32 << 20)) ] || fail "a refused request changed vdb"

step "block_resize vda to 96 MiB and vdb to 48 MiB while the guest runs"
out=$(resize vda $((96 << 20)))
expect '{"return": {}}' "$out"
out=$(resize vdb $((48 << 20))) # the guest powers off once it has seen both
expect '{"return": {}}' "$out"
wait_exit
[ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC"
grep -a 'SIZES-' "$DIR/console.log" | tr -d '\r' | sed 's/^/   /'
grep -aq '^SIZES-AFTER=196608,98304' "$DIR/console.log" || fail "guest did not see 96 and 48 MiB"
grep -q 'TVM-GUEST-RC=0' "$DIR/console.log" || fail "guest could not write past the old end"
! grep -q 'Call Trace\|WARNING:\|BUG:' "$DIR/console.log" || fail "guest kernel warned or oopsed"

step "host: the files grew and hold the guest's last sectors"
[ "$(stat -c %s "$T/c.raw")" -eq $((48 << 20)) ] || fail "c.raw is not 48 MiB"
qemu-img check -q "$T/b.qcow2" || fail "qemu-img check b.qcow2"
qemu-img info "$T/b.qcow2" | grep -q 'virtual size: 96 MiB' || fail "b.qcow2 is not 96 MiB"
read_ok() { # FORMAT FILE OFF
    out=$(qemu-io -f "$1" -c "read -P 0x5a $3 512" "$2")
    echo "$out" | grep -q 'read 512/512 bytes' && ! echo "$out" | grep -qi 'fail' ||
        fail "$2 at $3 does not hold the guest's 0x5a: $out"
}
read_ok qcow2 "$T/b.qcow2" $(((96 << 20) - 512))
read_ok raw "$T/c.raw" $(((48 << 20) - 512))
echo "ok"
