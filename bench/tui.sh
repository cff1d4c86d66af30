#!/usr/bin/env bash
# TUI benchmark: 10,000 domains in the inventory (defined with `tvm --batch`),
# then tvm's TUI in a private tmux server with TVM_TUI_BENCH=FILE, which makes
# tvm record, from inside its loop: time to the first full frame,
# keypress-to-redraw over every key handled, the periodic refresh (store
# reload + reconcile + /proc samples) and its max RSS.
# Also measured from outside: wall time from launching tvm until the list
# is on the tmux screen.
#   bench/tui.sh [N]      (env TVM: the tvm binary; default build/tvm)
# Targets: first frame < 200 ms, redraw < 16 ms, max RSS < 20 MiB.
set -euo pipefail
N=${1:-10000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
TVM=${TVM:-$SRC/build/tvm}
T=$(mktemp -d)
SOCK=tvmbench-$$
cleanup() {
    tmux -L "$SOCK" kill-server 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT
export TVM_RUNDIR=$T/run XDG_CONFIG_HOME=$T/config TVM_THEMES_DIR=$SRC/themes
export LANG=C.UTF-8 LC_ALL=C.UTF-8

echo "tui bench: defining $N domains ..." >&2
mkdir -p "$T/xml"
for ((i = 0; i < N; i++)); do
    name=$(printf 'guest-%05d' "$i")
    cat >"$T/xml/$name.xml" <<XML
<domain type='kvm'>
  <name>$name</name>
  <memory unit='MiB'>$((256 << (i % 4)))</memory>
  <vcpu>$((1 + i % 8))</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>/var/lib/tvm/vmlinuz</kernel></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/tvm/images/$name.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'><source network='default'/><model type='virtio'/></interface>
  </devices>
</domain>
XML
    echo "define $T/xml/$name.xml"
done >"$T/define.tvm"
"$TVM" --db "$T/tvm.db" --batch "$T/define.tvm" >/dev/null

screen() { tmux -L "$SOCK" capture-pane -p -t bench; }
wait_for() {
    local i
    for ((i = 0; i < 2000; i++)); do
        screen 2>/dev/null | grep -qF -- "$1" && return 0
        sleep 0.005
    done
    echo "tui bench: '$1' never appeared" >&2
    screen >&2
    exit 1
}

last=$(printf 'guest-%05d' $((N - 1)))
printf 'set -g default-terminal tmux-256color\n' >"$T/tmux.conf"
tmux -L "$SOCK" -f "$T/tmux.conf" new-session -d -s bench -x 160 -y 50 "sleep 600"
start=$(date +%s%N)
tmux -L "$SOCK" respawn-pane -k -t bench \
    "TVM_TUI_BENCH=$T/result $(printf '%q' "$TVM") --db $T/tvm.db; sleep 600"
wait_for "domains $N"
wait_for "guest-00001"
wall_ms=$(( ($(date +%s%N) - start) / 1000000 ))

# Keys: moves, page moves, the end of the list, every sort column, a filter.
for _ in $(seq 20); do tmux -L "$SOCK" send-keys -t bench Down; done
for _ in $(seq 5); do tmux -L "$SOCK" send-keys -t bench NPage; done
tmux -L "$SOCK" send-keys -t bench End
wait_for "$last"
for _ in $(seq 6); do tmux -L "$SOCK" send-keys -t bench '>'; done
tmux -L "$SOCK" send-keys -t bench I Home
tmux -L "$SOCK" send-keys -t bench / 9 9 9
wait_for "Filter: 999"
tmux -L "$SOCK" send-keys -t bench Enter Escape 6 Tab Tab
sleep 2.5 # let the 1 s refresh run a few times over the full inventory
tmux -L "$SOCK" send-keys -t bench q
for _ in $(seq 200); do [ -s "$T/result" ] && break; sleep 0.05; done
[ -s "$T/result" ] || { echo "tui bench: no result file" >&2; exit 1; }

get() { sed -n "s/^$1 //p" "$T/result"; }
rss_kib=$(get max_rss_kib)
printf '%-34s %12s %10s\n' "tvm TUI, $N domains" "measured" "target"
printf '%-34s %9s ms %10s\n' "first full frame (in tvm)" "$(get first_frame_ms)" "< 200 ms"
printf '%-34s %9s ms %10s\n' "launch to list on screen (tmux)" "$wall_ms" "-"
printf '%-34s %9s ms %10s\n' "keypress to redraw, mean" "$(get redraw_avg_ms)" "< 16 ms"
printf '%-34s %9s ms %10s\n' "keypress to redraw, max" "$(get redraw_max_ms)" "< 16 ms"
printf '%-34s %12s\n' "  keys measured" "$(get redraws)"
printf '%-34s %12s\n' "  slowest key" "$(get redraw_max_key)"
printf '%-34s %9s ms %10s\n' "periodic refresh (1/s), mean" "$(get refresh_avg_ms)" "-"
printf '%-34s %9s ms %10s\n' "periodic refresh, max" "$(get refresh_max_ms)" "-"
printf '%-34s %8s MiB %10s\n' "max RSS" "$(awk -v k="$rss_kib" 'BEGIN{printf "%.1f", k/1024}')" "< 20 MiB"
