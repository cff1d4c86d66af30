# A terminal that cannot move the cursor (TERM=dumb) gets a clear message
# and exit status 2, not a screen of which only the key bar shows.
source "$(dirname "$0")/lib.bash"

define vm 1 256
printf 'set -g default-terminal tmux-256color\n' >"$TMP/tmux.conf"
tmux -L "$SOCK" -f "$TMP/tmux.conf" new-session -d -s tvm -x 100 -y 30 \
    "env TERM=dumb $(printf '%q ' "$TVM" --db "$DB"); echo TVM-EXIT=\$?; sleep 600"
wait_for "TVM-EXIT=2"
screen | grep -qF "tvm: the TUI needs a terminal that can move the cursor, and TERM='dumb' cannot" ||
    fail "no message about TERM=dumb"
screen | grep -qF "F1Help" && fail "the key bar was drawn on a dumb terminal"
# a verb still works there
TERM=dumb "$TVM" --db "$DB" list --all --name | grep -qx vm || fail "list does not work with TERM=dumb"
echo ok
