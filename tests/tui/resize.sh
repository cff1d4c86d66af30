# The layout follows the window: 80x24 (details below the list) and 200x60
# (details beside it), with the title, header and key bar always in place.
source "$(dirname "$0")/lib.bash"

for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
    define "vm$i" 1 256
done
tui_start 120 40
wait_for " vm12 "

check_frame() { # COLS ROWS
    local cols=$1 rows=$2 shot
    shot=$(screen)
    [ "$(printf '%s\n' "$shot" | wc -l)" -eq "$rows" ] || fail "screen is not $rows lines"
    printf '%s\n' "$shot" | head -n1 | grep -q "tvm  host" || fail "title missing at ${cols}x$rows"
    printf '%s\n' "$shot" | sed -n 2p | grep -q "NAME" || fail "header missing at ${cols}x$rows"
    printf '%s\n' "$shot" | tail -n1 | grep -q "^F1Help" || fail "key bar missing at ${cols}x$rows"
    [ "$(printf '%s\n' "$shot" | grep -c "F1Help")" -eq 1 ] || fail "stale key bar at ${cols}x$rows"
    [ "$(printf '%s\n' "$shot" | grep -c "tvm  host")" -eq 1 ] || fail "stale title at ${cols}x$rows"
    local long
    long=$(printf '%s\n' "$shot" | perl -CS -ne "print if length(\$_) > $cols + 1" | wc -l)
    [ "$long" -eq 0 ] || fail "lines wider than $cols"
}

tmux -L "$SOCK" resize-window -t tvm -x 80 -y 24
wait_for "Overview"
sleep 0.3
check_frame 80 24
# narrow: the tab bar is below the list header
[ "$(line_of Overview)" -gt 2 ] || fail "details not below the list at 80x24"
# the selection scrolls into view in the short list
keys End
wait_for " vm12 "

tmux -L "$SOCK" resize-window -t tvm -x 200 -y 60
sleep 0.3
wait_for " vm01 "
check_frame 200 60
# wide: list header and tab bar share the second line
screen | sed -n 2p | grep -q "Overview" || fail "details not beside the list at 200x60"
for i in 01 06 12; do row "vm$i" | grep -q "vm$i" || fail "vm$i row missing at 200x60"; done

tmux -L "$SOCK" resize-window -t tvm -x 80 -y 24
sleep 0.3
wait_for "F1Help"
check_frame 80 24

keys q
wait_for "TVM-EXIT=0"
echo ok
