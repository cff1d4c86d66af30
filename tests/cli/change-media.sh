# change-media on a domain that is not running: the stored <source>
# changes as virsh's --config would write it (eject removes it, insert and
# update put it back after <driver>), each change is an event, --print-xml
# changes nothing, and the errors virsh checks before it reaches the
# driver are virsh's own words (virsh on its test driver is the oracle for
# them). A live change on a domain that is not running is refused.
source "$(dirname "$0")/lib.sh"
command -v virsh >/dev/null || fail "virsh (package libvirt-clients) is missing: run scripts/install-deps.sh"

cat >"$tmp/cd.xml" <<XML
<domain type='kvm'>
  <name>cd</name>
  <memory>131072</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$tmp/a.iso'/>
      <target dev='sda' bus='scsi'/>
      <readonly/>
    </disk>
    <disk type='file' device='disk'>
      <source file='$tmp/d.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML
run 0 tvm define "$tmp/cd.xml"
source_of() { tvm dumpxml cd | grep -A1 "<driver name='qemu' type='raw'/>" | sed -n "s/.*<source file='\(.*\)'\/>.*/\1/p"; }

run 0 tvm change-media cd sda --eject
[ "$(cat "$tmp/out")" = "Successfully ejected media." ] || fail "eject message"
[ -z "$(source_of)" ] || fail "eject left <source>"
run 0 tvm domblklist cd
grep -Eq '^ sda +-$' "$tmp/out" || fail "domblklist should show '-' for the empty drive"
run 0 tvm change-media cd sda "$tmp/b.iso" --insert --config
[ "$(cat "$tmp/out")" = "Successfully inserted media." ] || fail "insert message"
[ "$(source_of)" = "$tmp/b.iso" ] || fail "insert did not write <source> after <driver>"
run 0 tvm change-media cd "$tmp/b.iso" --source "$tmp/c.iso"
[ "$(cat "$tmp/out")" = "Successfully updated media." ] || fail "update message"
[ "$(source_of)" = "$tmp/c.iso" ] || fail "update (drive named by its medium) did not change <source>"
run 0 tvm change-media cd sda --eject --print-xml
grep -q "<target dev='sda' bus='scsi'/>" "$tmp/out" || fail "--print-xml lacks the disk"
! grep -q "<source" "$tmp/out" || fail "--print-xml still shows a medium"
[ "$(source_of)" = "$tmp/c.iso" ] || fail "--print-xml changed the definition"
run 0 tvm events --domain cd
[ "$(grep -c 'disk sda media' "$tmp/out")" -eq 3 ] || fail "three media events expected"

# virsh's own checks, same words (tvm prefixes 'tvm: ', virsh 'error: ')
sed "s/type='kvm'/type='test'/" "$tmp/cd.xml" >"$tmp/virsh.xml"
for args in "sda $tmp/x.iso --insert" "vda --eject" "sdq --eject" "sda --eject --insert" \
    "sda" "sda --current --live"; do
    virsh -q -c test:///default "define $tmp/virsh.xml; change-media cd $args --config" \
        >/dev/null 2>"$tmp/virsh.err" || true
    want=$(sed -n 's/^error: //p' "$tmp/virsh.err" | head -1)
    [ -n "$want" ] || fail "virsh printed no error for '$args'"
    run 1 tvm change-media cd $args --config
    got=$(sed -n 's/^tvm: //p' "$tmp/err")
    [ "$got" = "$want" ] || fail "change-media cd $args: '$got', virsh says '$want'"
done
run 0 tvm change-media cd sda --update --config
[ "$(cat "$tmp/out")" = "Successfully ejected media." ] || fail "--update without a source should eject"
run 1 tvm change-media cd sda --eject
grep -q "The disk device 'sda' doesn't have media" "$tmp/err" || fail "eject of an empty drive"
run 1 tvm change-media cd sda "$tmp/a.iso" --live
grep -q "domain is not running" "$tmp/err" || fail "--live on a domain that is not running"
echo "ok"
