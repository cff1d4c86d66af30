# The details pane follows the selection; its tabs show the domain's definition.
source "$(dirname "$0")/lib.bash"

define alpha 1 512
define bravo 2 1536
tui_start 100 40
wait_for " bravo "

keys Down
uuid=$("$TVM" --db "$DB" domuuid bravo)
wait_for "$uuid"
screen | grep -Eq "vCPUs +2 \(maximum 2\)" || fail "overview: vcpus"
screen | grep -Eq "Memory +1.5 GiB \(maximum 1.5 GiB\)" || fail "overview: memory"

keys 2
wait_for "/var/lib/tvm/images/bravo.qcow2"
screen | grep -Eq "vda +disk qcow2 on virtio" || fail "disks tab"

keys 3
wait_for "52:54:00:12:34:02"
screen | grep -q "network default" || fail "NICs tab: source network"

keys 4
wait_for "Graphics"
screen | grep -q "available while running" || fail "graphics/console tab"

keys 5
wait_for "/var/lib/tvm/kernels/bravo-vmlinuz"
screen | grep -q "console=ttyS0" || fail "boot tab: cmdline"

keys 6
wait_for "<name>bravo</name>"
screen | grep -q "<domain type=" || fail "XML tab starts with <domain>"
# scroll the XML: the closing tag comes into view, the opening one leaves
keys ']' ']' ']'
wait_for "</domain>"
wait_gone "<domain type="

# Up selects alpha: the pane follows
keys Up
wait_for "<name>alpha</name>"

# Tab cycles back to the overview
keys Tab
wait_for "Overview"
keys 1
wait_for "$("$TVM" --db "$DB" domuuid alpha)"

keys q
wait_for "TVM-EXIT=0"
echo ok
