# help, --help, version, and the command table's lookup rules.
source "$(dirname "$0")/lib.sh"

ok tvm help
for c in define undefine list dominfo dumpxml edit domrename desc net-define net-list \
    pool-define pool-list vol-list vol-create snapshot-create snapshot-list events help version; do
    grep -qE "^    $c +" "$tmp/out" || fail "help does not list '$c'"
done
# groups, as virsh shows them, and `help KEYWORD` for one group
out_has " Domain Management (help keyword 'domain'):"
out_has " Storage Pools and Volumes (help keyword 'storage'):"
ok tvm help network
out_has "net-list"
out_lacks "pool-list"
! grep -qE '^    define ' "$tmp/out" || fail "help network lists define"
ok "$TVM" --help
out_has "usage: tvm"
out_has "define"
ok tvm help list
out_has "usage: list [--all]"
ok tvm list --help
out_has "usage: list [--all]"
# --help is checked before the arguments, so it works with them missing
ok tvm dominfo --help
out_has "usage: dominfo DOMAIN"
run 2 tvm help nosuchcmd
err_has "unknown command: 'nosuchcmd'"

ok "$TVM" --version
out_is "tvm 0.1.0"
ok tvm version
out_has "tvm 0.1.0"

# no abbreviations on the command line (virsh has none): the error lists
# the candidates
run 2 tvm vers
err_is "tvm: unknown command: 'vers' (did you mean version?)"
run 2 tvm net-
err_has "unknown command: 'net-' (did you mean net-"
# `--` ends options: a domain may be called --odd
printf "<domain type='kvm'><name>--odd</name><memory>65536</memory><os><type>hvm</type></os></domain>\n" \
    >"$tmp/odd.xml"
ok tvm define "$tmp/odd.xml"
ok tvm dominfo -- --odd
out_has "Name:           --odd"
# no database is created by help
ok "$TVM" --db "$tmp/other.db" help
[ ! -e "$tmp/other.db" ] || fail "help created a database"
echo "help: ok"
