# Themes: shipped ones load; a bad colour or role is reported as FILE:LINE
# and tvm exits 2 before touching the screen; tvm.conf chooses the theme.
source "$(dirname "$0")/lib.bash"

# Without a terminal the TUI refuses after the theme loaded, so a clean
# theme shows up as the terminal error, a bad one as its own error.
expect_exit() { # CODE PATTERN -- tvm args...
    local code=$1 pattern=$2 rc=0 err
    shift 3
    err=$("$TVM" --db "$DB" "$@" </dev/null 2>&1 >/dev/null) || rc=$?
    [ "$rc" -eq "$code" ] || fail "tvm $*: exit $rc, wanted $code ($err)"
    printf '%s\n' "$err" | grep -qE -- "$pattern" || fail "tvm $*: '$err' lacks /$pattern/"
}

for t in default dark light high-contrast; do
    expect_exit 2 "needs a terminal" -- --theme "$t"
done

printf 'title = black cyan\nrow = default default\nborder = purplish black\n' >"$TMP/bad.theme"
expect_exit 2 "^tvm: $TMP/bad.theme:3: unknown colour 'purplish'$" -- --theme "$TMP/bad.theme"

printf '# ok\nsidebar = red black\n' >"$TMP/role.theme"
expect_exit 2 ":2: unknown role 'sidebar'" -- --theme "$TMP/role.theme"

printf 'row = red 256\n' >"$TMP/range.theme"
expect_exit 2 ":1: unknown colour '256'" -- --theme "$TMP/range.theme"

expect_exit 2 "theme 'nosuch' not found" -- --theme nosuch

# tvm.conf picks a theme from $XDG_CONFIG_HOME/tvm/themes
mkdir -p "$XDG_CONFIG_HOME/tvm/themes"
printf 'state-running = 300 black\n' >"$XDG_CONFIG_HOME/tvm/themes/mine.theme"
printf '# my settings\ntheme = mine\n' >"$XDG_CONFIG_HOME/tvm/tvm.conf"
expect_exit 2 "mine.theme:1: unknown colour '300'" --
# --theme wins over the config
expect_exit 2 "needs a terminal" -- --theme dark
printf 'colour = yes\n' >"$XDG_CONFIG_HOME/tvm/tvm.conf"
expect_exit 2 "tvm.conf:1: unknown setting 'colour'" --
rm "$XDG_CONFIG_HOME/tvm/tvm.conf"

# a good theme really draws: run it in tmux and read the colours of a
# shut-off row that is not selected (the selection bar has its own)
# with capture-pane -e: bright magenta (95, or 38;5;13) on colour 17,
# bold and underlined; the default theme draws that state otherwise.
# state_sgr: the SGR parameters in effect where "shut off" starts in vm2's row.
state_sgr() {
    tmux -L "$SOCK" capture-pane -e -p -t tvm | grep -a '^.*vm2 ' | head -n 1 |
        sed 's/shut off.*//' | grep -ao $'\e\[[0-9;]*m' | tr -d $'\e[m' |
        awk '/^0?$/ {n = 0; delete p; next} {k = split($0, a, ";"); for (i = 1; i <= k; i++) p[++n] = a[i]} END {for (i = 1; i <= n; i++) printf "%s;", p[i]}'
}
has_sgr() { # SGR-LIST WANT...: each WANT (e.g. "48;5;17") in the list
    local list=";$1" w
    shift
    for w in "$@"; do
        [[ $list == *";$w;"* ]] || return 1
    done
}
printf 'state-shutoff = bright-magenta 17 bold underline\n' >"$XDG_CONFIG_HOME/tvm/themes/mine.theme"
define vm 1 256
define vm2 1 256
tui_start 100 30 --theme mine
wait_for " vm2 "
sgr=$(state_sgr)
has_sgr "$sgr" 1 4 "48;5;17" || fail "the theme's shut-off state is not bold, underlined on colour 17: SGR '$sgr'"
has_sgr "$sgr" 95 || has_sgr "$sgr" "38;5;13" || fail "the theme's shut-off state is not bright magenta: SGR '$sgr'"
keys q
wait_for "TVM-EXIT=0"
tui_stop
tui_start 100 30
wait_for " vm2 "
sgr=$(state_sgr)
! has_sgr "$sgr" "48;5;17" || fail "the default theme draws shut off like 'mine': SGR '$sgr'"
keys q
wait_for "TVM-EXIT=0"
tui_stop

# an 8-colour terminal and a non-UTF-8 locale: the 256-colour theme degrades,
# line drawing and the sort mark fall back to ASCII
TUI_ENV="TERM=xterm LC_ALL=C LANG=C" tui_start 100 30 --theme dark
wait_for " vm "
screen | sed -n 2p | grep -q "NAME^" || fail "no ASCII sort mark in the C locale"
screen | grep -q -- "- 1 Overview - 2 Disks" || fail "no ASCII rules in the C locale"
screen | grep -q "─" && fail "UTF-8 line drawing in the C locale"
keys q
wait_for "TVM-EXIT=0"
echo ok
