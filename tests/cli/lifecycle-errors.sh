#!/usr/bin/env bash
# Lifecycle verbs that must fail cleanly without booting a guest: each error
# names what is wrong, exits non-zero, and leaves the domain shut off with
# no run directory or process behind. Also reconciliation of a run
# directory whose pid was recycled by an unrelated process.
set -euo pipefail
: "${TVM:?} ${TVM_VMM:?}"

T=$(mktemp -d /tmp/tvm-lc-XXXXXX)
sleeper=
cleanup() {
    [ -n "$sleeper" ] && kill "$sleeper" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
export TVM_RUNDIR=$T/run
DB=$T/db/tvm.db
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_fail TEXT CMD... : CMD exits non-zero and its stderr contains TEXT.
expect_fail() {
    local want=$1 rc=0
    shift
    "$@" >"$T/out" 2>"$T/err" || rc=$?
    [ "$rc" -ne 0 ] || fail "'$*' succeeded; expected: $want"
    grep -qF -- "$want" "$T/err" || fail "'$*': stderr lacks '$want': $(cat "$T/err")"
}
state() { "$TVM" --db "$DB" domstate --reason "$1" | head -1; }
no_rundirs() {
    [ -z "$(ls -A "$TVM_RUNDIR" 2>/dev/null | grep -v '^\.')" ] ||
        fail "run directory left behind: $(ls -A "$TVM_RUNDIR")"
}

domain_xml() { # name kernel [initrd] [memory MiB]
    cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>${4:-64}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$2</kernel>
    ${3:+<initrd>$3</initrd>}
    <cmdline>console=ttyS0</cmdline>
  </os>
</domain>
XML
}
define() { domain_xml "$@" >"$T/$1.xml" && "$TVM" --db "$DB" define "$T/$1.xml" >/dev/null; }

# A readable file that is not a kernel: the real tvm-vmm must refuse it.
head -c 4096 /dev/zero >"$T/not-a-kernel"

define nokernel /nonexistent/vmlinuz
define noinitrd "$T/not-a-kernel" /nonexistent/initrd.img
define huge "$T/not-a-kernel" "" 1048576 # 1 TiB
define bogus "$T/not-a-kernel"

# Missing kernel / initrd: the message names the file; nothing changes.
expect_fail "cannot read kernel '/nonexistent/vmlinuz': No such file or directory" \
    "$TVM" --db "$DB" start nokernel
grep -qF "Failed to start domain 'nokernel'" "$T/err" || fail "no virsh-style prefix: $(cat "$T/err")"
[ "$(state nokernel)" = "shut off (unknown)" ] || fail "nokernel state: $(state nokernel)"
expect_fail "cannot read initrd '/nonexistent/initrd.img'" "$TVM" --db "$DB" start noinitrd
[ "$(state noinitrd)" = "shut off (unknown)" ] || fail "noinitrd state: $(state noinitrd)"
expect_fail "not enough memory for domain 'huge'" "$TVM" --db "$DB" start huge
grep -qF "MemAvailable" "$T/err" || fail "memory error does not say what it compared: $(cat "$T/err")"
no_rundirs

# An undefined name.
expect_fail "not found" "$TVM" --db "$DB" start ghost
expect_fail "not found" "$TVM" --db "$DB" domstate ghost

# Verbs that need a running guest.
for verb in shutdown destroy reboot reset suspend resume console; do
    expect_fail "Requested operation is not valid: domain is not running" \
        "$TVM" --db "$DB" "$verb" nokernel </dev/null
done
[ "$(state nokernel)" = "shut off (unknown)" ] || fail "state changed by failed verbs"

# reboot modes: virsh's names are known, only acpi is carried out.
expect_fail "Unknown mode bogus value, expecting 'acpi'" "$TVM" --db "$DB" reboot nokernel --mode bogus
expect_fail "reboot mode 'agent' is not supported" "$TVM" --db "$DB" reboot nokernel --mode agent
expect_fail "domain is not running" "$TVM" --db "$DB" reboot nokernel --mode agent,acpi
# shutdown takes the same modes; destroy --graceful still needs a running guest
expect_fail "shutdown mode 'signal' is not supported" "$TVM" --db "$DB" shutdown nokernel --mode signal
expect_fail "Unknown mode bogus value" "$TVM" --db "$DB" shutdown nokernel --mode bogus
expect_fail "domain is not running" "$TVM" --db "$DB" shutdown nokernel --mode acpi
expect_fail "domain is not running" "$TVM" --db "$DB" destroy nokernel --graceful

# Usage errors exit 2.
rc=0
"$TVM" --db "$DB" start >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "start without a name exited $rc, not 2"

# /dev/kvm: only testable here where it cannot be opened.
if ! (exec 3<>/dev/kvm) 2>/dev/null; then
    expect_fail "cannot open /dev/kvm" "$TVM" --db "$DB" start bogus
    grep -qE "modprobe kvm_intel/kvm_amd|kvm group|no vmx/svm" "$T/err" || fail "no KVM hint: $(cat "$T/err")"
else
    # A VMM binary that is not there: a clear error, nothing left behind.
    TVM_VMM=$T/no-such-vmm expect_fail "cannot run $T/no-such-vmm" "$TVM" --db "$DB" start bogus
    [ "$(state bogus)" = "shut off (unknown)" ] || fail "bogus state: $(state bogus)"
    no_rundirs
    # The real VMM refuses a file that is not a kernel: its own message is
    # shown, and neither a process nor a run directory remains.
    expect_fail "Failed to start domain 'bogus'" "$TVM" --db "$DB" start bogus
    grep -qF "tvm-vmm exited during start-up: " "$T/err" || fail "start error does not quote tvm-vmm: $(cat "$T/err")"
    [ "$(state bogus)" = "shut off (unknown)" ] || fail "bogus state after VMM failure: $(state bogus)"
    no_rundirs
    ! pgrep -f -- "--rundir $TVM_RUNDIR/" >/dev/null || fail "a tvm-vmm process was left running"
fi

# Reconciliation of a run directory whose pid now belongs to an unrelated
# process: pid reuse must not pass for a live guest. The sleep below is not
# a stand-in for tvm-vmm but the real case (any process that got the pid).
# A VMM killed behind tvm's back (tests/lab/t-lifecycle-crash.sh) and one
# that exited on its own, leaving its exit.json (tests/lab/t-cli-live.sh),
# are driven with a real tvm-vmm in the lab.
uuid_of() { "$TVM" --db "$DB" dumpxml "$1" | sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p'; }
u=$(uuid_of nokernel)
sleep 300 &
sleeper=$!
mkdir -p "$TVM_RUNDIR/$u"
echo "$sleeper" >"$TVM_RUNDIR/$u/vmm.pid"
expect_fail "domain is not running" "$TVM" --db "$DB" destroy nokernel
kill -0 "$sleeper" || fail "destroy killed an unrelated process"
[ "$(state nokernel)" = "crashed (unknown)" ] || fail "recycled pid: $(state nokernel)"
[ ! -e "$TVM_RUNDIR/$u" ] || fail "run directory with a recycled pid not removed"

echo "ok"
