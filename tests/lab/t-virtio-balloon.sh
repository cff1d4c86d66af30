#!/usr/bin/env bash
# virtio-balloon through tvm: a 512 MiB guest with <memballoon model='virtio'>
# and <stats period='2'/> first dirties 300 MiB (and frees it), then prints
# its MemTotal every second. `tvm setmem 256M --live` must make MemTotal
# drop by 256 MiB, dommemstat report actual 262144 with the guest's
# statistics, and the VMM's RSS fall (the inflated pages go back to the
# host); setmem 512M --live brings MemTotal back; a size above <memory> or
# below the 64 MiB floor is refused and changes nothing.
#
# Tolerance: the Linux driver (without DEFLATE_ON_OOM) takes each inflated
# page out of the managed pages MemTotal counts, so the drop is exactly
# 65536 pages = 262144 kB once the balloon is full; 4096 kB of slack covers
# the kernel's own late changes to its managed pages. RSS: of the ~450 MiB
# free after the fill at least 300 MiB were touched, so inflating 256 MiB
# returns at least ~106 MiB of touched pages however the guest picks them;
# we ask for 64 MiB.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"

run='dd%20if=/dev/zero%20of=/fill%20bs=1M%20count=300%202>/dev/null;rm%20/fill;echo%20FILLED;'
run+='for%20i%20in%20$(seq%20900);do%20echo%20MEM%20$(grep%20MemTotal%20/proc/meminfo);sleep%201;done'
cat >"$T/bal.xml" <<XML
<domain type='kvm'>
  <name>bal</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$LAB_KERNEL</kernel>
    <initrd>$LAB_INITRD</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 tvm.run=$run</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <memballoon model='virtio'><stats period='2'/></memballoon>
  </devices>
</domain>
XML
tvm define "$T/bal.xml" >/dev/null || fail "define"

# The guest's latest MemTotal in kB.
memtotal() { grep -a '^MEM MemTotal' "$LOGDIR/bal.console.log" | tail -1 | tr -d '\r' | awk '{print $3}'; }
stat_of() { tvm dommemstat bal | awk -v k="$1" '$1 == k {print $2}'; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$(vmm_pid bal)/status"; }
# wait_until DESCRIPTION TIMEOUT CMD...: until CMD succeeds.
wait_until() {
    local what=$1 deadline=$((SECONDS + $2))
    shift 2
    until "$@"; do
        [ $SECONDS -lt $deadline ] || fail "$what (MemTotal $(memtotal) kB; dommemstat: $(tvm dommemstat bal 2>&1 | tr '\n' ' '))"
        sleep 1
    done
}
near() { local d=$(($1 - $2)); [ ${d#-} -le 4096 ]; }
# figure TEXT: a measured figure, also appended to $LAB_FIGURES if set.
figure() {
    echo "   $*"
    [ -z "${LAB_FIGURES:-}" ] || echo "t-virtio-balloon: $*" >>"$LAB_FIGURES"
}

step "boot; the guest fills and frees 300 MiB"
expect_out "Domain 'bal' started" tvm start bal
wait_count bal ^FILLED 1
wait_count bal '^MEM MemTotal' 2 60
full=$(memtotal)
[ "$full" -gt $((400 * 1024)) ] && [ "$full" -le $((512 * 1024)) ] || fail "MemTotal at boot: $full kB"
[ "$(stat_of actual)" = 524288 ] || fail "actual at boot: $(stat_of actual)"
rss0=$(rss_kib)
figure "boot: MemTotal $full kB, VMM RSS $rss0 kB"
[ "$rss0" -gt $((300 * 1024)) ] || fail "the VMM's RSS after the fill is only $rss0 kB"

step "statistics arrive (period 2 s)"
has_stats() { tvm dommemstat bal | grep -q '^usable '; }
wait_until "no guest statistics in dommemstat" 60 has_stats
figure "dommemstat: $(tvm dommemstat bal | tr '\n' ' ')"
for tag in actual swap_in swap_out major_fault minor_fault unused available usable last_update rss; do
    tvm dommemstat bal | grep -q "^$tag [0-9]" || fail "dommemstat lacks '$tag'"
done
[ "$(stat_of available)" -le 524288 ] && [ "$(stat_of unused)" -lt "$(stat_of available)" ] ||
    fail "unused $(stat_of unused) / available $(stat_of available) do not make sense"

step "setmem 256M --live: the balloon takes 256 MiB"
t0=$SECONDS
tvm setmem bal 256M --live || fail "setmem 256M --live"
shrunk() { near "$(memtotal)" $((full - 262144)); }
wait_until "MemTotal did not drop by 262144 kB" 240 shrunk
wait_until "dommemstat actual is not 262144" 60 test "$(stat_of actual)" = 262144
expect_out "Used memory:    262144 KiB" tvm dominfo bal
rss1=$(rss_kib)
figure "setmem 256M: MemTotal $(memtotal) kB (drop $((full - $(memtotal))) kB), VMM RSS $rss1 kB (drop $((rss0 - rss1)) kB), after $((SECONDS - t0)) s"
[ $((rss0 - rss1)) -ge $((64 * 1024)) ] || fail "the VMM's RSS fell by only $((rss0 - rss1)) kB"
# The guest's statistics follow (its total memory is MemTotal).
avail_small() { [ "$(stat_of available)" -le $((full - 262144 + 4096)) ]; }
wait_until "the guest's reported total memory did not shrink" 30 avail_small

step "refused: above <memory>, below the floor; nothing changes"
expect_err "cannot set memory higher than max memory" tvm setmem bal 1G --live
expect_err "below" tvm setmem bal 32M --live
sleep 3
[ "$(stat_of actual)" = 262144 ] || fail "a refused setmem moved the balloon: $(stat_of actual)"
shrunk || fail "a refused setmem changed MemTotal: $(memtotal)"

step "setmem 512M --live: the guest gets its memory back"
t0=$SECONDS
tvm setmem bal 512M --live || fail "setmem 512M --live"
regrown() { near "$(memtotal)" "$full"; }
wait_until "MemTotal did not come back to $full kB" 240 regrown
wait_until "dommemstat actual is not 524288" 60 test "$(stat_of actual)" = 524288
figure "setmem 512M: MemTotal $(memtotal) kB, VMM RSS $(rss_kib) kB, after $((SECONDS - t0)) s"

step "the stored definition is untouched by --live"
tvm dumpxml bal --inactive | grep -q "<currentMemory unit='KiB'>524288</currentMemory>" || fail "currentMemory changed"
! grep -aq 'Call Trace\|WARNING:\|BUG:' "$LOGDIR/bal.console.log" || fail "guest kernel warned or oopsed"
expect_out "Domain 'bal' destroyed" tvm destroy bal
echo "ok"
