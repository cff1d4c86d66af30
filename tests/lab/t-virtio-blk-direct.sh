#!/usr/bin/env bash
# virtio-blk with <driver cache='none'/>: tvm-vmm opens the image with
# O_DIRECT (read from /proc/PID/fdinfo while the guest runs) when the
# filesystem takes it, and otherwise says it falls back to the page cache;
# either way the guest's writes land where qemu-io finds them.
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || fail "qemu-img/qemu-io missing"

# The lab's /tmp is a tmpfs that may refuse O_DIRECT; the work tree (9p)
# may take it. The first directory that takes it holds the image.
dirs=("$T")
if scratch=$(mktemp -d "$PWD/tvm-direct-XXXXXX" 2>/dev/null); then
    dirs=("$scratch" "$T")
    trap 'rm -rf "$scratch"; boot_cleanup' EXIT
fi
want=buffered where=$T
for d in "${dirs[@]}"; do
    if dd if=/dev/zero of="$d/probe" bs=4096 count=1 oflag=direct 2>/dev/null; then
        want=direct where=$d
        break
    fi
done
img=$where/direct.raw
qemu-img create -q -f raw "$img" 16M
qemu-io -f raw -c 'write -P 0xa5 0 16M' "$img" >/dev/null
step "the filesystem of $where: expecting $want I/O"

cmd='head -c 65536 /dev/zero | tr \\000 \\132 >/tmp/p;'
cmd+=' dd if=/tmp/p of=/dev/vda bs=512 seek=2049 count=3 conv=fsync,notrunc 2>/dev/null || exit 1;'
cmd+=' dd if=/tmp/p of=/dev/vda bs=65536 seek=64 count=1 conv=fsync,notrunc 2>/dev/null || exit 1;'
cmd+=' echo VDA-WRITTEN; sleep 30; sync'
disk="<disk type='file' device='disk'><driver name='qemu' type='raw' cache='none'/><source file='$img'/><target dev='vda' bus='virtio'/></disk>"
domain direct 1 256 "tvm.run=${cmd// /%20}" destroy "$disk"
start
wait_console '^VDA-WRITTEN'

step "tvm-vmm's file descriptor of the image"
flags=
for fd in /proc/$VMM_PID/fd/*; do
    [ "$(readlink "$fd")" = "$img" ] || continue
    flags=$(sed -n 's/^flags:[[:space:]]*//p' "/proc/$VMM_PID/fdinfo/${fd##*/}" 2>/dev/null || true)
done
[ -n "$flags" ] || fail "tvm-vmm (running: $(kill -0 "$VMM_PID" 2>/dev/null && echo yes || echo no)) has no descriptor of $img"
echo "   flags 0$flags"
direct=$(((8#$flags & 8#40000) != 0))
if [ $want = direct ]; then
    [ $direct = 1 ] || fail "cache='none' but the image is open without O_DIRECT (flags 0$flags)"
    ! grep -q 'refuses O_DIRECT' "$DIR/vmm.log" || fail "fallback warning on a filesystem with O_DIRECT"
else
    [ $direct = 0 ] || fail "O_DIRECT on a filesystem that refused it?"
    grep -q 'refuses O_DIRECT' "$DIR/vmm.log" || fail "no fallback warning in vmm.log"
fi

step "the guest's writes are in the image"
wait_exit
[ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC"
grep -q 'TVM-GUEST-RC=0' "$DIR/console.log" || fail "guest command failed"
# 3 sectors at sector 2049 (not 4 KiB aligned), 64 KiB at 4 MiB; 0xa5 around.
qemu-io -f raw -c 'read -P 0xa5 1048576 512' -c 'read -P 0x5a 1049088 1536' \
    -c 'read -P 0xa5 1050624 1024' -c 'read -P 0x5a 4194304 65536' \
    -c 'read -P 0xa5 4259840 65536' "$img" >"$T/qemu-io.out" 2>&1 ||
    fail "qemu-io: $(cat "$T/qemu-io.out")"
! grep -q 'Pattern verification failed' "$T/qemu-io.out" || fail "qemu-io: $(cat "$T/qemu-io.out")"
echo "ok"
