#!/usr/bin/env bash
# virtio-console through tvm: a guest with the serial console and a
# <console><target type='virtio' port='1'/></console> writes a line to
# /dev/hvc0 and reads one back; `tvm console NAME --devname console1` shows
# the first and types the second, and the guest echoes what it read on its
# serial port; Ctrl-] detaches. The two consoles stay apart, and unknown
# device names are refused.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"

# fd 3 keeps /dev/hvc0 open from the write to the read, so input that
# arrives in between is not lost with a closed tty. (Escaped for the XML.)
run='exec 3<>/dev/hvc0;echo VCON-HELLO-$((6*7)) >&3;read -r line <&3;echo GOT:$line;sleep 8'
devices="    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>
    <console type='pty'><target type='virtio' port='1'/></console>"
guest_xml vc 1 256 "console=ttyS0 quiet panic=-1 tvm.run=$(echo "$run" | sed 's/ /%20/g; s/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g')" \
    restart "$devices" >"$T/vc.xml"
tvm define "$T/vc.xml" >/dev/null || fail "define"
tvm dumpxml vc | grep -q "<target type=.virtio. port=.1./>" || fail "dumpxml lost the virtio console: $(tvm dumpxml vc)"

step "start; the VMM serves the virtio console's socket"
expect_out "Domain 'vc' started" tvm start vc
u=$(uuid_of vc)
[ -S "$TVM_RUNDIR/$u/console1.sock" ] || fail "no console1.sock in $(ls "$TVM_RUNDIR/$u")"

step "unknown console names are refused"
expect_err "has no console device 'console2'" tvm console vc --devname console2
expect_err "no console device 'bogus'" tvm console vc --devname bogus

step "tvm console --devname console1: the guest's line out, ours in"
out=$T/console1.out
{
    trap '' PIPE # if the guest's console ends first, the last key has no reader
    deadline=$((SECONDS + BOOT_TIMEOUT))
    until grep -q "^VCON-HELLO-42" "$out" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || break
        sleep 0.5
    done
    printf 'ping-from-host\n'
    sleep 3
    printf '\035' || true
} | timeout $((BOOT_TIMEOUT + 60)) "$TVM" --db "$DB" console vc --devname console1 >"$out" 2>&1 ||
    fail "console --devname console1: $(cat "$out")"
grep -qF "Connected to domain 'vc'" "$out" || fail "no banner: $(head -3 "$out")"
grep -q "^VCON-HELLO-42" "$out" || fail "the guest's /dev/hvc0 line did not arrive: $(cat "$out")"
wait_count vc "^GOT:ping-from-host" 1 60

step "the consoles stay apart"
[ "$(count vc VCON-HELLO)" -eq 0 ] || fail "the hvc0 line leaked onto the serial console"
grep -q "TVM-GUEST-UP" "$out" && fail "serial console output on console1"

step "the guest powers off after its command"
wait_state vc "shut off (shutdown)" 120
[ ! -e "$TVM_RUNDIR/$u" ] || fail "run directory left after shutdown"
echo "ok"
