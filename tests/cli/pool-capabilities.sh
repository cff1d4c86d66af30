# pool-capabilities: libvirt's storage pool capabilities XML, valid against
# libvirt's own schema, and true: a type said to be supported starts (or
# fails for a reason of its own), one said not to be is refused by name.
source "$(dirname "$0")/lib.sh"
schema=/usr/share/libvirt/schemas/storagepoolcaps.rng
[ -f "$schema" ] || fail "$schema is missing (package libvirt-clients): run scripts/install-deps.sh"

ok tvm pool-capabilities
cp "$tmp/out" "$tmp/caps.xml"
xmllint --noout --relaxng "$schema" "$tmp/caps.xml" 2>"$tmp/err" || fail "not valid storagepoolcaps XML"
supported=$(sed -n "s/^  <pool type='\([a-z-]*\)' supported='yes'.*/\1/p" "$tmp/caps.xml" | paste -sd' ')
[ "$supported" = "dir fs netfs logical" ] || fail "supported types: '$supported'"
[ "$(grep -c "<pool type=" "$tmp/caps.xml")" -eq 14 ] || fail "not every libvirt pool type is listed"
# the volume formats are the ones vol-create-as makes
grep -A4 "<pool type='dir'" "$tmp/caps.xml" | grep -q "<defaultFormat type='raw'/>" || fail "dir's default volume format"

for t in $(sed -n "s/^  <pool type='\([a-z-]*\)' supported='\(yes\|no\)'.*/\1=\2/p" "$tmp/caps.xml"); do
    type=${t%=*} want=${t#*=}
    cat >"$tmp/p.xml" <<XML
<pool type='$type'>
  <name>p-$type</name>
  <source>
    <device path='/dev/tvm-no-such-device'/>
    <host name='srv'/>
    <dir path='/export'/>
    <name>vgnone</name>
  </source>
  <target><path>$tmp/no-such-dir-$type</path></target>
</pool>
XML
    ok tvm pool-define "$tmp/p.xml"
    run 1 tvm pool-start "p-$type"
    if grep -q "pool type '$type' is not supported by tvm" "$tmp/err"; then got=no; else got=yes; fi
    [ "$got" = "$want" ] || fail "pool-capabilities says $type supported='$want', pool-start says: $(cat "$tmp/err")"
done
echo "pool-capabilities: ok"
