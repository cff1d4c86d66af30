#!/usr/bin/env bash
# tvm-vmm's sandbox on real KVM, as root (the lab runs as root): a guest
# started by `tvm start` has a VMM that is not root, has no capability
# (effective, permitted, bounding), no_new_privs and seccomp mode 2 in every
# thread; the guest boots, its console works and it reboots (the kernel and
# KVM are reused from descriptors); a forbidden system call provoked on
# purpose (TVM_VMM_SECCOMP_SELFTEST) ends the guest as "crashed (sandbox
# violation)" with the syscall named in its event, and a vCPU thread, whose
# own filter narrows the main loop's, is refused accept4 (which the main
# loop may call) the same way; TVM_VMM_SANDBOX=0 runs it unconfined.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"

[ "$(id -u)" -eq 0 ] || fail "the lab runs as root; this test checks the uid switch"

# status PID KEY: a /proc/PID/status field.
status() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }

define sb 2 256 tvm.shell
define sbv 1 256 tvm.shell
define nosb 1 256 tvm.shell
define sbc 1 256 tvm.shell

step "start as root: the VMM runs unprivileged"
expect_out "Domain 'sb' started" tvm start sb
pid=$(vmm_pid sb)
grep -E '^(Uid|Gid|Groups|CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):' \
    "/proc/$pid/status" | sed 's/^/   /'
read -r ruid euid suid fsuid <<<"$(status "$pid" Uid)"
for u in "$ruid" "$euid" "$suid" "$fsuid"; do [ "$u" -ne 0 ] || fail "Uid: $(status "$pid" Uid)"; done
for k in CapEff CapPrm CapInh CapBnd CapAmb; do
    [ "$(status "$pid" $k)" = 0000000000000000 ] || fail "$k: $(status "$pid" $k)"
done
[ "$(status "$pid" NoNewPrivs)" = 1 ] || fail "NoNewPrivs: $(status "$pid" NoNewPrivs)"
[ "$(status "$pid" Seccomp)" = 2 ] || fail "Seccomp: $(status "$pid" Seccomp)"
# Every thread (vCPUs, device workers, the balloon timer), not just main.
n=0
for t in /proc/"$pid"/task/*; do
    tid=${t##*/}
    [ "$(sed -n 's/^Seccomp:[[:space:]]*//p' "$t/status")" = 2 ] || fail "thread $tid: Seccomp"
    [ "$(sed -n 's/^NoNewPrivs:[[:space:]]*//p' "$t/status")" = 1 ] || fail "thread $tid: NoNewPrivs"
    [ "$(sed -n 's/^CapEff:[[:space:]]*//p' "$t/status")" = 0000000000000000 ] || fail "thread $tid: CapEff"
    [ "$(awk '/^Uid:/ {print $3}' "$t/status")" -ne 0 ] || fail "thread $tid: Uid"
    n=$((n + 1))
done
echo "   $n threads, all confined"
[ "$(stat -c %u "$TVM_RUNDIR/$(uuid_of sb)")" = "$euid" ] || fail "run directory not given to uid $euid"
grep -q "sandbox: uid $euid" "$TVM_RUNDIR/$(uuid_of sb)/vmm.log" || fail "no sandbox line in vmm.log"

step "thread classes: vCPU threads narrow the main loop's filter with their own"
# Seccomp_filters (Linux 5.9+): how many filters a thread runs under.
if grep -q '^Seccomp_filters:' "/proc/$pid/status"; then
    [ "$(status "$pid" Seccomp_filters)" = 1 ] || fail "main thread: $(status "$pid" Seccomp_filters) filters"
    nv=0
    for t in /proc/"$pid"/task/*; do
        case $(cat "$t/comm") in
        vcpu*)
            [ "$(sed -n 's/^Seccomp_filters:[[:space:]]*//p' "$t/status")" = 2 ] ||
                fail "$(cat "$t/comm"): $(sed -n 's/^Seccomp_filters:[[:space:]]*//p' "$t/status") filters"
            nv=$((nv + 1))
            ;;
        esac
    done
    [ "$nv" = 2 ] || fail "$nv vCPU threads with their own filter, want 2"
    echo "   main loop: 1 filter; $nv vCPU threads: 2 (the main loop's and their own)"
fi

