#!/usr/bin/env bash
# A running guest's snapshot (a checkpoint), on one guest boot: the guest
# counts on its console (TICK-N, one a second) and writes N to its qcow2
# disk and reads it back; live1 is taken from the TUI's snapshot pane (T)
# while it counts. Then the host tells it (a word on a read-only raw disk
# it polls) to write its "file", a block of its qcow2 disk it reads back
# every tick. Reverting to live1 (only with --force while it runs) brings
# the count back to the snapshot's instant, neither to the start nor to
# the later value, without a second boot, and the file is gone. A paused
# guest's checkpoint is paused and leaves it paused; a shut-off domain
# reverted to live1 runs from it; qemu-img check is clean and snapshot -l
# lists the tags; deleting live1 takes its saved state, undefine
# --snapshots-metadata the rest. Refusals while it runs: --no-metadata, a
# memory-less internal snapshot. Last, p1 is reverted to run again and
# takes a disk-only snapshot ds1: vda goes onto the overlay live.ds1 while
# the guest counts on; it writes its file after that, and the overlay
# alone holds it, while live.qcow2 stays as it was at ds1 (qemu-img
# compare against a copy taken then, its count between the ticks around
# ds1), both clean for qemu-img check, the chain overlay -> live.qcow2;
# a managed save taken then names the overlay and the guest resumes on it.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"
: "${TVM_SRC:?}"
command -v qemu-img >/dev/null || fail "qemu-img missing"

"$TVM" img create -f qcow2 "$T/live.qcow2" 16M >/dev/null
head -c 1M /dev/zero >"$T/go.raw"
# Every tick: the count to vda and back; the file's block read back; the
# host's word on vdb read (caches dropped: the disks answer, not memory).
loop='i=0; while :; do echo $i | dd of=/dev/vda bs=512 seek=100 conv=fsync 2>/dev/null;'
loop+=' echo 3 >/proc/sys/vm/drop_caches;'
loop+=' if [ "$(dd if=/dev/vdb bs=512 count=1 2>/dev/null | tr -dc A-Z)" = GO ]; then'
loop+=' echo LIVE-FILE | dd of=/dev/vda bs=512 seek=200 conv=fsync 2>/dev/null; fi;'
loop+=' echo TICK-$i DISK-$(dd if=/dev/vda bs=512 skip=100 count=1 2>/dev/null | head -1)'
loop+=' FILE-$(dd if=/dev/vda bs=512 skip=200 count=1 2>/dev/null | tr -dc A-Z-);'
loop+=' i=$((i+1)); sleep 1; done'
guest_xml liveg 1 256 "console=ttyS0 quiet panic=-1 tvm.run=${loop// /%20}" restart \
    "$(disk_xml "$T/live.qcow2" qcow2 vda)
$(disk_xml "$T/go.raw" raw vdb "<readonly/>")" >"$T/liveg.xml"
tvm define "$T/liveg.xml" >/dev/null || fail "define liveg"
say() { printf '%s' "$1" | dd of="$T/go.raw" conv=notrunc 2>/dev/null; }

# ticks: "N FILE" for every TICK-N whose disk gave N back, from the console
# log (each start begins it afresh).
ticks() {
    tr -d '\r' <"$LOGDIR/liveg.console.log" |
        sed -n 's/^TICK-\([0-9]*\) DISK-\1 FILE-\([A-Z-]*\)$/\1 \2/p'
}
last_tick() { ticks | tail -1 | cut -d' ' -f1; }
first_tick() { ticks | head -1 | cut -d' ' -f1; }
ticks_past() { # N: until a tick above N shows
    local deadline=$((SECONDS + 120))
    until [ "$(last_tick)" -gt "$1" ] 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || fail "no tick past $1 (last: $(last_tick))"
        sleep 0.5
    done
}

step "boot; the guest counts"
expect_out "Domain 'liveg' started" tvm start liveg
wait_count liveg TVM-GUEST-UP 1
ticks_past 1

