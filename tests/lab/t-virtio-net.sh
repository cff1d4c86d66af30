#!/usr/bin/env bash
# virtio-net on a tap, inside a network namespace this test makes (tvm-vmm
# runs in it, so its taps live there and nothing leaks into L1's network):
#  1. type 'ethernet' on a tap the "admin" made (ip tuntap add): the guest
#     pings the host side, the host sees the guest's MAC in its neighbour
#     table and pings the guest back, again after a system_reset; the tap
#     outlives tvm-vmm.
#  2. type 'bridge': tvm-vmm makes a tap (vnet%d), enslaves it to the
#     bridge, and the guest pings the bridge's address; the tap is gone
#     once tvm-vmm exits.
#  3. <link state='down'/>: the guest's carrier is 0; QMP set_link brings
#     it to 1 in the same boot.
#  4. errors: a bridge that does not exist, a bad tap name.
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"

NS=tvmnet$$
NC_PID= HTTPD_PID=
net_cleanup() {
    for p in $NC_PID $HTTPD_PID; do kill "$p" 2>/dev/null || true; done
    boot_cleanup
    ip netns del "$NS" 2>/dev/null || true
}
trap net_cleanup EXIT
in_ns() { ip netns exec "$NS" "$@"; }

ip netns add "$NS" || fail "cannot make a network namespace"
in_ns ip link set lo up

# nic_domain NAME GUEST_CMD INTERFACE_XML: a guest with one NIC that runs GUEST_CMD.
nic_domain() {
    domain "$1" 1 256 "tvm.run=$(echo "$2" | sed 's/ /%20/g')"
    sed -i "s|</on_crash>|</on_crash><devices>$3</devices>|" "$DIR/domain.xml"
}
# start_ns: tvm-vmm on $DIR inside the namespace (ip netns exec execs it: the pid is the VMM's).
start_ns() {
    ip netns exec "$NS" "$TVM_VMM" --domain "$DIR/domain.xml" --rundir "$DIR" \
        --console-log "$DIR/console.log" </dev/null >"$DIR/vmm.log" 2>&1 &
    VMM_PID=$!
}
console() { tr -d '\r' <"$DIR/console.log"; }
# stop: the guest sleeps after its checks; end it as destroy does.
stop() {
    kill -TERM "$VMM_PID" 2>/dev/null || true
    wait_exit || true
}
# guest_pinged ADDR: the guest's ping of ADDR got replies.
guest_pinged() {
    local line
    line=$(console | grep -m1 '^PING:.*packets transmitted' || true)
    echo "   guest: ${line#PING:}"
    [[ $line =~ ,\ ([1-9][0-9]*)\ packets\ received ]] || fail "the guest's ping of $1 got no reply"
}
host_pings() {
    local out
    out=$(in_ns busybox ping -c 3 -W 5 "$1" 2>&1 || true)
    echo "   host: $(echo "$out" | grep 'packets transmitted')"
    echo "$out" | grep -Eq ', [1-9][0-9]* packets received' || fail "host ping of $1 got no reply: $out"
}

# Guest side: address eth0, print its MAC, ping the host, run EXTRA, then stay up a while.
guest_cmd() {
    echo "ip link set eth0 up;ip addr add $1/24 dev eth0;echo GUEST-MAC=\$(cat /sys/class/net/eth0/address);ping -c 3 $2|sed s/^/PING:/;${3:-}echo GUEST-READY;sleep 120"
}
# Bulk TCP both ways (8 MiB, full-size frames, the receive ring running
# dry): the guest sends a file to nc on the host and fetches one from
# httpd there; both ends' md5sums must agree. Uptime stamps give the rate.
up='$(cut -d. -f1 /proc/uptime)$(cut -d. -f2 /proc/uptime|cut -c1-2)0'
bulk_cmd="echo VNET-FEATURES=\$(cat /sys/class/net/eth0/device/features);dd if=/dev/urandom of=/tmp/f bs=64k count=128 2>/dev/null;echo TX-MD5=\$(md5sum /tmp/f);t0=$up;cat /tmp/f|nc 10.0.2.1 5555;t1=$up;wget -q -O /tmp/g http://10.0.2.1:8080/blob;t2=$up;echo RX-MD5=\$(md5sum /tmp/g);echo BULK-MS=\$((t1-t0)),\$((t2-t1));"
md5_of() { md5sum "$1" | cut -d' ' -f1; }

