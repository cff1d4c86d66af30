#!/usr/bin/env bash
# A CD-ROM on virtio-scsi, end to end, in one guest boot: an ISO made by
# xorriso with a known file is the guest's /dev/sr0 (a CD/DVD device,
# vendor TVM); the guest mounts it and reads the file back identical
# (md5). `tvm change-media --eject` on the running guest shows in the
# guest as no medium (open fails: No medium found) and in the live
# domblklist as '-'; a second ISO put in with `change-media --insert` is
# mounted by the guest, which reads its file back identical. The stored
# definition keeps its medium (a live change). What tvm-vmm does not
# emulate is refused at start, by name: a CD-ROM on bus sata or virtio, a
# SCSI controller of another model.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"
command -v xorriso >/dev/null || fail "xorriso missing: run scripts/install-deps.sh"

step "two ISOs with a known file each (xorriso)"
mkdir -p "$T/one" "$T/two"
head -c 300000 /dev/urandom >"$T/one/one.bin"
head -c 123457 /dev/urandom >"$T/two/two.bin"
xorriso -as mkisofs -quiet -V TVMCD1 -o "$T/one.iso" "$T/one" 2>/dev/null || fail "xorriso one.iso"
xorriso -as mkisofs -quiet -V TVMCD2 -o "$T/two.iso" "$T/two" 2>/dev/null || fail "xorriso two.iso"
sum1=$(md5sum <"$T/one/one.bin" | cut -d' ' -f1)
sum2=$(md5sum <"$T/two/two.bin" | cut -d' ' -f1)

cdrom() { # TARGET BUS [SOURCE]
    echo "<disk type='file' device='cdrom'>${3:+<source file='$3'/>}<target dev='$1' bus='$2'/><readonly/></disk>"
}

step "refused at start, by name"
refuse() { # NAME DEVICES_XML MESSAGE
    guest_xml "$1" 1 128 "console=ttyS0 quiet" destroy "$2" >"$T/$1.xml"
    tvm define "$T/$1.xml" >/dev/null || fail "define $1"
    expect_err "$3" tvm start "$1"
    [[ "$(state "$1")" == "shut off"* ]] || fail "$1 is '$(state "$1")' after a refused start"
}
refuse sata "$(cdrom sda sata "$T/one.iso")" "<disk device='cdrom'> with <target bus='sata'> is not supported"
refuse onvirtio "$(cdrom vdb virtio "$T/one.iso")" "<disk device='cdrom'> with <target bus='virtio'> is not supported"
refuse lsi "$(cdrom sda scsi "$T/one.iso")<controller type='scsi' model='lsilogic'/>" \
    "controller scsi 0: model 'lsilogic' is not supported"

# The guest: find sr0, read one.bin, wait for the host's eject, then for a
# medium it can mount again, and read two.bin.
run='i=0;while [ ! -b /dev/sr0 -a $i -lt 100 ];do usleep 100000;i=$((i+1));done;'
run+='echo CD-DEV=$(cat /sys/block/sr0/device/type),$(cat /sys/block/sr0/device/vendor);'
run+='mount -t iso9660 -o ro /dev/sr0 /mnt || exit 1;'
run+='echo CD1=$(md5sum /mnt/one.bin|cut -d" " -f1);umount /mnt;echo CD-WAIT-EJECT;'
run+='while dd if=/dev/sr0 of=/dev/null bs=2048 count=1 2>/tmp/e;do usleep 200000;done;'
run+='echo CD-ERR=$(head -1 /tmp/e);i=0;'
run+='until mount -t iso9660 -o ro /dev/sr0 /mnt 2>/dev/null;do usleep 200000;i=$((i+1));[ $i -le 900 ] || exit 1;done;'
run+='echo CD2=$(md5sum /mnt/two.bin|cut -d" " -f1);umount /mnt'
guest_xml cd 1 256 "console=ttyS0 quiet panic=-1 tvm.run=${run// /%20}" destroy \
    "$(cdrom sda scsi "$T/one.iso")
<controller type='scsi' model='virtio-scsi'/>" >"$T/cd.xml"
tvm define "$T/cd.xml" >/dev/null || fail "define cd"
grep -q "<address type='drive' controller='0' bus='0' target='0' unit='0'/>" <(tvm dumpxml cd) ||
    fail "no drive address in the stored definition"

step "the guest reads the first ISO"
tvm start cd >/dev/null || fail "start cd"
wait_count cd '^CD-WAIT-EJECT' 1
grep -a '^CD' "$LOGDIR/cd.console.log" | tr -d '\r' | sed 's/^/   /'
grep -aq '^CD-DEV=5,TVM' "$LOGDIR/cd.console.log" || fail "sr0 is not a CD/DVD device of vendor TVM"
grep -aq "^CD1=$sum1" "$LOGDIR/cd.console.log" || fail "one.bin read back differs (want $sum1)"

step "eject from the host: no medium in the guest"
expect_out "Successfully ejected media." tvm change-media cd sda --eject
wait_count cd '^CD-ERR=' 1 60
grep -a '^CD-ERR=' "$LOGDIR/cd.console.log" | tr -d '\r' | sed 's/^/   /'
grep -aq '^CD-ERR=.*No medium found' "$LOGDIR/cd.console.log" || fail "the guest did not see an empty drive"
tvm domblklist cd | grep -Eq '^ sda +-$' || fail "live domblklist: sda should show no medium"
expect_err "The disk device 'sda' doesn't have media" tvm change-media cd sda --eject

step "insert the second ISO: the guest reads its file"
expect_out "Successfully inserted media." tvm change-media cd sda "$T/two.iso" --insert
wait_count cd 'TVM-GUEST-RC=' 1 120
grep -a '^CD2=' "$LOGDIR/cd.console.log" | tr -d '\r' | sed 's/^/   /'
grep -aq "^CD2=$sum2" "$LOGDIR/cd.console.log" || fail "two.bin read back differs (want $sum2)"
grep -aq 'TVM-GUEST-RC=0' "$LOGDIR/cd.console.log" || fail "guest script failed"
! grep -aq 'Call Trace\|WARNING:\|BUG:' "$LOGDIR/cd.console.log" || fail "guest kernel warned or oopsed"
wait_state cd "shut off (shutdown)" 60
tvm dumpxml cd --inactive | grep -q "<source file='$T/one.iso'/>" ||
    fail "a live change went into the stored definition"
echo "ok"
