# Snapshots of a shut-off domain's qcow2 disks, as a user of virsh takes
# them: snapshot-create-as / snapshot-create make internal snapshots that
# qemu-img sees on every disk; snapshot-revert brings back their content
# (qemu-img compare against qemu-img applying the same snapshot on a copy)
# and refuses to discard changes made since the current snapshot without
# --force; a three-level tree with a branch loses no node's data when its
# middle node is deleted; --children, --children-only and --metadata;
# snapshot-list's filters, snapshot-info and snapshot-parent as virsh
# prints them; raw disks and incomplete --redefine XML refused with
# libvirt's messages; --disk-only makes external qcow2 overlays (libvirt's
# names, its record, the definition moved onto them; revert and data
# deletion refused as Debian's libvirt refuses them; --diskspec and
# snapshot-create --disk-only choose disks and files; --quiesce and
# internal choices refused by name, leaving no file). qemu-img check finds
# nothing after every step.
source "$(dirname "$0")/lib.sh"
for t in qemu-img qemu-io virsh; do
    command -v $t >/dev/null || fail "$t is missing: run scripts/install-deps.sh"
done
cd "$tmp"

clean() {
    for f in vda.qcow2 vdb.qcow2; do
        qemu-img check "$f" >check.out 2>&1 || { cat check.out >&2; fail "qemu-img check $f after: $1"; }
    done
}
reads() {
    qemu-io -r -c "read -P $2 $3 $4" "$1" | grep -q "^read " || fail "$1 does not read $2 at $3 (+$4)"
}
# disk_snaps IMG: the snapshot tags qemu-img lists, one line
disk_snaps() { qemu-img snapshot -l "$1" | awk 'NR > 2 { printf "%s ", $2 }'; }

domain_xml() { # NAME VDA_FILE VDA_FORMAT
    cat <<EOF
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>/boot/vmlinuz</kernel></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='$3'/><source file='$tmp/$2'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$tmp/vdb.qcow2'/><target dev='vdb' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><driver name='qemu' type='raw'/><source file='$tmp/cd.iso'/><target dev='sda' bus='scsi'/><readonly/></disk>
  </devices>
</domain>
EOF
}
ok tvm img create -f qcow2 vda.qcow2 64M
ok tvm img create -f qcow2 vdb.qcow2 16M
ok tvm img create -f raw raw.img 16M
ok tvm img create -f raw cd.iso 1M
domain_xml web vda.qcow2 qcow2 >web.xml
domain_xml rawdom raw.img raw >raw.xml
ok tvm define web.xml
ok tvm define raw.xml

# ---- create ----
qemu-io -c 'write -P 1 0 1M' vda.qcow2 >/dev/null
qemu-io -c 'write -P 11 0 64k' vdb.qcow2 >/dev/null
ok tvm snapshot-create-as web --name s1 --description "before the upgrade"
out_is "Domain snapshot s1 created"$'\n'
clean "create s1"
[ "$(disk_snaps vda.qcow2)" = "s1 " ] || fail "vda's snapshots: $(disk_snaps vda.qcow2)"
[ "$(disk_snaps vdb.qcow2)" = "s1 " ] || fail "vdb's snapshots: $(disk_snaps vdb.qcow2)"
ok tvm snapshot-dumpxml web s1
out_has "<description>before the upgrade</description>"
out_has "<state>shutoff</state>"
out_has "<memory snapshot='no'/>"
out_has "<disk name='vda' snapshot='internal'/>"
out_has "<disk name='sda' snapshot='no'/>"
out_has "<name>web</name>"
[ ! -e "$(dirname "$DB")/snapshot" ] || fail "a shut-off domain's snapshot wrote a saved state"
# a shut-off domain: no memory to save, --live and memory='internal' refused by name
run 1 tvm snapshot-create-as web --name s0 --live
err_has "live snapshot creation is supported only during full system snapshots"
printf '<domainsnapshot><name>s0</name><memory snapshot="internal"/></domainsnapshot>' >mem.xml
run 1 tvm snapshot-create web mem.xml
err_is "tvm: memory state cannot be saved with offline or disk-only snapshot"
[ "$(disk_snaps vda.qcow2)" = "s1 " ] || fail "a refused snapshot touched vda: $(disk_snaps vda.qcow2)"
ok tvm snapshot-current web --name
out_is "s1"$'\n'

