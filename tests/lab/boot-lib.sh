# Helpers for the tvm-vmm boot tests (sourced by t-boot*.sh): write a
# domain, run tvm-vmm directly on it, and read the guest's console log.
# Env: TVM_VMM, LAB_KERNEL, LAB_INITRD.
: "${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/tvm-boot-XXXXXX")
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-240}
VMM_PID= DIR=

boot_cleanup() {
    [ -n "$VMM_PID" ] && kill -9 "$VMM_PID" 2>/dev/null
    rm -rf "$T"
}
trap boot_cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for f in "$DIR"/console.log "$DIR"/vmm.log "$DIR"/exit.json; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
    done
    # A guest that hangs: whether its vCPU threads spin or sleep, and what
    # the (L1) kernel said about KVM meanwhile.
    if [ -n "$VMM_PID" ] && [ -d "/proc/$VMM_PID/task" ]; then
        echo "--- tvm-vmm threads (name state utime stime)" >&2
        for t in /proc/"$VMM_PID"/task/*; do
            awk '{ print $2, $3, $14, $15 }' "$t/stat" 2>/dev/null
        done >&2
    fi
    echo "--- dmesg" >&2
    dmesg 2>/dev/null | tail -n 15 >&2
    exit 1
}
step() { echo "== $*"; }

. "$(dirname "${BASH_SOURCE[0]}")/guest-xml.sh"

# domain NAME VCPUS MEM_MIB CMDLINE_EXTRA [ON_REBOOT] [DEVICES_XML]: write
# $T/NAME/domain.xml, set DIR.
domain() {
    DIR=$T/$1
    mkdir -p "$DIR"
    guest_xml "$1" "$2" "$3" "console=ttyS0 quiet panic=-1 $4" "${5:-restart}" "${6:-}" >"$DIR/domain.xml"
}

# start: run tvm-vmm on $DIR in the background (stderr to $DIR/vmm.log).
start() {
    "$TVM_VMM" --domain "$DIR/domain.xml" --rundir "$DIR" --console-log "$DIR/console.log" \
        </dev/null >"$DIR/vmm.log" 2>&1 &
    VMM_PID=$!
}

# count_console PATTERN: lines of the console log matching (0 if no log yet).
count_console() {
    local c
    c=$(grep -c -- "$1" "$DIR/console.log" 2>/dev/null) || true
    echo "${c:-0}"
}

# wait_console PATTERN [COUNT]: until the console log has COUNT lines matching.
# The deadlines are wall-clock: on a loaded L1 each poll takes far longer
# than its sleep, and a count of polls outlasts the test's own timeout,
# which then kills the test before fail() can show the logs.
wait_console() {
    local n=${2:-1} deadline=$((SECONDS + BOOT_TIMEOUT))
    while [ "$(count_console "$1")" -lt "$n" ]; do
        kill -0 "$VMM_PID" 2>/dev/null || fail "tvm-vmm exited while waiting for '$1' x$n"
        [ $SECONDS -ge $deadline ] && fail "no '$1' x$n on the console after ${BOOT_TIMEOUT}s"
        sleep 0.2
    done
}

# wait_exit: until tvm-vmm exits; sets VMM_RC.
wait_exit() {
    local deadline=$((SECONDS + BOOT_TIMEOUT))
    while kill -0 "$VMM_PID" 2>/dev/null; do
        [ $SECONDS -ge $deadline ] && fail "tvm-vmm still running after ${BOOT_TIMEOUT}s"
        sleep 0.2
    done
    wait "$VMM_PID"
    VMM_RC=$?
    VMM_PID=
}

# exit_reason: the "reason" of $DIR/exit.json.
exit_reason() {
    sed -n 's/.*"reason": *"\([^"]*\)".*/\1/p' "$DIR/exit.json" 2>/dev/null
}

# check_clean: exit.json there, no sockets or pid file left.
check_clean() {
    [ -f "$DIR/exit.json" ] || fail "no exit.json"
    for f in vmm.pid control.sock console.sock; do
        [ ! -e "$DIR/$f" ] || fail "$f left in the run directory"
    done
}

# boot_check NAME CPUS MEM_MIB: boot the guest, check its banner (CPU count,
# MemTotal between 85 % and 100 % of MEM_MIB), let it power off, and check
# tvm-vmm's exit: status 0, reason "shutdown", run directory clean.
boot_check() {
    local name=$1 cpus=$2 mem=$3 line got_cpus got_kb want_kb
    step "boot with $cpus vCPUs and $mem MiB"
    domain "$name" "$cpus" "$mem" ""
    start
    wait_console 'TVM-GUEST-UP'
    line=$(grep -m1 'TVM-GUEST-UP' "$DIR/console.log" | tr -d '\r')
    echo "   $line"
    got_cpus=$(echo "$line" | sed -n 's/.* cpus=\([0-9]*\).*/\1/p')
    got_kb=$(echo "$line" | sed -n 's/.* mem_kb=\([0-9]*\).*/\1/p')
    [ "$got_cpus" = "$cpus" ] || fail "guest sees $got_cpus CPUs, configured $cpus"
    want_kb=$((mem * 1024))
    [ "$got_kb" -ge $((want_kb * 85 / 100)) ] || fail "guest MemTotal $got_kb KiB < 85% of $want_kb KiB"
    [ "$got_kb" -le "$want_kb" ] || fail "guest MemTotal $got_kb KiB > configured $want_kb KiB"
    wait_exit
    [ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC after guest poweroff"
    check_clean
    [ "$(exit_reason)" = shutdown ] || fail "exit.json reason '$(exit_reason)', want shutdown"
    ! grep -q 'Call Trace\|WARNING:\|BUG:' "$DIR/console.log" || fail "guest kernel warned or oopsed"
}
