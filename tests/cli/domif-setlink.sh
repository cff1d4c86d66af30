#!/usr/bin/env bash
# domif-setlink on a domain that is not running changes <link state=...>
# in the stored definition (found by MAC in any case, or by target dev),
# keeps the result valid for libvirt's schema, and refuses a bad state or
# an unknown interface without changing anything. Also: a NIC defined
# without a MAC gets a 52:54:00 one at define, and keeps it.
. "$(dirname "$0")/lib.sh"

cat >"$tmp/web.xml" <<'XML'
<domain type='kvm'>
  <name>web</name>
  <memory unit='MiB'>256</memory>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/var/lib/tvm/vmlinuz</kernel>
  </os>
  <devices>
    <interface type='ethernet'>
      <mac address='52:54:00:AA:00:01'/>
      <target dev='tap7' managed='no'/>
      <model type='virtio'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x05' function='0x0'/>
    </interface>
    <interface type='bridge'>
      <source bridge='br0'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
XML

# xp XPATH: evaluate on the stored definition.
xp() {
    "$TVM" --db "$DB" dumpxml web >"$tmp/dom.xml"
    xmllint --xpath "string($1)" "$tmp/dom.xml"
}
valid() {
    "$TVM" --db "$DB" dumpxml web >"$tmp/dom.xml"
    virt-xml-validate "$tmp/dom.xml" domain >"$tmp/validate" 2>&1 ||
        fail "dumpxml does not validate: $(cat "$tmp/validate")"
}

# libvirt's schemas are the oracle (package libvirt-clients, installed by
# scripts/install-deps.sh): without them this is a failure, not a quieter test.
command -v virt-xml-validate >/dev/null ||
    fail "virt-xml-validate (package libvirt-clients) is missing: run scripts/install-deps.sh"
ok tvm define "$tmp/web.xml"
mac2=$(xp "/domain/devices/interface[2]/mac/@address")
[[ $mac2 =~ ^52:54:00(:[0-9a-f]{2}){3}$ ]] || fail "generated MAC '$mac2'"
[ "$(xp "/domain/devices/interface[2]/mac/@address")" = "$mac2" ] || fail "the generated MAC changed"
[ "$(xp "/domain/devices/interface[1]/mac/@address")" = 52:54:00:aa:00:01 ] || fail "MAC not kept"

# by MAC, in another case than the XML's
ok tvm domif-setlink web 52:54:00:aa:00:01 down
out_is "Device updated successfully"
[ "$(xp "/domain/devices/interface[1]/link/@state")" = down ] || fail "link not down in the definition"
[ "$(xp "count(/domain/devices/interface[2]/link)")" = 0 ] || fail "the other interface changed"
# <link> comes before the device address, as libvirt writes it
grep -A6 "52:54:00:aa:00:01" "$tmp/dom.xml" | tr -d ' \n' | grep -q "<linkstate='down'/><addresstype='pci'" ||
    fail "<link> is not before <address>: $(cat "$tmp/dom.xml")"
valid

# by target dev, with --config; then the generated MAC in upper case
ok tvm domif-setlink web tap7 up --config
[ "$(xp "/domain/devices/interface[1]/link/@state")" = up ] || fail "link not up again"
[ "$(xp "count(/domain/devices/interface[1]/link)")" = 1 ] || fail "a second <link> was added"
ok tvm domif-setlink web "${mac2^^}" down --persistent
[ "$(xp "/domain/devices/interface[2]/link/@state")" = down ] || fail "second link not down"
valid
ok tvm events
out_has "interface $mac2 link down"

# errors change nothing
cp "$tmp/dom.xml" "$tmp/before.xml"
run 1 tvm domif-setlink web 52:54:00:aa:00:99 down
err_has "interface '52:54:00:aa:00:99' not found"
run 1 tvm domif-setlink web eth0 up
err_has "interface 'eth0' not found"
run 1 tvm domif-setlink web tap7 sideways
err_has "invalid link state 'sideways'"
run 1 tvm domif-setlink nosuch tap7 up
run 2 tvm domif-setlink web tap7
"$TVM" --db "$DB" dumpxml web >"$tmp/after.xml"
cmp -s "$tmp/before.xml" "$tmp/after.xml" || fail "a failed domif-setlink changed the definition"

# in a batch script, the failing line is named
printf 'domif-setlink web tap7 down\ndomif-setlink web nope up\n' >"$tmp/s.tvm"
run 1 tvm --batch "$tmp/s.tvm"
err_has "s.tvm:2: "
err_has "interface 'nope' not found"
echo "domif-setlink: ok"
