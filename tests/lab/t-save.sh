#!/usr/bin/env bash
# Saved state of a running guest, through tvm's verbs on real KVM, on one
# guest boot: the guest counts on its serial console (TICK-N, one a
# second), writes N to its virtio disk and reads it back, and pings the
# host end of its virtio NIC's tap (in a network namespace the test made;
# every tvm command runs there) each time: a tick counts only with the
# disk's answer and the ping's.
#   save: domjobinfo shows it while it writes; the guest stops, the file
#         carries its domain XML
#         (save-image-dumpxml); restore: the count goes on from where it
#         was (the console log, begun afresh at each start, shows no boot
#         banner and no tick below the last one saved) and the disk still
#         answers;
#   managedsave: dominfo says so, start resumes the count, the file is
#         used up;
#   a saved file with one byte flipped is refused by name (bad checksum)
#         and the guest stays shut off; the good file then restores.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"

NS=tvmsave$$
save_cleanup() {
    lc_cleanup
    ip netns del "$NS" 2>/dev/null || true
}
trap save_cleanup EXIT
ip netns add "$NS" || fail "cannot make a network namespace"
ip netns exec "$NS" ip tuntap add dev tvmsave0 mode tap
ip netns exec "$NS" ip addr add 10.99.0.1/24 dev tvmsave0
ip netns exec "$NS" ip link set tvmsave0 up
tvm() { ip netns exec "$NS" "$TVM" --db "$DB" "$@"; }

head -c 4M /dev/zero >"$T/disk.raw"
loop='ip addr add 10.99.0.2/24 dev eth0; ip link set eth0 up;'
loop+=' i=0; while :; do echo $i | dd of=/dev/vda bs=512 seek=100 conv=fsync 2>/dev/null;'
loop+=' echo 3 >/proc/sys/vm/drop_caches; ping -c1 -W2 10.99.0.1 >/dev/null; p=$?;'
loop+=' echo TICK-$i DISK-$(dd if=/dev/vda bs=512 skip=100 count=1 2>/dev/null | head -1) NET-$p;'
loop+=' i=$((i+1)); sleep 1; done'
nic="<interface type='ethernet'><mac address='52:54:00:12:34:70'/>"
nic+="<target dev='tvmsave0' managed='no'/><model type='virtio'/></interface>"
guest_xml g1 1 256 "console=ttyS0 quiet panic=-1 tvm.run=${loop// /%20}" restart \
    "$(disk_xml "$T/disk.raw" raw vda)
$nic" >"$T/g1.xml"
tvm define "$T/g1.xml" >/dev/null || fail "define g1"
DB_DIR=$(dirname "$DB")

# ticks: the N of every TICK-N DISK-N NET-0 line (the disk gave N back,
# the host answered) in the console log, which each start begins afresh.
ticks() {
    tr -d '\r' <"$LOGDIR/g1.console.log" | sed -n 's/^TICK-\([0-9]*\) DISK-\1 NET-0$/\1/p' | sort -n
}
last_tick() { ticks | tail -1; }
first_tick() { ticks | head -1; }
# ticks_past N [TIMEOUT]: until a tick above N shows.
ticks_past() {
    local deadline=$((SECONDS + ${2:-60}))
    until [ "$(last_tick)" -gt "$1" ] 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || fail "no tick past $1 (last: $(last_tick))"
        sleep 1
    done
}
boots() { count g1 TVM-GUEST-UP; }

step "boot; the guest counts, its disk and the host answer"
expect_out "Domain 'g1' started" tvm start g1
wait_count g1 TVM-GUEST-UP 1
ticks_past 2 120

