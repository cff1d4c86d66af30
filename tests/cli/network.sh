#!/usr/bin/env bash
# Virtual networks on a real kernel, inside network namespaces this test
# creates: net-start builds a NAT network (bridge with its address and MAC,
# nftables masquerading, dnsmasq), a client in a second namespace behind a
# veth gets a DHCP lease from it (the fixed address of its <host> entry,
# then one from the <range>) and pings the bridge; route and isolated
# networks get their own rules; net-destroy takes it all away. Refusals
# change nothing: a bridge name in use, starting twice, undefining an
# active network. A bridge deleted behind tvm's back (a host reboot) makes
# the network inactive and takes its dnsmasq with it.
if [ -z "${TVM_IN_NETNS:-}" ]; then
    # Tools scripts/install-deps.sh installs are checked first: their absence
    # is a failure, never a skip hidden behind the probe below.
    for tool in nft:nftables busybox:busybox-static ip:iproute2 unshare:util-linux; do
        command -v "${tool%%:*}" >/dev/null ||
            { echo "FAIL: ${tool%%:*} (package ${tool#*:}) is missing: run scripts/install-deps.sh" >&2; exit 1; }
    done
    # What the test needs of the machine, probed in a throwaway namespace:
    # root, network and mount namespaces, sysfs, bridges, nftables.
    probe='mount --make-rprivate / && mount -t sysfs none /sys &&
        ip link add tvmprobe0 type bridge && nft add table ip tvmprobe'
    if [ "$(id -u)" -ne 0 ] || ! unshare --net --mount sh -c "$probe" >/dev/null 2>&1; then
        echo "network: needs root, network namespaces, bridges and nftables; skipped"
        exit 77
    fi
    # sysfs remounted so /sys/class/net shows this namespace, as ip netns exec does
    exec unshare --net --mount -- env TVM_IN_NETNS=1 bash -c \
        'mount --make-rprivate / && mount -t sysfs none /sys && exec bash "$0"' "$0"
