#!/usr/bin/env bash
# The console socket of tvm-vmm on a real guest with a shell on ttyS0:
# the first client writes, later ones only read; every reader sees the
# boot banner (backlog) and the output of commands typed by the writer;
# a reader's typing is dropped; when the writer leaves, the oldest reader
# becomes the writer. The console log holds the whole session.
# Env: TVM_VMM, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

LAB_TAG=console
. "$(dirname "${BASH_SOURCE[0]}")/vmm-lib.sh"

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
# A user types once, after the prompt: that line must run. If it does not,
# retyping only finds out whether input is lost now and then or for good,
# and the test fails either way, saying which attempt got through.
typed() { # SECONDS: the writer sees CONSOLE-42 within SECONDS
    type_as w 'echo CONSOLE-$((6*7))'
    local deadline=$((SECONDS + $1))
    until grep -qa CONSOLE-42 "$DIR/w.out" || [ $SECONDS -ge $deadline ]; do sleep 1; done
    grep -qa CONSOLE-42 "$DIR/w.out"
}
if ! typed 60; then
    worked=
    for try in 2 3 4 5 6; do
        typed 15 && { worked=$try; break; }
    done
    fail "the first line typed at the prompt was lost (lines typed: $try; ${worked:+line $worked ran}${worked:-none ran})"
fi
echo "the first typed line ran"
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
