# Counts read as English ("1 disk", "2 disks"), the list's autostart column
# has a real header, and the graphics/console tab shows no "port -1" for a
# console whose XML gives no port, nor a port for an autoport display
# before the guest runs (as virsh domdisplay, which shows nothing then).
source "$(dirname "$0")/lib.bash"

define one 1 256
cat >"$TMP/two.xml" <<XML
<domain type='kvm'>
  <name>two</name>
  <memory unit='MiB'>512</memory>
  <vcpu>2</vcpu>
  <cpu><topology sockets='1' cores='2' threads='1'/></cpu>
  <os><type arch='x86_64'>hvm</type><kernel>/k</kernel></os>
  <devices>
    <disk type='file' device='disk'><source file='/i/a.img'/><target dev='vda' bus='virtio'/></disk>
    <disk type='file' device='disk'><source file='/i/b.img'/><target dev='vdb' bus='virtio'/></disk>
    <interface type='ethernet'><mac address='52:54:00:00:00:01'/><model type='virtio'/></interface>
    <interface type='ethernet'><mac address='52:54:00:00:00:02'/><model type='virtio'/></interface>
    <console type='pty'><target type='virtio'/></console>
    <graphics type='vnc' autoport='yes'/>
    <video><model type='vga'/></video>
  </devices>
</domain>
XML
"$TVM" --db "$DB" define "$TMP/two.xml" >/dev/null
"$TVM" --db "$DB" autostart two >/dev/null

tui_start 100 40
wait_for " two "
screen | sed -n 2p | grep -qE " AUTOSTART *$" || fail "the list's last column is not headed AUTOSTART: $(screen | sed -n 2p)"
row two | grep -qE " yes *$" || fail "two's autostart is not 'yes': $(row two)"
row one | grep -qE " no *$" || fail "one's autostart is not 'no': $(row one)"
wait_for "Devices"
grep -qE "Devices +1 disk, 1 NIC, 0 graphics" <<<"$(screen)" || fail "one's devices: $(screen | grep Devices)"
keys Down
wait_for "Topology"
grep -qE "Devices +2 disks, 2 NICs, 1 graphics" <<<"$(screen)" || fail "two's devices: $(screen | grep Devices)"
grep -qE "Topology +1 socket, 2 cores, 1 thread$" <<<"$(screen)" || fail "two's topology: $(screen | grep Topology)"
keys 4
wait_for "Graphics"
grep -qE "Graphics +vnc, port auto" <<<"$(screen)" || fail "autoport display: $(screen | grep -E '^ Graphics')"
grep -qE "console +pty, target virtio" <<<"$(screen)" || fail "console line: $(screen | grep -E '^ console')"
screen | grep -q "port -1" && fail "the graphics/console tab shows 'port -1'"
keys /
keys t w o Enter
wait_for "filter 'two': 1 of 2 domains"
keys q
wait_for "TVM-EXIT=0"
echo ok
