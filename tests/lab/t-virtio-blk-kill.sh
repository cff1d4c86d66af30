#!/usr/bin/env bash
# A guest killed (SIGKILL to tvm-vmm) while it writes to a qcow2 overlay
# through virtio-blk leaves an image qemu-img check accepts: exit 0 (clean)
# or 3 (leaked clusters), never 2 (corruption).
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || fail "qemu-img/qemu-io missing"

# vdomain NAME CMD DISKS_XML: a domain whose guest runs CMD (spaces -> %20).
vdomain() {
    local run=${2// /%20}
    domain "$1" 2 256 "tvm.run=$run" destroy "$3"
}

step "SIGKILL while the guest writes: qemu-img check exit 0 or 3"
qemu-img create -q -f raw "$T/base.raw" 16M
qemu-io -f raw -c 'write -P 0xa5 0 16M' "$T/base.raw" >/dev/null
qemu-img create -q -f qcow2 -b "$T/base.raw" -F raw "$T/kill.qcow2"
cmd='head -c 65536 /dev/urandom >/tmp/r; echo TVM-WRITING; i=0;'
cmd+=' while true; do dd if=/tmp/r of=/dev/vda bs=65536 seek=$((i%250)) conv=fsync 2>/dev/null;'
cmd+=' i=$((i+1)); if [ $((i%16)) = 0 ]; then echo TVM-WROTE-$i; fi; done'
vdomain kill "$cmd" "$(disk_xml "$T/kill.qcow2" qcow2 vda)"
start
wait_console '^TVM-WROTE-32'  # writes are flowing (and allocating clusters)
sleep 1
kill -9 "$VMM_PID"
wait "$VMM_PID" 2>/dev/null || true
VMM_PID=
set +e
qemu-img check "$T/kill.qcow2" >"$T/check.log" 2>&1
rc=$?
set -e
echo "   qemu-img check exit $rc"
[ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || { cat "$T/check.log"; fail "qemu-img check exit $rc after SIGKILL"; }
echo "ok"
