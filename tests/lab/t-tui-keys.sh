#!/usr/bin/env bash
# The TUI's keys on one real guest, each checked on the screen (tmux) and
# against the guest's real state (`tvm domstate`, the guest's own console
# log):
#   - the list: End/Home/PgDn/PgUp on a list longer than the screen,
#     Right/Left/Shift-Tab/Tab over the details tabs, Ctrl-L repaints a
#     screen scribbled on behind the TUI's back;
#   - keys: s start (the guest boots: its banner), the console pane's
#     scrollback (PgUp shows exactly the page before, PgDn comes back,
#     typing returns to the bottom), p suspend (the guest's own counter
#     stops) and p resume (it goes on), R reset (asks; the guest boots
#     again, no power button), r reboot (the guest sees the power button and
#     boots again), h shutdown (power button, then shut off);
#   - s on the running guest refuses at once and the menu offers no Start;
#   - the Enter menu, picking each entry by its highlighted line: Start,
#     Suspend / resume both ways, Reset..., Reboot, Shut down.
# Env: TVM, TVM_SRC, LAB_KERNEL, LAB_INITRD.
set -euo pipefail
: "${LAB_KERNEL:?} ${LAB_INITRD:?}"
source "$TVM_SRC/tests/tui/lib.bash"
source "$TVM_SRC/tests/lab/tui-lib.sh"
BOOT=${LAB_BOOT_TIMEOUT:-240}
LOG=$TMP/log/labvm.console.log

cleanup_guest() {
    "$TVM" --db "$DB" destroy labvm >/dev/null 2>&1 || true
    cleanup
}
trap cleanup_guest EXIT

