# dumpxml hides secrets unless --security-info is given, as virsh does: a
# VNC password is in the stored definition (dumpxml --security-info shows
# it, and defining that dump keeps it) but not in a plain dumpxml.
# virsh's test driver is the oracle for both outputs.
source "$(dirname "$0")/lib.sh"
command -v virsh >/dev/null || fail "virsh (package libvirt-clients) is missing: run scripts/install-deps.sh"

cat >"$tmp/g.xml" <<'XML'
<domain type='kvm'>
  <name>sec</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <graphics type='vnc' port='-1' autoport='yes' passwd='s3cret-pw'/>
  </devices>
</domain>
XML
ok tvm define "$tmp/g.xml"

# the oracle: virsh drops passwd without --security-info, keeps it with
virsh -q -c test:///default "define $tmp/g.xml; dumpxml sec" >"$tmp/virsh.xml"
virsh -q -c test:///default "define $tmp/g.xml; dumpxml sec --security-info" >"$tmp/virsh-sec.xml"
! grep -q "s3cret-pw" "$tmp/virsh.xml" || fail "oracle: virsh dumpxml shows the password"
grep -q "passwd='s3cret-pw'" "$tmp/virsh-sec.xml" || fail "oracle: virsh dumpxml --security-info lacks the password"

ok tvm dumpxml sec --security-info
out_has "passwd='s3cret-pw'"
ok tvm dumpxml sec --inactive --security-info
out_has "passwd='s3cret-pw'"
ok tvm dumpxml sec
out_has "<graphics type='vnc'"
out_lacks "s3cret-pw"
ok tvm dumpxml sec --inactive
out_lacks "s3cret-pw"
echo "dumpxml-security: ok"