# --print-xml writes what virsh writes, and takes nothing
virsh -q -c test:///default snapshot-create-as test --name p1 --description "a<b" --print-xml >virsh.out
ok tvm snapshot-create-as web --name p1 --description "a<b" --print-xml
cmp -s virsh.out "$tmp/out" || { diff virsh.out "$tmp/out" >&2; fail "--print-xml differs from virsh's"; }
[ "$(disk_snaps vda.qcow2)" = "s1 " ] || fail "--print-xml took a snapshot"
# name and description by position, as virsh fills them
virsh -q -c test:///default snapshot-create-as test p2 "by position" --print-xml >virsh.out
ok tvm snapshot-create-as web p2 "by position" --print-xml
cmp -s virsh.out "$tmp/out" || { diff virsh.out "$tmp/out" >&2; fail "positional name/description differ from virsh's"; }

# refusals change nothing: a raw disk (libvirt's message), a taken name
run 1 tvm snapshot-create-as rawdom --name r1
err_is "tvm: unsupported configuration: internal snapshot for disk $tmp/raw.img unsupported for storage type raw"
[ "$(disk_snaps vdb.qcow2)" = "s1 " ] || fail "a refused snapshot touched vdb"
run 1 tvm snapshot-create-as web --name s1
err_has "domain snapshot 's1' already exists"
run 1 tvm snapshot-create-as web --name e1 --diskspec vda,snapshot=external
err_has "--diskspec needs --disk-only"
[ "$(disk_snaps vda.qcow2)" = "s1 " ] || fail "a refused duplicate touched vda"

# ---- a three-level tree with a branch: s1 - s2 - s3, s2 - s4 ----
qemu-io -c 'write -P 2 0 512k' vda.qcow2 >/dev/null
ok tvm snapshot-create-as web --name s2
qemu-io -c 'write -P 3 256k 64k' vda.qcow2 >/dev/null
ok tvm snapshot-create-as web --name s3
clean "create s2 s3"

# a change since the current snapshot (s3) needs --force
qemu-io -c 'write -P 7 2M 64k' vda.qcow2 >/dev/null
cp vda.qcow2 oracle.qcow2
run 1 tvm snapshot-revert web s2
err_is "tvm: domain 'web': disk vda changed since the current snapshot 's3'; revert with --force to discard the changes (or take a snapshot first)"
reads vda.qcow2 7 2M 64k
ok tvm snapshot-revert web s2 --force
out_is "Domain snapshot s2 reverted"$'\n\n'
clean "revert s2"
qemu-img snapshot -a s2 oracle.qcow2
qemu-img compare -q vda.qcow2 oracle.qcow2 || fail "revert to s2 differs from qemu-img's apply of s2"
reads vda.qcow2 2 0 512k
reads vda.qcow2 1 512k 512k
reads vda.qcow2 0 2M 64k
# unchanged since s2: no --force needed
ok tvm snapshot-revert web s2
qemu-io -c 'write -P 4 768k 64k' vda.qcow2 >/dev/null
ok tvm snapshot-create-as web --name s4 --description branch
clean "create s4"
ok tvm snapshot-list web --tree
printf 's1\n  |\n  +- s2\n      |\n      +- s3\n      +- s4\n        \n\n' >tree.want
cmp -s tree.want "$tmp/out" || { diff tree.want "$tmp/out" >&2; fail "tree"; }

ok tvm snapshot-info web s2
printf '%s\n' "Name:           s2" "Domain:         web" "Current:        no" \
    "State:          shutoff" "Location:       internal" "Parent:         s1" \
    "Children:       2" "Descendants:    2" "Metadata:       yes" "" >info.want
cmp -s info.want "$tmp/out" || { diff info.want "$tmp/out" >&2; fail "snapshot-info"; }
ok tvm snapshot-parent web s4
out_is "s2"$'\n'
run 1 tvm snapshot-parent web s1
err_has "snapshot 's1' has no parent"
ok tvm snapshot-list web --leaves --name
out_is "s3"$'\n'"s4"$'\n\n'
ok tvm snapshot-list web --roots --name
out_is "s1"$'\n\n'
ok tvm snapshot-list web --from s2 --name
out_is "s3"$'\n'"s4"$'\n\n'
ok tvm snapshot-list web --from s1 --descendants --name
out_is "s2"$'\n'"s3"$'\n'"s4"$'\n\n'
ok tvm snapshot-list web --current --name
out_is ""