step() { echo "== [$SECONDS s] $*"; }
step "define"
fail() { # the screen (lib.bash's fail), the guest's console log and state
    echo "FAIL: $*" >&2
    echo "domstate: $("$TVM" --db "$DB" domstate --reason labvm 2>&1)" >&2
    if tmux -L "$SOCK" has-session 2>/dev/null; then
        echo "---- screen ----" >&2
        tmux -L "$SOCK" capture-pane -p -t tvm >&2 || true
        echo "----------------" >&2
    fi
    for f in "$LOG" "$TVM_RUNDIR"/*/vmm.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -n 25 "$f" | tr -d '\r' >&2; }
    done
    exit 1
}

define_labvm
# More rows than the list shows (12 at 100x30), around labvm; never started.
# One batch: a process per define is seconds each in the lab.
for n in a{01..12} m{01..12}; do
    domain_xml "$n" 1 64 >"$TMP/$n.xml"
    echo "define $TMP/$n.xml"
done >"$TMP/define.tvm"
"$TVM" --db "$DB" --batch "$TMP/define.tvm" >/dev/null

# Waits by the clock: in the lab each capture-pane takes a while, so
# lib.bash's counted polls can stretch past the test's timeout.
wait_for() { # TEXT [SECONDS]
    local end=$((SECONDS + ${2:-10}))
    until screen | grep -qF -- "$1"; do
        [ $SECONDS -lt $end ] || fail "'$1' did not appear within ${2:-10}s"
        sleep 0.05
    done
}
wait_gone() { # TEXT [SECONDS]
    local end=$((SECONDS + ${2:-10}))
    while screen | grep -qF -- "$1"; do
        [ $SECONDS -lt $end ] || fail "'$1' still on the screen after ${2:-10}s"
        sleep 0.05
    done
}
# until CMD... holds, for at most $WITHIN seconds (default 10); 1 if not
until_true() {
    local end=$((SECONDS + ${WITHIN:-10}))
    until "$@"; do
        [ $SECONDS -lt $end ] || return 1
        sleep 0.1
    done
}

# ---- what the guest says and is ----
state() { "$TVM" --db "$DB" domstate labvm; }
is_state() { [ "$(state)" = "$1" ]; }
wait_state() { # STATE [SECONDS]
    WITHIN=${2:-60} until_true is_state "$1" || fail "labvm is '$(state)', wanted '$1'"
}
count() { grep -c -- "$1" "$LOG" 2>/dev/null || true; } # PATTERN: lines in the console log
has_count() { [ "$(count "$1")" -ge "$2" ]; }
wait_count() { # PATTERN N [SECONDS]
    WITHIN=${3:-$BOOT} until_true has_count "$1" "$2" ||
        fail "'$1' seen $(count "$1") times on the guest's console, wanted $2"
}
# Unanchored: a marker can follow the shell's prompt on its line (a reset at
# the prompt); the typed commands hold none of them ('TICK-$i' is not one).
ups() { count 'TVM-GUEST-UP'; }
presses() { count 'TVM-GUEST-POWERBUTTON'; }
ticks() { count 'TICK-[0-9]'; }

# ---- what the screen shows ----
details_name() { screen | sed -n 's/^ Name  *\([^ ]*\) *$/\1/p' | head -n1; }
shows_name() { [ "$(details_name)" = "$1" ]; }
wait_name() { # NAME: the details pane shows NAME (the selection)
    WITHIN=5 until_true shows_name "$1" || fail "details show '$(details_name)', wanted '$1'"
}
first_row() { screen | sed -n '3s/^ \([^ ]*\) .*/\1/p'; } # the list's top row
row_says() { row labvm | grep -q "$1"; }
wait_row() { # STATE: labvm's row in the list says STATE
    WITHIN=10 until_true row_says "$1" || fail "labvm's row is not '$1': $(row labvm)"
}
# the highlighted menu entry: the one line whose label follows a colour change
menu_selected() {
    tmux -L "$SOCK" capture-pane -e -p -t tvm |
        sed -n 's/.*\x1b\[[0-9;]*m[a-zA-Z:] \{2\}\([A-Z][A-Za-z /.]*[a-z.]\) *\x1b.*/\1/p' | head -n1
}
# menu_pick LABEL: Enter opens the menu; Down until LABEL is highlighted; Enter.
menu_pick() {
    local i
    keys Enter
    wait_for "Full-screen console"
    for ((i = 0; i < 16; i++)); do
        [ "$(menu_selected)" = "$1" ] && break
        keys Down
        sleep 0.1
    done
    [ "$(menu_selected)" = "$1" ] || fail "menu entry '$1' not highlighted (highlighted: '$(menu_selected)')"
    keys Enter
    wait_gone "Full-screen console" 5
}
# The status line of a finished command; the key before it cleared the last one.
said() { wait_for "$1" "${2:-60}"; }

# ---------------------------------------------------------------------------
ROWS=30
tui_start 100 $ROWS
wait_for " a01 "
step "list: End, Home, PgDn, PgUp"
keys End
wait_name m12
[ "$(first_row)" != a01 ] || fail "End selected m12 but the list did not scroll"
keys Home
wait_name a01
[ "$(first_row)" = a01 ] || fail "Home: the list starts at '$(first_row)', not a01"
# 12 rows show: PgDn moves the selection 12 down (a01 -> labvm, the 13th)
keys PageDown
wait_name labvm
[ "$(first_row)" = a02 ] || fail "PgDn: the list starts at '$(first_row)', wanted a02 (labvm at the bottom)"
keys PageDown
wait_name m12 # 24 of 0..24
keys PageUp
wait_name labvm
keys PageUp
wait_name a01
[ "$(first_row)" = a01 ] || fail "PgUp: the list starts at '$(first_row)', not a01"

step "details tabs: Right, Left, Shift-Tab, Tab"
wait_for "Autostart" # 1 Overview
keys Right
wait_for "a01.qcow2" # 2 Disks
screen | grep -q "Autostart" && fail "Right: still on the overview"
keys Left
wait_for "Autostart"
keys BTab # from the first tab back round to the last: 6 XML
wait_for "<domain"
screen | grep -q "Autostart" && fail "Shift-Tab: still on the overview"
keys BTab # 5 Boot
wait_gone "<domain"
keys Tab
wait_for "<domain"
keys Tab # round to 1 Overview
wait_for "Autostart"

step "Ctrl-L repaints what was drawn behind the TUI's back"
tty=$(tmux -L "$SOCK" display -p -t tvm '#{pane_tty}')
printf '\0337\033[6;30HSCRIBBLED-ON\0338' >"$tty"
wait_for "SCRIBBLED-ON" 2
sleep 2 # a periodic refresh (every second) does not repaint unchanged cells
screen | grep -q "SCRIBBLED-ON" || fail "the scribble went away by itself: Ctrl-L would prove nothing"
keys C-l
wait_gone "SCRIBBLED-ON" 3
wait_for " a05 "

# ---------------------------------------------------------------------------
step "s: start"
keys / labvm Enter
wait_name labvm
keys s
said "Domain 'labvm' started"
wait_state running
wait_row running
wait_count 'TVM-GUEST-UP' 1
[ "$(presses)" -eq 0 ] || fail "power button pressed at start"

step "s on a running guest: refused at once; the menu offers no Start"
keys s
wait_for "Start does not apply: 'labvm' is running"
keys Enter
wait_for "Full-screen console"
screen | grep -qF "│ s  Start " && fail "the menu offers Start for a running guest"
screen | grep -qF "│ D  Destroy..." || fail "the menu does not offer Destroy for a running guest"
keys Escape
wait_gone "Full-screen console" 5

step "console pane: scrollback"
keys c
wait_for "console: labvm"
wait_for "TVM-GUEST-UP" 30
sleep 1
keys 'for i in $(seq 1 200); do echo LINE-$i; done; echo LINES-$((100+1))' Enter
wait_for "LINES-101" 60
lines() { screen | sed -n 's/^LINE-\([0-9]*\)$/\1/p'; }
settle() { # until the console pane stays the same for 0.3 s
    local i a b=
    for ((i = 0; i < 30; i++)); do
        a=$(pane)
        [ "$a" = "$b" ] && return 0
        b=$a
        sleep 0.3
    done
}
# the console pane's rows: between its title and the status line
pane() { screen | awk -v t="$(line_of 'console: labvm')" -v s=$((ROWS - 1)) 'NR > t && NR < s'; }
settle # the prompt after it
before=$(lines)
[ "$(tail -n1 <<<"$before")" = 200 ] || fail "LINE-200 not at the bottom before scrolling"
min_before=$(head -n1 <<<"$before")
keys PageUp
wait_gone "LINE-200" 5
after=$(lines)
max_after=$(tail -n1 <<<"$after")
# one page: the old top line is now the bottom one (one line kept), none skipped
[ -n "$max_after" ] && [ "$max_after" -le "$min_before" ] && [ "$max_after" -ge $((min_before - 1)) ] ||
    fail "PgUp: lines $(head -n1 <<<"$after")..$max_after shown, the page before started at LINE-$min_before"
screen | grep -q "console: labvm" || fail "PgUp left the console pane"
keys PageUp PageUp PageUp
wait_gone "LINE-$max_after" 5
keys PageDown PageDown PageDown
wait_for "LINE-$max_after" 5
keys PageDown
wait_for "LINE-200" 5
# PgUp at the top of the scrollback: the pane stays full (the oldest lines,
# down to its last row), and PgDn still comes back one page at a time
keys $(printf "PageUp %.0s" {1..30}) # one tmux call: each is slow in the lab
settle
top_screen=$(pane)
blank=$(pane | tac | awk 'NF { exit } { n++ } END { print n + 0 }')
[ "$blank" -le 2 ] || fail "PgUp at the top of the scrollback leaves $blank of the pane's rows empty"
keys PageUp
settle
[ "$(pane)" = "$top_screen" ] || fail "PgUp at the top of the scrollback still moved the view"
top_last=$(pane | tail -n1)
keys PageDown
pane_starts() { [ "$(pane | head -n1)" = "$1" ]; }
WITHIN=5 until_true pane_starts "$top_last" ||
    fail "PgDn from the top: the pane starts with '$(pane | head -n1)', not the old last line '$top_last'"
keys $(printf 'PageDown %.0s' {1..30})
wait_for "LINE-200" 5
# scrolled up, the first key typed goes to the guest and brings the view back
keys PageUp PageUp
wait_gone "LINE-200" 5
keys e
wait_for "LINE-200" 5
keys 'cho BACK-$((40+2))' Enter
wait_for "BACK-42" 30

step "p: suspend (the guest's own counter stops)"
keys '(i=0; while :; do echo TICK-$i; i=$((i+1)); sleep 1; done) &' Enter
wait_count 'TICK-[0-9]' 3 60
keys C-]
wait_for "Enter menu"
keys p
said "Domain 'labvm' suspended" 30
wait_state paused
wait_row paused
sleep 1 # a line already on its way out
n=$(ticks)
sleep 4
[ "$(ticks)" -eq "$n" ] || fail "the guest counted on while suspended ($n, then $(ticks))"

