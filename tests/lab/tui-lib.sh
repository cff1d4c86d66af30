# Shared by the lab's TUI tests, sourced after tests/tui/lib.bash.
# Env: TVM, DB, TMP (from lib.bash), LAB_KERNEL, LAB_INITRD.

# define_labvm: the guest they drive, "labvm": 256 MiB, one vCPU, a shell
# on its serial console, powered off for good by the power button.
define_labvm() {
    cat >"$TMP/labvm.xml" <<XML
<domain type='kvm'>
  <name>labvm</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$LAB_KERNEL</kernel>
    <initrd>$LAB_INITRD</initrd>
    <cmdline>console=ttyS0 quiet tvm.shell</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
</domain>
XML
    "$TVM" --db "$DB" define "$TMP/labvm.xml" >/dev/null
}
