# The Enter menu: a key shown on an entry works inside the menu too; at a
# small height the menu scrolls so the selection is always on the screen;
# only the actions that apply to the domain's state are offered, and the
# keys of the others refuse at once, with no y/n question.
source "$(dirname "$0")/lib.bash"

define vm 1 256
tui_start 100 30
wait_for " vm "

# menu_line TEXT: the menu's line showing TEXT (empty when not shown)
menu_line() { screen | grep -F -- "│ $1" | head -n1; }
# the highlighted entry: the one drawn with the selection's colours
selected() {
    tmux -L "$SOCK" capture-pane -e -p -t tvm |
        sed -n 's/.*\x1b\[[0-9;]*m\([a-zA-Z:]\)  \([A-Z][-A-Za-z /.]*[A-Za-z.]\) *\x1b.*/\1  \2/p' | head -n1
}

# a shut-off guest is offered Start, never Shut down, Reboot, Reset,
# Suspend / resume or Destroy
keys Enter
wait_for "vm (shut off)"
[ -n "$(menu_line "s  Start")" ] || fail "Start is not offered for a shut-off guest"
for entry in "h  Shut down" "r  Reboot" "R  Reset..." "p  Suspend / resume" "D  Destroy..."; do
    [ -z "$(menu_line "$entry")" ] || fail "'$entry' is offered for a shut-off guest"
done
# a key shown in the menu acts in the menu: y is Clone...
keys y
wait_for "Clone 'vm' as:"
keys Escape
wait_for "clone of 'vm' cancelled"
# and t is Theme...
keys Enter
wait_for "vm (shut off)"
keys t
wait_for "theme (now default)"
keys Escape
wait_gone "theme (now"

# keys that do not apply refuse at once: no question, the reason instead
# (Escape between them clears the message line)
for pair in R:Reset D:Destroy F8:Destroy h:"Shut down" F3:"Shut down" r:Reboot p:"Suspend / resume"; do
    k=${pair%%:*} what=${pair#*:}
    keys "$k"
    wait_for "$what does not apply: 'vm' is shut off"
    screen | grep -qF "domain 'vm'?" && fail "key $k asks y/n on a shut-off guest"
    [ "$("$TVM" --db "$DB" domstate vm)" = "shut off" ] || fail "key $k changed the guest"
    keys Escape
    wait_gone "does not apply"
done
# the hint line offers what applies: start, not shutdown or destroy
hint=$(screen | tail -n 2 | head -n 1)
[[ $hint == *"s start"* ]] || fail "the hint line does not offer start: '$hint'"
[[ $hint != *"h shutdown"* && $hint != *"D destroy"* ]] ||
    fail "the hint line offers shutdown/destroy on a shut-off guest: '$hint'"
tui_stop

# 12 rows: the menu is taller than the screen. Every entry the selection
# reaches is on the screen and highlighted, going down and coming back up.
tui_start 100 12
wait_for " vm "
keys Enter
wait_for "vm (shut off)"
n=0
first=$(selected)
[ "$first" = "s  Start" ] || fail "the menu does not open on Start: '$first'"
seen="|$first|"
for ((i = 0; i < 20; i++)); do
    keys Down
    sleep 0.1
    sel=$(selected)
    [ -n "$sel" ] || fail "after $((i + 1)) Down the selection is off the screen"
    [ "$sel" = "s  Start" ] && break # wrapped around
    seen="$seen$sel|"
    n=$((n + 1))
done
[[ $seen == *"|t  Theme...|"* ]] || fail "the last entry was never shown selected: $seen"
[[ $seen == *"|:  Command line...|"* ]] || fail "Command line was never shown selected: $seen"
[ "$n" -ge 12 ] || fail "only $n entries below Start: $seen"
keys End
sleep 0.1
[ "$(selected)" = "t  Theme..." ] || fail "End: '$(selected)' selected, not the last entry"
keys Home
sleep 0.1
[ "$(selected)" = "s  Start" ] || fail "Home: '$(selected)' selected, not the first entry"
keys Up
sleep 0.1
[ "$(selected)" = "t  Theme..." ] || fail "Up from the first: '$(selected)', not the last entry"
keys Escape
wait_gone "vm (shut off)"
keys q
wait_for "TVM-EXIT=0"
echo ok