step "menu: Suspend / resume resumes (the counter goes on)"
menu_pick "Suspend / resume"
said "Domain 'labvm' resumed" 30
wait_state running
wait_row running
wait_count 'TICK-[0-9]' $((n + 2)) 30

step "menu: Suspend / resume suspends, p resumes"
menu_pick "Suspend / resume"
said "Domain 'labvm' suspended" 30
wait_state paused
wait_row paused
sleep 1
n=$(ticks)
sleep 3
[ "$(ticks)" -eq "$n" ] || fail "the guest counted on while suspended from the menu ($n, then $(ticks))"
keys p
said "Domain 'labvm' resumed" 30
wait_state running
wait_row running
wait_count 'TICK-[0-9]' $((n + 2)) 30

step "R: reset asks, then the guest boots again (no power button)"
keys R
wait_for "Reset (hard reboot) domain 'labvm'?"
keys y
said "Domain 'labvm' was reset" 30
wait_count 'TVM-GUEST-UP' 2
[ "$(presses)" -eq 0 ] || fail "reset pressed the power button"
wait_state running
wait_row running

step "r: reboot (ACPI: power button, then the guest boots again)"
keys r
said "Domain 'labvm' is being rebooted" 30
wait_count 'TVM-GUEST-POWERBUTTON' 1
wait_count 'TVM-GUEST-UP' 3
wait_state running
wait_row running

