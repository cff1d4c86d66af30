#!/usr/bin/env bash
# The console socket of tvm-vmm on a real guest with a shell on ttyS0:
# the first client writes, later ones only read; every reader sees the
# boot banner (backlog) and the output of commands typed by the writer;
# a reader's typing is dropped; when the writer leaves, the oldest reader
# becomes the writer. The console log holds the whole session.
# Env: TVM_VMM, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

T=$(mktemp -d "${TMPDIR:-/tmp}/tvm-lab-console-XXXXXX")
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

# attach NAME: a client on the console socket fed from fifo NAME.in
# (opened on fd 10+), output in NAME.out.
declare -A FD=([w]=10 [r1]=11 [r2]=12)
attach() {
    mkfifo "$DIR/$1.in"
    # Not holding the other clients' fifos open: a detach must reach them.
    socat -t 10 - "UNIX-CONNECT:$DIR/console.sock" <"$DIR/$1.in" >"$DIR/$1.out" 10>&- 11>&- 12>&- &
    eval "exec ${FD[$1]}>\"$DIR/$1.in\""
    sleep 1 # connect order decides the writer
}
type_as() { printf '%s\r' "$2" >&"${FD[$1]}"; }
detach() { eval "exec ${FD[$1]}>&-"; }

step "boot a guest with a shell on the console"
boot con 1 256 "quiet tvm.shell"
wait_for "$DIR/console.log" "TVM-GUEST-UP"
[ -S "$DIR/console.sock" ] || fail "no console socket"
[ "$(stat -c %a "$DIR/console.sock")" = 600 ] || fail "console socket is not 0600"

step "three clients: all get the backlog (the banner)"
attach w
attach r1
attach r2
for c in w r1 r2; do wait_for "$DIR/$c.out" "TVM-GUEST-UP" 20; done

step "the writer types, everybody reads the result"
wait_for "$DIR/w.out" "/ # " 60
# What arrives while the shell sets up its tty can be flushed: retype then.
for try in 1 2 3 4 5 6; do
    type_as w 'echo CONSOLE-$((6*7))'
    deadline=$((SECONDS + 15))
    until grep -qa CONSOLE-42 "$DIR/w.out" || [ $SECONDS -ge $deadline ]; do sleep 1; done
    grep -qa CONSOLE-42 "$DIR/w.out" && break
done
for c in w r1 r2; do wait_for "$DIR/$c.out" "CONSOLE-42" 60; done

step "a reader's input is dropped"
type_as r1 'echo READER-$((1+1))'
type_as w 'echo MARK-$((2*2))'
for c in w r1 r2; do wait_for "$DIR/$c.out" "MARK-4" 60; done
! grep -qa "READER-2" "$DIR/console.log" || fail "read-only client's input reached the guest"

step "the writer leaves; the oldest reader takes over"
detach w
sleep 2
type_as r1 'echo PROMOTED-$((2+3))'
for c in r1 r2; do wait_for "$DIR/$c.out" "PROMOTED-5" 60; done
wait_for "$DIR/console.log" "PROMOTED-5" 10

step "poweroff from the console; the log has the session"
type_as r1 'poweroff -f'
wait_exit shutdown 120
detach r1
detach r2
for want in TVM-GUEST-UP CONSOLE-42 MARK-4 PROMOTED-5; do
    grep -qa "$want" "$DIR/console.log" || fail "console log lacks $want"
done
echo "PASS"
