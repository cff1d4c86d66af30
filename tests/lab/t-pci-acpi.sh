#!/usr/bin/env bash
# PCI found through ACPI alone: a guest WITHOUT pci=lastbus=1 on its
# command line, with a virtio-blk disk (no <address>: the lowest free
# slot, 01) and a virtio-rng at slot 0x07 (its <address>), finds both under
# the root bridge the DSDT describes: dmesg names "PCI Root Bridge [PCI0]",
# MMCONFIG (ECAM) for bus 00 is accepted and in /proc/iomem, the MCFG table
# is in /sys/firmware/acpi/tables, /dev/vda reads the image's bytes, the
# virtio devices take MSI-X interrupts, and no ACPI complaint is logged.
# Env: TVM_VMM, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"
command -v qemu-img >/dev/null && command -v qemu-io >/dev/null || fail "qemu-img/qemu-io missing"

qemu-img create -q -f raw "$T/disk.raw" 4M
qemu-io -f raw -c 'write -P 0x5c 0 4M' "$T/disk.raw" >/dev/null

cmd='cat /proc/cmdline | sed s/^/CMDLINE:/;
for d in /sys/bus/pci/devices/*; do echo PCIDEV:${d##*/}:$(cat $d/vendor):$(cat $d/device); done;
dmesg | grep -iE "PCI Root Bridge|MMCONFIG|ECAM|_OSC|acpi.*(error|warn|bug|fail|invalid)" | sed s/^/DMESG:/;
grep -iE "MMCONFIG|ECAM" /proc/iomem | sed s/^/IOMEM:/;
if test -e /sys/firmware/acpi/tables/MCFG; then echo MCFG-PRESENT; fi;
grep -E "virtio" /proc/interrupts | sed s/^/IRQ:/;
echo VDA:$(dd if=/dev/vda bs=16 count=1 2>/dev/null | hexdump -C | head -1)'
cmd=$(echo "$cmd" | tr '\n' ' ')
devices="$(disk_xml "$T/disk.raw" raw vda)
<rng model='virtio'><backend model='random'>/dev/urandom</backend><address type='pci' domain='0x0000' bus='0x00' slot='0x07' function='0x0'/></rng>"
domain pciacpi 1 256 "tvm.run=${cmd// /%20}" destroy "$devices"

step "guest without pci=lastbus finds its devices under \\_SB.PCI0"
start
set +e
wait_exit
set -e
[ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC"
log=$T/console.txt
tr -d '\r' <"$DIR/console.log" >"$log"
grep -E '^(PCIDEV|DMESG|IOMEM|MCFG|IRQ|VDA):' "$log" | sed 's/^/   /' || true
grep -q '^TVM-GUEST-RC=0' "$log" || fail "guest command failed"
! grep '^CMDLINE:' "$log" | grep -q 'lastbus' || fail "pci=lastbus on the guest's command line"
grep -q '^DMESG:.*ACPI: PCI Root Bridge \[PCI0\] (domain 0000 \[bus 00\])' "$log" ||
    fail "no 'PCI Root Bridge [PCI0]' in dmesg"
grep -qE '^DMESG:.*(MMCONFIG|ECAM).*for domain 0000 \[bus 00(-00)?\].*0xd0000000' "$log" ||
    grep -qE '^DMESG:.*(MMCONFIG|ECAM) for domain 0000 \[bus 00(-00)?\]' "$log" ||
    fail "no MMCONFIG/ECAM for domain 0000 bus 00 in dmesg"
# The ECAM window is reserved in e820 (early PCI init takes MMCONFIG from
# there) and by the PNP0C02 device (what Linux checks once ACPI is up).
grep -qE '^DMESG:.*MMCONFIG at \[mem 0xd0000000-0xd00fffff\] reserved (in|as) (ACPI motherboard resource|E820)' "$log" ||
    fail "Linux did not find the ECAM region reserved (e820 or PNP0C02)"
! grep -qE '^DMESG:.*not using MMCONFIG' "$log" || fail "Linux did not use MMCONFIG from early boot"
! grep -qiE '^DMESG:.*not reserved in ACPI motherboard' "$log" || fail "Linux refused the ECAM region"
grep -qiE '^IOMEM: *d0000000-d00fffff : PCI (MMCONFIG|ECAM) 0000 \[bus 00(-00)?\]' "$log" ||
    fail "ECAM region not in the guest's /proc/iomem (MMCONFIG not in use)"
grep -q '^MCFG-PRESENT' "$log" || fail "/sys/firmware/acpi/tables/MCFG missing"
grep -q '^PCIDEV:0000:00:00.0:' "$log" || fail "host bridge 00:00.0 not found"
grep -q '^PCIDEV:0000:00:01.0:0x1af4:0x1042' "$log" || fail "virtio-blk not at 00:01.0 (lowest free slot)"
grep -q '^PCIDEV:0000:00:07.0:0x1af4:0x1044' "$log" || fail "virtio-rng not at 00:07.0 (its <address>)"
[ "$(grep -c '^PCIDEV:' "$log")" -eq 3 ] || fail "expected exactly 3 PCI functions"
grep -q '^VDA:00000000 5c 5c 5c 5c' "$log" || fail "/dev/vda does not read the image's bytes"
grep -qE '^IRQ:.*PCI-MSI.*virtio' "$log" || fail "virtio devices do not use MSI-X"
bad=$(grep '^DMESG:' "$log" | grep -v 'ommand line:' | grep -iE 'acpi.*(error|warn|bug|fail|invalid)' |
    grep -vF 'use "pci=nocrs" and report a bug' || true)
[ -z "$bad" ] || fail "ACPI complaints in dmesg:
$bad"
! grep -q 'Call Trace\|WARNING:\|BUG:' "$log" || fail "guest kernel warned or oopsed"
echo "ok"
