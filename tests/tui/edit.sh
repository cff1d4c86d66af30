# 'e' edits the XML in $EDITOR through core's edit loop, as `tvm edit` does:
# a valid change is applied, an invalid one is refused with the error shown
# on the terminal, the store left unchanged, and virsh's "Try again?" offered.
#
# While the editor runs the terminal shows its normal screen, which still
# holds what earlier rounds printed. So every editor run prints "editor run
# N", and the test reads only what came after the latest one; the TUI's own
# message line is read only once the TUI is back.
source "$(dirname "$0")/lib.bash"

define vm1 1 512
# A scripted editor: what it does is read from a file so one TUI run covers every case.
cat >"$TMP/editor" <<'SH'
#!/bin/sh
n=$(($(cat "$EDITOR_RUNS") + 1))
echo "$n" >"$EDITOR_RUNS"
echo "editor run $n"
case "$(cat "$EDITOR_MODE")" in
grow) sed -i "s/>524288</>786432</g" "$1" ;;
break) sed -i "s/unit=.KiB./unit='XB'/" "$1" ;; # either quoting style
same) : ;;
fix) sed -i "s/unit=.XB./unit='KiB'/g; s/>786432</>1048576</g" "$1" ;;
esac
SH
chmod +x "$TMP/editor"
echo 0 >"$TMP/runs"
export EDITOR="$TMP/editor" EDITOR_MODE="$TMP/mode" EDITOR_RUNS="$TMP/runs"

# since_run N: the screen from the line the Nth editor run printed on.
since_run() {
    screen | sed -n "/^editor run $1\$/,\$p"
}

# prompts_after N COUNT: wait until COUNT "Try again?" prompts follow run N.
prompts_after() {
    local i
    for ((i = 0; i < 200; i++)); do
        [ "$(since_run "$1" | grep -c "Failed. Try again?")" -ge "$2" ] && return 0
        sleep 0.05
    done
    fail "after editor run $1: wanted $2 'Try again?' prompt(s): $(since_run "$1")"
}

# message TEXT: the TUI is back (its key bar at the bottom) and its message
# line says TEXT.
message() {
    local i
    for ((i = 0; i < 200; i++)); do
        if screen | tail -1 | grep -q '^F1Help'; then
            screen | tail -2 | head -1 | grep -qF -- "$1" && return 0
        fi
        sleep 0.05
    done
    fail "TUI message '$1' not shown: $(screen | tail -2 | head -1)"
}

tui_start 100 30
wait_for " vm1 "

# unchanged file: nothing happens
echo same >"$EDITOR_MODE"
keys e
message "Domain 'vm1' XML configuration not changed."
[ "$(cat "$TMP/runs")" = 1 ] || fail "the editor ran $(cat "$TMP/runs") times, wanted 1"

# valid change: applied through define, visible in the list and the store
echo grow >"$EDITOR_MODE"
keys e
message "Domain 'vm1' XML configuration edited."
wait_for "768 MiB"
"$TVM" --db "$DB" dumpxml vm1 | grep -q "786432" || fail "edit not stored"

# invalid change: error shown, re-edit offered; 'n' keeps the old definition
before=$("$TVM" --db "$DB" dumpxml vm1)
echo break >"$EDITOR_MODE"
keys e
prompts_after 3 1
since_run 3 | grep -q "unknown unit 'XB'" || fail "the error does not name the bad unit: $(since_run 3)"
keys n Enter
message "edit abandoned; nothing was changed"
[ "$("$TVM" --db "$DB" dumpxml vm1)" = "$before" ] || fail "store changed by an invalid edit"
row vm1 | grep -q "768 MiB" || fail "row changed by an invalid edit"

# 'y' re-edits the same file: it still holds the invalid text, so it fails again
keys e
prompts_after 4 1
echo same >"$EDITOR_MODE"
keys y Enter
prompts_after 5 1
keys n Enter
message "edit abandoned; nothing was changed"
[ "$(cat "$TMP/runs")" = 5 ] || fail "the editor ran $(cat "$TMP/runs") times, wanted 5"
[ "$("$TVM" --db "$DB" dumpxml vm1)" = "$before" ] || fail "store changed by an abandoned edit"

# 'y' re-edits the same file, and this time the editor fixes it: the
# re-edit is applied, to the store and to the list
echo break >"$EDITOR_MODE"
keys e
prompts_after 6 1
echo fix >"$EDITOR_MODE"
keys y Enter
message "Domain 'vm1' XML configuration edited."
"$TVM" --db "$DB" dumpxml vm1 | grep -q "<memory unit='KiB'>1048576</memory>" ||
    fail "a successful re-edit was not stored: $("$TVM" --db "$DB" dumpxml vm1 | grep -i memory)"
wait_for "1 GiB"
row vm1 | grep -q "1 GiB" || fail "a successful re-edit did not reach the list: $(row vm1)"

keys q
wait_for "TVM-EXIT=0"
echo ok
