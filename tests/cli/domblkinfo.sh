# domblkinfo and blockresize on a stopped domain, with real images:
# capacity/allocation/physical as stat(1) and qemu-img see them, virsh's
# layouts (one disk, --human, --all with '-' for an empty CD-ROM), a disk
# found by target or path or through its pool volume; blockresize grows a
# raw and a qcow2 image (qemu-img info/check), takes KiB by default as
# virsh does, keeps a pool volume's record in step, and refuses shrinking,
# CD-ROMs and unknown disks without changing anything.
source "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"

P="$tmp/pool"
ok tvm pool-create-as pool dir --target "$P" --build
ok tvm vol-create-as pool v.qcow2 256M --format qcow2
qemu-img create -q -f qcow2 "$tmp/a.qcow2" 1G
qemu-img create -q -f raw "$tmp/b.raw" 64M
head -c 1M /dev/urandom | dd of="$tmp/b.raw" conv=notrunc status=none
cat >"$tmp/g.xml" <<XML
<domain type='kvm'><name>g</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type><kernel>/boot/vmlinuz</kernel></os>
<devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$tmp/a.qcow2'/><target dev='vda' bus='virtio'/></disk>
<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$tmp/b.raw'/><target dev='vdb' bus='virtio'/></disk>
<disk type='volume' device='disk'><driver name='qemu' type='qcow2'/><source pool='pool' volume='v.qcow2'/><target dev='vdc' bus='virtio'/></disk>
<disk type='file' device='cdrom'><driver name='qemu' type='raw'/><target dev='sda' bus='scsi'/><readonly/></disk>
</devices></domain>
XML
ok tvm define "$tmp/g.xml"
blocks() { echo $(($(stat -c %b "$1") * 512)); }

# ---- one disk, by target and by path ----
ok tvm domblkinfo g vda
out_is "Capacity:       1073741824
Allocation:     $(blocks "$tmp/a.qcow2")
Physical:       $(stat -c %s "$tmp/a.qcow2")

"
ok tvm domblkinfo g "$tmp/b.raw"
out_is "Capacity:       67108864
Allocation:     $(blocks "$tmp/b.raw")
Physical:       67108864

"
ok tvm domblkinfo g vdb --human
out_is "Capacity:       64.000 MiB
Allocation:     1.000 MiB
Physical:       64.000 MiB

"
# ---- --all: every disk; an empty drive shows '-' ----
ok tvm domblkinfo g --all
out_has " vdc      268435456    $(blocks "$P/v.qcow2")"
grep -qE "^ sda +- +- +-$" "$tmp/out" || fail "the empty CD-ROM is not '-'"
grep -qE "^ Target +Capacity +Allocation +Physical$" "$tmp/out" || fail "--all header"
ok tvm domblkinfo g --all --human
grep -qE "^ vda +1\.000 GiB " "$tmp/out" || fail "--all --human"
run 1 tvm domblkinfo g vdz
err_has "invalid path vdz not assigned to domain"
run 2 tvm domblkinfo g
err_has "give a TARGET or --all"

# ---- blockresize on the stopped domain: the images themselves ----
ok tvm blockresize g vdb 131072 # KiB, as virsh
out_is "Block device 'vdb' is resized

"
[ "$(stat -c %s "$tmp/b.raw")" -eq $((128 << 20)) ] || fail "b.raw did not grow to 128 MiB"
ok tvm blockresize g vda 2G
qemu-img info "$tmp/a.qcow2" | grep -q 'virtual size: 2 GiB' || fail "a.qcow2 did not grow to 2 GiB"
qemu-img check -q "$tmp/a.qcow2" || fail "qemu-img check a.qcow2 after blockresize"
ok tvm blockresize g vdc 300000000B # rounded up to a whole sector, as libvirt does
qemu-img info "$P/v.qcow2" | grep -q '(300000256 bytes)' || fail "v.qcow2 is not 300000256 bytes"
ok tvm vol-info v.qcow2 --pool pool --bytes
out_has "Capacity:       300000256 bytes"
ok tvm domblkinfo g vdc
out_has "Capacity:       300000256"

# ---- refusals change nothing ----
run 1 tvm blockresize g vda 1G
err_has "shrinking it to 1073741824 under the guest's file systems is refused"
run 1 tvm blockresize g sda 1G
err_has "disk 'sda' is a cdrom: only a disk can be resized"
run 1 tvm blockresize g vdz 1G
err_has "invalid path vdz not assigned to domain"
run 2 tvm blockresize g vda lots
qemu-img info "$tmp/a.qcow2" | grep -q 'virtual size: 2 GiB' || fail "a refusal changed a.qcow2"
ok tvm events
out_has "block-resized"
echo "domblkinfo: ok"
