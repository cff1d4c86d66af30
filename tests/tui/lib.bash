# Helpers for the TUI tests (sourced, not a test itself): a private tmux
# server and a private database per test, polling for text on the screen.
set -euo pipefail
: "${TVM:?TVM must point at the tvm binary}"
: "${TVM_SRC:?TVM_SRC must point at the source tree}"

TMP=$(mktemp -d)
SOCK=tvmtest-$$
DB=$TMP/tvm.db
export TVM_RUNDIR=$TMP/run
export XDG_CONFIG_HOME=$TMP/config
export TVM_THEMES_DIR=$TVM_SRC/themes
export LANG=C.UTF-8 LC_ALL=C.UTF-8
unset VISUAL

cleanup() {
    tmux -L "$SOCK" kill-server 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*" >&2
    if tmux -L "$SOCK" has-session 2>/dev/null; then
        echo "---- screen ----" >&2
        tmux -L "$SOCK" capture-pane -p -t tvm >&2 || true
        echo "----------------" >&2
    fi
    exit 1
}

# domain_xml NAME VCPUS MEMORY_MIB [EXTRA_DEVICES] > file
domain_xml() {
    cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>$3</memory>
  <vcpu>$2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/var/lib/tvm/kernels/$1-vmlinuz</kernel>
    <cmdline>console=ttyS0</cmdline>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/tvm/images/$1.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:12:34:0$2'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'><target port='0'/></serial>
  </devices>
</domain>
XML
}

# define NAME VCPUS MEMORY_MIB: through the real tvm, as a user would.
define() {
    domain_xml "$@" >"$TMP/$1.xml"
    "$TVM" --db "$DB" define "$TMP/$1.xml" >/dev/null
}

# tui_start [COLS ROWS [tvm args...]]: run tvm in a detached tmux session
# named "tvm"; its exit code is printed as TVM-EXIT=N when it ends.
# $TUI_ENV (e.g. "TERM=xterm LC_ALL=C") is put in tvm's environment;
# $TUI_AFTER is a shell command run in the pane after tvm exits.
tui_start() {
    local cols=${1:-100} rows=${2:-32}
    shift 2 || true
    printf 'set -g default-terminal tmux-256color\n' >"$TMP/tmux.conf"
    tmux -L "$SOCK" -f "$TMP/tmux.conf" new-session -d -s tvm -x "$cols" -y "$rows" \
        "env ${TUI_ENV:-} $(printf '%q ' "$TVM" --db "$DB" "$@"); echo TVM-EXIT=\$?; ${TUI_AFTER:-:}; sleep 600"
    wait_for "F1Help"
}

# tui_stop: end the tmux server; the next tui_start gets a fresh one (a
# server that is still shutting down would swallow a new session).
tui_stop() {
    tmux -L "$SOCK" kill-server 2>/dev/null || true
    SOCK=$SOCK-n
}

screen() {
    tmux -L "$SOCK" capture-pane -p -t tvm
}

keys() {
    tmux -L "$SOCK" send-keys -t tvm "$@"
}

# wait_for TEXT [SECONDS]: poll the screen until TEXT (fixed string) shows.
wait_for() {
    local text=$1 limit=${2:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        screen | grep -qF -- "$text" && return 0
        sleep 0.05
    done
    fail "'$text' did not appear within ${limit}s"
}

# wait_gone TEXT [SECONDS]: poll until TEXT is no longer on the screen.
wait_gone() {
    local text=$1 limit=${2:-10} i
    for ((i = 0; i < limit * 20; i++)); do
        screen | grep -qF -- "$text" || return 0
        sleep 0.05
    done
    fail "'$text' still on the screen after ${limit}s"
}

# row NAME: the list line for a domain (first match).
row() {
    screen | grep -E "^ $1 " | head -n1
}

# line_of TEXT: screen line number of the first line containing TEXT.
line_of() {
    screen | grep -nF -- "$1" | head -n1 | cut -d: -f1
}
