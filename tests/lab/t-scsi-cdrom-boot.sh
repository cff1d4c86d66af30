#!/usr/bin/env bash
# SeaBIOS boots from a CD-ROM on virtio-scsi: an El Torito ISO made by
# grub-mkrescue (grub-pc-bin, xorriso, mtools) holding the lab's L2 kernel
# and initrd is the only boot device of a domain with no <kernel> and
# <boot dev='cdrom'/>, started by tvm (which opens the ISO and hands it to
# tvm-vmm). SeaBIOS says it boots from the CD, GRUB's entry runs, the
# guest comes up (TVM-GUEST-UP) and reads the CD it booted from: the
# kernel on /dev/sr0 is the lab's, byte for byte (md5).
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"
for tool in grub-mkrescue xorriso mformat; do
    command -v "$tool" >/dev/null || fail "$tool missing: run scripts/install-deps.sh"
done

step "an El Torito ISO with GRUB and the lab kernel (grub-mkrescue)"
run='mount -t iso9660 -o ro /dev/sr0 /mnt || exit 1;'
run+='echo CDBOOT-KERNEL=$(md5sum /mnt/boot/vmlinuz|cut -c1-32);umount /mnt'
cmdline="console=ttyS0 quiet panic=-1 tvm.run=${run// /%20}"
mkdir -p "$T/iso/boot/grub"
cp "$LAB_KERNEL" "$T/iso/boot/vmlinuz"
cp "$LAB_INITRD" "$T/iso/boot/initrd"
# GRUB's script language would expand $, split at ; and | and eat quotes:
# each word goes over as it is, its special characters escaped.
words=$(sed 's/[$;|&<>(){}"'"'"'\\]/\\&/g' <<<"$cmdline")
cat >"$T/iso/boot/grub/grub.cfg" <<CFG
set timeout=0
menuentry lab {
    echo GRUB-CD-ENTRY
    linux /boot/vmlinuz $words
    initrd /boot/initrd
}
CFG
grub-mkrescue -o "$T/boot.iso" "$T/iso" >"$T/mkrescue.log" 2>&1 || {
    cat "$T/mkrescue.log" >&2
    fail "grub-mkrescue"
}
want=$(md5sum <"$LAB_KERNEL" | cut -d' ' -f1)

cdrom_boot_xml cdboot 256 "$T/boot.iso" >"$T/cdboot.xml"
tvm define "$T/cdboot.xml" >/dev/null || fail "define cdboot"

step "SeaBIOS boots the CD, GRUB, then the guest"
tvm start cdboot >/dev/null || fail "start cdboot"
wait_count cdboot 'TVM-GUEST-RC=' 1
log=$(tr -d '\r' <"$LOGDIR/cdboot.console.log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g')
grep -aoE 'SeaBIOS \(version[^)]*\)|Booting from DVD/CD[^.]*|GRUB-CD-ENTRY|TVM-GUEST-UP|CDBOOT-KERNEL=[0-9a-f]*' \
    <<<"$log" | sed 's/^/   /'
grep -aq 'Booting from DVD/CD' <<<"$log" || fail "SeaBIOS did not boot from the CD"
grep -aq 'GRUB-CD-ENTRY' <<<"$log" || fail "GRUB's entry did not run"
grep -aq 'TVM-GUEST-UP' <<<"$log" || fail "no guest banner"
grep -aq "CDBOOT-KERNEL=$want" <<<"$log" || fail "the kernel read from /dev/sr0 differs (want $want)"
wait_state cdboot "shut off (shutdown)" 60
echo "ok"
