#!/usr/bin/env bash
# A guest on a libvirt NAT network, as virt-install writes it
# (<interface type='network'><source network='natlab'/>): the network is
# marked autostart, so `tvm start` builds it first (bridge, dnsmasq,
# nftables); the guest asks for DHCP and gets the fixed address of its
# <host> entry, pings the bridge, and reaches a host outside the NAT
# subnet that has no route back — only masquerading brings the replies
# home. net-destroy takes the network away. Everything runs in network
# namespaces this test made.
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"

NS=tvmnat$$
OUT=tvmout$$
# tvm in the test's namespace: there the network's bridge is, and a tvm
# elsewhere would find it gone and take the network down.
tvmns() { ip netns exec "$NS" "$TVM" --db "$DB" "$@"; }
nat_cleanup() {
    lc_cleanup
    tvmns net-destroy natlab >/dev/null 2>&1 || true
    ip netns del "$NS" 2>/dev/null || true
    ip netns del "$OUT" 2>/dev/null || true
}
trap nat_cleanup EXIT
ip netns add "$NS" || fail "cannot make a network namespace"
ip netns add "$OUT" || fail "cannot make a network namespace"
# The "outside world": 10.99.0.2 in its own namespace, no route to the guests.
ip link add up0 type veth peer name up1
ip link set up0 netns "$NS"
ip link set up1 netns "$OUT"
ip netns exec "$NS" ip addr add 10.99.0.1/24 dev up0
ip netns exec "$NS" ip link set up0 up
ip netns exec "$OUT" ip addr add 10.99.0.2/24 dev up1
ip netns exec "$OUT" ip link set up1 up
ip netns exec "$OUT" ip link set lo up

cat >"$T/natlab.xml" <<'XML'
<network>
  <name>natlab</name>
  <forward mode='nat'/>
  <bridge name='tvmnat0' stp='on' delay='0'/>
  <ip address='192.168.151.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.151.100' end='192.168.151.150'/>
      <host mac='52:54:00:12:34:70' ip='192.168.151.50'/>
    </dhcp>
  </ip>
</network>
XML
tvm net-define "$T/natlab.xml" >/dev/null || fail "net-define"
tvm net-autostart natlab >/dev/null || fail "net-autostart"

run="ip link set eth0 up;busybox udhcpc -i eth0 -f -q -n -t 40 -T 1 -s /bin/true >/l 2>&1;"
run+="a=\$(grep -o 'lease of [0-9.]*' /l|cut -d' ' -f3);echo LEASE=\$a;"
run+="ip addr add \$a/24 dev eth0;ip route add default via 192.168.151.1;"
run+="if ping -c 3 -W 3 192.168.151.1 >/dev/null;then echo GW-OK;fi;"
run+="if ping -c 3 -W 3 10.99.0.2 >/dev/null;then echo NAT-OK;fi"
nic="<interface type='network'><mac address='52:54:00:12:34:70'/><source network='natlab'/><model type='virtio'/></interface>"
# spaces as %20 for the guest's init, '&' as &amp; for the XML around it
guest_xml natg 1 256 "console=ttyS0 quiet panic=-1 tvm.run=$(echo "$run" | sed 's/ /%20/g; s/&/\&amp;/g')" \
    restart "$nic" >"$T/natg.xml"
tvm define "$T/natg.xml" >/dev/null || fail "define"

step "start: the autostart network comes up first"
tvmns start natg >/dev/null || fail "start"
tvmns net-list | grep -q "natlab .*active" || fail "network not active: $(tvmns net-list --all)"
wait_count natg '^LEASE=' 1
grep -a '^LEASE=' "$LOGDIR/natg.console.log" | grep -q '^LEASE=192.168.151.50' ||
    fail "lease: $(grep -a '^LEASE=' "$LOGDIR/natg.console.log")"
wait_count natg 'TVM-GUEST-RC=' 1
grep -aq '^GW-OK' "$LOGDIR/natg.console.log" || fail "the guest cannot ping the bridge"
grep -aq '^NAT-OK' "$LOGDIR/natg.console.log" || fail "the guest cannot reach the outside through NAT"

step "net-destroy"
wait_state natg "shut off (shutdown)"
tvmns net-destroy natlab >/dev/null || fail "net-destroy"
! ip netns exec "$NS" ip link show tvmnat0 >/dev/null 2>&1 || fail "bridge left"
grep -a -E 'LEASE=|-OK' "$LOGDIR/natg.console.log" | tr -d '\r' | sed 's/^/   /'
echo "ok"
