#!/usr/bin/env bash
# Guest lifecycle through tvm on real KVM: start (three guests at once, with
# 1/2/4 vCPUs and 256 MiB/512 MiB/1 GiB, checked by the guests themselves;
# one started by start-autostarted, which leaves a running one alone),
# list, "already active", re-attach from a new tvm process, console through
# a pipe (banner, backlog, typed input), suspend/resume (the guest's own
# counter stops and goes on), ACPI shutdown.
# Transient domains on the same boots: g2 is made by `tvm create --console`
# (booted to its console, listed while it runs, Persistent: no; define
# makes it persistent and undefine transient again) and vanishes with its
# destroy; g4 is undefined while it runs and vanishes when its tvm-vmm is
# SIGKILLed (the next tvm to look removes it). Neither leaves a record,
# a run directory or a process; dominfo then says it is not found.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"

step "host-validate in L1: KVM is there and usable"
tvm host-validate >"$T/validate" || true
for c in 'for hardware virtualization' 'if device /dev/kvm exists' 'if device /dev/kvm is accessible'; do
    grep -qE "^ +TVM: Checking $c +: PASS$" "$T/validate" || fail "host-validate: $c: $(grep -F "$c" "$T/validate")"
done

define g1 1 256 tvm.shell
# With a uuid, create and define find the same domain again, as virsh's
# do (one without gets a new uuid each time, which clashes by name).
guest_xml g2 2 512 "console=ttyS0 quiet panic=-1 tvm.shell" |
    sed "s:<name>g2</name>:&<uuid>$(cat /proc/sys/kernel/random/uuid)</uuid>:" >"$T/g2.xml"
define g4 4 1024 tvm.shell

step "start three guests (g2 transient, by create --console; g4 marked autostart and started as the boot unit starts it); list shows them running"
expect_out "Domain 'g1' started" tvm start g1
# create --console: attached once started; Ctrl-] once the guest is up
# and its banner has had time to reach the console.
{
    wait_count g2 TVM-GUEST-UP 1 || exit 1
    sleep 2
    printf '\035'
} | timeout "$((BOOT_TIMEOUT + 30))" "$TVM" --db "$DB" create "$T/g2.xml" --console >"$T/create.out" 2>&1 &
create_pid=$!
for ((i = 0; i < 300; i++)); do grep -qF "Domain 'g2' created from $T/g2.xml" "$T/create.out" && break; sleep 0.2; done
grep -qF "Domain 'g2' created from $T/g2.xml" "$T/create.out" || fail "create --console: $(cat "$T/create.out")"
tvm autostart g4 >/dev/null && tvm autostart g1 >/dev/null
out=$(tvm start-autostarted 2>&1) || fail "start-autostarted: $out"
[ "$out" = "Domain 'g4' started" ] || fail "start-autostarted (g1 already running) printed: $out"
for g in g1 g2 g4; do
    tvm list | grep -E "^ *[0-9]+ +$g +running" >/dev/null || fail "list: $(tvm list)"
done
[ "$(state g1)" = "running (booted)" ] || fail "state after start: $(state g1)"

step "start twice"
expect_err "Requested operation is not valid: domain is already active" tvm start g1

step "re-attach: a new tvm process finds the guest an earlier one started"
pid=$(vmm_pid g1)
id=$(tvm list | awk '$2 == "g1" {print $1}')
[ "$(ps -o ppid= -p "$pid" | tr -d ' ')" != "$$" ] || fail "tvm-vmm is a child of the test shell"
"$TVM" --db "$DB" list | awk -v id="$id" '$1 == id && $2 == "g1" && $3 == "running" {ok=1} END {exit !ok}' ||
    fail "a new tvm does not see g1 running with id $id"
# virsh's lookup by id, and list --id
"$TVM" --db "$DB" dominfo "$id" | grep -qE '^Name: +g1$' || fail "dominfo $id does not show g1"
tvm list --id | grep -qx "$id" || fail "list --id lacks $id: $(tvm list --id)"

step "the guests see their vCPUs and memory"
for g in g1 g2 g4; do wait_count "$g" TVM-GUEST-UP 1; done
wait "$create_pid" || fail "create --console did not detach cleanly: $(cat "$T/create.out")"
grep -qF "Connected to domain 'g2'" "$T/create.out" || fail "create --console: no banner: $(cat "$T/create.out")"
grep -q "TVM-GUEST-UP" "$T/create.out" || fail "create --console did not show the boot: $(tail -5 "$T/create.out")"
check_guest g1 1 256
check_guest g2 2 512
check_guest g4 4 1024

