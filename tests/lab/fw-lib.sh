# make_grub_disk OUT.raw CMDLINE: a BIOS-bootable disk made from nothing
# but files and Debian's tools: an MBR partition table with one FAT
# partition at 1 MiB (mtools) holding the lab's L2 kernel, initrd and a
# grub.cfg, GRUB's boot.img in the MBR and a core.img (grub-mkimage from
# grub-pc-bin) in the gap before the partition, where boot.img looks for
# it by default (sector 1). No loop device, no root. GRUB's menu entry
# says GRUB-LAB-ENTRY on the BIOS console (int 10h: SeaBIOS's serial
# console), then boots the kernel with CMDLINE (words without spaces; a
# guest command's spaces as %20).
# Env: LAB_KERNEL, LAB_INITRD.
make_grub_disk() {
    local out=$1 cmdline=$2 dir
    dir=$(dirname "$out")
    local mib=64 part_start=2048
    local part_sectors=$((mib * 2048 - part_start))
    local tool
    for tool in grub-mkimage mformat mmd mcopy; do
        command -v "$tool" >/dev/null || { echo "FAIL: $tool missing (scripts/install-deps.sh)" >&2; return 1; }
    done
    [ -f /usr/lib/grub/i386-pc/boot.img ] || { echo "FAIL: grub-pc-bin missing" >&2; return 1; }
    truncate -s "${mib}M" "$out"
    # The partition table: one active FAT16 (LBA) partition, then 55 AA.
    le32() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 24 & 255)))"; }
    { printf '\x80\xfe\xff\xff\x0e\xfe\xff\xff'; le32 $part_start; le32 $part_sectors; } |
        dd of="$out" bs=1 seek=446 conv=notrunc status=none
    printf '\x55\xaa' | dd of="$out" bs=1 seek=510 conv=notrunc status=none
    mformat -i "$out@@$((part_start * 512))" -T $part_sectors -h 64 -s 32 -H $part_start -v LABBOOT ::
    mmd -i "$out@@$((part_start * 512))" ::/boot ::/boot/grub
    # GRUB's script language would expand \$, split at ; and | and eat
    # quotes, and GRUB's linux command double-quotes an argument holding a
    # space: each word goes over as it is, its special characters escaped.
    local words
    words=$(sed 's/[$;|&<>(){}"'"'"'\\]/\\&/g' <<<"$cmdline")
    cat >"$dir/grub.cfg" <<CFG
set timeout=0
menuentry lab {
    echo GRUB-LAB-ENTRY
    linux /boot/vmlinuz $words
    initrd /boot/initrd
}
CFG
    mcopy -i "$out@@$((part_start * 512))" "$LAB_KERNEL" ::/boot/vmlinuz
    mcopy -i "$out@@$((part_start * 512))" "$LAB_INITRD" ::/boot/initrd
    mcopy -i "$out@@$((part_start * 512))" "$dir/grub.cfg" ::/boot/grub/grub.cfg
    grub-mkimage -O i386-pc -o "$dir/core.img" -p '(hd0,msdos1)/boot/grub' \
        biosdisk part_msdos fat normal linux echo configfile
    [ "$(stat -c %s "$dir/core.img")" -lt $(((part_start - 1) * 512)) ] ||
        { echo "FAIL: core.img does not fit before the partition" >&2; return 1; }
    dd if=/usr/lib/grub/i386-pc/boot.img of="$out" bs=440 count=1 conv=notrunc status=none
    dd if="$dir/core.img" of="$out" bs=512 seek=1 conv=notrunc status=none
}