step "type ethernet on an existing tap"
in_ns ip tuntap add dev tvmtest0 mode tap
in_ns ip addr add 10.0.2.1/24 dev tvmtest0
in_ns ip link set tvmtest0 up
mkdir -p "$T/www"
head -c 8388608 /dev/urandom >"$T/www/blob"
mkfifo "$T/hold"
exec 8<>"$T/hold" # nc's stdin never ends: it stops when the guest closes
ip netns exec "$NS" busybox nc -l -p 5555 <"$T/hold" >"$T/fromguest" &
NC_PID=$!
ip netns exec "$NS" busybox httpd -f -p 10.0.2.1:8080 -h "$T/www" &
HTTPD_PID=$!
nic_domain eth "$(guest_cmd 10.0.2.15 10.0.2.1 "$bulk_cmd")" \
    "<interface type='ethernet'><mac address='52:54:00:12:34:56'/><target dev='tvmtest0' managed='no'/><model type='virtio'/></interface>"
start_ns
wait_console ^GUEST-READY
console | grep -q '^GUEST-MAC=52:54:00:12:34:56' || fail "the guest's eth0 does not have the MAC of the XML"
guest_pinged 10.0.2.1
in_ns ip neigh show dev tvmtest0 | tee /dev/stderr | grep -q '10.0.2.15 .*52:54:00:12:34:56' ||
    fail "the host side did not learn the guest's MAC"
host_pings 10.0.2.15
# the driver took MAC, STATUS and the offloads (bits 0 CSUM, 1 GUEST_CSUM, 11/12 HOST_TSO4/6)
feat=$(console | sed -n 's/^VNET-FEATURES=\([01]*\).*/\1/p' | head -1)
for b in 0 1 5 11 12 16; do
    [ "${feat:$b:1}" = 1 ] || fail "the guest's driver did not take feature bit $b: '$feat'"
done
tx=$(console | sed -n 's/^TX-MD5=\([0-9a-f]*\).*/\1/p' | head -1)
rx=$(console | sed -n 's/^RX-MD5=\([0-9a-f]*\).*/\1/p' | head -1)
ms=$(console | sed -n 's/^BULK-MS=//p' | head -1)
[ -n "$tx" ] && [ "$tx" = "$(md5_of "$T/fromguest")" ] ||
    fail "guest->host TCP: $(stat -c %s "$T/fromguest") bytes arrived, md5 ${tx:-none} vs $(md5_of "$T/fromguest")"
[ -n "$rx" ] && [ "$rx" = "$(md5_of "$T/www/blob")" ] || fail "host->guest TCP: md5 ${rx:-none} differs"
echo "   8 MiB guest->host in ${ms%,*} ms, host->guest in ${ms#*,} ms, both intact"
kill "$HTTPD_PID" "$NC_PID" 2>/dev/null || true
step "the same after a reset (the driver resets the device, RX buffers are new)"
reply=$(printf '%s\n' '{"execute": "qmp_capabilities"}' '{"execute": "system_reset"}' |
    socat -t 5 - "UNIX-CONNECT:$DIR/control.sock")
[ "$(echo "$reply" | grep -c '"return"')" -eq 2 ] || fail "system_reset failed: $reply"
wait_console ^GUEST-READY 2
[ "$(console | grep -Ec '^PING:.*, [1-9][0-9]* packets received')" -eq 2 ] ||
    fail "the guest's ping after the reset got no reply"
