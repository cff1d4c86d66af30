# Domains and their storage: <disk type='volume'> resolved at start (and
# refused, naming the disk, when its pool is stopped or its volume gone);
# undefine --remove-all-storage / --storage delete the volumes the domain
# used, as virsh does, and leave files no pool holds.
source "$(dirname "$0")/lib.sh"

P="$tmp/pool"
ok tvm pool-create-as pool dir --target "$P" --build
ok tvm vol-create-as pool root.qcow2 1G --format qcow2
ok tvm vol-create-as pool data.img 4M
truncate -s 1M "$tmp/outside.img"
: >"$tmp/vmlinuz"

cat >"$tmp/dom.xml" <<XML
<domain type='kvm'>
  <name>stor</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$tmp/vmlinuz</kernel>
  </os>
  <devices>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source pool='pool' volume='root.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$P/data.img'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$tmp/outside.img'/>
      <target dev='vdc' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML
ok tvm define "$tmp/dom.xml"

# ---- start: the volume is looked up before anything else is done ----
ok tvm pool-destroy pool
run 1 tvm start stor
err_has "disk vda: storage pool 'pool' is not active (tvm pool-start pool)"
ok tvm pool-start pool
mv "$P/root.qcow2" "$tmp/aside.qcow2"
ok tvm pool-refresh pool
run 1 tvm start stor
err_has "disk vda: volume 'root.qcow2' not found in pool 'pool'"
mv "$tmp/aside.qcow2" "$P/root.qcow2"
ok tvm pool-refresh pool
# resolved: whatever stops this host's start now (no kernel, no KVM), it is not the disk
run 1 tvm start stor
! grep -q "disk vda" "$tmp/err" || fail "the volume disk was refused although its pool runs: $(cat "$tmp/err")"
# the stored definition keeps the pool and volume
ok tvm dumpxml stor
out_has "<source pool='pool' volume='root.qcow2'/>"

# ---- undefine --storage: a name that is no disk refuses the whole undefine ----
run 1 tvm undefine stor --storage vdz
err_has "Volume 'vdz' was not found in domain's definition"
ok tvm list --all --name
out_has "stor"

# ---- --storage picks disks; --remove-all-storage takes every pool volume ----
ok tvm undefine stor --storage vdb
out_is "Domain 'stor' has been undefined
Volume 'vdb'($P/data.img) removed."$'\n'
[ ! -e "$P/data.img" ] && [ -f "$P/root.qcow2" ] || fail "--storage vdb removed the wrong files"
ok tvm vol-create-as pool data.img 4M
ok tvm define "$tmp/dom.xml"
ok tvm undefine stor --remove-all-storage
out_is "Domain 'stor' has been undefined
Volume 'vda'($P/root.qcow2) removed.
Volume 'vdb'($P/data.img) removed."$'\n'
err_has "Storage volume 'vdc'($tmp/outside.img) is not managed by tvm. Remove it manually."
[ ! -e "$P/root.qcow2" ] && [ ! -e "$P/data.img" ] || fail "--remove-all-storage left pool volumes"
[ -f "$tmp/outside.img" ] || fail "--remove-all-storage removed a file no pool holds"
ok tvm vol-list pool
out_lacks "root.qcow2"
out_lacks "data.img"
ok tvm list --all --name
out_lacks "stor"
echo "storage-domain: ok"