# delete the middle node: both descendants keep their own content
ok tvm snapshot-delete web s2
out_is "Domain snapshot s2 deleted"$'\n\n'
clean "delete s2"
[ "$(disk_snaps vda.qcow2)" = "s1 s3 s4 " ] || fail "vda's snapshots: $(disk_snaps vda.qcow2)"
ok tvm snapshot-parent web s3
out_is "s1"$'\n'
ok tvm snapshot-revert web s3
reads vda.qcow2 2 0 256k
reads vda.qcow2 3 256k 64k
reads vda.qcow2 2 320k 192k
reads vda.qcow2 1 512k 256k
clean "revert s3"
ok tvm snapshot-revert web s4
reads vda.qcow2 2 0 512k
reads vda.qcow2 4 768k 64k
reads vda.qcow2 1 832k 192k
ok tvm snapshot-revert web s1
reads vda.qcow2 1 0 1M
reads vdb.qcow2 11 0 64k
clean "revert s1"

# --children-only, --children, --metadata
ok tvm snapshot-delete web s1 --children-only
out_is "Domain snapshot s1 children deleted"$'\n\n'
[ "$(disk_snaps vda.qcow2)" = "s1 " ] || fail "--children-only left $(disk_snaps vda.qcow2)"
ok tvm snapshot-create-as web --name c1
ok tvm snapshot-delete web s1 --children
[ "$(disk_snaps vda.qcow2)" = "" ] || fail "--children left $(disk_snaps vda.qcow2)"
ok tvm snapshot-list web --name
out_is ""$'\n'
clean "delete --children"
ok tvm snapshot-create-as web --name m1
ok tvm snapshot-delete web m1 --metadata
[ "$(disk_snaps vda.qcow2)" = "m1 " ] || fail "--metadata removed the disk snapshot"
ok tvm snapshot-create-as web --name m2 --no-metadata
[ "$(disk_snaps vda.qcow2)" = "m1 m2 " ] || fail "--no-metadata took no disk snapshot"
ok tvm snapshot-list web --name
out_is ""$'\n'

# snapshot-create from XML, named after its creation time when unnamed
printf '<domainsnapshot><name>fromxml</name><description>x</description></domainsnapshot>' >snap.xml
ok tvm snapshot-create web snap.xml
out_is "Domain snapshot fromxml created from 'snap.xml'"$'\n'
ok tvm snapshot-create web
grep -qE '^Domain snapshot [0-9]{10} created$' "$tmp/out" || fail "unnamed snapshot: $(cat "$tmp/out")"
clean "snapshot-create"

# ---- --disk-only: external overlays, as libvirt names and records them ----
cp raw.img raw.before
cp vdb.qcow2 vdb.before
ok tvm snapshot-create-as rawdom ext1 "overlays" --disk-only
out_is "Domain snapshot ext1 created"$'\n'
for o in raw.ext1:raw.img:raw vdb.ext1:vdb.qcow2:qcow2; do
    IFS=: read -r ov base fmt <<<"$o"
    qemu-img info --output json "$ov" >info.json || fail "no overlay $ov"
    grep -q '"format": "qcow2"' info.json || fail "$ov is not qcow2"
    grep -q "\"backing-filename\": \"$tmp/$base\"" info.json || fail "$ov's backing file is not $base"
    grep -q "\"backing-filename-format\": \"$fmt\"" info.json || fail "$ov's backing format is not $fmt"
    qemu-img check -q "$ov" || fail "qemu-img check $ov"
