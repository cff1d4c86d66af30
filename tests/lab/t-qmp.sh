#!/usr/bin/env bash
# The QMP control socket of tvm-vmm on a real guest: greeting and
# negotiation, query-status / stop / cont (the guest's output stops while
# paused), query-cpus-fast (thread ids are the VMM's vCPU threads),
# query-memory-size-summary, query-name, the STOP/RESUME events on a
# second client, and quit (exit "destroyed"). system_reset: t-qmp-reset.sh.
# Env: TVM_VMM, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/tvm-lab-qmp-XXXXXX")
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

step "boot a guest that prints a tick every second"
boot qmpguest 2 256 "quiet tvm.run=while%20true;do%20echo%20TICK;sleep%201;done"
wait_for "$DIR/console.log" "TICK"
wait_socket

step "greeting and negotiation"
out=$(echo '{"execute": "query-status"}' | socat -t 5 - "UNIX-CONNECT:$DIR/control.sock")
expect '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 0}, "package": "tvm-vmm 0.1"}, "capabilities": []}}' "$out"
expect '"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with '"'"'qmp_capabilities'"'"'"' "$out"
out=$(qmp '{"execute": "no-such-thing", "id": 5}' '{"execute": oops}' '{"execute": "query-name"}')
expect '"desc": "The command no-such-thing has not been found"}, "id": 5}' "$out"
expect '"desc": "JSON parse error' "$out"
expect '{"return": {"name": "qmpguest"}}' "$out"

mkfifo "$DIR/listen.in"
socat -t 60 - "UNIX-CONNECT:$DIR/control.sock" <"$DIR/listen.in" >"$DIR/listen.qmp" &
exec 7>"$DIR/listen.in"
echo '{"execute": "qmp_capabilities"}' >&7
wait_for "$DIR/listen.qmp" '"return"' 30

step "query-status, stop: output stops; cont: it resumes"
expect '"status": "running"' "$(qmp '{"execute": "query-status"}')"
expect '"return": {}' "$(qmp '{"execute": "stop"}')"
out=$(qmp '{"execute": "query-status"}')
expect '"status": "paused"' "$out"
expect '"running": false' "$out"
sleep 1
a=$(ticks)
sleep 3
b=$(ticks)
[ "$a" = "$b" ] || fail "guest printed while paused ($a -> $b ticks)"
expect '"return": {}' "$(qmp '{"execute": "cont"}')"
expect '"status": "running"' "$(qmp '{"execute": "query-status"}')"
deadline=$((SECONDS + 60))
until [ "$(ticks)" -gt "$b" ]; do
    [ $SECONDS -lt $deadline ] || fail "no output after cont"
    sleep 0.5
done
wait_for "$DIR/listen.qmp" '"event": "RESUME"' 10
grep -q '"event": "STOP"' "$DIR/listen.qmp" || fail "no STOP event"

step "query-cpus-fast: 2 vCPUs on the VMM's own threads"
out=$(qmp '{"execute": "query-cpus-fast"}')
[ "$(grep -o '"cpu-index": [0-9]*' <<<"$out" | wc -l)" = 2 ] || fail "not 2 CPUs: $out"
expect '"qom-path": "/machine/unattached/device[1]", "target": "x86_64"' "$out"
for tid in $(grep -o '"cpu-index": [0-9]*, "thread-id": [0-9]*' <<<"$out" | sed 's/.*: //'); do
    [ -d "/proc/$VMM_PID/task/$tid" ] || fail "thread-id $tid is not a thread of tvm-vmm ($VMM_PID)"
done

step "query-memory-size-summary"
expect '{"return": {"base-memory": 268435456}}' "$(qmp '{"execute": "query-memory-size-summary"}')"

step "quit: reply, then the VMM exits as destroyed"
expect '"return": {}, "id": 1' "$(qmp '{"execute": "quit", "id": 1}')"
wait_exit destroyed 60
exec 7>&-
echo "PASS"
