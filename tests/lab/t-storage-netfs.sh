#!/usr/bin/env bash
# A netfs pool on a real NFS export: L1 serves a directory with the
# kernel's NFS server (nfs-kernel-server's exportfs, rpc.mountd, rpc.nfsd;
# NFSv4 only, so no rpcbind) and tvm mounts it as libvirt does. Checks:
# pool-build makes the target, pool-start mounts HOST:PATH there as NFS
# with nodev,nosuid,noexec (findmnt is the oracle) and nfsvers from
# <protocol ver=.../> and <fs:mount_opts>, pool-info's sizes are the mount's (stat -f),
# vol-create-as writes a qcow2 file the server sees in its export and
# qemu-img checks clean, pool-refresh finds a volume the server side made,
# a pool unmounted behind tvm's back is not written to and start-autostarted
# (the boot unit's command) mounts it again, pool-destroy unmounts; a
# source path with a comma is refused by name and changes nothing. No L2
# guest: the host kernels of the build machines have no NFS server, L1's
# does.
set -euo pipefail
: "${TVM:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/tvm-netfs-XXXXXX")
fail() {
    echo "FAIL: $*" >&2
    [ -s "$T/err" ] && cat "$T/err" >&2
    exit 1
}
step() { echo "== $*"; }
cleanup() {
    umount "$T/mnt" "$T/mnt2" 2>/dev/null || true
    rpc.nfsd 0 2>/dev/null || true
    pkill -x rpc.mountd 2>/dev/null || true
    exportfs -ua 2>/dev/null || true
    umount /var/lib/nfs /proc/fs/nfsd 2>/dev/null || true
    umount "$T/export" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
tvm() { "$TVM" --db "$T/tvm.db" "$@" 2>"$T/err" || fail "tvm $* exited $?"; }
export TVM_RUNDIR=$T/run

for tool in exportfs rpc.nfsd rpc.mountd mount.nfs findmnt qemu-img; do
    command -v $tool >/dev/null || fail "$tool (nfs-kernel-server, nfs-common, util-linux, qemu-utils) is missing: run scripts/install-deps.sh"
done

# L1 runs its own kernel over the host's /, whose /lib/modules is the
# host's: its modules are loaded from the unpacked kernel package, each
# after the modules it depends on (modinfo names them).
kmods=${TVM_LAB_CACHE:-/nonexistent}/l1/root/lib/modules/$(uname -r)
# One walk of the module tree (it is read over 9p, slowly), then lookups.
find "$kmods/kernel" -name '*.ko*' >"$T/modules" 2>/dev/null || true
load_module() { # NAME
    local name=${1//-/_} ko dep
    grep -q "^$name " /proc/modules && return 0
    ko=$(grep -E "/(${name}|${1//_/-})\.ko(\.xz)?\$" "$T/modules" | head -1)
    [ -n "$ko" ] || { modprobe "$1" 2>/dev/null || true; return 0; }
    for dep in $(modinfo -F depends "$ko" | tr ',' ' '); do load_module "$dep"; done
    insmod "$ko" 2>/dev/null || true
}
for m in nfsd nfsv4; do load_module $m; done
grep -qw nfsd /proc/filesystems || fail "no NFS server in this kernel (nfsd)"
grep -qw nfs4 /proc/filesystems || fail "no NFSv4 client in this kernel (nfsv4)"

step "an NFSv4 export served by L1's kernel"
mkdir -p "$T/export" "$T/mnt"
# A file system of its own: the sizes compared below are the export's, and
# nothing else (this test's scratch files in /tmp) may change them meanwhile.
mount -t tmpfs -o size=64m tmpfs "$T/export"
mountpoint -q /proc/fs/nfsd || mount -t nfsd nfsd /proc/fs/nfsd
# /var/lib/nfs is the host's (read-only here): the server's state goes to a tmpfs.
mount -t tmpfs tmpfs /var/lib/nfs
mkdir -p /var/lib/nfs/v4recovery /var/lib/nfs/rpc_pipefs
: >/var/lib/nfs/etab
# The export is the server's NFSv4 root (fsid=0; clients name it "/"):
# L1's own / is a 9p mount, which NFS cannot build a pseudo-root on.
exportfs -i -o rw,no_root_squash,no_subtree_check,insecure,fsid=0 "127.0.0.1:$T/export"
rpc.mountd -N 2 -N 3 -n 2>"$T/mountd.err" || fail "rpc.mountd: $(cat "$T/mountd.err")"
# A short grace period: no client has state to reclaim from a fresh server.
rpc.nfsd -N 3 -U -G 10 -L 10 2 2>"$T/nfsd.err" || fail "rpc.nfsd: $(cat "$T/nfsd.err")"

step "pool-define-as / build / start: the export mounted as libvirt mounts it"
tvm pool-define-as nfsp netfs --source-host 127.0.0.1 --source-path / \
    --source-format nfs --target "$T/mnt"
tvm pool-build nfsp
tvm pool-start nfsp
findmnt -n -o SOURCE,FSTYPE,OPTIONS "$T/mnt" >"$T/mnt.info" || fail "nothing mounted on $T/mnt"
cat "$T/mnt.info"
read -r src fstype opts <"$T/mnt.info"
[ "$src" = "127.0.0.1:/" ] || fail "mounted source is '$src'"
case $fstype in nfs | nfs4) ;; *) fail "mounted file system type is '$fstype', not NFS" ;; esac
for o in nodev nosuid noexec; do [[ ,$opts, == *,$o,* ]] || fail "mount options lack $o: $opts"; done
tvm pool-list --all
grep -q "^ nfsp *active *no" <("$TVM" --db "$T/tvm.db" pool-list --all) || fail "nfsp not listed active"