fi
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || fail "nft (package nftables) is missing"
command -v busybox >/dev/null || fail "busybox (package busybox-static) is missing"
# running PID: the process exists and has not exited. A dnsmasq that
# exited is dead even while its zombie waits for whoever adopted it (a
# subreaper in the test harness may reap it late).
running() {
    [ -r "/proc/$1/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}
# nft_table NAME: network NAME's nftables table, named by its UUID.
nft_table() {
    echo "inet tvm_$("$TVM" --db "$DB" net-info "$1" | awk '/^UUID:/ { gsub("-", "", $2); print $2 }')"
}

client_pid=
cleanup_net() {
    [ -z "$client_pid" ] || kill "$client_pid" 2>/dev/null || true
    local f
    for f in "$TVM_RUNDIR"/network/*/dnsmasq.pid; do # a failed run's dnsmasqs
        [ -f "$f" ] && pkill -F "$f" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup_net EXIT

cat >"$tmp/nat.xml" <<'XML'
<network>
  <name>natnet</name>
  <forward mode='nat'/>
  <bridge name='tvmbr0' stp='on' delay='0'/>
  <mac address='52:54:00:0a:0b:0c'/>
  <ip address='192.168.150.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.150.100' end='192.168.150.120'/>
      <host mac='52:54:00:00:00:50' name='fixed' ip='192.168.150.50'/>
    </dhcp>
  </ip>
</network>
XML

ok tvm net-define "$tmp/nat.xml"
ok tvm net-start natnet
out_has "Network natnet started"
ip -4 addr show tvmbr0 | grep -q "inet 192.168.150.1/24" || fail "bridge address: $(ip addr show tvmbr0)"
ip link show tvmbr0 | grep -q "52:54:00:0a:0b:0c" || fail "bridge MAC: $(ip link show tvmbr0)"
ip link show tvmbr0 | grep -q "state UP\|,UP" || fail "bridge not up: $(ip link show tvmbr0)"
nft list table $(nft_table natnet) >"$tmp/rules" || fail "no nftables table"
grep -q "ip saddr 192.168.150.0/24 ip daddr != 192.168.150.0/24 masquerade" "$tmp/rules" ||
    fail "no masquerading: $(cat "$tmp/rules")"
[ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "ip_forward off"
pid=$(cat "$TVM_RUNDIR/network/natnet/dnsmasq.pid")
grep -q dnsmasq "/proc/$pid/comm" || fail "dnsmasq is not running"
ok tvm net-list
out_has "natnet   active"
ok tvm net-info natnet
out_has "Active:         yes"

# Starting twice, undefining while active: refused, nothing changes.
run 1 tvm net-start natnet
err_has "network is already active"
run 1 tvm net-undefine natnet
err_has "is active"
[ "$(cat "$TVM_RUNDIR/network/natnet/dnsmasq.pid")" = "$pid" ] || fail "dnsmasq restarted"

# A client behind a veth in a namespace of its own asks for a lease.
unshare --net sleep 300 &
client_pid=$!
sleep 0.2
ip link add c1 type veth peer name c0
ip link set c1 master tvmbr0 up
ip link set c0 netns "$client_pid"
in_client() { nsenter -t "$client_pid" -n "$@"; }
in_client ip link set lo up
lease() { # MAC: prints the address udhcpc was offered
    in_client ip link set c0 down
    in_client ip link set c0 address "$1" up
    in_client busybox udhcpc -i c0 -f -q -n -t 20 -T 1 -s /bin/true 2>&1 |
        sed -n 's/.*lease of \([0-9.]*\) obtained.*/\1/p'
}
ip=$(lease 52:54:00:00:00:50)
[ "$ip" = 192.168.150.50 ] || fail "the <host> entry's MAC got '$ip', not 192.168.150.50"
ip=$(lease 52:54:00:00:00:77)
case $ip in
192.168.150.1[01][0-9] | 192.168.150.120) ;;
*) fail "a MAC from the range got '$ip', not one of .100-.120" ;;
esac
in_client ip addr add "$ip/24" dev c0
in_client busybox ping -c 1 -W 5 192.168.150.1 >/dev/null || fail "the client cannot ping the bridge"

ok tvm net-destroy natnet
out_has "Network natnet destroyed"
! ip link show tvmbr0 >/dev/null 2>&1 || fail "bridge left after net-destroy"
! nft list table $(nft_table natnet) >/dev/null 2>&1 || fail "nftables table left after net-destroy"
! running "$pid" || fail "dnsmasq left after net-destroy"
[ ! -e "$TVM_RUNDIR/network/natnet" ] || fail "run directory left after net-destroy"
ok tvm net-list --all
out_has "natnet   inactive"
run 1 tvm net-destroy natnet
err_has "network is not active"

# A bridge name that is taken: refused, nothing left behind.
ip link add taken type veth peer name taken-peer
sed -e 's/natnet/clash/' -e "s/tvmbr0/taken/" -e '/<uuid>/d' "$tmp/nat.xml" >"$tmp/clash.xml"
ok tvm net-define "$tmp/clash.xml"
run 1 tvm net-start clash
err_has "bridge name 'taken' is already in use"
! nft list table $(nft_table clash) >/dev/null 2>&1 || fail "rules left by a failed start"
[ ! -e "$TVM_RUNDIR/network/clash/dnsmasq.pid" ] || fail "dnsmasq left by a failed start"
ok tvm net-list --all
out_has "clash    inactive"

# dnsmasq failing after the bridge and rules are made (the DHCP port is
# taken): its reason is shown and the start is taken back completely.
command -v socat >/dev/null || fail "socat is missing"
sed -e 's/natnet/dhcpfail/' -e 's/tvmbr0/tvmbr9/' -e '/<uuid>/d' "$tmp/nat.xml" >"$tmp/dhcpfail.xml"
ok tvm net-define "$tmp/dhcpfail.xml"
socat -u UDP4-RECV:67 /dev/null &
holder=$!
sleep 0.3
run 1 tvm net-start dhcpfail
kill "$holder"
err_has "dnsmasq failed: dnsmasq: failed to bind DHCP server socket"
! ip link show tvmbr9 >/dev/null 2>&1 || fail "bridge left by a failed start"
! nft list table $(nft_table dhcpfail) >/dev/null 2>&1 || fail "rules left by a failed start"
[ ! -e "$TVM_RUNDIR/network/dhcpfail" ] || fail "run directory left by a failed start"
ok tvm net-list --all
grep -qE "^ dhcpfail +inactive" "$tmp/out" || fail "dhcpfail not inactive: $(cat "$tmp/out")"

