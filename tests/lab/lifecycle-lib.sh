# Helpers for the lifecycle lab tests (sourced by t-lifecycle*.sh): a private
# database and run directory, guests defined through `tvm define`, and the
# guests' console logs (kept by tvm beside the database).
# Env: TVM, TVM_VMM, LAB_KERNEL, LAB_INITRD.
: "${TVM:?} ${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

. "$(dirname "${BASH_SOURCE[0]}")/guest-xml.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/tvm-lc-XXXXXX")
export TVM_RUNDIR=$T/run
DB=$T/tvm.db
LOGDIR=$T/log
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-240}

tvm() { "$TVM" --db "$DB" "$@"; }
lc_cleanup() {
    for d in $(tvm list --name 2>/dev/null); do tvm destroy "$d" >/dev/null 2>&1 || true; done
    rm -rf "$T"
}
trap lc_cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    for f in "$LOGDIR"/*.console.log "$TVM_RUNDIR"/*/vmm.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 20 "$f" | tr -d '\r' >&2; echo >&2; }
    done
    exit 1
}
step() { echo "== [$SECONDS s] $*"; }

# define NAME VCPUS MEM_MIB CMDLINE_EXTRA
define() {
    guest_xml "$1" "$2" "$3" "console=ttyS0 quiet panic=-1 $4" >"$T/$1.xml"
    tvm define "$T/$1.xml" >/dev/null || fail "define $1"
}
# expect_out TEXT CMD...: CMD succeeds and prints TEXT.
expect_out() {
    local want=$1 out
    shift
    out=$("$@" 2>&1) || fail "'$*' failed: $out"
    grep -qF -- "$want" <<<"$out" || fail "'$*' printed '$out', expected '$want'"
}
# expect_err TEXT CMD...: CMD fails and says TEXT.
expect_err() {
    local want=$1 out
    shift
    out=$("$@" 2>&1) && fail "'$*' succeeded: $out"
    grep -qF -- "$want" <<<"$out" || fail "'$*' said '$out', expected '$want'"
}
state() { tvm domstate --reason "$1" | head -1; }
# count NAME PATTERN: occurrences of PATTERN in NAME's console log.
count() {
    local n
    n=$(grep -c -- "$2" "$LOGDIR/$1.console.log" 2>/dev/null) || true
    echo "${n:-0}" # 0, not nothing, before the guest's log exists
}
# wait_count NAME PATTERN N [TIMEOUT]
wait_count() {
    local deadline=$((SECONDS + ${4:-$BOOT_TIMEOUT}))
    while [ "$(count "$1" "$2")" -lt "$3" ]; do
        [ $SECONDS -lt $deadline ] || fail "$1: '$2' seen $(count "$1" "$2") times, wanted $3"
        sleep 1
    done
}
# wait_state NAME "STATE (REASON)" [TIMEOUT]
wait_state() {
    local deadline=$((SECONDS + ${3:-120}))
    until [ "$(state "$1")" = "$2" ]; do
        [ $SECONDS -lt $deadline ] || fail "$1 is '$(state "$1")', wanted '$2'"
        sleep 1
    done
}
uuid_of() { tvm dumpxml "$1" | sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p'; }
vmm_pid() { cat "$TVM_RUNDIR/$(uuid_of "$1")/vmm.pid"; }
guest_line() { grep -- "TVM-GUEST-UP" "$LOGDIR/$1.console.log" | tail -1 | tr -d '\r'; }
# check_guest NAME VCPUS MEM_MIB: the guest's own banner agrees.
check_guest() {
    local line mem
    line=$(guest_line "$1")
    grep -q "cpus=$2 " <<<"$line" || fail "$1: guest reports '$line', wanted cpus=$2"
    mem=$(sed -n 's/.*mem_kb=\([0-9]*\).*/\1/p' <<<"$line")
    [ -n "$mem" ] && [ "$mem" -ge $(($3 * 1024 * 85 / 100)) ] && [ "$mem" -le $(($3 * 1024)) ] ||
        fail "$1: guest MemTotal '$mem' kB for $3 MiB"
}
# events_have NAME EVENT...: each EVENT is in NAME's event log.
events_have() {
    local ev name=$1
    shift
    ev=$(tvm events --domain "$name" 2>&1) || fail "events: $ev"
    for e in "$@"; do
        grep -qw "$e" <<<"$ev" || fail "event '$e' missing for $name: $ev"
    done
}
# gone PID: the process has ended (a zombie awaiting its reaper counts).
gone() {
    local i st
    for i in $(seq 50); do
        st=$(sed -n 's/^[0-9]* (.*) \([A-Z]\).*/\1/p' "/proc/$1/stat" 2>/dev/null || true)
        [ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ] && return 0
        sleep 0.1
    done
    return 1
}
