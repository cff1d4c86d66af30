# virsh's argument grammar: every positional argument may be given by its
# option name (`dominfo --domain a`, `--vol=v`), named under the same names
# virsh gives them, and anything else is refused by name.
source "$(dirname "$0")/lib.sh"
command -v virsh >/dev/null || fail "virsh (package libvirt-clients) is missing: run scripts/install-deps.sh"

# The names, verb by verb, against `virsh help VERB`. virsh fills its
# options from positional arguments in the order it lists them (every one
# that takes a value): tvm's positional names are some of those, in the same
# order, and include each one virsh requires by position ([--name]) up to
# tvm's last.
checked=0
for v in $("$TVM" help | awk '/^    [a-z]/{print $1}'); do
    virsh help "$v" >"$tmp/virsh-help" 2>/dev/null || continue
    sed -n '/OPTIONS/,$p' "$tmp/virsh-help" | grep -oE '^ +(\[--[a-z-]+\]|--[a-z-]+) <' |
        sed -E 's/^ +\[?--([a-z-]+)\]? <$/\1/' >"$tmp/vn" || true
    sed -n '/OPTIONS/,$p' "$tmp/virsh-help" | grep -oE '^ +\[--[a-z-]+\]' |
        sed -E 's/^ +\[--([a-z-]+)\]$/\1/' >"$tmp/vreq" || true
    "$TVM" help "$v" | grep -oE '^ +\[--[a-z-]+\]' | sed -E 's/^ +\[--([a-z-]+)\]$/\1/' >"$tmp/tn" || true
    # tvm's names, each found in virsh's list after the previous one; and
    # virsh's positional ones that come before tvm's last name all there
    awk 'FILENAME == ARGV[1] {order[$0] = FNR; next}
         FILENAME == ARGV[2] {
            if (!($0 in order)) {print "tvm names --" $0 ", which virsh lacks"; exit}
            if (order[$0] <= last) {print "--" $0 " comes earlier in virsh"; exit}
            last = order[$0]; has[$0] = 1; next}
         order[$0] < last && !($0 in has) {print "tvm lacks virsh'"'"'s positional --" $0; exit}' \
        "$tmp/vn" "$tmp/tn" "$tmp/vreq" >"$tmp/bad"
    [ ! -s "$tmp/bad" ] || fail "$v: $(cat "$tmp/bad"): virsh [$(tr '\n' ' ' <"$tmp/vn")] tvm [$(tr '\n' ' ' <"$tmp/tn")]"
    checked=$((checked + 1))
done
[ "$checked" -ge 40 ] || fail "only $checked verbs compared with virsh's help"

ok tvm define --file "$DATA/domain/minimal.xml"
out_has "Domain 'minimal' defined"
ok tvm dominfo --domain minimal
out_has "Name:           minimal"
ok tvm dominfo --domain=minimal
out_has "Name:           minimal"
# a named argument and a positional one fill their own slots
ok tvm domrename --new-name m2 minimal
ok tvm domstate m2
out_has "shut off"
ok tvm desc --domain m2 --new-desc hello
ok tvm desc m2
out_is "hello"

# refused by name, changing nothing
run 2 tvm dominfo --dom m2
err_has "command 'dominfo' doesn't support option --dom"
run 2 tvm dominfo --domain m2 --domain m2
err_has "option --domain already seen"
run 2 tvm domrename --new-name m3
err_has "missing argument --domain"
run 2 tvm dominfo --domain
err_has "option --domain needs a value"
run 2 tvm undefine m2 extra
err_has "unexpected data 'extra'"
run 2 tvm list --table --name
err_has "Options --table and --name are mutually exclusive"
ok tvm list --all --name
out_is "m2"
# --id alone lists only domains that have an id; beside --name, "-" for the rest
ok tvm list --all --id
out_is ""
ok tvm list --all --id --name
out_is "- m2"
# --xpath that selects no nodes, or does not parse, is an error
ok tvm dumpxml m2 --xpath //name --wrap
out_is "<nodes>
  <name>m2</name>
</nodes>"
run 1 tvm dumpxml m2 --xpath "string(//name)"
err_has "Incorrect xpath 'string(//name)'"
run 1 tvm dumpxml m2 --xpath "///"
err_has "invalid XPath expression '///'"
echo "virsh-grammar: ok ($checked verbs' argument names match virsh's)"