host_pings 10.0.2.15
stop
in_ns ip link show tvmtest0 >/dev/null 2>&1 || fail "the admin's tap tvmtest0 went away with tvm-vmm"
! grep -q 'Call Trace\|WARNING:\|BUG:' "$DIR/console.log" || fail "guest kernel warned or oopsed"

step "type bridge: a new tap enslaved to tvmbr0"
in_ns ip link add tvmbr0 type bridge
in_ns ip addr add 10.0.3.1/24 dev tvmbr0
in_ns ip link set tvmbr0 up
nic_domain br "$(guest_cmd 10.0.3.15 10.0.3.1)" \
    "<interface type='bridge'><mac address='52:54:00:12:34:57'/><source bridge='tvmbr0'/><model type='virtio'/></interface>"
start_ns
wait_console ^GUEST-READY
guest_pinged 10.0.3.1
links=$(in_ns ip -d link show master tvmbr0)
echo "$links" | sed 's/^/   /'
tap=$(echo "$links" | sed -n 's/^[0-9]*: \(vnet[0-9]*\)[:@].*/\1/p' | head -1)
[ -n "$tap" ] || fail "no vnet tap is enslaved to tvmbr0"
echo "$links" | grep -q 'tun type tap' || fail "$tap is not shown as a tap"
echo "$links" | grep -q 'link/ether fe:54:00:12:34:57' || fail "$tap does not have fe:54:00:12:34:57"
host_pings 10.0.3.15
stop
! in_ns ip link show "$tap" >/dev/null 2>&1 || fail "tap $tap outlived tvm-vmm"

step "link state down, then set_link up"
nic_domain link "ip link set eth0 up;sleep 1;echo CARRIER1=\$(cat /sys/class/net/eth0/carrier);echo WAIT-LINK;for i in \$(seq 60);do grep -q 1 /sys/class/net/eth0/carrier || sleep 1;done;echo CARRIER2=\$(cat /sys/class/net/eth0/carrier)" \
    "<interface type='ethernet'><mac address='52:54:00:12:34:58'/><target dev='tvmtest0' managed='no'/><model type='virtio'/><link state='down'/></interface>"
start_ns
wait_console WAIT-LINK
console | grep -q '^CARRIER1=0' || fail "carrier is not 0 with <link state='down'/>"
reply=$(printf '%s\n' '{"execute": "qmp_capabilities"}' \
    '{"execute": "set_link", "arguments": {"name": "tvmtest0", "up": true}}' |
    socat -t 5 - "UNIX-CONNECT:$DIR/control.sock")
[ "$(echo "$reply" | grep -c '"return"')" -eq 2 ] || fail "set_link failed: $reply"
wait_console ^CARRIER2=
console | grep -q '^CARRIER2=1' || fail "carrier did not come up after set_link"
wait_exit || true
[ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC"
console | grep -E 'CARRIER[12]=' | sed 's/^/   /'

step "errors"
nic_domain nobr "true" "<interface type='bridge'><source bridge='nosuchbr0'/><model type='virtio'/></interface>"
start_ns
wait_exit || true
[ "$VMM_RC" -ne 0 ] || fail "tvm-vmm started without its bridge"
grep -q "bridge 'nosuchbr0' does not exist" "$DIR/vmm.log" || fail "no clear error for a missing bridge"
sed 's/^/   /' "$DIR/vmm.log"
nic_domain badname "true" "<interface type='ethernet'><target dev='much-too-long-tap-name'/><model type='virtio'/></interface>"
start_ns
wait_exit || true
[ "$VMM_RC" -ne 0 ] || fail "tvm-vmm started with a bad tap name"
grep -q "bad interface name 'much-too-long-tap-name'" "$DIR/vmm.log" || fail "no clear error for a bad tap name"
sed 's/^/   /' "$DIR/vmm.log"
echo "ok"
