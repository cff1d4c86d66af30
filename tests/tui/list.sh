# The list shows every defined domain with its fields; / filters; sort keys reorder.
source "$(dirname "$0")/lib.bash"

define alpha 4 512
define bravo 1 1024
define charlie 2 2048

tui_start 100 32
wait_for "charlie"
screen | grep -q "domains 3" || fail "title bar does not count 3 domains"
screen | head -n1 | grep -q "CPUs" || fail "title bar lacks the host CPUs"
screen | head -n1 | grep -Eq "KVM ok|no KVM" || fail "title bar lacks the KVM status"

# name, state, vcpus, memory for each row
row alpha | grep -Eq "^ alpha +shut off +4 +512 MiB" || fail "alpha row: $(row alpha)"
row bravo | grep -Eq "^ bravo +shut off +1 +1 GiB" || fail "bravo row: $(row bravo)"
row charlie | grep -Eq "^ charlie +shut off +2 +2 GiB" || fail "charlie row: $(row charlie)"

# default order is by name
[ "$(line_of ' alpha ')" -lt "$(line_of ' bravo ')" ] || fail "alpha not above bravo"
[ "$(line_of ' bravo ')" -lt "$(line_of ' charlie ')" ] || fail "bravo not above charlie"

# filter: / narrows as you type, Enter keeps it, Esc clears it
keys /
wait_for "Filter:"
keys r a v
wait_gone " alpha "
row bravo | grep -q bravo || fail "bravo hidden by filter 'rav'"
screen | grep -q " charlie " && fail "charlie shown for filter 'rav'"
keys Enter
wait_for "filter 'rav': 1 of 3"
keys Escape
wait_for " alpha "
wait_for " charlie "

# a filter matching nothing says so
keys / z z z Enter
wait_for "no domain matches the filter"
keys Escape
wait_for " alpha "

# sort: > cycles to state, then vcpus: bravo(1) charlie(2) alpha(4)
keys '>'
wait_for "sorted by state"
keys '>'
wait_for "sorted by vcpus"
[ "$(line_of ' bravo ')" -lt "$(line_of ' charlie ')" ] || fail "vcpu sort: bravo not first"
[ "$(line_of ' charlie ')" -lt "$(line_of ' alpha ')" ] || fail "vcpu sort: alpha not last"
# I inverts
keys I
wait_for "(reversed)"
[ "$(line_of ' alpha ')" -lt "$(line_of ' charlie ')" ] || fail "inverted: alpha not first"
[ "$(line_of ' charlie ')" -lt "$(line_of ' bravo ')" ] || fail "inverted: bravo not last"
# memory sort (reversed): charlie(2G) bravo(1G) alpha(512M)
keys '>'
wait_for "sorted by memory"
[ "$(line_of ' charlie ')" -lt "$(line_of ' bravo ')" ] || fail "memory sort: charlie not first"
[ "$(line_of ' bravo ')" -lt "$(line_of ' alpha ')" ] || fail "memory sort: alpha not last"

keys q
wait_for "TVM-EXIT=0"
echo ok
