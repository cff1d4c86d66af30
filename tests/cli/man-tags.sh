# Each entry's tag in the man pages is whole on its own line: a .TP tag is
# the one input line after .TP, so an option list that goes on to a second
# line (an open '[' closed on the next) ends up in the entry's body, as the
# events entry once did.
source "$(dirname "$0")/lib.sh"

for page in "$TVM_SRC"/man/*.[0-9]; do
    awk -v page="${page##*/}" '
        prev == ".TP" {
            tag = $0
            nopen = gsub(/\[/, "[", tag)
            nclose = gsub(/\]/, "]", tag)
            if (nopen > nclose)
                printf "%s:%d: the tag goes on past its line: %s\n", page, NR, $0
        }
        { prev = $1 }' "$page" >>"$tmp/wrapped"
done
[ ! -s "$tmp/wrapped" ] || fail "tags that wrap into their body:
$(cat "$tmp/wrapped")"

# and as a reader sees it: the events entry's options on the tag line
command -v groff >/dev/null || fail "groff (package groff-base) is missing: run scripts/install-deps.sh"
LC_ALL=C.UTF-8 groff -man -Tascii -P-c -P-b -P-u "$TVM_SRC/man/tvm.1" 2>/dev/null >"$tmp/tvm.txt"
grep -qx '       events \[--domain NAME\] \[--limit N\]' "$tmp/tvm.txt" ||
    fail "the events tag is not whole: $(grep -A1 '^       events' "$tmp/tvm.txt")"
echo "man-tags: ok"
