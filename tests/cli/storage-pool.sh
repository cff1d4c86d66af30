# Storage pools on real directories and a real mount: define-as, build,
# start, refresh (finding what qemu-img made), sizes from statvfs, destroy,
# delete; the default pool made on first need; types tvm only stores.
source "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"

# ---- the default pool: made the first time a command needs it ----
ok tvm pool-list --all --name
out_lacks "default"
ok tvm vol-create-as default first.img 1M
out_is "Vol first.img created"$'\n'
[ -f "$tmp/images/first.img" ] || fail "the default pool is not beside the inventory ($tmp/images)"
ok tvm pool-list --all
out_has " default   active   yes"
ok tvm pool-dumpxml default
out_has "<path>$tmp/images</path>"

# ---- a dir pool, step by step ----
ok tvm pool-define-as p1 dir --target "$tmp/p1"
out_is "Pool p1 defined"$'\n'
run 1 tvm pool-start p1
err_has "cannot open directory '$tmp/p1': it does not exist (tvm pool-build p1 makes it)"
ok tvm pool-build p1
out_is "Pool p1 built"$'\n'
[ -d "$tmp/p1" ] || fail "pool-build made no $tmp/p1"
ok tvm pool-start p1
out_is "Pool p1 started"$'\n'
run 1 tvm pool-start p1
err_has "storage pool 'p1' is already active"
run 1 tvm pool-build p1
err_has "storage pool 'p1' is already active"

# sizes are the file system's, as statvfs (stat -f) gives them
ok tvm pool-info p1 --bytes
read -r bs blocks bfree bavail < <(stat -f -c '%S %b %f %a' "$tmp/p1")
out_has "Capacity:       $((bs * blocks))"
out_has "State:          running"
# allocation and available move as others write: within 64 MiB of stat's
alloc=$(awk '/^Allocation:/ { print $2 }' "$tmp/out")
avail=$(awk '/^Available:/ { print $2 }' "$tmp/out")
d=$((alloc - bs * (blocks - bfree))); [ "${d#-}" -lt $((64 << 20)) ] || fail "allocation $alloc, statvfs says $((bs * (blocks - bfree)))"
d=$((avail - bs * bavail)); [ "${d#-}" -lt $((64 << 20)) ] || fail "available $avail, statvfs says $((bs * bavail))"
ok tvm pool-list --details
out_has " p1        running   no          yes"
out_lacks " -  "

# refresh finds what others made, with the format and size they gave it
qemu-img create -q -f qcow2 "$tmp/p1/made-by-qemu.qcow2" 3G
qemu-img create -q -f raw "$tmp/p1/raw-by-qemu.img" 5M
ok tvm vol-list p1
out_lacks "made-by-qemu"
ok tvm pool-refresh p1
out_is "Pool p1 refreshed"$'\n'
ok tvm vol-list p1 --details
grep -qE "^ made-by-qemu.qcow2 +$tmp/p1/made-by-qemu.qcow2 +file +3.00 GiB " "$tmp/out" ||
    fail "refresh did not record the qcow2 image"
grep -qE "^ raw-by-qemu.img +$tmp/p1/raw-by-qemu.img +file +5.00 MiB " "$tmp/out" ||
    fail "refresh did not record the raw image"
ok tvm vol-dumpxml made-by-qemu.qcow2 p1
out_has "<format type='qcow2'/>"
# a file removed behind tvm's back is gone after the next refresh
rm "$tmp/p1/raw-by-qemu.img"
ok tvm pool-refresh p1
ok tvm vol-list p1
out_lacks "raw-by-qemu"

# destroy keeps the data; a stopped pool lists nothing and refuses volumes
ok tvm pool-destroy p1
out_is "Pool p1 destroyed"$'\n'
[ -f "$tmp/p1/made-by-qemu.qcow2" ] || fail "pool-destroy removed data"
run 1 tvm vol-list p1
err_has "storage pool 'p1' is not active"
run 1 tvm pool-destroy p1
err_has "storage pool 'p1' is not active"
run 1 tvm pool-refresh p1
err_has "storage pool 'p1' is not active"
ok tvm pool-info p1
out_lacks "Capacity"
# delete removes the directory only when it is empty
run 1 tvm pool-delete p1
err_has "cannot remove directory '$tmp/p1'"
rm "$tmp/p1/made-by-qemu.qcow2"
ok tvm pool-delete p1
out_is "Pool p1 deleted"$'\n'
[ ! -e "$tmp/p1" ] || fail "pool-delete left $tmp/p1"
ok tvm pool-undefine p1

# pool-create-as: defined and started at once (--build makes the directory)
ok tvm pool-create-as p2 dir --target "$tmp/p2" --build
out_is "Pool p2 created"$'\n'
ok tvm pool-list
out_has " p2        active   no"
# virsh's positional form: NAME TYPE SOURCE-HOST SOURCE-PATH SOURCE-DEV SOURCE-NAME TARGET
ok tvm pool-define-as p3 dir - - - - "$tmp/p3"
ok tvm pool-dumpxml p3
out_has "<path>$tmp/p3</path>"
out_lacks "<source>"
run 2 tvm pool-build p3 --overwrite --no-overwrite
err_has "--overwrite and --no-overwrite exclude each other"

# ---- bad input changes nothing ----
run 1 tvm pool-define-as bad dir --target relative/dir
err_has "target path"
err_has "'relative/dir' is not an absolute path"
run 1 tvm pool-define-as p2 dir --target "$tmp/other"
err_has "pool 'p2' already exists"
run 1 tvm pool-define-as 'a/b' dir --target "$tmp/x"
err_has "name"
ok tvm pool-list --all --name
out_lacks "bad"
out_lacks "a/b"

