# The live and inactive views of a guest that is not running: dumpxml,
# domiflist and domblklist print the stored definition with or without
# --inactive, the same bytes either way (virsh: a shut off domain has no
# live definition). No id on <domain>, and an interface has a <target dev>
# (domiflist's Interface) only when the user wrote one. A run directory
# left without a VMM (a crash tvm has not recorded yet) does not make its
# files, which look like a live definition, the guest's. --security-info
# works in both views. The running side needs a guest: lab/t-cli-live.
source "$(dirname "$0")/lib.sh"
command -v virsh >/dev/null || fail "virsh (package libvirt-clients) is missing: run scripts/install-deps.sh"

cat >"$tmp/g.xml" <<'XML'
<domain type='kvm'>
  <name>views</name>
  <uuid>5a1e2f3c-0d4b-4e6a-9b7c-8d9e0f1a2b3c</uuid>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/images/views.raw'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:01'/>
      <source network='lan'/>
      <model type='virtio'/>
    </interface>
    <interface type='ethernet'>
      <mac address='52:54:00:aa:bb:02'/>
      <target dev='mytap0'/>
      <model type='virtio'/>
    </interface>
    <graphics type='vnc' port='-1' autoport='yes' passwd='s3cret-pw'/>
  </devices>
</domain>
XML
ok tvm define "$tmp/g.xml"
u=5a1e2f3c-0d4b-4e6a-9b7c-8d9e0f1a2b3c

# views NAME: each view with and without --inactive prints the same.
views() {
    local v
    for v in "dumpxml" "dumpxml --security-info" "domiflist" "domblklist" "domblklist --details"; do
        # shellcheck disable=SC2086 # $v is a verb and its options
        ok tvm $v "$1"
        cp "$tmp/out" "$tmp/a"
        # shellcheck disable=SC2086
        ok tvm $v "$1" --inactive
        cmp -s "$tmp/a" "$tmp/out" || fail "$v $1 and $v $1 --inactive differ: $(diff "$tmp/a" "$tmp/out")"
    done
}
views views

ok tvm dumpxml views --inactive
head -1 "$tmp/out" | grep -qx "<domain type='kvm'>" || fail "dumpxml --inactive: $(head -1 "$tmp/out")"
out_lacks " id='"
out_lacks "s3cret-pw"
out_has "<target dev='mytap0'/>"
[ "$(grep -c '<target dev=' "$tmp/out")" = 2 ] || fail "a target dev nobody wrote (vda and mytap0 only)"
ok tvm dumpxml views --inactive --security-info
out_has "passwd='s3cret-pw'"

# virsh's table for the same stored definition: its test driver keeps a
# user's <target dev> but names every other interface testnetN (tvm: '-',
# as libvirt's QEMU driver leaves an inactive one), so rows are compared
# with blanks squeezed and testnetN read as '-'.
virsh -c test:///default "define $tmp/g.xml; domiflist views --inactive" 2>/dev/null |
    tail -n +3 | sed -E '/^$/d; s/testnet[0-9]+/-/; s/  +/ /g' >"$tmp/v-if" ||
    fail "oracle: virsh domiflist --inactive failed"
ok tvm domiflist views --inactive
sed -E '/^$/d; s/  +/ /g' "$tmp/out" >"$tmp/t-if"
cmp -s "$tmp/t-if" "$tmp/v-if" || fail "domiflist --inactive differs from virsh: $(diff "$tmp/t-if" "$tmp/v-if")"
grep -qE '^ -  +network +lan +virtio +52:54:00:aa:bb:01$' "$tmp/out" || fail "domiflist: no '-' for the tap-less NIC"
grep -qE '^ mytap0 +ethernet +- +virtio +52:54:00:aa:bb:02$' "$tmp/out" || fail "domiflist: the user's tap"

# A run directory whose VMM is gone, with what a live one would hold
# (a different domain.xml, a run id, the VMM's taps): not the guest's view.
mkdir -p "$TVM_RUNDIR/$u"
sed -e "s:views.raw:LIVE-ONLY.raw:" "$tmp/g.xml" >"$TVM_RUNDIR/$u/domain.xml"
echo 42 >"$TVM_RUNDIR/$u/run.id"
printf '0 52:54:00:aa:bb:01 vnet7\n' >"$TVM_RUNDIR/$u/nics"
echo 999999 >"$TVM_RUNDIR/$u/vmm.pid"
ok tvm dumpxml views
out_lacks "LIVE-ONLY"
out_lacks "vnet7"
out_lacks " id='"
ok tvm domblklist views
out_lacks "LIVE-ONLY"
ok tvm domiflist views
out_lacks "vnet7"
views views

# A definition changed while shut off: both views follow at once.
sed -e "s:</devices>:<disk type='file' device='disk'><source file='/var/lib/images/second.raw'/><target dev='vdb' bus='virtio'/></disk></devices>:" \
    "$tmp/g.xml" >"$tmp/g2.xml"
ok tvm define "$tmp/g2.xml"
ok tvm domblklist views
out_has "second.raw"
ok tvm domblklist views --inactive
out_has "second.raw"
views views

# The options are the verbs' own: an unknown name is virsh's error either way.
run 1 tvm dumpxml nosuch --inactive
err_has "nosuch"
run 1 tvm domiflist nosuch --inactive
run 1 tvm domblklist nosuch --inactive
echo "inactive-views: ok"
