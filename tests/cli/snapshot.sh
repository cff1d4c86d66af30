# Snapshot metadata: snapshot-create --redefine, list (table, --name,
# --parent, --tree), current, dumpxml, edit, delete --metadata, undefine with
# snapshots.
source "$(dirname "$0")/lib.sh"

s="$DATA/snapshot"
ok tvm define "$DATA/domain/virsh-test.xml"
dom=$(names)

# first.xml is a running guest's (memory internal): of a shut-off domain
# it cannot be taken (cli/snapshot-disk.sh takes real ones)
run 1 tvm snapshot-create "$dom" "$s/first.xml"
err_is "tvm: memory state cannot be saved with offline or disk-only snapshot"
ok tvm snapshot-list "$dom" --name
out_is ""

ok tvm snapshot-create "$dom" "$s/first.xml" --redefine
out_is "Domain snapshot first created from '$s/first.xml'"$'\n'
# a checkpoint's record redefined from XML carries no saved state
run 1 tvm snapshot-revert "$dom" first --force
err_is "tvm: snapshot 'first' holds a running guest's memory, but tvm has no saved state for it (a record redefined from XML carries none)"
run 1 tvm snapshot-create-as "$dom" x --live
err_has "live snapshot creation is supported only during full system snapshots"
run 1 tvm snapshot-current "$dom"
err_has "domain '$dom' has no current snapshot"
ok tvm snapshot-create "$dom" "$s/second.xml" --redefine --current
ok tvm snapshot-create "$dom" "$s/hand-external.xml" --redefine
ext=$(sed -n 's:^  <name>\(.*\)</name>.*:\1:p' "$s/hand-external.xml")

ok tvm snapshot-list "$dom" --name
out_has "first"
out_has "second"
out_has "$ext"
ok tvm snapshot-list "$dom"
out_has " Name "
out_has "Creation Time"
out_has "$(date -u -d @"$(sed -n 's:.*<creationTime>\(.*\)</creationTime>.*:\1:p' "$s/first.xml")" '+%Y-%m-%d %H:%M:%S +0000')"
ok tvm snapshot-list "$dom" --parent
grep -qE "^ second +.* first$" "$tmp/out" || fail "--parent does not show second's parent"

# virsh's tree: first has two children
ok tvm snapshot-list "$dom" --tree
printf 'first\n  |\n' >"$tmp/tree-head"
head -2 "$tmp/out" | cmp -s - "$tmp/tree-head" || fail "tree does not start with first and a branch"
out_has "  +- second"
out_has "  +- $ext"

ok tvm snapshot-current "$dom" --name
out_is "second"$'\n'
ok tvm snapshot-current "$dom"
out_has "<name>second</name>"
ok tvm snapshot-dumpxml "$dom" first
out_has "<name>first</name>"
run 1 tvm snapshot-dumpxml "$dom" nosnap
err_has "nosnap"

# a snapshot of another domain is refused
sed -e 's:<uuid>[^<]*</uuid>:<uuid>0e0e0e0e-1111-2222-3333-444444444444</uuid>:' \
    -e 's:<name>first</name>:<name>alien</name>:' "$s/first.xml" >"$tmp/alien.xml"
run 1 tvm snapshot-create "$dom" "$tmp/alien.xml" --redefine
err_has "belongs to domain uuid 0e0e0e0e"
ok tvm snapshot-list "$dom" --name
out_lacks "alien"

# undefine refuses while snapshots exist, unless --snapshots-metadata
run 1 tvm undefine "$dom"
err_has "snapshots"
[ "$(names)" = "$dom" ] || fail "refused undefine removed the domain"

# snapshot-edit: the description may change; the name and what was taken
# may not, and a refused edit changes nothing
ok tvm snapshot-dumpxml "$dom" second
cp "$tmp/out" "$tmp/second-before.xml"
cat >"$tmp/ed-desc.sh" <<'SH'
sed -i 's|<description>after upgrade</description>|<description>after the 12.4 upgrade</description>|' "$1"
SH
EDITOR="sh $tmp/ed-desc.sh" ok tvm snapshot-edit "$dom" --current
out_is "Snapshot second edited."$'\n'
ok tvm snapshot-dumpxml "$dom" second
out_has "<description>after the 12.4 upgrade</description>"
diff <(grep -v '<description>' "$tmp/second-before.xml") <(grep -v '<description>' "$tmp/out") >/dev/null ||
    fail "snapshot-edit changed more than the description"
ok tvm snapshot-dumpxml "$dom" second
cp "$tmp/out" "$tmp/second-edited.xml"
cat >"$tmp/ed-state.sh" <<'SH'
sed -i 's|<state>[a-z]*</state>|<state>paused</state>|' "$1"
SH
EDITOR="sh $tmp/ed-state.sh" run 1 tvm snapshot-edit "$dom" second </dev/null
err_has "only the snapshot's <description> can be edited"
cat >"$tmp/ed-name.sh" <<'SH'
sed -i 's|<name>second</name>|<name>renamed</name>|' "$1"
SH
EDITOR="sh $tmp/ed-name.sh" run 1 tvm snapshot-edit "$dom" second </dev/null
err_has "Cannot rename snapshot second to renamed"
run 2 tvm snapshot-edit "$dom" second --rename
err_has "--rename is not supported by tvm"
ok tvm snapshot-dumpxml "$dom" second
cmp -s "$tmp/out" "$tmp/second-edited.xml" || fail "a refused snapshot-edit changed the snapshot"
VISUAL=true ok tvm snapshot-edit "$dom" second
out_is "Snapshot second XML configuration not changed."$'\n'

# deleting the parent re-parents the children
ok tvm snapshot-delete "$dom" first --metadata
out_is "Domain snapshot first deleted"$'\n'
ok tvm snapshot-list "$dom" --parent
out_lacks " first "
run 1 tvm snapshot-delete "$dom" second
err_has "--metadata"

ok tvm undefine "$dom" --snapshots-metadata
[ -z "$(names)" ] || fail "undefine --snapshots-metadata left $(names)"
echo "snapshot: ok"
