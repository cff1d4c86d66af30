# The defaults libvirt writes into a definition at define, compared with
# virsh's test driver on the same files: <boot dev='hd'/> when nothing says
# how to boot, an address <listen> for graphics without one, match='exact'
# and fallback='allow' on a custom CPU model, and the implicit devices below.
# The test driver's own inventions (a tap name on an inactive interface)
# are the only lines left out, and tvm's model for a SCSI controller
# (virtio-scsi, tvm(1) COMPATIBILITY) is written into virsh's answer.
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
# Implicit devices and libvirt's order: disks grouped by bus with drive
# addresses and the SATA/IDE/SCSI controllers they need, a virtio-serial
# controller for a virtio console and channel, video memory and heads,
# device kinds in libvirt's order, an interface's children in libvirt's
# order, a tap name of libvirt's own (dropped), a unix channel with no path, <metadata> and
# an unused namespace on <domain>.
cat >"$tmp/implicit.xml" <<XML
<domain type='kvm' xmlns:unused='urn:x-unused'>
  <name>implicit</name>
  <uuid>5b1f4c2e-8d4a-4a57-9f0e-1c2d3e4f5a6c</uuid>
  <metadata><app:info xmlns:app='urn:x-app' team='web'>alice &amp; bob</app:info></metadata>
  <memory unit='KiB'>262144</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <interface type='network'>
      <model type='virtio'/>
      <source network='default'/>
      <mac address='52:54:00:aa:bb:02'/>
      <target dev='vnet3'/>
    </interface>
    <disk type='file' device='disk'><source file='/var/lib/tvm/c.img'/><target dev='sdd' bus='sata'/></disk>
    <disk type='file' device='disk'><source file='/var/lib/tvm/a.img'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>
    <disk type='file' device='disk'><source file='/var/lib/tvm/b.img'/><target dev='sdb' bus='sata'/></disk>
    <disk type='file' device='disk'><source file='/var/lib/tvm/d.img'/><target dev='sdh'/></disk>
    <filesystem type='mount'><source dir='/srv'/><target dir='srv'/></filesystem>
    <video><model type='vga' vram='9000'/></video>
    <video><model type='virtio' primary='yes'/></video>
    <console type='pty'><target type='virtio' port='1'/></console>
    <channel type='unix'><source mode='bind'/><target type='virtio' name='org.qemu.guest_agent.0'/></channel>
    <video><model type='qxl' ram='30000'/></video>
  </devices>
</domain>
XML
for f in "$tmp/implicit.xml" "$tmp/defaults.xml" "$DATA/domain/serial-console.xml" "$DATA/domain/vnc-none.xml"; do
    name=$(xmllint --xpath 'string(/domain/name)' "$f")
    printf 'define %s\ndumpxml %s --inactive\n' "$f" "$name" >"$tmp/script"
    virsh -c test:///default "$(tr '\n' ';' <"$tmp/script")" 2>&1 |
        grep -v "<target dev='testnet[0-9]*'/>" |
        sed "s|<controller type='scsi' index='\([0-9]*\)'/>|<controller type='scsi' index='\1' model='virtio-scsi'/>|" \
            >"$tmp/virsh.out" || true
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