step "save: domjobinfo follows it, the guest stops, the file carries its XML"
expect_out "Job type:         None" tvm domjobinfo g1
# tvm-vmm is held stopped while the save begins, so the job is there to be
# seen however fast the save itself would be; then it goes on.
vmm=$(vmm_pid g1)
kill -STOP "$vmm"
tvm save g1 "$T/g1.save" >"$T/save.out" 2>&1 &
saver=$!
seen=
for _ in $(seq 100); do
    "$TVM" --db "$DB" domjobinfo g1 >"$T/job.out" 2>&1 || true
    grep -q "^Operation: *Save" "$T/job.out" && grep -q "^Data processed:" "$T/job.out" && seen=1
    [ -z "$seen" ] && kill -0 "$saver" 2>/dev/null || break
    sleep 0.2
done
kill -CONT "$vmm"
wait "$saver" || fail "save: $(cat "$T/save.out")"
grep -qF "Domain 'g1' saved to $T/g1.save" "$T/save.out" || fail "save said: $(cat "$T/save.out")"
[ -n "$seen" ] || fail "domjobinfo never showed the save: $(cat "$T/job.out")"
[ "$(state g1)" = "shut off (saved)" ] || fail "after save: $(state g1)"
n=$(last_tick)
ls "$T"/g1.save.tvm-* 2>/dev/null && fail "temporary file left beside the save"
size=$(stat -c %s "$T/g1.save")
echo "   saved at TICK-$n, $((size / 1024)) KiB for 256 MiB of RAM"
[ "$size" -lt $((200 * 1024 * 1024)) ] || fail "zero pages were written: $size bytes"
expect_out "<uuid>$(uuid_of g1)</uuid>" tvm save-image-dumpxml "$T/g1.save"
sleep 3
[ "$(last_tick)" = "$n" ] || fail "the guest counted on after save: $n, then $(last_tick)"

step "restore: the count goes on from TICK-$n, no second boot, disk and network answer"
cp "$T/g1.save" "$T/bad.save"
expect_out "Domain restored from $T/g1.save" tvm restore "$T/g1.save"
[ "$(state g1)" = "running (restored)" ] || fail "after restore: $(state g1)"
ticks_past $((n + 2))
[ "$(boots)" -eq 0 ] || fail "the guest booted again"
[ "$(first_tick)" -ge "$n" ] || fail "the count started over: TICK-$(first_tick) after TICK-$n"
echo "   counting again from TICK-$(first_tick) to TICK-$(last_tick)"
events_have g1 saved restored

step "managedsave: dominfo says so, start resumes, the file is used up"
expect_out "Domain 'g1' state saved" tvm managedsave g1
m=$(last_tick)
expect_out "shut off" state g1
expect_out "yes" sh -c "'$TVM' --db '$DB' dominfo g1 | grep 'Managed save'"
expect_out "<uuid>$(uuid_of g1)</uuid>" tvm save-image-dumpxml "$DB_DIR/save/$(uuid_of g1).save"
expect_out "Domain 'g1' started" tvm start g1
ticks_past $((m + 2))
[ "$(boots)" -eq 0 ] || fail "start booted instead of resuming"
[ "$(first_tick)" -ge "$m" ] || fail "the count started over: TICK-$(first_tick) after TICK-$m"
expect_out "no" sh -c "'$TVM' --db '$DB' dominfo g1 | grep 'Managed save'"
[ ! -e "$DB_DIR/save/$(uuid_of g1).save" ] || fail "the managed save was not used up"
expect_out "Domain 'g1' destroyed" tvm destroy g1

step "a flipped byte: refused by name, the guest stays shut off"
half=$(($(stat -c %s "$T/bad.save") / 2))
printf '\x5a' | dd of="$T/bad.save" bs=1 seek=$half conv=notrunc 2>/dev/null
cmp -s "$T/g1.save" "$T/bad.save" && fail "the byte did not change"
expect_err "bad checksum" tvm restore "$T/bad.save"
[ "$(state g1)" = "shut off (destroyed)" ] || fail "after a refused restore: $(state g1)"
[ ! -e "$TVM_RUNDIR/$(uuid_of g1)" ] || fail "run directory left by the refused restore"
echo ok