# ---- types tvm stores but does not run: refused at start, by name ----
cat >"$tmp/iscsi.xml" <<XML
<pool type='iscsi'>
  <name>san</name>
  <source>
    <host name='iscsi.example.com'/>
    <device path='iqn.2013-06.com.example:iscsi-pool'/>
  </source>
  <target>
    <path>/dev/disk/by-path</path>
  </target>
</pool>
XML
ok tvm pool-define "$tmp/iscsi.xml"
ok tvm pool-dumpxml san
out_has "<pool type='iscsi'>"
out_has "<device path='iqn.2013-06.com.example:iscsi-pool'/>"
run 1 tvm pool-start san
err_has "pool type 'iscsi' is not supported by tvm (dir, fs, netfs, logical)"
ok tvm pool-list --all
out_has " san       inactive   no"

# ---- netfs: what would reach mount's command line is checked first ----
# (a real NFS mount: lab/t-storage-netfs.sh, where L1's kernel serves one)
cat >"$tmp/nfs-bad.xml" <<XML
<pool type='netfs'>
  <name>nfsv</name>
  <source>
    <host name='srv'/>
    <dir path='/export'/>
    <protocol ver='4.1'/>
  </source>
  <target><path>$tmp/nfsmnt</path></target>
</pool>
XML
run 1 tvm pool-define "$tmp/nfs-bad.xml"
err_has "nfs-bad.xml:6: <protocol ver>: '4.1' is malformed (an NFS version: 3, 4)"
# libvirt's storagepool fs namespace: each option a plain word; the
# target path cleaned as libvirt cleans it
cat >"$tmp/nfs-opts.xml" <<XML
<pool type='netfs' xmlns:fs='http://libvirt.org/schemas/storagepool/fs/1.0'>
  <name>nfso</name>
  <source><host name='srv'/><dir path='/export'/></source>
  <target><path>$tmp//nfs///mnt/</path></target>
  <fs:mount_opts>
    <fs:option name='sync'/>
    <fs:option name='ro,remount'/>
  </fs:mount_opts>
</pool>
XML
run 1 tvm pool-define "$tmp/nfs-opts.xml"
err_has "nfs-opts.xml:7: <mount option>: 'ro,remount' is not a plain mount option"
sed -i '/ro,remount/d' "$tmp/nfs-opts.xml"
ok tvm pool-define "$tmp/nfs-opts.xml"
ok tvm pool-dumpxml nfso
out_has "<path>$tmp/nfs/mnt</path>"
out_has "<fs:option name='sync'/>"
ok tvm pool-undefine nfso
ok tvm pool-define-as nfsh netfs --source-host=-oremount --source-path /export --target "$tmp/nfsmnt"
ok tvm pool-build nfsh
[ -d "$tmp/nfsmnt" ] || fail "pool-build made no $tmp/nfsmnt"
run 1 tvm pool-start nfsh
err_has "pool 'nfsh': source host '-oremount' is not a host name or address"
ok tvm pool-define-as nfsf netfs --source-host srv --source-path /export --source-format ceph --target "$tmp/nfsmnt"
run 1 tvm pool-start nfsf
err_has "pool 'nfsf': netfs format 'ceph' is not one tvm mounts (auto, nfs, cifs, glusterfs)"
! findmnt -n "$tmp/nfsmnt" >/dev/null || fail "a refused netfs start mounted something"
ok tvm pool-list --all
out_has " nfsh      inactive   no"

# ---- an fs pool: a real file system on a loop device, mounted and unmounted ----
truncate -s 64M "$tmp/fs.img"
loop=$(losetup -f --show "$tmp/fs.img") || fail "losetup: no loop device"
cleanup() {
    umount "$tmp/fsmnt" 2>/dev/null || true
    losetup -d "$loop" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT
ok tvm pool-define-as fsp fs --source-dev "$loop" --source-format ext4 --target "$tmp/fsmnt"
ok tvm pool-build fsp --no-overwrite
out_is "Pool fsp built"$'\n'
[ "$(blkid -p -o value -s TYPE "$loop")" = ext4 ] || fail "pool-build --no-overwrite made no ext4 on $loop"
run 1 tvm pool-build fsp --no-overwrite
err_has "device '$loop' already holds a ext4 file system (--overwrite replaces it)"
ok tvm pool-start fsp
findmnt -n -o SOURCE "$tmp/fsmnt" | grep -qx "$loop" || fail "$loop is not mounted on $tmp/fsmnt"
ok tvm pool-info fsp --bytes
read -r bs blocks < <(stat -f -c '%S %b' "$tmp/fsmnt")
out_has "Capacity:       $((bs * blocks))"
ok tvm vol-create-as fsp disk.qcow2 1G --format qcow2
[ -f "$tmp/fsmnt/disk.qcow2" ] || fail "the volume is not on the mounted file system"
qemu-img check -q "$tmp/fsmnt/disk.qcow2" || fail "qemu-img check fails on the fs pool's volume"
ok tvm pool-destroy fsp
! findmnt -n "$tmp/fsmnt" >/dev/null || fail "pool-destroy left $tmp/fsmnt mounted"
[ ! -e "$tmp/fsmnt/disk.qcow2" ] || fail "the volume is visible with the pool stopped"
ok tvm pool-start fsp
ok tvm vol-list fsp
out_has "disk.qcow2"
ok tvm pool-destroy fsp
echo "storage-pool: ok"
