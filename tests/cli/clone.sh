# tvm clone and templates on real image files, with qemu-img and qemu-io
# as the oracles: a full clone reads the same as its original (qemu-img
# compare), is a clean image (check), is as sparse as the original, and is
# independent (a write into one leaves the other as it was); a linked clone
# is a qcow2 overlay whose backing chain (qemu-img info --backing-chain) is
# the original's disk, its format recorded. virt-clone's names, new uuid and
# MACs, CD-ROMs kept; failures leave no file and no domain behind. A
# template is never started and, while it has linked clones, neither
# undefined nor unmarked; its mark survives dumpxml | define.
source "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"
command -v qemu-io >/dev/null || fail "qemu-io (package qemu-utils) is missing: run scripts/install-deps.sh"

P="$tmp/pool"
ok tvm pool-create-as pool dir --target "$P" --build
ok tvm vol-create-as pool web.qcow2 256M --format qcow2
ok tvm vol-create-as pool data.img 64M --allocation 0
qemu-io -c "write -P 0xab 1M 3M" -c "write -P 0xcd 200M 1M" "$P/web.qcow2" >/dev/null
qemu-io -f raw -c "write -P 0x5a 8M 2M" "$P/data.img" >/dev/null
truncate -s 1M "$tmp/cd.iso"
truncate -s 1M "$tmp/shared.img"

domain_xml() { # NAME
    cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$P/web.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='volume' device='disk'>
      <driver name='qemu' type='raw'/>
      <source pool='pool' volume='data.img'/>
      <target dev='vdb' bus='virtio'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='$tmp/shared.img'/>
      <target dev='vdc' bus='virtio'/>
      <shareable/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$tmp/cd.iso'/>
      <target dev='sda' bus='scsi'/>
      <readonly/>
    </disk>
    <interface type='ethernet'>
      <mac address='52:54:00:00:00:01'/>
      <target dev='tap-web0'/>
      <model type='virtio'/>
    </interface>
    <interface type='ethernet'>
      <mac address='52:54:00:00:00:02'/>
      <model type='virtio'/>
    </interface>
    <graphics type='vnc' port='5901' autoport='no'/>
  </devices>
</domain>
XML
}
domain_xml web >"$tmp/web.xml"
ok tvm define "$tmp/web.xml"

blocks() { stat -c %b "$1"; }
uuid_of() { "$TVM" --db "$DB" domuuid "$1" | sed '/^$/d'; }
xml_of() { "$TVM" --db "$DB" dumpxml "$1"; }
no_leftovers() { # what a failed clone must not leave: files beyond LIST, a domain NAME
    [ "$(ls "$P" | sort | tr '\n' ' ')" = "$1" ] || fail "pool holds $(ls "$P" | tr '\n' ' '), want $1"
    ! names | grep -qx "$2" || fail "a failed clone left domain $2"
}

