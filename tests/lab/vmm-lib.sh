# Helpers for the lab tests that drive tvm-vmm directly and talk to its
# sockets (sourced by t-acpi-*.sh, t-console.sh, t-qmp*.sh): boot a guest
# on a fresh run dir, wait for console/QMP output, check the VMM's exit,
# and send QMP commands.
# Env: TVM_VMM, LAB_KERNEL, LAB_INITRD. Set LAB_TAG before sourcing to
# name the scratch directory.
: "${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

. "$(dirname "${BASH_SOURCE[0]}")/guest-xml.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/tvm-lab-${LAB_TAG:-vmm}-XXXXXX")
BOOT_TIMEOUT=${LAB_BOOT_TIMEOUT:-240}
VMM_PID= DIR=
cleanup() {
    [ -n "$VMM_PID" ] && kill -9 "$VMM_PID" 2>/dev/null
    for p in $(jobs -p); do kill "$p" 2>/dev/null || true; done
    rm -rf "$T"
}
trap cleanup EXIT
fail() {
    echo "FAIL: $*" >&2
    for f in "$DIR"/console.log "$DIR"/vmm.log "$DIR"/*.qmp; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 40 "$f" >&2; }
    done
    exit 1
}
step() { echo "== $*"; }

# boot NAME VCPUS MEMMIB CMDLINE-EXTRA: start tvm-vmm on a fresh run dir.
boot() {
    DIR=$T/$1
    mkdir -p "$DIR"
    guest_xml "$1" "$2" "$3" "console=ttyS0 $4" >"$DIR/domain.xml"
    "$TVM_VMM" --domain "$DIR/domain.xml" --rundir "$DIR" --console-log "$DIR/console.log" \
        >"$DIR/vmm.log" 2>&1 &
    VMM_PID=$!
}
# wait_for FILE PATTERN [TIMEOUT]
wait_for() {
    local deadline=$((SECONDS + ${3:-$BOOT_TIMEOUT}))
    until grep -qa -- "$2" "$1" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || fail "'$2' not seen in $1 within ${3:-$BOOT_TIMEOUT}s"
        vmm_alive || grep -qa -- "$2" "$1" 2>/dev/null || fail "tvm-vmm exited before '$2' appeared"
        sleep 1
    done
}
vmm_alive() { [ -n "$VMM_PID" ] && [ -e /proc/$VMM_PID ] && ! grep -q '^State:.*Z' /proc/$VMM_PID/status 2>/dev/null; }
# wait_exit REASON [TIMEOUT]: the VMM exits and exit.json carries REASON.
wait_exit() {
    local deadline=$((SECONDS + ${2:-120}))
    while vmm_alive; do
        [ $SECONDS -lt $deadline ] || fail "tvm-vmm still running after ${2:-120}s"
        sleep 1
    done
    wait "$VMM_PID" || true
    VMM_PID=
    [ -f "$DIR/exit.json" ] || fail "no exit.json"
    grep -q "\"reason\": *\"$1\"" "$DIR/exit.json" || fail "exit.json is $(cat "$DIR/exit.json"), wanted reason $1"
    for f in control.sock console.sock vmm.pid; do
        [ ! -e "$DIR/$f" ] || fail "$f left behind"
    done
}
wait_socket() {
    local deadline=$((SECONDS + 60))
    until [ -S "$DIR/control.sock" ]; do
        [ $SECONDS -lt $deadline ] || fail "no control socket"
        sleep 0.2
    done
}
# qmp CMD...: one connection, negotiate, run the commands, print replies.
qmp() {
    { echo '{"execute": "qmp_capabilities"}'; printf '%s\n' "$@"; } |
        socat -t 5 - "UNIX-CONNECT:$DIR/control.sock"
}

# expect TEXT QMP-OUTPUT: fixed-string match with a readable failure.
expect() { grep -qF -- "$1" <<<"$2" || fail "expected '$1' in: $2"; }

# qmp_listen SECONDS: a second QMP client that stays connected (at most
# SECONDS) to collect events in $DIR/listen.qmp; it is fed through fd 7
# and already negotiated on return.
qmp_listen() {
    mkfifo "$DIR/listen.in"
    socat -t "$1" - "UNIX-CONNECT:$DIR/control.sock" <"$DIR/listen.in" >"$DIR/listen.qmp" &
    exec 7>"$DIR/listen.in"
    echo '{"execute": "qmp_capabilities"}' >&7
    wait_for "$DIR/listen.qmp" '"return"' 30
}
