# Bad input gets a clear message, the right exit code, and changes nothing.
source "$(dirname "$0")/lib.sh"

ok tvm define "$DATA/domain/minimal.xml"
name=$(names)
tvm dumpxml "$name" >"$tmp/before.xml"
tvm events >"$tmp/events-before"

# Malformed XML: FILE:LINE in the message, nothing stored.
printf '<domain type="kvm">\n  <name>broken</name>\n  <memory unit="KiB">1024\n</domain>\n' >"$tmp/broken.xml"
run 1 tvm define "$tmp/broken.xml"
grep -qE "^tvm: $tmp/broken.xml:[0-9]+: " "$tmp/err" || fail "no FILE:LINE in: $(cat "$tmp/err")"
printf '<domain type="kvm">\n  <name>badunit</name>\n  <memory unit="XB">1</memory>\n</domain>\n' >"$tmp/unit.xml"
run 1 tvm define "$tmp/unit.xml"
err_has "$tmp/unit.xml:3:"
err_has "XB"
[ "$(names)" = "$name" ] || fail "a bad define stored something: $(names)"

# Missing file
run 1 tvm define "$tmp/nonexistent.xml"
err_has "$tmp/nonexistent.xml"
err_has "No such file"

# Unknown commands are usage errors (2). As in virsh, an abbreviation never
# runs a command, however unique: "undef" must not undefine, "dump" is not
# dumpxml; the error suggests what it abbreviates.
run 2 tvm frobnicate
err_is "tvm: unknown command: 'frobnicate'"
run 2 tvm dom
err_has "unknown command: 'dom' (did you mean "
err_has "dominfo"
run 2 tvm domin "$name"
err_is "tvm: unknown command: 'domin' (did you mean dominfo?)"
run 2 tvm undef "$name"
err_is "tvm: unknown command: 'undef' (did you mean undefine?)"
ok tvm dominfo "$name"
out_has "Name:           $name"
printf 'dominfo %s\nundef %s\n' "$name" "$name" >"$tmp/abbrev.tvm"
run 2 tvm --batch "$tmp/abbrev.tvm"
err_has "abbrev.tvm:2: unknown command: 'undef'"
ok tvm dominfo "$name"

# Wrong argument count: exit 2 with the usage
run 2 tvm dominfo
err_is "tvm: command 'dominfo' requires <domain> option; usage: dominfo DOMAIN"
run 2 tvm dominfo a b
err_is "tvm: unexpected data 'b'; usage: dominfo DOMAIN"
run 2 tvm domrename onlyone
err_has "usage: domrename DOMAIN NEW-NAME"

# Unknown option, option without its value, unknown global option
run 2 tvm list --bogus
err_has "command 'list' doesn't support option --bogus"
err_has "usage: list"
run 2 tvm events --limit
err_has "option --limit needs a value"
run 2 tvm events --limit=abc
err_has "--limit wants a number"
run 2 "$TVM" --db "$DB" --bogus list
err_has "unknown option '--bogus'"

# Not found: exit 1
run 1 tvm dominfo nosuch
err_is "tvm: domain 'nosuch' not found"
run 1 tvm undefine nosuch
err_has "nosuch"

# Duplicate name with a different uuid: refused, original kept.
sed -e "s:<uuid>.*</uuid>:<uuid>0b0b0b0b-1111-2222-3333-444444444444</uuid>:" \
    "$tmp/before.xml" >"$tmp/dup-name.xml"
grep -q 0b0b0b0b "$tmp/dup-name.xml" || fail "test setup: uuid not replaced"
run 1 tvm define "$tmp/dup-name.xml"
err_has "domain '$name' already exists with uuid"
# Same uuid, different name: refused too.
sed -e "s:<name>$name</name>:<name>other-name</name>:" "$tmp/before.xml" >"$tmp/dup-uuid.xml"
run 1 tvm define "$tmp/dup-uuid.xml"
err_has "domain '$name' is already defined with uuid"
tvm dumpxml "$name" >"$tmp/after.xml"
cmp -s "$tmp/before.xml" "$tmp/after.xml" || fail "a refused define changed the stored XML"
[ "$(names)" = "$name" ] || fail "a refused define added a domain: $(names)"
tvm events >"$tmp/events-after"
cmp -s "$tmp/events-before" "$tmp/events-after" || fail "failed commands recorded events"

# Network and pool duplicates and bad XML
ok tvm net-define "$DATA/network/nat.xml"
net=$(tvm net-list --all --name | sed '/^$/d')
sed -e "s:<uuid>.*</uuid>:<uuid>0c0c0c0c-1111-2222-3333-444444444444</uuid>:" \
    "$DATA/network/nat.xml" >"$tmp/net-dup.xml"
run 1 tvm net-define "$tmp/net-dup.xml"
err_has "network '$net' already exists"
printf '<network>\n<name>n</name>\n<bridge name="x"\n</network>\n' >"$tmp/net-bad.xml"
run 1 tvm net-define "$tmp/net-bad.xml"
err_has "$tmp/net-bad.xml:"
[ "$(tvm net-list --all --name | sed '/^$/d')" = "$net" ] || fail "bad net-define stored something"
# A guest tvm-vmm cannot run is refused at define (as libvirt checks the
# capabilities), naming the line, the element and the limit; nothing is
# stored. edit applies the same check.
cap_xml() { # NAME TYPE-ELEMENT VCPUS
    printf "<domain type='kvm'>\n<name>%s</name>\n<memory>65536</memory>\n<vcpu>%s</vcpu>\n<os>\n%s\n</os>\n</domain>\n" \
        "$1" "$3" "$2" >"$tmp/$1.xml"
}
cap_xml sparc "<type arch='sparc'>hvm</type>" 1
run 1 tvm define "$tmp/sparc.xml"
err_is "tvm: $tmp/sparc.xml:6: <type arch>: tvm-vmm runs x86_64 and i686 guests, not arch 'sparc'"
cap_xml xen "<type arch='x86_64'>xen</type>" 1
run 1 tvm define "$tmp/xen.xml"
err_is "tvm: $tmp/xen.xml:6: <os type>: tvm-vmm runs fully virtualized guests (hvm), not 'xen'"
cap_xml many "<type>hvm</type>" 100000
run 1 tvm define "$tmp/many.xml"
err_is "tvm: $tmp/many.xml:4: <vcpu>: 100000 vCPUs is more than tvm-vmm's limit of 255"
cap_xml most "<type>hvm</type>" 255
ok tvm define "$tmp/most.xml"
for n in sparc xen many; do
    names | grep -qx "$n" && fail "refused domain '$n' was stored"
done
ok tvm undefine most
# tvm-vmm checks the same limits itself, before it touches KVM
mkdir -p "$tmp/vmmrun"
run 1 "${TVM_VMM:?set TVM_VMM to the tvm-vmm binary}" --domain "$tmp/sparc.xml" --rundir "$tmp/vmmrun"
err_has "$tmp/sparc.xml:6: <type arch>: tvm-vmm runs x86_64 and i686 guests"

# An unusable database path is named in the error, for verbs and batch lines.
touch "$tmp/plainfile"
run 1 "$TVM" --db "$tmp/plainfile/sub/tvm.db" list
err_has "$tmp/plainfile/sub"
printf 'list --all\n' | run 1 "$TVM" --db "$tmp/plainfile/sub/tvm.db" --batch -
err_has "<stdin>:1: $tmp/plainfile/sub"
echo "bad-input: ok"
