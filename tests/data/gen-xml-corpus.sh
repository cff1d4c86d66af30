#!/bin/bash
# Regenerate the libvirt XML corpus under tests/data/xml/ from the real tools:
# virt-install --print-xml and virsh against libvirt's test driver (no daemon).
# The committed output is what the tests use; run this to refresh it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=$here/xml
uri=test:///default
mkdir -p "$out"/{domain,network,pool,volume,snapshot}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
touch "$tmp/install.iso"

# One domain per line: file name, then virt-install arguments.
vi() {
    local name=$1
    shift
    virt-install --connect "$uri" --print-xml --dry-run --noautoconsole \
        --osinfo detect=on,require=off "$@" | sed "s#$tmp/#/var/lib/tvm/#" >"$out/domain/$name.xml"
    echo "domain/$name.xml"
}

vi minimal --name minimal --memory 256 --disk none --import
vi mem-vcpu-current --name mem-vcpu-current --memory memory=2048,currentMemory=1024 \
    --vcpus 4,maxvcpus=8 --disk none --import
vi topology --name topology --memory 4096 --vcpus 8,sockets=2,cores=2,threads=2 --disk none --import
vi cpu-passthrough --name cpu-passthrough --memory 1024 --cpu host-passthrough --disk none --import
vi cpu-host-model --name cpu-host-model --memory 1024 --cpu host-model --disk none --import
vi cpu-custom --name cpu-custom --memory 1024 --cpu core2duo,+x2apic,-vmx --disk none --import
vi kernel-boot --name kernel-boot --memory 512 --disk none --import \
    --boot kernel=/var/lib/tvm/vmlinuz,initrd=/var/lib/tvm/initrd.img,kernel_args="console=ttyS0 root=/dev/vda rw"
vi kernel-noinitrd --name kernel-noinitrd --memory 128 --vcpus 1 --disk none --import \
    --boot kernel=/boot/bzImage,kernel_args="console=ttyS0 quiet"
vi disk-raw --name disk-raw --memory 512 --disk path=/var/lib/tvm/raw.img,format=raw,bus=virtio,cache=none,size=1 --import
vi disk-qcow2 --name disk-qcow2 --memory 512 \
    --disk path=/var/lib/tvm/q.qcow2,format=qcow2,bus=virtio,cache=writeback,discard=unmap,size=2 --import
vi disk-readonly --name disk-readonly --memory 512 \
    --disk path=/var/lib/tvm/ro.img,format=raw,readonly=on,size=1 --import
vi disk-shareable --name disk-shareable --memory 512 \
    --disk path=/var/lib/tvm/shared.img,format=raw,shareable=on,cache=none,size=1 --import
vi disk-serial --name disk-serial --memory 512 \
    --disk path=/var/lib/tvm/s.img,format=raw,serial=SN-0001,bus=virtio,size=1 --import
vi disk-cdrom --name disk-cdrom --memory 1024 --import \
    --disk path="$tmp/install.iso",device=cdrom,bus=sata --boot cdrom,hd
vi disk-many --name disk-many --memory 1024 \
    --disk path=/var/lib/tvm/a.qcow2,format=qcow2,bus=virtio,boot.order=1,size=1 \
    --disk path=/var/lib/tvm/b.img,format=raw,bus=sata,cache=writethrough,size=1 \
    --disk path=/var/lib/tvm/c.img,format=raw,bus=scsi,cache=directsync,size=1 \
    --disk device=cdrom,bus=sata --import
vi disk-block --name disk-block --memory 512 --disk /dev/loop0,bus=virtio,cache=none,io=native --import
vi nic-network --name nic-network --memory 512 --disk none --import \
    --network network=default,model=virtio,mac=52:54:00:12:34:56
vi nic-bridge --name nic-bridge --memory 512 --disk none --import \
    --network bridge=br0,model=e1000,mac=52:54:00:AB:CD:EF
vi nic-direct --name nic-direct --memory 512 --disk none --import \
    --network type=direct,source=eth0,source.mode=bridge,model=virtio
vi nic-many --name nic-many --memory 512 --disk none --import \
    --network network=default,model=virtio \
    --network bridge=br1,model=rtl8139,link.state=down \
    --network network=isolated,mac=52:54:00:00:00:03,target.dev=vnet7
vi nic-none --name nic-none --memory 512 --disk none --import --network none
vi vnc-port --name vnc-port --memory 512 --disk none --import \
    --graphics vnc,port=5905,listen=127.0.0.1
vi vnc-password --name vnc-password --memory 512 --disk none --import \
    --graphics vnc,password=s3cret,listen=0.0.0.0
