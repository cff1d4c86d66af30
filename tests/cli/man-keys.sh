# tvm(1)'s key lists are the TUI's key table: every block in the page is
# what tvm-keys-roff generates from src/tui/keys.c, every key the '?' help
# names is in the rendered page, and a page whose list drifts is caught
# (and put right by --update).
source "$(dirname "$0")/lib.sh"

gen="${TVM_BUILD:?}/tvm-keys-roff"
[ -x "$gen" ] || fail "$gen is not built"
page="$TVM_SRC/man/tvm.1"

"$gen" --check "$page" >"$tmp/out" 2>"$tmp/err" ||
    fail "tvm(1)'s key lists differ from src/tui/keys.c: cmake --build build --target man-keys"
for section in list storage console graphics; do
    grep -qF ".\\\" keys: $section " "$page" || fail "tvm(1) has no generated '$section' key list"
done

# Every key the in-program help names appears in the rendered page.
LC_ALL=C.UTF-8 groff -man -Tutf8 -P-c -P-b -P-u "$page" 2>/dev/null >"$tmp/tvm.txt"
keys=(Enter "Tab/Shift-Tab" "1..6" "[ ]" Esc "Ctrl-L" "Up/Down, j/k" "Home/End" "PgUp/PgDn"
    "?, F1" "q, F10" "Ctrl-]" "Ctrl-T" "Ctrl-G" "S, Esc" "> <, F6")
for k in "${keys[@]}"; do
    grep -qF -- "$k" "$tmp/tvm.txt" || fail "tvm(1) lacks the key '$k'"
done

# A drifted copy: a key dropped from the storage list and a word changed
# in the domain list. --check names both and fails; --update restores it.
cp "$page" "$tmp/tvm.1"
sed -i '/^\.B Home\/End$/{n;s/first\/last row\./first row./}' "$tmp/tvm.1"
sed -i '0,/^\.B I$/{/^\.B I$/{n;s/invert/reverse/}}' "$tmp/tvm.1"
! cmp -s "$page" "$tmp/tvm.1" || fail "the test's edit changed nothing"
set +e
"$gen" --check "$tmp/tvm.1" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ $rc -eq 1 ] || fail "--check of a drifted page exited $rc, not 1"
grep -qF "the 'storage' key list differs" "$tmp/err" || fail "--check did not name the storage list"
grep -qF "the 'list' key list differs" "$tmp/err" || fail "--check did not name the domain list"
"$gen" --update "$tmp/tvm.1" 2>/dev/null || fail "--update failed"
cmp -s "$page" "$tmp/tvm.1" || fail "--update did not restore the generated lists"

# A block without its end is refused by line, and the page is not touched.
cp "$page" "$tmp/bad.1"
sed -i '0,/^\.\\" end of keys$/{/^\.\\" end of keys$/d}' "$tmp/bad.1"
cp "$tmp/bad.1" "$tmp/bad.before"
set +e
"$gen" --update "$tmp/bad.1" >"$tmp/out" 2>"$tmp/err"
rc=$?
set -e
[ $rc -eq 2 ] || fail "--update of a page with an unterminated block exited $rc"
grep -qE "bad\.1:[0-9]+: keys block 'list' has no" "$tmp/err" || fail "no file:line for the bad block"
cmp -s "$tmp/bad.1" "$tmp/bad.before" || fail "a refused --update changed the page"
echo "PASS"
