# define, list, dominfo, dumpxml, desc, domrename and undefine on real XML
# files, checked against what the files say.
source "$(dirname "$0")/lib.sh"

xml="$DATA/domain/minimal.xml"
name=$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$xml" | head -1)
uuid=$(sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' "$xml" | head -1)
[ -n "$name" ] && [ -n "$uuid" ] || fail "cannot read name/uuid from $xml"

ok tvm define "$xml"
out_is "Domain '$name' defined from $xml"$'\n'

# list shows running domains only; --all and --inactive show the defined one.
ok tvm list
out_lacks "$name"
out_has " Id   Name   State"
ok tvm list --all
out_has " -    $name   shut off"
ok tvm list --inactive
out_has "$name"
ok tvm list --all --name
out_is "$name"$'\n'
ok tvm list --all --uuid
out_is "$uuid"$'\n'
ok tvm list --all --uuid --name
out_is "$uuid $name"$'\n'
# virsh's filters
ok tvm list --state-shutoff --name
out_is "$name"$'\n'
ok tvm list --state-running --state-paused --name
out_is ""
ok tvm list --all --transient --name
out_is ""
ok tvm list --all --persistent --no-autostart --name
out_is "$name"$'\n'

# dominfo reports the memory and vcpus of the XML.
ok tvm dominfo "$name"
out_has "Name:           $name"
out_has "UUID:           $uuid"
out_has "State:          shut off"
mem_kib=$(tvm dumpxml "$name" | sed -n "s:.*<memory unit=.KiB.>\([0-9]*\)</memory>.*:\1:p")
[ -n "$mem_kib" ] || fail "dumpxml has no memory in KiB"
out_has "Max memory:     $mem_kib KiB"
ok tvm dominfo "$uuid"
out_has "Name:           $name"

# dumpxml output defines the same domain again (an update), unchanged.
tvm dumpxml "$name" >"$tmp/dump1.xml"
grep -q "<uuid>$uuid</uuid>" "$tmp/dump1.xml" || fail "dumpxml lost the uuid"
ok tvm define "$tmp/dump1.xml"
tvm dumpxml "$name" >"$tmp/dump2.xml"
cmp -s "$tmp/dump1.xml" "$tmp/dump2.xml" || fail "define of dumpxml output changed the XML"
[ "$(names | wc -l)" -eq 1 ] || fail "re-define added a domain"

# define from stdin
ok tvm define - <"$DATA/domain/full.xml"
out_has "defined from -"
names | grep -qx full || fail "define - did not add 'full'"

# desc and title, as virsh prints them
ok tvm desc "$name"
out_is "No description for domain: $name"$'\n'
ok tvm desc "$name" "two words"
out_is "Domain description updated successfully"$'\n'
ok tvm desc "$name"
out_is "two words"$'\n'
ok tvm desc "$name" --title --new-desc "My title"
out_is "Domain title updated successfully"$'\n'
ok tvm desc "$name" --title
out_is "My title"$'\n'
ok tvm list --all --title
out_has "$name"
out_has "My title"
tvm dumpxml "$name" | grep -q "<title>My title</title>" || fail "title not in the XML"

# autostart mark
ok tvm autostart "$name"
out_is "Domain '$name' marked as autostarted"$'\n'
ok tvm dominfo "$name"
out_has "Autostart:      enable"
ok tvm list --all --autostart --name
out_is "$name"$'\n'
ok tvm autostart "$name" --disable
out_is "Domain '$name' unmarked as autostarted"$'\n'
ok tvm dominfo "$name"
out_has "Autostart:      disable"

# domuuid / domname / domid
ok tvm domuuid "$name"
out_is "$uuid"$'\n'
ok tvm domname "$uuid"
out_is "$name"$'\n'
ok tvm domid "$name"
out_is "-"$'\n'

# domrename keeps uuid and description
ok tvm domrename "$name" renamed
out_is "Domain successfully renamed"$'\n'
ok tvm domuuid renamed
out_is "$uuid"$'\n'
run 1 tvm dominfo "$name"
err_has "domain '$name' not found"
ok tvm desc renamed
out_is "two words"$'\n'
full_uuid=$(tvm domuuid full | sed '/^$/d')
run 1 tvm domrename renamed full
err_has "already exists"
# the refused rename changed neither domain
ok tvm domuuid renamed
out_is "$uuid"$'\n'
ok tvm domuuid full
out_is "$full_uuid"$'\n'
[ "$(names | sort | paste -sd' ')" = "full renamed" ] || fail "after a refused rename: $(names)"

# undefine removes it; events recorded every change
ok tvm undefine renamed
out_is "Domain 'renamed' has been undefined"$'\n'
[ "$(names)" = "full" ] || fail "undefine left: $(names)"
ok tvm events --domain renamed
out_has "domain 'renamed': renamed $name -> renamed"
out_has "domain 'renamed': undefined"
ok tvm events --limit 1
[ "$(wc -l <"$tmp/out")" -eq 1 ] || fail "events --limit 1 printed $(wc -l <"$tmp/out") lines"
ok tvm events
out_has "domain '$name': defined added"
out_has "domain '$name': defined updated"
out_has "domain '$name': updated title"
echo "domain-flow: ok"
