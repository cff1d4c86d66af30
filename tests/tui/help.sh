# '?' lists every key; ':' runs a batch verb and shows its output in the pager.
source "$(dirname "$0")/lib.bash"

define web 2 1024
tui_start 100 40
wait_for " web "

keys '?'
wait_for "tvm keys"
for text in "start the domain" "shut down" "destroy" "undefine (asks first)" "filter by name" \
    "edit the XML" "console pane" "Ctrl-]" "invert the sort order" "command line" "quit"; do
    screen | grep -qF -- "$text" || fail "help lacks '$text'"
done
# the help also lists the command-line verbs, paging down to them
keys End
wait_for "dumpxml"
keys q
wait_gone "tvm keys"
wait_for "F1Help"

# F1 opens the same help
keys F1
wait_for "tvm keys"
keys Escape
wait_gone "tvm keys"

# ':' accepts any batch verb; multi-line output goes to the pager
keys : 'list --all' Enter
wait_for "list  (1-"
screen | grep -Eq "^ +- +web +shut off" || fail "':list --all' output not shown"
keys q
wait_for "F1Help"

# a one-line result goes to the message line; errors use the error line
keys : 'domuuid web' Enter
uuid=$("$TVM" --db "$DB" domuuid web)
wait_for "$uuid"
keys : 'nosuchverb' Enter
wait_for "unknown command 'nosuchverb'"
# the prompt completes a unique prefix (the command line does not)
keys : 'vers' Enter
wait_for "Running hypervisor: tvm-vmm"
keys q
wait_for "F1Help"
# commands never read the keyboard: `define -` sees an empty stdin, not a hang
keys : 'define -' Enter
wait_for "<stdin>:1: parse error"

# Enter opens the action menu; its 'Define from file' entry prompts for a path
domain_xml other 1 128 >"$TMP/other.xml"
keys Enter
wait_for "Full-screen console"
keys End Up Up Enter
wait_for "Define from XML file:"
keys "$TMP/other.xml" Enter
wait_for "Domain 'other' defined from $TMP/other.xml"
wait_for " other "
"$TVM" --db "$DB" list --all --name | grep -qx other || fail "menu define did not store 'other'"
# Esc leaves the menu without doing anything
keys Enter
wait_for "Full-screen console"
keys Escape
wait_gone "Full-screen console"

keys q
wait_for "TVM-EXIT=0"
echo ok
