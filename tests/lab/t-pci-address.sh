#!/usr/bin/env bash
# PCI addresses through tvm: define keeps a domain as written (as virsh's
# test driver does), `tvm start` gives the devices without <address> the
# lowest free slots in document order and stores them, so dumpxml shows
# them and the guest sees its devices there (/sys/bus/pci/devices/
# 0000:00:SS.0). A disk added in front later takes a new slot instead of
# moving the others: the next start keeps every earlier slot. Two devices
# on one slot: `tvm start` refuses, naming both.
# Env: TVM, TVM_VMM, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img missing"

for d in a:4 b:8 c:12; do qemu-img create -q -f raw "$T/${d%:*}.raw" "${d#*:}M"; done
disk() { echo "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$T/$1.raw'/><target dev='$2' bus='virtio'/>${3:-}</disk>"; }
slot() { echo "<address type='pci' domain='0x0000' bus='0x00' slot='$1' function='0x0'/>"; }
rng="<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>"
# What the guest prints: each PCI function, its device id and, for a disk,
# its size in sectors (4 MiB 8192, 8 MiB 16384, 12 MiB 24576).
run='for d in /sys/bus/pci/devices/*; do echo RUN-PCI:${d##*/}:$(cat $d/device):$(cat $d/virtio*/block/*/size 2>/dev/null); done'
guest_xml p1 1 256 "console=ttyS0 quiet panic=-1 tvm.run=${run// /%20}" restart \
    "$(disk a vda)
$(disk b vdb "$(slot 0x09)")
$rng" >"$T/p1.xml"

step "two devices on one slot: start refuses, naming them"
sed "s|</backend></rng>|</backend>$(slot 0x09)</rng>|; s|<name>p1<|<name>p2<|" "$T/p1.xml" >"$T/p2.xml"
tvm define "$T/p2.xml" >/dev/null || fail "define p2"
expect_err "rng: PCI slot 0x09 is also used by disk vdb" tvm start p2
[ "$(tvm dumpxml p2 | grep -c "<address type='pci'")" -eq 2 ] || fail "a refused start changed p2"

step "define keeps the document: only vdb has an address"
tvm define "$T/p1.xml" >/dev/null || fail "define p1"
[ "$(tvm dumpxml p1 | grep -c "<address type='pci'")" -eq 1 ] || fail "define assigned addresses"

# boot_once MARK: start p1, let the guest list its PCI functions and power off.
# boot_once N: start p1, let the guest list its PCI functions and power off;
# its last N lines of the list go to $T/seen (tvm starts a fresh log).
boot_once() {
    expect_out "Domain 'p1' started" tvm start p1
    local deadline=$((SECONDS + BOOT_TIMEOUT))
    until state p1 | grep -q '^shut off'; do
        [ $SECONDS -lt $deadline ] || fail "p1 still '$(state p1)' after ${BOOT_TIMEOUT}s"
        sleep 1
    done
    grep -q 'TVM-GUEST-RC=0' "$LOGDIR/p1.console.log" || fail "the guest's command did not run"
    tr -d '\r' <"$LOGDIR/p1.console.log" | grep '^RUN-PCI:' | tail -n "$1" >"$T/seen"
    sed 's/^/   /' "$T/seen"
}
saw() { grep -qx "RUN-PCI:0000:00:$1" "$T/seen" || fail "guest did not see 0000:00:$1"; }
# has_slot DUMP TARGET SLOT: in the dumpxml, the <address> under TARGET's line.
has_slot() { grep -A2 -- "$2" "$1" | grep -q "slot='$3'" || fail "dumpxml: $2 not at slot $3"; }

step "first start: vda and rng get slots 01 and 02, vdb keeps 09"
boot_once 4
saw "00.0:0x0008:"
saw "01.0:0x1042:8192"
saw "02.0:0x1044:"
saw "09.0:0x1042:16384"
tvm dumpxml p1 >"$T/d1.xml"
has_slot "$T/d1.xml" "dev='vda'" 0x01
has_slot "$T/d1.xml" "dev='vdb'" 0x09
grep -q "slot='0x02'" "$T/d1.xml" || fail "dumpxml: rng has no slot 0x02"
[ "$(grep -c "<address type='pci'" "$T/d1.xml")" -eq 3 ] || fail "dumpxml: want 3 PCI addresses"

step "a disk put first in the document takes a free slot; the others stay"
awk -v d="$(disk c vdc)" '/<disk/ && !done { print d; done = 1 } { print }' "$T/d1.xml" >"$T/p1b.xml"
tvm define "$T/p1b.xml" >/dev/null || fail "redefine p1"
boot_once 5
saw "01.0:0x1042:8192"
saw "02.0:0x1044:"
saw "03.0:0x1042:24576"
saw "09.0:0x1042:16384"
tvm dumpxml p1 >"$T/d2.xml"
has_slot "$T/d2.xml" "dev='vdc'" 0x03
has_slot "$T/d2.xml" "dev='vda'" 0x01
echo "ok"
