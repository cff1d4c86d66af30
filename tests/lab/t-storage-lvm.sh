#!/usr/bin/env bash
# A logical pool on a real LVM volume group: tvm's pool-build makes the PV
# and VG on a loop device (pvcreate, vgcreate), pool-start activates it,
# pool-info has the VG's size as vgs reports it, vol-create-as / vol-resize
# / vol-delete make, grow and remove real logical volumes (lvs is the
# oracle), pool-refresh finds one lvcreate made, vol-clone copies data, and
# destroy / delete take it all down. Needs device-mapper: the build hosts'
# kernels have none, so this runs in the lab's L1 (dm-mod loaded there).
set -euo pipefail
: "${TVM:?}"
T=$(mktemp -d "${TMPDIR:-/tmp}/tvm-lvm-XXXXXX")
VG=tvmlab$$
LOOP=
fail() {
    echo "FAIL: $*" >&2
    [ -s "$T/err" ] && cat "$T/err" >&2
    exit 1
}
cleanup() {
    vgremove -f "$VG" >/dev/null 2>&1 || true
    [ -n "$LOOP" ] && { pvremove -f "$LOOP" >/dev/null 2>&1 || true; losetup -d "$LOOP" 2>/dev/null || true; }
    rm -rf "$T"
}
trap cleanup EXIT
tvm() { "$TVM" --db "$T/tvm.db" "$@" 2>"$T/err" || fail "tvm $* exited $?"; }
export TVM_RUNDIR=$T/run LVM_SUPPRESS_FD_WARNINGS=1
# L1 sees the host's /etc read-only and runs no udev: LVM gets a
# configuration that writes no metadata backups and makes its own device
# nodes, and looks at loop devices only (tvm runs the lvm2 tools with this
# environment).
mkdir -p "$T/lvm"
cat >"$T/lvm/lvm.conf" <<CONF
backup {
    backup = 0
    archive = 0
}
activation {
    udev_sync = 0
    udev_rules = 0
}
devices {
    obtain_device_list_from_udev = 0
    filter = [ "a|^/dev/loop|", "r|.*|" ]
}
CONF
export LVM_SYSTEM_DIR=$T/lvm

for tool in pvcreate vgcreate lvcreate lvs vgs losetup; do
    command -v $tool >/dev/null || fail "$tool (package lvm2 / util-linux) is missing: run scripts/install-deps.sh"
done
# L1 runs its own kernel over the host's /, whose /lib/modules is the
# host's: its modules are loaded from the unpacked kernel package.
load_module() { # NAME PATH-BELOW-kernel/
    grep -q "^$1 " /proc/modules && return 0
    local ko
    ko=$(ls "${TVM_LAB_CACHE:-/nonexistent}"/l1/root/lib/modules/"$(uname -r)"/kernel/"$2".ko* 2>/dev/null | head -1)
    if [ -n "$ko" ]; then insmod "$ko" 2>/dev/null || true; else modprobe "$1" 2>/dev/null || true; fi
}
load_module loop drivers/block/loop
load_module dm_mod drivers/md/dm-mod
[ -e /dev/mapper/control ] || fail "no device-mapper in this kernel (dm-mod)"
[ -e /dev/loop-control ] || fail "no loop devices in this kernel"

truncate -s 256M "$T/pv.img"
LOOP=$(losetup -f --show "$T/pv.img")
tvm pool-define-as lvp logical --source-dev "$LOOP" --source-name "$VG" --target "/dev/$VG"
tvm pool-build lvp --no-overwrite
vgs "$VG" >/dev/null 2>&1 || fail "pool-build made no volume group $VG"
tvm pool-start lvp
tvm pool-info lvp --bytes >"$T/info"
size=$(vgs --noheadings --units b --nosuffix -o vg_size "$VG" | tr -d ' ')
grep -q "^Capacity:       $size\$" "$T/info" || fail "pool-info capacity is not vgs's $size: $(cat "$T/info")"

tvm vol-create-as lvp lv1 32M
[ -b "/dev/$VG/lv1" ] || fail "vol-create-as made no /dev/$VG/lv1"
[ "$(lvs --noheadings --units b --nosuffix -o lv_size "$VG/lv1" | tr -d ' ')" = 33554432 ] ||
    fail "lv1 is not 32 MiB to lvs"
printf 'tvm-lvm-data' | dd of="/dev/$VG/lv1" bs=4096 seek=100 conv=notrunc status=none
tvm vol-clone lv1 lv2 lvp
cmp "/dev/$VG/lv1" "/dev/$VG/lv2" || fail "vol-clone's copy differs"
tvm vol-resize lv1 64M --pool lvp
[ "$(lvs --noheadings --units b --nosuffix -o lv_size "$VG/lv1" | tr -d ' ')" = 67108864 ] ||
    fail "vol-resize did not grow lv1 to 64 MiB"
lvcreate --yes -q -n byhand -L 8M "$VG" >/dev/null
tvm pool-refresh lvp
tvm vol-list lvp --details >"$T/list"
grep -qE "^ byhand +/dev/$VG/byhand +block +8.00 MiB" "$T/list" || fail "refresh did not find byhand: $(cat "$T/list")"
"$TVM" --db "$T/tvm.db" vol-create-as lvp q.qcow2 8M --format qcow2 2>"$T/err" && fail "a qcow2 logical volume was made"
grep -q "logical volumes are raw" "$T/err" || fail "the qcow2 refusal does not say why: $(cat "$T/err")"
for v in lv1 lv2 byhand; do tvm vol-delete "$v" lvp; done
[ -z "$(lvs --noheadings -o lv_name "$VG")" ] || fail "vol-delete left logical volumes"
tvm pool-destroy lvp
tvm pool-delete lvp
! vgs "$VG" >/dev/null 2>&1 || fail "pool-delete left volume group $VG"
echo "ok"
