#!/usr/bin/env bash
# The QMP control socket of tvm-vmm on a real guest: greeting and
# negotiation, query-status / stop / cont (the guest's output stops while
# paused), query-cpus-fast (thread ids are the VMM's vCPU threads),
# query-memory-size-summary, query-name, the STOP/RESUME events on a
# second client, and quit (exit "destroyed"). system_reset: t-qmp-reset.sh.
# Env: TVM_VMM, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${TVM_VMM:?} ${LAB_KERNEL:?} ${LAB_INITRD:?}"

LAB_TAG=qmp
. "$(dirname "${BASH_SOURCE[0]}")/vmm-lib.sh"

ticks() { grep -ac '^TICK' "$DIR/console.log" || true; }

step "boot a guest that prints a tick every second"
boot qmpguest 2 256 "quiet tvm.run=while%20true;do%20echo%20TICK;sleep%201;done"
wait_for "$DIR/console.log" "^TICK"
wait_socket

step "greeting and negotiation"
out=$(echo '{"execute": "query-status"}' | socat -t 5 - "UNIX-CONNECT:$DIR/control.sock")
expect '{"QMP": {"version": {"qemu": {"micro": 0, "minor": 0, "major": 0}, "package": "tvm-vmm 0.1"}, "capabilities": []}}' "$out"
expect '"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with '"'"'qmp_capabilities'"'"'"' "$out"
out=$(qmp '{"execute": "no-such-thing", "id": 5}' '{"execute": oops}' '{"execute": "query-name"}')
expect '"desc": "The command no-such-thing has not been found"}, "id": 5}' "$out"
expect '"desc": "JSON parse error' "$out"
expect '{"return": {"name": "qmpguest"}}' "$out"

qmp_listen 60

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
