# The defaults libvirt writes into a definition at define, compared with
# virsh's test driver on the same files: <boot dev='hd'/> when nothing says
# how to boot, an address <listen> for graphics without one, match='exact'
# and fallback='allow' on a custom CPU model. The test driver's own inventions (a tap name on an inactive
# interface) are the only lines left out.
source "$(dirname "$0")/lib.sh"
command -v virsh >/dev/null || fail "virsh (package libvirt-clients) is missing: run scripts/install-deps.sh"

cat >"$tmp/defaults.xml" <<XML
<domain type='kvm'>
  <name>defaults</name>
  <uuid>5b1f4c2e-8d4a-4a57-9f0e-1c2d3e4f5a6b</uuid>
  <memory unit='KiB'>262144</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/var/lib/tvm/vmlinuz</kernel>
    <cmdline>console=ttyS0</cmdline>
  </os>
  <cpu mode='custom'>
    <model>qemu64</model>
  </cpu>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/tvm/a.raw'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:aa:bb:01'/>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <serial type='pty'>
      <target port='0'/>
    </serial>
    <graphics type='vnc' port='-1' autoport='yes'/>
    <video>
      <model type='none'/>
    </video>
  </devices>
</domain>
XML
for f in "$tmp/defaults.xml" "$DATA/domain/serial-console.xml" "$DATA/domain/vnc-none.xml"; do
    name=$(xmllint --xpath 'string(/domain/name)' "$f")
    printf 'define %s\ndumpxml %s --inactive\n' "$f" "$name" >"$tmp/script"
    virsh -c test:///default "$(tr '\n' ';' <"$tmp/script")" 2>&1 |
        grep -v "<target dev='testnet[0-9]*'/>" >"$tmp/virsh.out" || true
    rm -f "$DB"
    tvm --batch "$tmp/script" >"$tmp/tvm.out" 2>&1 || fail "$name: tvm failed: $(cat "$tmp/tvm.out")"
    if ! cmp -s "$tmp/virsh.out" "$tmp/tvm.out"; then
        diff -u "$tmp/virsh.out" "$tmp/tvm.out" >&2 || true
        fail "$name: dumpxml --inactive differs from virsh's (- virsh, + tvm)"
    fi
done
grep -qF "<boot dev='hd'/>" "$tmp/tvm.out" || fail "no default boot device"
rm -f "$DB"
ok tvm define "$tmp/defaults.xml"
ok tvm dumpxml defaults
out_has "<cpu mode='custom' match='exact'>"
out_has "<model fallback='allow'>qemu64</model>"
out_has "<listen type='address'/>"
out_has "<boot dev='hd'/>"
echo "virsh-defaults: ok"