done
[ ! -e cd.ext1 ] || fail "the read-only CD-ROM got an overlay"
ok tvm domblklist rawdom
out_has "vda      $tmp/raw.ext1"
out_has "vdb      $tmp/vdb.ext1"
out_has "sda      $tmp/cd.iso"
ok tvm dumpxml rawdom
out_has "<driver name='qemu' type='qcow2'/>"
ok tvm snapshot-dumpxml rawdom ext1
out_has "<state>disk-snapshot</state>"
out_has "<memory snapshot='no'/>"
out_has "<disk name='vda' snapshot='external' type='file'>"
out_has "<source file='$tmp/raw.ext1'/>"
out_has "<disk name='sda' snapshot='no'/>"
# what the guest writes from now on lands in the overlay; the images below
# keep the snapshot's content
qemu-io -f qcow2 -c 'write -P 7 0 1M' raw.ext1 >/dev/null
reads raw.ext1 7 0 1M
cmp -s raw.img raw.before || fail "a write through the overlay changed raw.img"
cmp -s vdb.qcow2 vdb.before || fail "vdb.qcow2 changed"
run 1 tvm snapshot-revert rawdom ext1
err_has "revert to external snapshot not supported yet"
run 1 tvm snapshot-delete rawdom ext1
err_has "use --metadata to forget only the record"
# the overlay name is taken: refused, nothing changes
run 1 tvm snapshot-create-as rawdom ext1 --disk-only
err_has "external snapshot file for disk vda already exists and is not a block device: $tmp/raw.ext1"
run 1 tvm snapshot-create-as rawdom ext2 --disk-only --quiesce
err_is "tvm: snapshot-create-as: --quiesce needs a guest agent to freeze the guest's file systems, and tvm has none; take the snapshot without --quiesce"
run 1 tvm snapshot-create-as rawdom ext2 --diskspec vda,snapshot=external
err_has "--diskspec needs --disk-only"
run 1 tvm snapshot-create-as rawdom ext2 --disk-only --diskspec vda,snapshot=internal
err_is "tvm: unsupported configuration: disk 'vda' must use snapshot mode 'external' in a disk-only snapshot (it asks for 'internal')"
run 1 tvm snapshot-create-as rawdom ext2 --disk-only --diskspec vdz
err_is "tvm: no disk named 'vdz'"
run 1 tvm snapshot-create-as rawdom ext2 --disk-only --diskspec vda,file=rel.qcow2
err_has "external snapshot file 'rel.qcow2' must be an absolute path"
run 2 tvm snapshot-create rawdom --disk-only --redefine
err_has "mutually exclusive"
ls ./*.ext2 2>/dev/null && fail "a refused snapshot left an overlay: $(ls ./*.ext2)"
ok tvm snapshot-list rawdom --name
out_is "ext1"$'\n\n'
ok tvm snapshot-delete rawdom ext1 --metadata
ok tvm domblklist rawdom
out_has "vda      $tmp/raw.ext1"
# --diskspec picks disks and files ("snapshot=no" leaves one out; ",," is a
# comma in a name, as in virsh); snapshot-create --disk-only takes the XML
ok tvm snapshot-create-as rawdom ext2 --disk-only --diskspec "vda,snapshot=external,file=$tmp/my,,top.qcow2" --diskspec vdb,snapshot=no
qemu-img info --output json "my,top.qcow2" >info.json || fail "no overlay my,top.qcow2"
grep -q "\"backing-filename\": \"$tmp/raw.ext1\"" info.json || fail "my,top.qcow2 is not over raw.ext1"
[ ! -e vdb.ext2 ] || fail "--diskspec vdb,snapshot=no made an overlay"
ok tvm domblklist rawdom
out_has "vda      $tmp/my,top.qcow2"
out_has "vdb      $tmp/vdb.ext1"
printf "<domainsnapshot><name>ext3</name><disks><disk name='vda' snapshot='no'/></disks></domainsnapshot>" >ext3.xml
ok tvm snapshot-create rawdom ext3.xml --disk-only
out_is "Domain snapshot ext3 created from 'ext3.xml'"$'\n'
[ -e vdb.ext3 ] && [ ! -e my.ext3 ] || fail "snapshot-create --disk-only: $(ls)"
ok tvm snapshot-dumpxml rawdom ext3
out_has "<source file='$tmp/vdb.ext3'/>"
for f in "my,top.qcow2" vdb.ext3; do qemu-img check -q "$f" || fail "qemu-img check $f"; done

# --redefine needs what libvirt needs (virsh's own messages)
printf '<domainsnapshot><name>x</name></domainsnapshot>' >nt.xml
printf '<domainsnapshot><name>x</name><state>shutoff</state><creationTime>1700000000</creationTime></domainsnapshot>' >nd.xml
for f in nt nd; do
    virsh -q -c test:///default snapshot-create test $f.xml --redefine 2>virsh.err && fail "virsh accepts $f"
    run 1 tvm snapshot-create web $f.xml --redefine
    want=$(sed -n 's/^error: //p' virsh.err)
    err_is "tvm: $f.xml: $want"
done
echo "snapshot-disk: ok"