step "transient domains: listed while they run, define/undefine switch them"
[ "$(tvm list --transient --name | sed '/^$/d')" = g2 ] || fail "list --transient: $(tvm list --transient --all)"
tvm dominfo g2 | grep -qE '^Persistent: +no$' || fail "dominfo g2: $(tvm dominfo g2)"
expect_err "Requested operation is not valid: domain 'g2' is already active" tvm create "$T/g2.xml"
expect_err "Requested operation is not valid: cannot undefine transient domain" tvm undefine g2
expect_err "cannot do managed save for transient domain" tvm managedsave g2
expect_err "cannot set autostart for transient domain" tvm autostart g2
expect_out "Domain 'g2' defined from $T/g2.xml" tvm define "$T/g2.xml"
tvm dominfo g2 | grep -qE '^Persistent: +yes$' || fail "define did not make g2 persistent"
expect_out "Domain 'g2' has been undefined" tvm undefine g2
tvm dominfo g2 | grep -qE '^Persistent: +no$' || fail "undefine did not make g2 transient"
expect_err "Storage volume deletion is supported only on stopped domains" tvm undefine g4 --remove-all-storage
expect_out "Domain 'g4' has been undefined" tvm undefine g4
[ "$(tvm list --transient --name | sed '/^$/d' | paste -sd' ')" = "g2 g4" ] ||
    fail "list --transient after undefine g4: $(tvm list --transient --all)"
u2=$(uuid_of g2) u4=$(uuid_of g4) p4=$(vmm_pid g4)

step "a transient domain goes with its destroy, and with its killed tvm-vmm"
expect_out "Domain 'g2' destroyed" tvm destroy --domain g2 --graceful
tvm list --all --name | grep -qx g2 && fail "g2 still listed after destroy: $(tvm list --all)"
expect_err "domain 'g2'" tvm dominfo g2
[ ! -e "$TVM_RUNDIR/$u2" ] || fail "g2's run directory left after destroy"
kill -KILL "$p4"
gone "$p4" || fail "tvm-vmm $p4 of g4 survived SIGKILL"
tvm list --all --name | grep -qx g4 && fail "g4 still listed after its tvm-vmm was killed: $(tvm list --all)"
expect_err "domain 'g4'" tvm dominfo g4
[ ! -e "$TVM_RUNDIR/$u4" ] || fail "g4's run directory left after its tvm-vmm was killed"
[ "$(tvm list --all --name | sed '/^$/d')" = g1 ] || fail "list --all: $(tvm list --all)"

step "console through a pipe: banner, backlog, and input reaching the guest"
# The typed line also starts the guest's own counter (TICK-N every second),
# which the suspend step below watches.
{ sleep 2; printf 'echo MARK-$((6*7)); (i=0; while :; do echo TICK-$i; i=$((i+1)); sleep 1; done) &\n'; sleep 4; printf '\035'; } |
    timeout 30 "$TVM" --db "$DB" console g1 >"$T/console.out" 2>&1 || fail "console: $(cat "$T/console.out")"
grep -qF "Connected to domain 'g1'" "$T/console.out" || fail "no banner: $(head -3 "$T/console.out")"
grep -qF "Escape character is ^] (Ctrl + ])" "$T/console.out" || fail "no escape line"
grep -q "TVM-GUEST-UP" "$T/console.out" || fail "console backlog lacks the boot banner"
grep -q "MARK-42" "$T/console.out" || fail "typed command did not run: $(tail -5 "$T/console.out")"
[ "$(state g1)" = "running (booted)" ] || fail "detaching changed the state: $(state g1)"

step "suspend / resume: the guest's own counter stops, then goes on"
wait_count g1 '^TICK-[0-9]' 3 60
expect_out "Domain 'g1' suspended" tvm suspend g1
[ "$(state g1)" = "paused (user)" ] || fail "after suspend: $(state g1)"
tvm list | grep -E " g1 +paused" >/dev/null || fail "list after suspend: $(tvm list)"
sleep 1 # a line already on its way out
n=$(count g1 '^TICK-[0-9]')
sleep 8
[ "$(count g1 '^TICK-[0-9]')" -eq "$n" ] ||
    fail "the guest counted on while suspended: $n ticks, then $(count g1 '^TICK-[0-9]') 8 s later"
expect_out "Domain 'g1' resumed" tvm resume g1
[ "$(state g1)" = "running (unpaused)" ] || fail "after resume: $(state g1)"
wait_count g1 '^TICK-[0-9]' $((n + 3)) 60
echo "   $n ticks before suspend, none in 8 s suspended, $(($(count g1 '^TICK-[0-9]') - n)) since resume"

step "shutdown: ACPI power button, the guest powers off"
u=$(uuid_of g1)
expect_out "Domain 'g1' is being shutdown" tvm shutdown g1 --mode acpi
wait_count g1 TVM-GUEST-POWERBUTTON 1 120
wait_state g1 "shut off (shutdown)"
[ ! -e "$TVM_RUNDIR/$u" ] || fail "run directory left after shutdown"
gone "$pid" || fail "tvm-vmm $pid still alive after shutdown"
events_have g1 started suspended resumed shutdown
events_have g2 started destroyed undefined
events_have g4 started crashed undefined
echo "ok"
