# The terminal is restored however tvm ends: q, SIGTERM, a crash (SIGSEGV).
source "$(dirname "$0")/lib.bash"

define vm 1 256
# After tvm: print the tty's line discipline so the test can see it was restored.
export TUI_AFTER='stty -a | tr " " "\n" | grep -x -e icanon -e -icanon -e echo -e -echo | sed "s/^/TTY:/"'

# tvm_pid: the tvm process under the pane's shell
tvm_pid() {
    local shell
    shell=$(tmux -L "$SOCK" display-message -p -t tvm '#{pane_pid}')
    pgrep -P "$shell" -x tvm | head -n1
}

check_restored() { # EXIT-CODE
    wait_for "TVM-EXIT=$1"
    wait_for "TTY:"
    screen | grep -qx "TTY:icanon" || fail "canonical mode not restored"
    screen | grep -qx "TTY:echo" || fail "echo not restored"
    screen | grep -q "F1Help" && fail "the TUI's screen is still shown"
    tui_stop
}

tui_start 100 30
wait_for " vm "
keys q
check_restored 0

tui_start 100 30
wait_for " vm "
kill -TERM "$(tvm_pid)"
check_restored 1

tui_start 100 30
wait_for " vm "
kill -SEGV "$(tvm_pid)"
check_restored 139
echo ok