step "checkpoint live1 from the TUI's snapshot pane (T) while the guest counts"
n0=$(last_tick)
(
    lcdb=$DB lcrun=$TVM_RUNDIR
    . "$TVM_SRC/tests/tui/lib.bash"
    DB=$lcdb TVM_RUNDIR=$lcrun
    tui_start 120 30
    wait_for " liveg " 60
    keys T
    wait_for "Take a snapshot..." 60
    keys Enter
    wait_for "Snapshot name" 60
    keys -l live1
    keys Enter
    wait_for "Description:" 60
    keys -l "while counting"
    keys Enter
    wait_for "Domain snapshot live1 created" 120
    keys q
    wait_for "TVM-EXIT=0" 60
) || fail "the TUI did not take live1"
n1=$(last_tick)
[ "$(state liveg)" = "running (booted)" ] || fail "after the checkpoint: $(state liveg)"
ticks_past $((n1 + 1))
for want in "<state>running</state>" "<memory snapshot='internal'/>" \
    "<disk name='vda' snapshot='internal'/>" "<disk name='vdb' snapshot='no'/>" \
    "<description>while counting</description>"; do
    expect_out "$want" tvm snapshot-dumpxml liveg live1
done
state_file=$T/snapshot/$(uuid_of liveg)/live1.save
[ -s "$state_file" ] || fail "no saved state at $state_file"
echo "   taken between TICK-$n0 and TICK-$n1: $(($(stat -c %s "$state_file") / 1024)) KiB of" \
    "saved state for 256 MiB; $(tvm events | grep -o 'paused [0-9]* ms' | tail -1)"

step "while it runs: --no-metadata and a memory-less internal snapshot are refused by name"
expect_err "drop --no-metadata" tvm snapshot-create-as liveg --name x --no-metadata
printf '<domainsnapshot><name>x</name><memory snapshot="no"/></domainsnapshot>' >"$T/nomem.xml"
expect_err "internal snapshot of a running VM must include the memory state" \
    tvm snapshot-create liveg "$T/nomem.xml"
[ "$(tvm snapshot-list liveg --name | grep -c .)" = 1 ] || fail "a refused snapshot left a record"

step "told so, the guest writes its file; revert to live1 (with --force) brings the count back"
say GO
deadline=$((SECONDS + 120))
until ticks | grep -q ' LIVE-FILE$'; do
    [ $SECONDS -lt $deadline ] || fail "the guest never wrote its file"
    sleep 0.5
done
later=$(last_tick)
say NO # not in the snapshot (read-only disk): the reverted guest must not be told again
expect_err "revert with --force" tvm snapshot-revert liveg live1
[ "$(state liveg)" = "running (booted)" ] || fail "a refused revert changed the guest: $(state liveg)"
expect_out "Domain snapshot live1 reverted" tvm snapshot-revert liveg live1 --force
[ "$(state liveg)" = "running (restored)" ] || fail "after the revert: $(state liveg)"
ticks_past $((n1 + 2))
f=$(first_tick)
[ "$f" -ge "$n0" ] && [ "$f" -le $((n1 + 1)) ] ||
    fail "reverted, the count went on from TICK-$f; live1 was taken between TICK-$n0 and TICK-$n1, the guest was at TICK-$later"
[ "$(count liveg TVM-GUEST-UP)" -eq 0 ] || fail "the reverted guest booted again"
ticks | awk '$2 != "" { bad = 1 } END { exit bad }' ||
    fail "the file is back after the revert: $(ticks | tr '\n' ' ')"
echo "   the file was written by TICK-$later; reverted, the guest counts on from TICK-$f without it"

step "a paused guest's checkpoint is paused and leaves it paused; it is of the machine that runs"
expect_out "Domain 'liveg' suspended" tvm suspend liveg
# a disk defined meanwhile is the next boot's, not the running machine's
"$TVM" img create -f qcow2 "$T/later.qcow2" 16M >/dev/null
sed -e "s#</devices>#$(disk_xml "$T/later.qcow2" qcow2 vdc)</devices>#" \
    -e "s#<name>liveg</name>#&<uuid>$(uuid_of liveg)</uuid>#" "$T/liveg.xml" >"$T/liveg-later.xml"
