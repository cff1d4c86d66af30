# Mouse: a click selects a row or a details tab, the wheel moves the selection.
# tmux cannot click, so the test types the xterm mouse reports a terminal sends.
source "$(dirname "$0")/lib.bash"

define aa 1 256
define bb 1 256
define cc 2 512
tui_start 100 30
wait_for " cc "

byte() { printf "\\$(printf '%03o' "$1")"; }
# click X Y (0-based cell): X10 report of a button-1 press and its release
click() {
    keys -l "$(printf '\033[M ')$(byte $((33 + $1)))$(byte $((33 + $2)))"
    keys -l "$(printf '\033[M#')$(byte $((33 + $1)))$(byte $((33 + $2)))"
}
# wheel down at X Y
wheel_down() {
    keys -l "$(printf '\033[Ma')$(byte $((33 + $1)))$(byte $((33 + $2)))"
}
# col_of TEXT: 0-based screen column of TEXT on its line
col_of() {
    screen | perl -CS -ne "my \$i = index(\$_, '$1'); if (\$i >= 0) { print \$i; exit }"
}

uuid_cc=$("$TVM" --db "$DB" domuuid cc)
y=$(($(line_of ' cc ') - 1))
click 3 "$y"
wait_for "$uuid_cc"

# click the XML tab in the details pane
ty=$(($(line_of '6 XML') - 1))
click "$(($(col_of '6 XML') + 1))" "$ty"
wait_for "<name>cc</name>"

# back to the first row by clicking it, then the wheel moves down
click 3 "$(($(line_of ' aa ') - 1))"
wait_for "<name>aa</name>"
wheel_down 3 3
wait_for "<name>cc</name>"

keys q
wait_for "TVM-EXIT=0"
echo ok
