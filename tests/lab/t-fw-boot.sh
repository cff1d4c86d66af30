#!/usr/bin/env bash
# Firmware boot end to end, in one tvm-vmm process: a domain with no
# <kernel> and a qcow2 disk made here (MBR, FAT, GRUB for BIOS from
# grub-pc-bin, the lab kernel and initrd; fw-lib.sh) boots through
# Debian's SeaBIOS (bios-256k.bin) and GRUB to userspace.
# - SeaBIOS's banner, "Booting from Hard Disk", GRUB's "GRUB loading" and
#   its menu entry's echo reach the serial console (fw_cfg etc/sercon-port),
#   in that order, before the kernel's banner; the guest's VGA text screen
#   shows the BIOS's text too (Debian's ISA VGA BIOS, fw_cfg vgaroms/);
# - the disk is found through the bootorder file (<boot order='1'/>: the
#   QEMU-style path /pci@i0cf8/scsi@SLOT/disk@0,0), with a second, unbootable
#   disk given the lower priority;
# - QMP system_reset while GRUB runs: SeaBIOS POSTs again (a second banner)
#   and the guest still comes up;
# - the guest's ACPI tables are tvm-vmm's, placed by SeaBIOS's table loader
#   (RSDP in the BIOS's F segment, OEM "TVM"), and the ACPI power button
#   (QMP system_powerdown) powers it off: tvm-vmm exits "shutdown".
set -euo pipefail
: "${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

LAB_TAG=fwboot
. "$(dirname "${BASH_SOURCE[0]}")/vmm-lib.sh"
. "$(dirname "${BASH_SOURCE[0]}")/fw-lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img missing"

step "a GRUB disk made from files (no loop device)"
# No quotes: the kernel's command line parser eats them.
run='dmesg | grep RSDP | sed s/^/FW-RSDP:/; echo FW-ACPI-TABLES=$(ls /sys/firmware/acpi/tables | xargs);'
run+=' echo FW-DISKS=$(ls /sys/block | xargs); sleep 600'
make_grub_disk "$T/disk.raw" "console=ttyS0 quiet panic=-1 tvm.run=${run// /%20}" ||
    fail "cannot make the GRUB disk"
qemu-img convert -O qcow2 "$T/disk.raw" "$T/disk.qcow2"
qemu-img create -q -f raw "$T/blank.raw" 1M

DIR=$T/fw
mkdir -p "$DIR"
cat >"$DIR/domain.xml" <<XML
<domain type='kvm'>
  <name>fwboot</name>
  <memory unit='MiB'>256</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <devices>
    <video><model type='vga'/><address type='pci' domain='0' bus='0' slot='3' function='0'/></video>
    <disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$T/blank.raw'/><target dev='vda' bus='virtio'/><boot order='2'/><address type='pci' domain='0' bus='0' slot='4' function='0'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$T/disk.qcow2'/><target dev='vdb' bus='virtio'/><boot order='1'/><address type='pci' domain='0' bus='0' slot='5' function='0'/></disk>
  </devices>
</domain>
XML
"$TVM_VMM" --domain "$DIR/domain.xml" --rundir "$DIR" --console-log "$DIR/console.log" \
    >"$DIR/vmm.log" 2>&1 &
VMM_PID=$!

step "SeaBIOS, then GRUB, on the serial console"
wait_for "$DIR/console.log" "GRUB loading"
for s in 'SeaBIOS (version' 'Booting from Hard Disk'; do
    grep -qaF "$s" "$DIR/console.log" || fail "'$s' not on the console before GRUB"
done
wait_socket
qmp_listen 400

step "the same text on the VGA screen (the VGA BIOS from fw_cfg vgaroms/)"
screen=$(qmp '{"execute": "x-tvm-query-screen"}')
expect '"mode": "text"' "$screen"
# By now GRUB may have cleared the screen: its text or the BIOS's.
grep -qE 'Booting from Hard Disk|GRUB' <<<"$screen" || fail "no BIOS or GRUB text on the screen: $screen"

step "system_reset while GRUB runs: a second POST"
expect '"return": {}' "$(qmp '{"execute": "system_reset"}')"
deadline=$((SECONDS + BOOT_TIMEOUT))
until [ "$(grep -ac 'SeaBIOS (version' "$DIR/console.log")" -ge 2 ]; do
    [ $SECONDS -lt $deadline ] || fail "no second SeaBIOS banner after system_reset"
    vmm_alive || fail "tvm-vmm exited on system_reset"
    sleep 1
done
wait_for "$DIR/listen.qmp" '"event": "RESET"' 10

step "GRUB's entry, then the kernel: userspace"
wait_for "$DIR/console.log" "TVM-GUEST-UP"
wait_for "$DIR/console.log" "^FW-DISKS="
# The BIOS's serial console positions its cursor with escape sequences,
# even inside a line of GRUB's: read the text without them.
log=$(tr -d '\r' <"$DIR/console.log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g')
# In order: GRUB's echo comes after the last banner of SeaBIOS, before the guest's.
order=$(grep -aoE 'SeaBIOS \(version|GRUB-LAB-ENTRY|TVM-GUEST-UP' <<<"$log" | tail -3 | tr '\n' ' ')
[ "$order" = "SeaBIOS (version GRUB-LAB-ENTRY TVM-GUEST-UP " ] || fail "console order: $order"
grep -a '^FW-' <<<"$log" | sed 's/^/   /' || fail "no FW- line from the guest"
grep -aqE '^FW-RSDP:.*ACPI: RSDP 0x00000000000F[0-9A-F]{4} [0-9A-F]+ \(v02 TVM   \)' <<<"$log" ||
    fail "the guest's RSDP is not tvm-vmm's in the F segment"
for t in APIC DSDT FACP MCFG; do
    grep -aq "^FW-ACPI-TABLES=.*$t" <<<"$log" || fail "ACPI table $t missing in the guest"
done
grep -aq '^FW-DISKS=.*vda.*vdb' <<<"$log" || fail "the guest does not see both disks"

step "ACPI power button: the guest powers off"
expect '"return": {}' "$(qmp '{"execute": "system_powerdown"}')"
wait_exit shutdown 120
exec 7>&-
echo "PASS"