grep -q "dev='vdc'" "$T/liveg-later.xml" || fail "the test's vdc did not go into the XML"
tvm define "$T/liveg-later.xml" >/dev/null || fail "define liveg with vdc while it runs"
expect_out "Domain snapshot p1 created" tvm snapshot-create-as liveg p1
expect_out "<state>paused</state>" tvm snapshot-dumpxml liveg p1
! tvm snapshot-dumpxml liveg p1 | grep -q "vdc" || fail "p1 names vdc, which the guest never had"
qemu-img snapshot -l "$T/later.qcow2" | grep -q p1 && fail "vdc got an internal snapshot p1"
sed "s#<name>liveg</name>#&<uuid>$(uuid_of liveg)</uuid>#" "$T/liveg.xml" >"$T/liveg-back.xml"
tvm define "$T/liveg-back.xml" >/dev/null || fail "define liveg back"
[ "$(tvm domstate liveg | head -1)" = "paused" ] || fail "after a paused checkpoint: $(state liveg)"

step "shut off: qemu-img sees both tags; reverted to live1 it runs from there"
expect_out "Domain 'liveg' destroyed" tvm destroy liveg
qemu-img check -q "$T/live.qcow2" || fail "qemu-img check after the checkpoints"
tags=$(qemu-img snapshot -l "$T/live.qcow2" | awk 'NR > 2 { printf "%s ", $2 }')
[ "$tags" = "live1 p1 " ] || fail "qemu-img snapshot -l lists: $tags"
expect_out "Domain snapshot live1 reverted" tvm snapshot-revert liveg live1
[ "$(state liveg)" = "running (restored)" ] || fail "shut off, reverted to live1: $(state liveg)"
ticks_past $((n1 + 1))
[ "$(first_tick)" -le $((n1 + 1)) ] || fail "reverted from shut off, the count went on from TICK-$(first_tick)"

step "delete live1 takes its saved state; undefine takes the rest"
expect_err "needs it shut off" tvm snapshot-delete liveg live1
expect_out "Domain 'liveg' destroyed" tvm destroy liveg
expect_out "Domain snapshot live1 deleted" tvm snapshot-delete liveg live1
[ ! -e "$state_file" ] || fail "the deleted snapshot's saved state stays"
[ -s "$T/snapshot/$(uuid_of liveg)/p1.save" ] || fail "p1's saved state went with live1"
qemu-img check -q "$T/live.qcow2" || fail "qemu-img check after deleting live1"
tags=$(qemu-img snapshot -l "$T/live.qcow2" | awk 'NR > 2 { printf "%s ", $2 }')
[ "$tags" = "p1 " ] || fail "after deleting live1 qemu-img lists: $tags"

step "a disk-only snapshot of the running guest: vda goes onto an overlay, the guest writes on"
expect_out "Domain snapshot p1 reverted" tvm snapshot-revert liveg p1 --running
ticks_past -1
ticks_past $(($(last_tick) + 1))
n0=$(last_tick)
expect_err "needs a guest agent" tvm snapshot-create-as liveg ds1 --disk-only --quiesce
expect_out "Domain snapshot ds1 created" tvm snapshot-create-as liveg ds1 --disk-only --atomic
n1=$(last_tick)
ov=$T/live.ds1
# The old image, as the snapshot left it: read-only below the overlay from
# now on, so a copy taken now is its content at the snapshot.
cp "$T/live.qcow2" "$T/at-ds1.qcow2"
[ "$(state liveg)" = "running (restored)" ] || fail "after the disk-only snapshot: $(state liveg)"
[ ! -e "$T/go.ds1" ] || fail "the read-only disk vdb got an overlay"
ticks_past $((n1 + 1))
expect_out "<source file='$ov'/>" tvm dumpxml liveg
tvm dumpxml liveg | tr -d '\n' | grep -q "<source file='$ov'/>  *<backingStore type='file'>  *<format type='qcow2'/>  *<source file='$T/live.qcow2'/>  *<backingStore/>  *</backingStore>" ||
    fail "the live XML does not show the overlay over live.qcow2: $(tvm dumpxml liveg | grep -A8 "dev='vda'\|$ov")"
