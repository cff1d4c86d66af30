# Batch scripts: stop at the first failing line with FILE:LINE, --keep-going,
# continuation lines, quoting, comments, stdin, and one transaction per line.
source "$(dirname "$0")/lib.sh"

d="$DATA/domain"

# Fails on line 6; the define on line 8 must not run.
cat >"$tmp/stop.tvm" <<TVM
# comment line
define $d/minimal.xml

desc minimal --title 'first title'
   # indented comment
dominfo no-such-domain
define $d/full.xml
TVM
run 1 "$TVM" --db "$DB" --batch "$tmp/stop.tvm"
err_is "$tmp/stop.tvm:6: domain 'no-such-domain' not found"
out_has "Domain 'minimal' defined from $d/minimal.xml"
out_has "Domain title updated successfully"
[ "$(names)" = "minimal" ] || fail "lines after the failure ran: $(names)"

# A usage error stops with exit 2 and its line.
printf 'list --all\nlist --frob\ndefine %s\n' "$d/full.xml" >"$tmp/usage.tvm"
run 2 "$TVM" --db "$DB" --batch "$tmp/usage.tvm"
err_has "$tmp/usage.tvm:2: command 'list' doesn't support option --frob"
[ "$(names)" = "minimal" ] || fail "line 3 ran after a usage error"

# A failing define changes nothing (duplicate name, other uuid) and is reported.
sed -e "s:<uuid>.*</uuid>:<uuid>0d0d0d0d-1111-2222-3333-444444444444</uuid>:" \
    -e "s:<memory unit='KiB'>[0-9]*:<memory unit='KiB'>4096:" \
    "$d/minimal.xml" >"$tmp/dup.xml"
tvm dumpxml minimal >"$tmp/before.xml"
printf 'define %s\n' "$tmp/dup.xml" >"$tmp/dup.tvm"
run 1 "$TVM" --db "$DB" --batch "$tmp/dup.tvm"
err_has "$tmp/dup.tvm:1: domain 'minimal' already exists with uuid"
tvm dumpxml minimal | cmp -s - "$tmp/before.xml" || fail "failed define changed 'minimal'"

# --keep-going: every failure reported, the rest runs, exit = worst (2).
cat >"$tmp/keep.tvm" <<TVM
dominfo nope1
define $d/full.xml
frobnicate
dominfo nope2
TVM
run 2 "$TVM" --db "$DB" --batch "$tmp/keep.tvm" --keep-going
err_has "$tmp/keep.tvm:1: domain 'nope1' not found"
err_has "$tmp/keep.tvm:3: unknown command: 'frobnicate'"
err_has "$tmp/keep.tvm:4: domain 'nope2' not found"
[ "$(wc -l <"$tmp/err")" -eq 3 ] || fail "keep-going printed $(wc -l <"$tmp/err") errors, want 3"
names | grep -qx full || fail "keep-going did not run line 2"
# keep-going with only command failures exits 1
printf 'dominfo nope\nlist\n' >"$tmp/keep1.tvm"
run 1 "$TVM" --db "$DB" --keep-going --batch "$tmp/keep1.tvm"

# Continuation lines and quotes; errors name the line the command started on.
cat >"$tmp/quotes.tvm" <<'TVM'
desc minimal \
    --new-desc "a \"quoted\" \$word and a # hash" # a comment
desc minimal --title 'it is # not a comment'
desc \
  full \
  "multi
line"
dominfo \
   nope3
TVM
run 1 "$TVM" --db "$DB" --batch "$tmp/quotes.tvm"
err_is "$tmp/quotes.tvm:8: domain 'nope3' not found"
ok tvm desc minimal --title
out_is "it is # not a comment"$'\n'
# each description checked where it was set: the escapes, $word and the #
# inside quotes on minimal, the multi-line argument on full
ok tvm desc minimal
out_is 'a "quoted" $word and a # hash'$'\n'
ok tvm desc full
out_is "multi"$'\n'"line"$'\n'
printf 'desc minimal "unterminated\nlist\n' >"$tmp/open.tvm"
run 2 "$TVM" --db "$DB" --batch "$tmp/open.tvm"
err_is "$tmp/open.tvm:1: unterminated double quote"

# Batch from stdin; `define -` cannot read the script itself.
printf 'list --all --name\n\ndominfo nope4\n' >"$tmp/stdin.tvm"
run 1 "$TVM" --db "$DB" --batch - <"$tmp/stdin.tvm"
err_is "<stdin>:3: domain 'nope4' not found"
out_has "minimal"
printf 'define -\n' | run 1 "$TVM" --db "$DB" --batch -
err_has "<stdin>:1: cannot read XML from stdin"

# --batch with a missing file, or with a verb, is refused.
run 1 "$TVM" --db "$DB" --batch "$tmp/none.tvm"
err_has "none.tvm"
run 2 "$TVM" --db "$DB" --batch "$tmp/stop.tvm" list
run 2 "$TVM" --db "$DB" --keep-going list
# a directory is refused as such, not read as an empty script at line 0
mkdir "$tmp/adir"
run 1 "$TVM" --db "$DB" --batch "$tmp/adir"
err_is "tvm: cannot read batch file '$tmp/adir': it is a directory"

# A UTF-8 byte order mark (Windows editors write one) is not part of the
# first command; errors still count lines from 1.
printf '\xEF\xBB\xBFdominfo minimal\ndominfo nope5\n' >"$tmp/bom.tvm"
run 1 "$TVM" --db "$DB" --batch "$tmp/bom.tvm"
out_has "Name:           minimal"
err_is "$tmp/bom.tvm:2: domain 'nope5' not found"
echo "batch: ok"