vi vnc-none --name vnc-none --memory 512 --disk none --import --graphics none
vi serial-console --name serial-console --memory 512 --disk none --import --graphics none \
    --serial pty --console pty,target_type=serial
vi serial-file --name serial-file --memory 512 --disk none --import \
    --serial file,path=/var/log/tvm/serial.log
vi channel-agent --name channel-agent --memory 512 --disk none --import \
    --channel unix,target_type=virtio,name=org.qemu.guest_agent.0
vi rng-balloon --name rng-balloon --memory 512 --disk none --import \
    --rng /dev/urandom --memballoon model=virtio
vi controllers --name controllers --memory 512 --disk none --import \
    --controller type=scsi,model=virtio-scsi --controller type=usb,model=qemu-xhci \
    --input keyboard,bus=usb --input tablet --video virtio --watchdog i6300esb
vi metadata --name metadata --memory 512 --disk none --import \
    --metadata title="Web server",description="Front end
second line" --metadata uuid=4B1F3E0A-9C2D-4E5F-8A6B-7C8D9E0F1A2B
vi lifecycle --name lifecycle --memory 512 --disk none --import \
    --events on_poweroff=preserve,on_reboot=destroy,on_crash=restart --clock offset=localtime
vi features --name features --memory 512 --disk none --import \
    --features acpi=on,apic=on,pae=on --boot hd,cdrom,network,menu=on
vi full --name full --memory memory=4096,currentMemory=3072 --vcpus 4,maxvcpus=4,sockets=1,cores=2,threads=2 \
    --cpu host-passthrough --boot kernel=/var/lib/tvm/vmlinuz,initrd=/var/lib/tvm/initrd,kernel_args="console=ttyS0" \
    --disk path=/var/lib/tvm/full.qcow2,format=qcow2,bus=virtio,cache=none,discard=unmap,size=8 \
    --disk path=/var/lib/tvm/data.img,format=raw,bus=virtio,readonly=on,size=1 \
    --network network=default,model=virtio,mac=52:54:00:fa:ce:01 --network bridge=br0,model=virtio \
    --graphics vnc,port=5910,listen=127.0.0.1 --serial pty --console pty,target_type=serial \
    --channel unix,target_type=virtio,name=org.qemu.guest_agent.0 --rng /dev/urandom \
    --memballoon model=virtio --controller type=usb,model=qemu-xhci --import

# Memory in other units (virt-install only writes KiB; --xml edits its output).
vi mem-units-gib --name mem-units-gib --disk none --import \
    --memory memory=1024,maxMemory=8192,maxMemory.slots=16 \
    --xml ./memory/@unit=GiB --xml ./memory=2 --xml ./currentMemory/@unit=MB --xml ./currentMemory=1500
vi mem-units-bytes --name mem-units-bytes --disk none --import --memory 1024 \
    --xml ./memory/@unit=b --xml ./memory=1073741825 --xml ./currentMemory/@unit=M --xml ./currentMemory=512
vi mem-units-tb --name mem-units-tb --disk none --import --memory 1024 \
    --xml ./memory/@unit=T --xml ./memory=1 --xml ./currentMemory/@unit=GB --xml ./currentMemory=3

# Hand-written: no uuid and no MACs (generated on define), unknown elements
# and attributes tvm must keep, metadata in a foreign namespace.
cat >"$out/domain/hand-generate.xml" <<'XML'
<domain type='kvm'>
  <name>gen</name>
  <memory>65536</memory>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>/var/lib/tvm/vmlinuz</kernel>
  </os>
  <devices>
    <interface type='network'>
      <source network='default'/>
      <model type='virtio'/>
    </interface>
    <interface type='bridge'>
      <source bridge='br0'/>
    </interface>
  </devices>