step "tvm opened the guest's files, tvm-vmm inherited them"
dir="$TVM_RUNDIR/$(uuid_of sb)"
sed 's/^/   /' "$dir/fds"
grep -Eq '^3 kvm - /dev/kvm$' "$dir/fds" || fail "no /dev/kvm in the descriptor map"
grep -Eq '^[0-9]+ kernel - /' "$dir/fds" || fail "no kernel in the descriptor map"
grep -q "descriptors from tvm" "$dir/vmm.log" || fail "vmm.log: $(cat "$dir/vmm.log")"
[ "$(readlink "/proc/$pid/fd/3")" = /dev/kvm ] || fail "descriptor 3 is $(readlink "/proc/$pid/fd/3")"
# Started by hand without --fds, tvm-vmm opens them itself (vmm-lib.sh's
# tests do); given --fds, a map that lacks one is refused, never opened.
printf '3 kernel - /nonexistent\n' >"$T/fds-nokvm"
rc=0
"$TVM_VMM" --domain "$dir/domain.xml" --rundir "$T/rd-nokvm" --fds "$T/fds-nokvm" 3</dev/null \
    >"$T/nokvm.out" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "a map without the kernel: exit $rc"
grep -q "tvm passed no descriptor for kernel" "$T/nokvm.out" || fail "$(cat "$T/nokvm.out")"

step "the guest boots, its console works"
wait_count sb ^TVM-GUEST-UP 1
check_guest sb 2 256
{ sleep 2; printf 'echo MARK-$((6*7))\n'; sleep 3; printf '\035'; } |
    timeout 30 "$TVM" --db "$DB" console sb >"$T/console.out" 2>&1 || fail "console: $(cat "$T/console.out")"
grep -q "MARK-42" "$T/console.out" || fail "typed command did not run: $(tail -5 "$T/console.out")"

step "reboot: the kernel is read again and a new KVM VM made, under the filter"
expect_out "Domain 'sb' is being rebooted" tvm reboot sb
wait_count sb ^TVM-GUEST-UP 2
[ "$(state sb)" = "running (booted)" ] || fail "after reboot: $(state sb)"
[ "$(vmm_pid sb)" = "$pid" ] || fail "reboot replaced the VMM"

step "destroy: a clean exit through the run directory's descriptor"
expect_out "Domain 'sb' destroyed" tvm destroy sb
wait_state sb "shut off (destroyed)"
gone "$pid" || fail "tvm-vmm $pid still alive"

step "a forbidden system call ends the guest with its reason"
TVM_VMM_SECCOMP_SELFTEST=20 tvm start sbv >/dev/null || fail "start sbv"
vpid=$(vmm_pid sbv)
wait_state sbv "crashed (sandbox violation)" 120
gone "$vpid" || fail "tvm-vmm $vpid still alive after the violation"
ev=$(tvm events --domain sbv 2>&1)
grep -q "forbidden system call [0-9]* (ptrace)" <<<"$ev" || fail "events: $ev"
grep "forbidden" <<<"$ev" | sed 's/^/   /'
[ ! -e "$TVM_RUNDIR/$(uuid_of sbv)" ] || fail "run directory left after the violation"

step "a vCPU thread is refused what the main loop may do, and says so"
TVM_VMM_SECCOMP_SELFTEST=15:vcpu tvm start sbc >/dev/null || fail "start sbc"
cpid=$(vmm_pid sbc)
wait_state sbc "crashed (sandbox violation)" 120
gone "$cpid" || fail "tvm-vmm $cpid still alive after the vCPU's violation"
ev=$(tvm events --domain sbc 2>&1)
grep -q "forbidden system call [0-9]* (accept4) in thread [0-9]* (vcpu)" <<<"$ev" || fail "events: $ev"
grep "forbidden" <<<"$ev" | sed 's/^/   /'

step "TVM_VMM_SANDBOX=0: unconfined, for debugging"
TVM_VMM_SANDBOX=0 tvm start nosb >/dev/null || fail "start nosb"
npid=$(vmm_pid nosb)
[ "$(status "$npid" Seccomp)" = 0 ] || fail "Seccomp with the sandbox off: $(status "$npid" Seccomp)"
[ "$(awk '{print $2}' <<<"$(status "$npid" Uid)")" = 0 ] || fail "uid with the sandbox off"
grep -q "sandbox disabled" "$TVM_RUNDIR/$(uuid_of nosb)/vmm.log" || fail "vmm.log does not say so"
wait_count nosb ^TVM-GUEST-UP 1
expect_out "Domain 'nosb' destroyed" tvm destroy nosb
echo "ok"
