# 'e' edits the XML in $EDITOR through core's edit loop, as `tvm edit` does:
# a valid change is applied, an invalid one is refused with the error shown
# on the terminal, the store left unchanged, and virsh's "Try again?" offered.
source "$(dirname "$0")/lib.bash"

define vm1 1 512
# A scripted editor: what it does is read from a file so one TUI run covers every case.
cat >"$TMP/editor" <<'SH'
#!/bin/sh
case "$(cat "$EDITOR_MODE")" in
grow) sed -i "s/>524288</>786432</g" "$1" ;;
break) sed -i "s/unit=.KiB./unit='XB'/" "$1" ;; # either quoting style
same) : ;;
fix) sed -i "s/unit=.XB./unit='KiB'/g; s/>786432</>1048576</g" "$1" ;;
esac
SH
chmod +x "$TMP/editor"
export EDITOR="$TMP/editor" EDITOR_MODE="$TMP/mode"

tui_start 100 30
wait_for " vm1 "

# unchanged file: nothing happens
echo same >"$EDITOR_MODE"
keys e
wait_for "Domain 'vm1' XML configuration not changed."

# valid change: applied through define, visible in the list and the store
echo grow >"$EDITOR_MODE"
keys e
wait_for "Domain 'vm1' XML configuration edited."
wait_for "768 MiB"
"$TVM" --db "$DB" dumpxml vm1 | grep -q "786432" || fail "edit not stored"

# invalid change: error shown, re-edit offered; 'n' keeps the old definition
before=$("$TVM" --db "$DB" dumpxml vm1)
echo break >"$EDITOR_MODE"
keys e
wait_for "Failed. Try again? [y,n,i,f,?]:"
screen | grep -q "unknown unit 'XB'" || fail "the error does not name the bad unit"
keys n Enter
wait_for "edit abandoned; nothing was changed"
wait_for "F1Help"
[ "$("$TVM" --db "$DB" dumpxml vm1)" = "$before" ] || fail "store changed by an invalid edit"
row vm1 | grep -q "768 MiB" || fail "row changed by an invalid edit"

# 'y' re-edits the same file: it still holds the invalid text, so it fails again
keys e
wait_for "Failed. Try again?"
echo same >"$EDITOR_MODE"
keys y Enter
for ((i = 0; i < 200; i++)); do
    [ "$(screen | grep -c "Failed. Try again?")" -ge 2 ] && break
    sleep 0.05
done
[ "$(screen | grep -c "Failed. Try again?")" -ge 2 ] || fail "no second 'Try again?' after y"
keys n Enter
wait_for "edit abandoned; nothing was changed"
[ "$("$TVM" --db "$DB" dumpxml vm1)" = "$before" ] || fail "store changed by an abandoned edit"

# 'y' re-edits the same file, and this time the editor fixes it: the
# re-edit is applied, to the store and to the list
echo break >"$EDITOR_MODE"
keys e
wait_for "Failed. Try again?"
echo fix >"$EDITOR_MODE"
keys y Enter
stored() { "$TVM" --db "$DB" dumpxml vm1 | grep -q "<memory unit='KiB'>1048576</memory>"; }
for ((i = 0; i < 200; i++)); do
    stored && row vm1 | grep -q "1 GiB" && break
    sleep 0.05
done
stored || fail "a successful re-edit was not stored: $("$TVM" --db "$DB" dumpxml vm1 | grep -i memory)"
row vm1 | grep -q "1 GiB" || fail "a successful re-edit did not reach the list: $(row vm1)"
screen | grep -qF "Domain 'vm1' XML configuration edited." || fail "no 'edited' message after the re-edit"

keys q
wait_for "TVM-EXIT=0"
echo ok