</domain>
XML
echo domain/hand-generate.xml
cat >"$out/domain/hand-unknown.xml" <<'XML'
<domain xmlns:tvmtest='http://example.org/tvm-test' type='kvm'>
  <name>keeper</name>
  <uuid>8f0e4c2a-1b3d-4e5f-9a7b-0c1d2e3f4a5b</uuid>
  <metadata>
    <app:info xmlns:app='http://example.org/app/1.0'>
      <app:owner team='web'>alice</app:owner>
      <app:tags>prod,frontend</app:tags>
    </app:info>
  </metadata>
  <memory unit='KiB'>524288</memory>
  <currentMemory unit='KiB'>524288</currentMemory>
  <vcpu placement='static'>2</vcpu>
  <iothreads>2</iothreads>
  <sysinfo type='smbios'>
    <system>
      <entry name='manufacturer'>tvm</entry>
      <entry name='serial'>XYZ-42</entry>
    </system>
  </sysinfo>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>/var/lib/tvm/vmlinuz</kernel>
    <cmdline>console=ttyS0</cmdline>
    <smbios mode='sysinfo'/>
  </os>
  <features>
    <acpi/>
    <apic/>
    <vmport state='off'/>
  </features>
  <clock offset='utc'>
    <timer name='rtc' tickpolicy='catchup'/>
    <timer name='hpet' present='no'/>
  </clock>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <pm>
    <suspend-to-mem enabled='no'/>
  </pm>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none' io='native'/>
      <source file='/var/lib/tvm/keeper.qcow2'/>
      <target dev='vda' bus='virtio'/>
      <iotune>
        <total_iops_sec>500</total_iops_sec>
      </iotune>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:6b:3c:58'/>
      <source network='default'/>
      <model type='virtio'/>
      <bandwidth>
        <inbound average='1000' peak='5000' burst='1024'/>
      </bandwidth>
    </interface>
    <filesystem type='mount' accessmode='passthrough'>
      <source dir='/srv/share'/>
      <target dir='share'/>
    </filesystem>
    <panic model='isa'/>
  </devices>
  <seclabel type='none' model='none'/>
</domain>
XML
echo domain/hand-unknown.xml

# The test driver only offers i686 'test' guests; tvm runs 'kvm' ones, so a
# few are rewritten as a KVM host's virt-install would print them.
for base in full kernel-boot disk-qcow2 nic-many; do
    sed -e 's/<domain type="test">/<domain type="kvm">/' -e 's/arch="i686"/arch="x86_64" machine="pc"/' \
        -e 's#/usr/bin/test-hv#/usr/bin/qemu-system-x86_64#' \
        "$out/domain/$base.xml" >"$out/domain/kvm-$base.xml"
    echo "domain/kvm-$base.xml"
done

virsh -c "$uri" dumpxml test >"$out/domain/virsh-test.xml"
virsh -c "$uri" dumpxml --inactive test >"$out/domain/virsh-test-inactive.xml"
virsh -c "$uri" net-dumpxml default >"$out/network/virsh-default.xml"
virsh -c "$uri" pool-dumpxml default-pool >"$out/pool/virsh-default-pool.xml"
echo "domain/virsh-test*.xml network/virsh-default.xml pool/virsh-default-pool.xml"

# Objects created and dumped inside one virsh session (the test driver
# forgets everything when the connection closes).
cat >"$tmp/net-route.xml" <<'XML'
<network>
  <name>routed</name>
  <forward mode='route' dev='eth1'/>
  <bridge name='virbr5' stp='off' delay='2'/>
  <mac address='52:54:00:0A:0B:0C'/>
  <domain name='lab.example'/>
  <ip address='10.10.0.1' prefix='24'>
    <dhcp>
      <range start='10.10.0.100' end='10.10.0.199'/>
      <host mac='52:54:00:00:00:01' name='web' ip='10.10.0.10'/>
      <host mac='52:54:00:00:00:02' name='db' ip='10.10.0.11'/>
    </dhcp>
  </ip>
  <ip family='ipv6' address='fd00:10::1' prefix='64'/>
</network>
XML
cat >"$tmp/net-isolated.xml" <<'XML'
<network>
  <name>isolated</name>
  <bridge name='virbr9'/>
  <ip address='192.168.50.1' netmask='255.255.255.0'/>
</network>
XML
cat >"$tmp/net-nat.xml" <<'XML'
<network>
  <name>natted</name>
  <forward mode='nat'>
    <nat>
      <port start='1024' end='65535'/>
    </nat>
  </forward>
  <bridge name='virbr7' stp='on' delay='0'/>
  <ip address='192.168.77.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.77.2' end='192.168.77.254'/>
    </dhcp>
  </ip>
</network>
XML
cat >"$tmp/net-bridge.xml" <<'XML'
<network>
  <name>host-bridge</name>
  <forward mode='bridge'/>
  <bridge name='br0'/>
</network>
XML
cat >"$tmp/net-open.xml" <<'XML'
<network>
  <name>opennet</name>
  <forward mode='open'/>
  <bridge name='virbr8'/>
  <ip address='172.16.8.1' prefix='24'/>
</network>
XML
cat >"$tmp/pool-dir.xml" <<'XML'
<pool type='dir'>
  <name>images</name>
  <target>
    <path>/var/lib/tvm/images</path>
  </target>