expect_out "<source file='$ov'/>" tvm dumpxml liveg --inactive
expect_out "<state>disk-snapshot</state>" tvm snapshot-dumpxml liveg ds1
expect_out "<disk name='vda' snapshot='external' type='file'>" tvm snapshot-dumpxml liveg ds1
echo "   taken between TICK-$n0 and TICK-$n1; $(tvm events | grep -o 'disk-only) while running, paused [0-9]* ms' | tail -1)"

say GO # the guest writes its file now: into the overlay
deadline=$((SECONDS + 120))
until ticks | grep -q ' LIVE-FILE$'; do
    [ $SECONDS -lt $deadline ] || fail "the guest never wrote its file after the disk-only snapshot"
    sleep 0.5
done
later=$(last_tick)
ticks_past $((later + 2)) # counting on, each tick read back through the overlay
# The old image changes no more (qemu-img may read it while the guest
# runs: tvm-vmm holds it as a backing file, read-only).
qemu-img compare -q "$T/at-ds1.qcow2" "$T/live.qcow2" || fail "live.qcow2 changed after ds1"
old=$(qemu-io -r -f qcow2 -c 'read -v 51200 16' "$T/live.qcow2" | sed -n 's/^0000c800: .*  \([0-9]*\).*/\1/p')
[ "$old" -ge "$n0" ] && [ "$old" -le $((n1 + 1)) ] ||
    fail "live.qcow2 holds count '$old'; ds1 was taken between TICK-$n0 and TICK-$n1"
! qemu-io -r -f qcow2 -c 'read -v 102400 512' "$T/live.qcow2" | grep -q 'LIVE' ||
    fail "the file written after ds1 is in live.qcow2"
# A state saved now carries the overlay: the guest resumes on it, reading
# its file back (live.qcow2 has none).
expect_out "Domain 'liveg' state saved" tvm managedsave liveg
m=$(last_tick)
expect_out "<source file='$ov'/>" tvm save-image-dumpxml "${DB_DIR:-$T}/save/$(uuid_of liveg).save"
expect_out "Domain 'liveg' started" tvm start liveg
ticks_past $((m + 2))
[ "$(first_tick)" -ge "$m" ] || fail "the count started over: TICK-$(first_tick) after TICK-$m"
ticks | awk '$2 != "LIVE-FILE" { bad = 1 } END { exit bad }' ||
    fail "resumed, the guest does not read its file through the overlay: $(ticks | tr '\n' ' ')"
expect_out "Domain 'liveg' destroyed" tvm destroy liveg

qemu-img check -q "$ov" || fail "qemu-img check of the overlay"
qemu-img check -q "$T/live.qcow2" || fail "qemu-img check of live.qcow2 below the overlay"
qemu-img info --backing-chain "$ov" >"$T/chain.txt"
grep -q "^backing file: $T/live.qcow2$" "$T/chain.txt" &&
    grep -q '^backing file format: qcow2$' "$T/chain.txt" &&
    [ "$(grep -c '^image: ' "$T/chain.txt")" = 2 ] || fail "backing chain: $(cat "$T/chain.txt")"
# The overlay alone (its backing cut off) holds what the guest wrote after
# ds1: its file (qemu-io prints its '-' as '.') and the later counts.
alone="json:{\"driver\":\"qcow2\",\"backing\":null,\"file\":{\"driver\":\"file\",\"filename\":\"$ov\"}}"
qemu-io -r -c 'read -v 102400 512' "$alone" | grep -q 'LIVE.FILE' || fail "the file is not in the overlay"
cnt=$(qemu-io -r -c 'read -v 51200 16' "$alone" | sed -n 's/^0000c800: .*  \([0-9]*\).*/\1/p')
[ "$cnt" -gt "$later" ] || fail "the overlay holds count '$cnt', the guest counted past $later"
qemu-img compare -q "$T/live.qcow2" "$ov" >/dev/null && fail "the overlay's chain reads as live.qcow2"
echo "   after ds1 the guest wrote its file and counted to $cnt, all in the overlay; live.qcow2 stays at $old"

dir=$T/snapshot/$(uuid_of liveg)
expect_out "Domain 'liveg' has been undefined" tvm undefine liveg --snapshots-metadata
[ ! -e "$dir" ] || fail "undefine left saved states: $(ls "$dir")"
echo "ok"
