# guest_xml NAME VCPUS MEM_MIB CMDLINE [ON_REBOOT] [DEVICES_XML]: the domain
# XML of the lab's L2 test guest (LAB_KERNEL, LAB_INITRD) on stdout, for the
# lab libraries (boot-lib.sh, vmm-lib.sh, lifecycle-lib.sh) to share.
# CMDLINE is the whole kernel command line; the guest powers off into
# on_poweroff=destroy, crashes into on_crash=destroy.
#
# Markers: what a test's tvm.run= prints is also in the command line, so
# tests match it anchored (^MARKER): only the guest's output starts a line
# with it. TVM-GUEST-UP / -RC= / -POWERBUTTON come from the guest's init
# and acpid, never from a command line, and may follow a shell prompt on
# its line (a reset guest's banner does): they are matched anywhere.
guest_xml() {
    local devices=
    [ -z "${6:-}" ] || devices="  <devices>
$6
  </devices>
"
    cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>$3</memory>
  <vcpu>$2</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$LAB_KERNEL</kernel>
    <initrd>$LAB_INITRD</initrd>
    <cmdline>$4</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>${5:-restart}</on_reboot>
  <on_crash>destroy</on_crash>
${devices}</domain>
XML
}

# disk_xml FILE FORMAT TARGET [EXTRA]: a virtio disk for guest_xml.
disk_xml() {
    echo "<disk type='file' device='disk'><driver name='qemu' type='$2'/><source file='$1'/><target dev='$3' bus='virtio'/>${4:-}</disk>"
}

# cdrom_boot_xml NAME MEM_MIB ISO: a domain with no <kernel> that boots ISO
# through SeaBIOS from a CD-ROM on a virtio-scsi controller.
cdrom_boot_xml() {
    cat <<XML
<domain type='kvm'>
  <name>$1</name>
  <memory unit='MiB'>$2</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><boot dev='cdrom'/></os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='$3'/>
      <target dev='sda' bus='scsi'/>
      <readonly/>
    </disk>
    <controller type='scsi' model='virtio-scsi'/>
  </devices>
</domain>
XML
}
