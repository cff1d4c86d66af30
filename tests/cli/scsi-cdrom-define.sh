# CD-ROMs on SCSI controllers at define, against virsh's test driver as the
# oracle: the <address type='drive'> libvirt gives each bus='scsi' disk
# (sda: controller 0 unit 0, sdi: controller 1 unit 1) and the controllers
# it adds for them are what tvm stores; tvm's model for a SCSI controller
# is virtio-scsi (written as libvirt's QEMU driver writes its default), an
# explicit address is kept, a controller beyond tvm's range is refused
# naming the line, and the result validates against libvirt's schema.
source "$(dirname "$0")/lib.sh"
command -v virsh >/dev/null || fail "virsh (package libvirt-clients) is missing: run scripts/install-deps.sh"
command -v virt-xml-validate >/dev/null || fail "virt-xml-validate (package libvirt-clients) is missing"

cat >"$tmp/cd.xml" <<'XML'
<domain type='kvm'>
  <name>cd</name>
  <memory>131072</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><boot dev='cdrom'/></os>
  <devices>
    <disk type='file' device='cdrom'>
      <source file='/srv/a.iso'/>
      <target dev='sda' bus='scsi'/>
      <readonly/>
    </disk>
    <disk type='file' device='cdrom'>
      <target dev='sdi' bus='scsi'/>
      <readonly/>
    </disk>
    <disk type='file' device='cdrom'>
      <source file='/srv/b.iso'/>
      <target dev='sdc' bus='scsi'/>
      <readonly/>
      <address type='drive' controller='0' bus='0' target='2' unit='5'/>
    </disk>
    <controller type='scsi' model='virtio-scsi'/>
  </devices>
</domain>
XML

run 0 tvm define "$tmp/cd.xml"
run 0 tvm dumpxml cd
cp "$tmp/out" "$tmp/tvm.xml"
run 0 virt-xml-validate "$tmp/tvm.xml" domain
sed 's/kvm/test/' "$tmp/cd.xml" >"$tmp/virsh-in.xml"
virsh -q -c test:///default "define $tmp/virsh-in.xml; dumpxml cd" >"$tmp/virsh.xml" 2>&1 ||
    fail "virsh: $(cat "$tmp/virsh.xml")"

# every drive address as virsh has it (virsh sorts disks by target name)
grep "type='drive'" "$tmp/virsh.xml" | sort >"$tmp/want-addr"
grep "type='drive'" "$tmp/tvm.xml" | sort >"$tmp/got-addr"
diff -u "$tmp/want-addr" "$tmp/got-addr" || fail "drive addresses differ from virsh's"
[ "$(wc -l <"$tmp/got-addr")" -eq 3 ] || fail "three drive addresses expected"

# the same controllers (indexes), each with tvm's model
grep -o "<controller type='scsi' index='[0-9]*'" "$tmp/virsh.xml" | sort >"$tmp/want-ctl"
grep -o "<controller type='scsi' index='[0-9]*'" "$tmp/tvm.xml" | sort >"$tmp/got-ctl"
diff -u "$tmp/want-ctl" "$tmp/got-ctl" || fail "SCSI controllers differ from virsh's"
[ "$(grep -c "<controller type='scsi' index='[01]' model='virtio-scsi'/>" "$tmp/tvm.xml")" -eq 2 ] ||
    fail "each SCSI controller should have model virtio-scsi"

# defined again from its own dump: nothing changes
run 0 tvm define "$tmp/tvm.xml"
run 0 tvm dumpxml cd
cmp -s "$tmp/out" "$tmp/tvm.xml" || fail "a second define changed the definition"

# a controller tvm does not number is refused, naming file, line and attribute
sed "s|<target dev='sda' bus='scsi'/>|&<address type='drive' controller='40' bus='0' target='0' unit='0'/>|; s/<name>cd</<name>cd2</" \
    "$tmp/cd.xml" >"$tmp/bad.xml"
run 1 tvm define "$tmp/bad.xml"
grep -q "bad.xml:[0-9]*:.*controller 40" "$tmp/err" || fail "error should name the line and controller 40"
sed "s|<target dev='sda' bus='scsi'/>|&<address type='drive' controller='0' bus='0' target='x' unit='0'/>|; s/<name>cd</<name>cd2</" \
    "$tmp/cd.xml" >"$tmp/bad.xml"
run 1 tvm define "$tmp/bad.xml"
grep -q "invalid target 'x'" "$tmp/err" || fail "error should name the target attribute"
run 1 tvm dominfo cd2
echo "ok"
