# The hint line and the function-key bar come from the key table: at 80
# and 100 columns they show whole entries only (the less important ones
# dropped), each key they show is in the '?' help, and each works.
source "$(dirname "$0")/lib.bash"

define vm 1 256
define web 2 512

# Every entry the key table gives the hint line, and every bar label.
HINTS='? help|Enter menu|s start|h shutdown|D destroy|c console|e edit|T snapshots|u undefine|S storage|y clone|a define|: command|t theme|/ filter|> < sort|q quit'
STORAGE_HINTS='? help|S back|Tab pools/volumes|Enter menu|N new pool|s start|x stop|r refresh|A autostart|D delete pool|n new vol|d delete|z resize|w wipe|: command'
BAR='Help|Start|Shutdown|Filter|Console|Sort|Edit|Destroy|Undefine|Quit'

# check_lines COLS HINTS: the hint line is whole entries of HINTS, two
# spaces apart, within COLS; the bar is whole F-key entries, F1 first,
# F10 last.
check_lines() {
    local cols=$1 hints=$2 hint bar entry
    hint=$(screen | tail -n 2 | head -n 1 | sed 's/ *$//')
    bar=$(screen | tail -n 1 | sed 's/ *$//')
    [ "$(printf '%s' "$hint" | wc -m)" -le "$cols" ] || fail "hint line wider than $cols: '$hint'"
    [[ $hint == " ? help  "* ]] || fail "the hint line does not start with '? help': '$hint'"
    while IFS= read -r entry; do
        [ -n "$entry" ] || continue
        grep -qxF -- "$entry" <<<"${hints//|/$'\n'}" || fail "hint entry '$entry' is cut or unknown at $cols columns: '$hint'"
    done < <(printf '%s\n' "${hint# }" | sed 's/  /\n/g')
    [[ $bar == F1Help* && $bar == *F10Quit ]] || fail "the bar lacks F1Help or F10Quit at $cols columns: '$bar'"
    for entry in $bar; do
        grep -qxE "F([1-9]|10)($BAR)" <<<"$entry" || fail "bar entry '$entry' is cut at $cols columns: '$bar'"
    done
}

for size in "80 24" "100 30"; do
    set -- $size
    tui_start "$1" "$2"
    wait_for " web "
    check_lines "$1" "$HINTS"
    # the storage pane has its own keys
    keys S
    wait_for "Tab pools/volumes"
    check_lines "$1" "$STORAGE_HINTS"
    keys S
    wait_for "Enter menu"
    tui_stop
done

# 160 columns: everything fits, and so every entry shows
tui_start 160 30
wait_for " web "
check_lines 160 "$HINTS"
bar=$(screen | tail -n 1)
for l in Help Start Shutdown Filter Console Sort Edit Destroy Undefine Quit; do
    [[ $bar == *"$l"* ]] || fail "the bar lacks $l at 160 columns: '$bar'"
done
hint=$(screen | tail -n 2 | head -n 1)
for e in "s start" "c console" "/ filter" ": command" "t theme"; do
    [[ $hint == *"$e"* ]] || fail "the hint line lacks '$e' at 160 columns: '$hint'"
done
# a shut-off guest: shutdown and destroy are not offered on the hint line
[[ $hint != *"h shutdown"* && $hint != *"D destroy"* ]] || fail "shutdown/destroy offered on a shut-off guest: '$hint'"

# every key the bar and hint line show is in the help, as are the keys a
# user needs to move around (the same table builds both)
# (a tall window shows the whole help at once)
tmux -L "$SOCK" resize-window -t tvm -x 160 -y 200
wait_for "Overview"
sleep 0.5
keys '?'
wait_for "tvm keys"
# the whole key part is drawn once the verbs' heading below it shows
wait_for "Command line ("
sleep 0.3
help=$(screen | sed -n '/^Command line (/q;p')
for k in "?, F1" "Enter" "s, F2" "h, F3" "/, F4" "c, F5" "> <, F6" "e, F7" "D, F8" "u, F9" "q, F10" \
    "Tab/Shift-Tab" "1..6" "[ ]" "Esc" "Ctrl-L" "Up/Down, j/k" "Home/End" "t " ": "; do
    # (a here-string: grep -q stops reading early, a pipe would kill its writer)
    grep -qF -- "  $k" <<<"$help" || fail "the help lacks the key '$k'"
done
# tvm(1) lists the same keys as the help: each key of the domain list and
# the console panes is a tag there (single letters of the storage pane
# are grouped, the others too)
command -v groff >/dev/null || fail "groff (package groff-base) is missing: run scripts/install-deps.sh"
LC_ALL=C.UTF-8 groff -man -Tascii -P-c -P-b -P-u "$TVM_SRC/man/tvm.1" 2>/dev/null |
    sed -n '/^THE TERMINAL INTERFACE/,/^EXIT STATUS/p' >"$TMP/man.txt"
section=""
while IFS= read -r line; do
    case $line in
    "Domain list"*) section=list ;;
    "Storage pane"*) section=storage ;;
    "Console pane"* | "Graphical console pane"*) section=console ;;
    "  "*)
        name=$(printf '%s' "${line:2:14}" | sed 's/ *$//')
        [ "$section" = storage ] && [ "${#name}" -le 2 ] && continue
        grep -qE "^       $(printf '%s' "$name" | sed 's/[][\\.^$*+?(){}|/]/\\&/g')( {2,}|$)" "$TMP/man.txt" ||
            fail "tvm(1) lacks the key '$name' of the $section keys"
        ;;
    esac
done <<<"$help"
keys q
wait_gone "tvm keys"
# the keys the bar shows do what it says: F4 filters, F6 sorts
keys F4
wait_for "Filter:"
keys Escape
keys F6
wait_for "sorted by"
keys F10
wait_for "TVM-EXIT=0"
echo ok