step "pool-info: the mount's sizes"
tvm pool-info nfsp --bytes
"$TVM" --db "$T/tvm.db" pool-info nfsp --bytes >"$T/info"
read -r bs blocks bavail <<<"$(stat -f -c '%S %b %a' "$T/mnt")"
grep -q "^Capacity: *$((bs * blocks))\$" "$T/info" || fail "capacity is not statvfs's $((bs * blocks))"
grep -q "^Available: *$((bs * bavail))\$" "$T/info" || fail "available is not statvfs's $((bs * bavail))"

step "volumes: made through the mount, seen by the server; one the server made found"
tvm vol-create-as nfsp v1.qcow2 64M --format qcow2
[ -f "$T/export/v1.qcow2" ] || fail "the volume is not in the server's export"
qemu-img check -q "$T/export/v1.qcow2" || fail "qemu-img check fails on the volume"
[ "$(qemu-img info --output json "$T/export/v1.qcow2" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p')" = $((64 << 20)) ] ||
    fail "the volume is not 64 MiB"
qemu-img create -q -f raw "$T/export/server-made.img" 8M
tvm pool-refresh nfsp
tvm vol-list nfsp
"$TVM" --db "$T/tvm.db" vol-list nfsp | grep -q "server-made.img *$T/mnt/server-made.img" ||
    fail "pool-refresh did not find server-made.img"
tvm vol-delete v1.qcow2 --pool nfsp
[ ! -e "$T/export/v1.qcow2" ] || fail "vol-delete left the file on the server"

step "unmounted behind tvm's back (as by a reboot): no volume lands on the bare mount point; start-autostarted mounts it again"
tvm pool-autostart nfsp
umount "$T/mnt"
if "$TVM" --db "$T/tvm.db" vol-create-as nfsp lost.img 1M 2>"$T/err"; then fail "vol-create-as wrote to an unmounted pool"; fi
grep -q "storage pool 'nfsp' is not active" "$T/err" || fail "unexpected error: $(cat "$T/err")"
[ -z "$(ls -A "$T/mnt")" ] || fail "something was written under the bare mount point: $(ls -A "$T/mnt")"
"$TVM" --db "$T/tvm.db" start-autostarted >"$T/out" 2>"$T/err" || fail "start-autostarted: $(cat "$T/err")"
grep -qx "Pool nfsp started" "$T/out" || fail "start-autostarted printed: $(cat "$T/out")"
findmnt -n "$T/mnt" >/dev/null || fail "start-autostarted did not mount nfsp again"
[ -f "$T/mnt/server-made.img" ] || fail "the export's files are not back under the mount"

step "pool-destroy unmounts; <protocol ver='4'/> mounts with nfsvers=4, <fs:mount_opts> are added, the target path is cleaned"
tvm pool-destroy nfsp
! findmnt -n "$T/mnt" >/dev/null || fail "pool-destroy left $T/mnt mounted"
mkdir -p "$T/mnt2"
cat >"$T/p4.xml" <<XML
<pool type='netfs' xmlns:fs='http://libvirt.org/schemas/storagepool/fs/1.0'>
  <name>nfs4p</name>
  <source>
    <host name='127.0.0.1'/>
    <dir path='/'/>
    <format type='nfs'/>
    <protocol ver='4'/>
  </source>
  <target><path>$T//mnt2/</path></target>
  <fs:mount_opts>
    <fs:option name='sync'/>
  </fs:mount_opts>
</pool>
XML
tvm pool-define "$T/p4.xml"
tvm pool-start nfs4p
opts=$(findmnt -n -o OPTIONS "$T/mnt2") || fail "nfs4p not mounted"
[[ ,$opts, == *,vers=4* ]] || fail "nfs4p is not mounted as NFSv4: $opts"
[[ ,$opts, == *,sync,* ]] || fail "nfs4p's <fs:mount_opts> sync is not in its options: $opts"
tvm pool-destroy nfs4p

step "a source path mount would misread is refused, and nothing changes"
tvm pool-define-as badp netfs --source-host 127.0.0.1 --source-path "/export,ro" --target "$T/mnt"
if "$TVM" --db "$T/tvm.db" pool-start badp 2>"$T/err"; then fail "pool-start badp succeeded"; fi
grep -q "source path '/export,ro' must be an absolute path without spaces, commas" "$T/err" ||
    fail "unexpected error: $(cat "$T/err")"
! findmnt -n "$T/mnt" >/dev/null || fail "the refused start mounted something"
grep -q "^ badp *inactive" <("$TVM" --db "$T/tvm.db" pool-list --all) || fail "badp is not inactive"
echo ok
