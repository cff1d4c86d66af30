#!/usr/bin/env bash
# A guest reboot throws the KVM VM away, and with it every MSI route,
# irqfd and ioeventfd: after the restart the virtio disk must work again.
# First boot: byte 0 of the disk is 'A', the guest writes 'B' and reboots;
# second boot: it reads 'B' back, reports it and powers off.
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"
command -v qemu-io >/dev/null || fail "qemu-io missing"

qemu-img create -q -f raw "$T/disk.raw" 4M
qemu-io -f raw -c 'write -P 0x41 0 4M' "$T/disk.raw" >/dev/null
run='x=$(dd if=/dev/vda bs=1 count=1 2>/dev/null);'
run+=' if [ $x = A ]; then echo VIRTIO-FIRST-BOOT; printf B | dd of=/dev/vda bs=1 count=1 conv=fsync 2>/dev/null; sync; reboot -f;'
run+=' else echo VIRTIO-SECOND-BOOT-$x; fi'
domain rb 2 256 "tvm.run=${run// /%20}" restart
sed -i "s|</on_crash>|</on_crash><devices><disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$T/disk.raw'/><target dev='vda' bus='virtio'/></disk></devices>|" "$DIR/domain.xml"
step "boot, write, reboot, read back"
start
wait_exit
[ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC"
grep -a 'VIRTIO-' "$DIR/console.log" | tr -d '\r' | sed 's/^/   /'
grep -aq '^VIRTIO-FIRST-BOOT' "$DIR/console.log" || fail "first boot did not see 'A'"
grep -q 'guest rebooted, restarting it' "$DIR/vmm.log" || fail "the VMM did not restart the guest"
grep -aq '^VIRTIO-SECOND-BOOT-B' "$DIR/console.log" || fail "after the reboot the disk did not read 'B'"
[ "$(head -c 2 "$T/disk.raw")" = BA ] || fail "disk does not start with BA"
! grep -q 'Call Trace\|WARNING:\|BUG:' "$DIR/console.log" || fail "guest kernel warned or oopsed"
echo "ok"
