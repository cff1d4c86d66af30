#!/usr/bin/env bash
# QMP system_reset on a real guest: the guest boots a second time in the
# same tvm-vmm process, a RESET event reaches a listening client, and the
# VMM still answers and quits ("destroyed") afterwards.
# Env: TVM_VMM, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/tvm-lab-qmpr-XXXXXX")
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
    cat >"$DIR/domain.xml" <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>$3</memory>
  <vcpu>$2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$LAB_KERNEL</kernel>
    <initrd>$LAB_INITRD</initrd>
    <cmdline>console=ttyS0 $4</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
</domain>
XML
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
ticks() { grep -ac 'TICK' "$DIR/console.log" || true; }

step "boot a guest with a shell"
boot resetguest 1 256 "quiet tvm.shell"
wait_for "$DIR/console.log" "TVM-GUEST-UP"
wait_socket
mkfifo "$DIR/listen.in"
socat -t 60 - "UNIX-CONNECT:$DIR/control.sock" <"$DIR/listen.in" >"$DIR/listen.qmp" &
exec 7>"$DIR/listen.in"
echo '{"execute": "qmp_capabilities"}' >&7
wait_for "$DIR/listen.qmp" '"return"' 30

step "system_reset: the guest boots again"
expect '"return": {}' "$(qmp '{"execute": "system_reset"}')"
deadline=$((SECONDS + BOOT_TIMEOUT))
until [ "$(grep -ac 'TVM-GUEST-UP' "$DIR/console.log")" -ge 2 ]; do
    [ $SECONDS -lt $deadline ] || fail "no second boot after system_reset"
    vmm_alive || fail "tvm-vmm exited on system_reset"
    sleep 1
done
wait_for "$DIR/listen.qmp" '"event": "RESET"' 10

expect '"status": "running"' "$(qmp '{"execute": "query-status"}')"

step "quit"
expect '"return": {}' "$(qmp '{"execute": "quit"}')"
wait_exit destroyed 60
exec 7>&-
echo "PASS"