# ---- a full clone, names as virt-clone makes them ----
ok tvm clone --original web --auto-clone
out_is "Clone 'web-clone' created successfully."
# web.qcow2 is named after the domain: the clone's disk after the clone; data.img gets -clone
[ -f "$P/web-clone.qcow2" ] || fail "no web-clone.qcow2"
[ -f "$P/data-clone.img" ] || fail "no data-clone.img"
qemu-img compare -q "$P/web.qcow2" "$P/web-clone.qcow2" || fail "the clone's vda reads otherwise"
qemu-img compare -q -f raw -F raw "$P/data.img" "$P/data-clone.img" || fail "the clone's vdb reads otherwise"
qemu-img check -q "$P/web-clone.qcow2" || fail "qemu-img check: web-clone.qcow2"
# sparse: no more blocks than the original (a copy of the holes would be 64 MiB)
[ "$(blocks "$P/data-clone.img")" -le "$(blocks "$P/data.img")" ] || fail "data-clone.img is less sparse"
[ "$(blocks "$P/web-clone.qcow2")" -le "$(blocks "$P/web.qcow2")" ] || fail "web-clone.qcow2 is less sparse"
xml_of web-clone >"$tmp/clone.xml"
[ "$(uuid_of web-clone)" != "$(uuid_of web)" ] || fail "the clone has the original's uuid"
grep -q "<source file='$P/web-clone.qcow2'/>" "$tmp/clone.xml" || fail "vda is not the copy"
grep -q "<source pool='pool' volume='data-clone.img'/>" "$tmp/clone.xml" || fail "vdb is not a volume of the same pool"
grep -q "<source file='$tmp/cd.iso'/>" "$tmp/clone.xml" || fail "the CD-ROM was not kept"
grep -q "<source file='$tmp/shared.img'/>" "$tmp/clone.xml" || fail "the shareable disk was not kept"
! grep -q "52:54:00:00:00:0[12]" "$tmp/clone.xml" || fail "the clone kept an original MAC"
[ "$(grep -c "<mac address='52:54:00:" "$tmp/clone.xml")" -eq 2 ] || fail "the clone's MACs are not libvirt's 52:54:00"
! grep -q "tap-web0" "$tmp/clone.xml" || fail "the clone kept the original's tap name"
grep -q "<graphics type='vnc' port='-1' autoport='yes'" "$tmp/clone.xml" || fail "the fixed VNC port was kept"
ok tvm vol-list pool
out_has "web-clone.qcow2"
out_has "data-clone.img"
# independent: a write into the clone leaves the original as it was
qemu-io -c "write -P 0x11 1M 64k" "$P/web-clone.qcow2" >/dev/null
qemu-io -c "read -P 0xab 1M 3M" "$P/web.qcow2" | grep -q "Pattern verification failed" &&
    fail "writing into the clone changed the original"
run 1 qemu-img compare -q "$P/web.qcow2" "$P/web-clone.qcow2"
qemu-io -f raw -c "write -P 0x22 8M 4k" "$P/data.img" >/dev/null
run 1 qemu-img compare -q -f raw -F raw "$P/data.img" "$P/data-clone.img"

# a second auto clone of web, and one of the clone (virt-clone: web-clone1, then web-clone2)
ok tvm clone --original web --auto-clone
out_is "Clone 'web-clone1' created successfully."
[ -f "$P/web-clone1.qcow2" ] && [ -f "$P/data-clone-1.img" ] || fail "no web-clone1.qcow2 / data-clone-1.img"
ok tvm clone --original web-clone --auto-clone
out_is "Clone 'web-clone2' created successfully."
for d in web-clone1 web-clone2; do ok tvm undefine "$d" --remove-all-storage; done

# ---- given name, files, MACs, uuid; --nonsparse ----
ok tvm clone --original web --name given --file "$tmp/given-a.qcow2,$tmp/given-b.img" \
    --mac 52:54:00:aa:bb:cc,RANDOM --uuid 1b4e28ba-2fa1-11d2-883f-0016d3cca427 --nonsparse
xml_of given >"$tmp/given.xml"
grep -q "<uuid>1b4e28ba-2fa1-11d2-883f-0016d3cca427</uuid>" "$tmp/given.xml" || fail "--uuid not used"
grep -q "<mac address='52:54:00:aa:bb:cc'/>" "$tmp/given.xml" || fail "--mac not used"
grep -q "<source file='$tmp/given-b.img'/>" "$tmp/given.xml" || fail "--file for a volume disk not used"
[ "$(($(blocks "$tmp/given-b.img") * 512))" -ge $((64 << 20)) ] || fail "--nonsparse left holes"
qemu-img compare -q -f raw -F raw "$P/data.img" "$tmp/given-b.img" || fail "given-b.img reads otherwise"

# ---- virt-clone's repeated options: --file a --file b, --mac twice ----
ok tvm clone --original web --name repeated --file "$tmp/rep-a.qcow2" --file="$tmp/rep-b.img" \
    --mac 52:54:00:aa:bb:dd --mac RANDOM
xml_of repeated >"$tmp/repeated.xml"
grep -q "<source file='$tmp/rep-a.qcow2'/>" "$tmp/repeated.xml" || fail "first --file not used"
grep -q "<source file='$tmp/rep-b.img'/>" "$tmp/repeated.xml" || fail "second --file not used"
grep -q "<mac address='52:54:00:aa:bb:dd'/>" "$tmp/repeated.xml" || fail "repeated --mac not used"
ok tvm undefine repeated --remove-all-storage
# an option that takes one value is refused when repeated
run 2 tvm clone --original web --name bad --uuid 1b4e28ba-2fa1-11d2-883f-0016d3cca428 \
    --uuid 1b4e28ba-2fa1-11d2-883f-0016d3cca429
err_has "option --uuid already seen (it takes one value)"

# ---- refusals: nothing is left behind ----
before="$(ls "$P" | sort | tr '\n' ' ')"
run 1 tvm clone --original web --name given
err_has "Guest name 'given' is already in use"
run 1 tvm clone --original nosuch --name x
err_has "nosuch"
run 1 tvm clone --original web --name bad --mac 01:00:00:00:00:01
err_has "multicast"
no_leftovers "$before" bad
run 1 tvm clone --original web --name bad --file "$tmp/given-a.qcow2"
err_has "given-a.qcow2: the file exists already"
# the second disk cannot be made: the first, already copied, goes again
run 1 tvm clone --original web --name bad --file "$tmp/bad-a.qcow2,$tmp/nodir/bad-b.img"
err_has "disk vdb: $tmp/nodir/bad-b.img"
[ ! -e "$tmp/bad-a.qcow2" ] || fail "a failed clone left bad-a.qcow2"
no_leftovers "$before" bad
run 1 tvm clone --original web --name bad --linked
err_has "disk vdb: --linked needs a qcow2 disk ($P/data.img is raw)"
no_leftovers "$before" bad
run 2 tvm clone --original web
err_has "--name NEW or --auto-clone"
run 1 tvm clone --original web --name bad --file "$tmp/a.qcow2,$tmp/b.img,$tmp/c.img"
err_has "$tmp/c.img: the domain has no further disk to copy"
run 1 tvm clone --original web --name bad --file "$tmp/a.qcow2" --file "$tmp/b.img,$tmp/c.img"
err_has "$tmp/c.img: the domain has no further disk to copy"

# ---- --preserve-data: the given files, untouched ----
sum=$(md5sum <"$tmp/given-a.qcow2")
ok tvm clone --original web --name kept --preserve-data --file "$tmp/given-a.qcow2,$tmp/given-b.img"
[ "$(md5sum <"$tmp/given-a.qcow2")" = "$sum" ] || fail "--preserve-data changed the file"
grep -q "<source file='$tmp/given-a.qcow2'/>" <(xml_of kept) || fail "--preserve-data: vda is not the given file"
ok tvm undefine kept

# ---- templates and linked clones ----
domain_xml base | sed "s|$P/web.qcow2|$P/base.qcow2|; /type='volume'/,/<\/disk>/d" >"$tmp/base.xml"
ok tvm vol-create-as pool base.qcow2 100G --format qcow2
qemu-io -c "write -P 0x77 0 1M" "$P/base.qcow2" >/dev/null
ok tvm define "$tmp/base.xml"
ok tvm template base
out_is "Domain 'base' is a template"$'\n'
xml_of base >"$tmp/base-dump.xml"
grep -q '<tvm:template xmlns:tvm="urn:x-tvm:domain:1"/>' "$tmp/base-dump.xml" || fail "no template mark in the XML"
ok tvm define "$tmp/base-dump.xml" # the mark goes with the definition
ok tvm list --all --template --name
out_is "base"$'\n'
ok tvm list --all --no-template --name
out_lacks "base"
ok tvm clone --original base --name thin --linked
[ "$(stat -c %s "$P/thin.qcow2")" -lt $((1 << 20)) ] || fail "a linked clone of a 100 GiB disk is not small"
qemu-img info --backing-chain "$P/thin.qcow2" >"$tmp/chain"
grep -q "^backing file: $P/base.qcow2$" "$tmp/chain" || fail "thin.qcow2 is not layered on base.qcow2"
grep -q "^backing file format: qcow2$" "$tmp/chain" || fail "the backing format is not recorded"
[ "$(grep -c '^image: ' "$tmp/chain")" -eq 2 ] || fail "the chain is not thin → base"
qemu-img check -q "$P/thin.qcow2" || fail "qemu-img check: thin.qcow2"
qemu-img compare -q "$P/base.qcow2" "$P/thin.qcow2" || fail "the linked clone reads otherwise"
qemu-io -c "write -P 0x99 0 64k" "$P/thin.qcow2" >/dev/null
qemu-io -c "read -P 0x77 0 1M" "$P/base.qcow2" | grep -q "verification failed" &&
    fail "writing into the linked clone changed the template's disk"
grep -q "tvm:template" <(xml_of thin) && fail "the clone of a template is a template"
ok tvm vol-list pool
out_has "thin.qcow2"
# a template is never started, nor undefined or unmarked while clones use it
run 1 tvm start base
err_has "'base' is a template"
run 1 tvm undefine base
err_has "template 'base' backs the disks of its linked clones (thin)"
run 1 tvm template base --off
err_has "linked clones (thin)"
# nor does any domain's storage go while a clone is layered on it
ok tvm clone --original thin --name thin2 --linked
out_has "Note: 'thin' now backs the clone's disks"
qemu-img info --backing-chain "$P/thin2.qcow2" >"$tmp/chain"
[ "$(grep -c '^image: ' "$tmp/chain")" -eq 3 ] || fail "the chain is not thin2 → thin → base"
run 1 tvm undefine thin --remove-all-storage
err_has "domain 'thin' backs the disks of its linked clones (thin2)"
[ -f "$P/thin.qcow2" ] || fail "a refused undefine removed storage"
run 1 tvm undefine base
err_has "linked clones (thin, thin2)"
ok tvm undefine thin2 --remove-all-storage
ok tvm undefine thin --remove-all-storage
ok tvm template base --off
out_is "Domain 'base' is not a template"$'\n'
ok tvm undefine base
echo "clone: ok"