# A bad attribute is refused at define, naming it; nothing is stored.
sed -e 's/natnet/baddelay/' -e "s/delay='0'/delay='soon'/" -e '/<uuid>/d' "$tmp/nat.xml" >"$tmp/baddelay.xml"
run 1 tvm net-define "$tmp/baddelay.xml"
err_has "bridge delay"
run 1 tvm net-info baddelay

# route and isolated: forwarding rules without masquerading; isolated lets
# nothing through. A network without a bridge name gets virbrN, stored.
cat >"$tmp/route.xml" <<'XML'
<network>
  <name>routed</name>
  <forward mode='route'/>
  <ip address='10.77.0.1' prefix='24'/>
</network>
XML
cat >"$tmp/iso.xml" <<'XML'
<network>
  <name>iso</name>
  <bridge name='tvmiso0'/>
  <ip address='10.78.0.1' prefix='24'/>
</network>
XML
ok tvm net-define "$tmp/route.xml"
ok tvm net-define "$tmp/iso.xml"
ok tvm net-start routed
ok tvm net-start iso
ok tvm net-dumpxml routed
grep -q "<bridge name='virbr0'" "$tmp/out" || fail "no bridge name stored: $(cat "$tmp/out")"
nft list table $(nft_table routed) >"$tmp/rules"
grep -q "ip daddr 10.77.0.0/24 oifname \"virbr0\" accept" "$tmp/rules" || fail "route rules: $(cat "$tmp/rules")"
! grep -q masquerade "$tmp/rules" || fail "a routed network masquerades"
nft list table $(nft_table iso) >"$tmp/rules"
grep -q 'oifname "tvmiso0" reject' "$tmp/rules" || fail "isolated rules: $(cat "$tmp/rules")"
! grep -v -e 'policy accept' -e 'iifname "tvmiso0" oifname "tvmiso0"' "$tmp/rules" | grep -q accept ||
    fail "an isolated network lets traffic through: $(cat "$tmp/rules")"

# The bridge deleted behind tvm's back: inactive, and its dnsmasq goes too.
pid=$(cat "$TVM_RUNDIR/network/iso/dnsmasq.pid")
ip link del tvmiso0
ok tvm net-list --all
grep -qE "^ iso +inactive" "$tmp/out" || fail "iso not inactive: $(cat "$tmp/out")"
sleep 0.5
! running "$pid" || fail "dnsmasq of a vanished network still runs"
# net-destroy of the routed network takes its bridge, rules and run
# directory (its dnsmasq with them) and leaves it defined, inactive.
ip link show virbr0 >/dev/null 2>&1 || fail "the routed network's bridge is not there before net-destroy"
pid=$(cat "$TVM_RUNDIR/network/routed/dnsmasq.pid" 2>/dev/null || true)
ok tvm net-destroy routed
out_has "Network routed destroyed"
! ip link show virbr0 >/dev/null 2>&1 || fail "bridge virbr0 left after net-destroy routed"
! nft list table $(nft_table routed) >/dev/null 2>&1 || fail "nftables table left after net-destroy routed"
[ -z "$pid" ] || ! running "$pid" || fail "dnsmasq $pid left after net-destroy routed"
[ ! -e "$TVM_RUNDIR/network/routed" ] || fail "run directory left after net-destroy routed"
ok tvm net-list --all
grep -qE "^ routed +inactive" "$tmp/out" || fail "routed not inactive after net-destroy: $(cat "$tmp/out")"
ok tvm events
out_has "started"
out_has "destroyed"
echo "network: ok"
