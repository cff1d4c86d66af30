# Themes switch inside the TUI, with ':theme NAME' or the 't' menu: the
# screen redraws in the new colours at once and the choice is kept in
# tvm.conf (its other lines as they were), so the next start uses it. A
# theme that does not load is reported and changes nothing.
source "$(dirname "$0")/lib.bash"

# state_sgr: the SGR parameters in effect where "shut off" starts in vm2's
# row (not the selected row: the selection bar has its own colours).
state_sgr() {
    tmux -L "$SOCK" capture-pane -e -p -t tvm | grep -a '^.*vm2 ' | head -n 1 |
        sed 's/shut off.*//' | grep -ao $'\e\[[0-9;]*m' | tr -d $'\e[m' |
        awk '/^0?$/ {n = 0; delete p; next} {k = split($0, a, ";"); for (i = 1; i <= k; i++) p[++n] = a[i]} END {for (i = 1; i <= n; i++) printf "%s;", p[i]}'
}
mine_drawn() { [[ ";$(state_sgr)" == *";48;5;17;"* ]]; }
wait_mine() { # yes|no: until the shut-off state is (not) drawn in mine's colours
    local i
    for ((i = 0; i < 100; i++)); do
        if mine_drawn; then [ "$1" = yes ] && return 0; else [ "$1" = no ] && return 0; fi
        sleep 0.05
    done
    fail "the shut-off state is $([ "$1" = yes ] && echo not) drawn in mine's colours: SGR '$(state_sgr)'"
}

conf=$XDG_CONFIG_HOME/tvm/tvm.conf
mkdir -p "$XDG_CONFIG_HOME/tvm/themes"
printf 'state-shutoff = bright-magenta 17 bold\n' >"$XDG_CONFIG_HOME/tvm/themes/mine.theme"
printf 'row = red 300\n' >"$XDG_CONFIG_HOME/tvm/themes/broken.theme"
printf '# my settings\ntheme = default   # the usual\n# end\n' >"$conf"
define vm 1 256
define vm2 1 256

tui_start 100 30
wait_for " vm2 "
wait_mine no
keys : 'theme mine' Enter
wait_for "theme 'mine' (kept in $conf)"
wait_mine yes
[ "$(cat "$conf")" = $'# my settings\ntheme = mine\n# end' ] || fail "tvm.conf is now: $(cat "$conf")"

# a theme that does not load: its error, the colours and tvm.conf unchanged
keys : 'theme broken' Enter
wait_for "broken.theme:1: unknown colour '300'"
wait_mine yes
keys : 'theme nosuch' Enter
wait_for "theme 'nosuch' not found"
grep -qx 'theme = mine' "$conf" || fail "a failed switch changed tvm.conf: $(cat "$conf")"
keys q
wait_for "TVM-EXIT=0"
tui_stop

# the next start draws with the kept theme
tui_start 100 30
wait_for " vm2 "
wait_mine yes
# 't' lists the themes found; choosing one switches to it
keys t
wait_for "theme (now mine)"
for t in broken dark default high-contrast light mine; do
    grep -qE "│ +$t +│" <<<"$(screen)" || fail "the theme menu lacks '$t'"
done
for ((i = 0; i < 8; i++)); do
    # the highlighted entry: its colours start right before its name
    tmux -L "$SOCK" capture-pane -e -p -t tvm | grep -qaE $'\e\\[[0-9;]*mdefault ' && break
    keys Down
    sleep 0.1
done
keys Enter
wait_for "theme 'default' (kept in $conf)"
wait_mine no
grep -qx 'theme = default' "$conf" || fail "tvm.conf after the menu: $(cat "$conf")"
keys q
wait_for "TVM-EXIT=0"
echo ok