</pool>
XML
cat >"$tmp/pool-fs.xml" <<'XML'
<pool type='fs'>
  <name>usbdisk</name>
  <source>
    <device path='/dev/sdb1'/>
    <format type='ext4'/>
  </source>
  <target>
    <path>/mnt/usbdisk</path>
  </target>
</pool>
XML
cat >"$tmp/pool-netfs.xml" <<'XML'
<pool type='netfs'>
  <name>nfs</name>
  <source>
    <host name='nas.example'/>
    <dir path='/export/vms'/>
    <format type='nfs'/>
  </source>
  <target>
    <path>/mnt/nfs</path>
  </target>
</pool>
XML
cat >"$tmp/pool-logical.xml" <<'XML'
<pool type='logical'>
  <name>vg0</name>
  <source>
    <device path='/dev/sdc'/>
    <name>vg0</name>
    <format type='lvm2'/>
  </source>
  <target>
    <path>/dev/vg0</path>
  </target>
</pool>
XML
cat >"$tmp/vol-qcow2.xml" <<'XML'
<volume>
  <name>web.qcow2</name>
  <capacity unit='G'>20</capacity>
  <allocation unit='MiB'>0</allocation>
  <target>
    <format type='qcow2'/>
  </target>
</volume>
XML
cat >"$tmp/vol-backing.xml" <<'XML'
<volume>
  <name>overlay.qcow2</name>
  <capacity unit='GB'>10</capacity>
  <target>
    <format type='qcow2'/>
  </target>
  <backingStore>
    <path>/default-pool/base.img</path>
    <format type='raw'/>
  </backingStore>
</volume>
XML

# Everything is created and dumped inside one virsh session per dump: the
# test driver forgets it all when the connection closes.
setup="
net-define $tmp/net-route.xml; net-define $tmp/net-isolated.xml; net-define $tmp/net-nat.xml;
net-define $tmp/net-bridge.xml; net-define $tmp/net-open.xml;
pool-define $tmp/pool-dir.xml; pool-define $tmp/pool-fs.xml; pool-define $tmp/pool-netfs.xml;
pool-define $tmp/pool-logical.xml;
vol-create-as default-pool base.img 1G --format raw;
vol-create-as default-pool disk1.img 512M --allocation 128M --format raw;
vol-create default-pool $tmp/vol-qcow2.xml;
vol-create default-pool $tmp/vol-backing.xml;
snapshot-create-as test first 'first snapshot';
snapshot-create-as test second --description 'after upgrade';
"
dump() { # kind file virsh-command...
    local kind=$1 file=$2
    shift 2
    virsh -c "$uri" "$setup echo @@@@; $*" | sed '1,/^@@@@$/d' | sed '/^$/d' >"$out/$kind/$file.xml"
    echo "$kind/$file.xml"
}
dump network route net-dumpxml routed
dump network isolated net-dumpxml isolated
dump network nat net-dumpxml natted
dump network bridge net-dumpxml host-bridge
dump network open net-dumpxml opennet
dump pool dir pool-dumpxml images
dump pool fs pool-dumpxml usbdisk
dump pool netfs pool-dumpxml nfs
dump pool logical pool-dumpxml vg0
dump volume raw vol-dumpxml --pool default-pool base.img
dump volume alloc vol-dumpxml --pool default-pool disk1.img
dump volume qcow2 vol-dumpxml --pool default-pool web.qcow2
dump volume backing vol-dumpxml --pool default-pool overlay.qcow2
dump snapshot first snapshot-dumpxml test first
dump snapshot second snapshot-dumpxml test second

# Hand-written: external disk and memory snapshots (the test driver only
# does internal ones), as `virsh snapshot-create --disk-only` would accept.
cat >"$out/snapshot/hand-external.xml" <<'XML'
<domainsnapshot>
  <name>before-upgrade</name>
  <description>external overlays</description>
  <state>running</state>
  <parent>
    <name>first</name>
  </parent>
  <creationTime>1700000000</creationTime>
  <memory snapshot='external' file='/var/lib/tvm/snap/web.mem'/>
  <disks>
    <disk name='vda' snapshot='external' type='file'>
      <driver type='qcow2'/>
      <source file='/var/lib/tvm/snap/web-vda.qcow2'/>
    </disk>
    <disk name='vdb' snapshot='no'/>
  </disks>
</domainsnapshot>
XML
echo snapshot/hand-external.xml
cat >"$out/snapshot/hand-minimal.xml" <<'XML'
<domainsnapshot>
  <name>quick</name>
</domainsnapshot>
XML
echo snapshot/hand-minimal.xml