step "h: shutdown (power button, then shut off)"
keys h
said "Domain 'labvm' is being shutdown" 30
wait_count 'TVM-GUEST-POWERBUTTON' 2 60
wait_state "shut off" 120
wait_row "shut off"
[ "$(ups)" -eq 3 ] || fail "the guest booted again after shutdown"

# ---------------------------------------------------------------------------
step "menu: Start"
menu_pick "Start"
said "Domain 'labvm' started"
wait_state running
wait_row running
wait_count 'TVM-GUEST-UP' 1 # a new tvm-vmm: a new console log

step "menu: Reset... asks, then the guest boots again"
menu_pick "Reset..."
wait_for "Reset (hard reboot) domain 'labvm'?"
keys y
said "Domain 'labvm' was reset" 30
wait_count 'TVM-GUEST-UP' 2
[ "$(presses)" -eq 0 ] || fail "reset pressed the power button"
wait_state running

step "menu: Reboot"
menu_pick "Reboot"
said "Domain 'labvm' is being rebooted" 30
wait_count 'TVM-GUEST-POWERBUTTON' 1
wait_count 'TVM-GUEST-UP' 3
wait_state running
wait_row running

step "menu: Shut down"
menu_pick "Shut down"
said "Domain 'labvm' is being shutdown" 30
wait_count 'TVM-GUEST-POWERBUTTON' 2 60
wait_state "shut off" 120
wait_row "shut off"
[ "$(ups)" -eq 3 ] || fail "the guest booted again after shutdown"

keys q
wait_for "TVM-EXIT=0"
step "done"
echo ok
