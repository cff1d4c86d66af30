#!/usr/bin/env bash
# A real installer through firmware: Debian's installer kernel and initrd
# (package debian-installer-12-netboot-amd64) packed by this test into a
# bootable ISO with grub-mkrescue, attached as a CD-ROM on virtio-scsi to a
# domain with no <kernel>. SeaBIOS boots the CD, GRUB loads the 40 MB
# initrd through the BIOS, and the installer reaches its first dialog
# ("Select a language") on the serial console.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"
DI=/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64
[ -r "$DI/linux" ] && [ -r "$DI/initrd.gz" ] ||
    fail "Debian's installer is missing ($DI): run scripts/install-deps.sh"
for tool in grub-mkrescue xorriso mformat; do
    command -v "$tool" >/dev/null || fail "$tool missing: run scripts/install-deps.sh"
done

step "the installer's kernel and initrd in an El Torito ISO (grub-mkrescue)"
mkdir -p "$T/iso/install/boot/grub" "$T/iso/boot/grub"
cp "$DI/linux" "$T/iso/install/vmlinuz"
cp "$DI/initrd.gz" "$T/iso/install/initrd.gz"
cat >"$T/iso/boot/grub/grub.cfg" <<'CFG'
set timeout=0
menuentry "Install (serial console)" {
    echo GRUB-INSTALLER-ENTRY
    linux /install/vmlinuz console=ttyS0,115200n8 --- quiet
    initrd /install/initrd.gz
}
CFG
grub-mkrescue -o "$T/installer.iso" "$T/iso" >"$T/mkrescue.log" 2>&1 || {
    cat "$T/mkrescue.log" >&2
    fail "grub-mkrescue"
}
ls -l "$T/installer.iso" | awk '{print "   ISO: " $5 " bytes"}'

cdrom_boot_xml installer 1024 "$T/installer.iso" >"$T/installer.xml"
tvm define "$T/installer.xml" >/dev/null || fail "define installer"

step "SeaBIOS, GRUB, the installer's kernel, its first dialog"
tvm start installer >/dev/null || fail "start installer"
# newt draws the dialog with escape sequences between the words: read the
# log (and its rotated part) with them taken out.
screen_text() {
    { cat "$LOGDIR/installer.console.log.old" 2>/dev/null || true; cat "$LOGDIR/installer.console.log"; } |
        tr -d '\r' | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[()][0-9A-B]//g' >"$T/screen"
}
deadline=$((SECONDS + 400))
until screen_text && grep -aq 'Select a language' "$T/screen"; do
    [ $SECONDS -lt $deadline ] || fail "the installer showed no 'Select a language' dialog"
    case "$(state installer)" in running*) ;; *) fail "the guest stopped: $(state installer)" ;; esac
    sleep 2
done
grep -aoE 'SeaBIOS \(version[^)]*\)|Booting from DVD/CD|GRUB-INSTALLER-ENTRY|Select a language' "$T/screen" |
    sed 's/^/   /'
grep -aq 'Booting from DVD/CD' "$T/screen" || fail "SeaBIOS did not say it boots the CD"
grep -aq 'GRUB-INSTALLER-ENTRY' "$T/screen" || fail "GRUB's entry did not run"
step "the installer's first dialog is up"
tvm destroy installer >/dev/null || fail "destroy installer"
echo "ok"
