#!/usr/bin/env bash
# tvm domif-setlink on a running guest: the guest's carrier follows at
# once and the stored definition stays as it was; with --config only the
# stored definition changes. The guest's NIC sits on a tap in a network
# namespace the test made (tvm start runs there, so tvm-vmm does too).
set -euo pipefail
. "$(dirname "$0")/lifecycle-lib.sh"

NS=tvmnetc$$
net_cleanup() {
    lc_cleanup
    ip netns del "$NS" 2>/dev/null || true
}
trap net_cleanup EXIT
ip netns add "$NS" || fail "cannot make a network namespace"
ip netns exec "$NS" ip tuntap add dev tvmtest1 mode tap

# The guest prints its carrier whenever it changes, for 120 s.
run='ip link set eth0 up;c=x;for i in $(seq 240);do n=$(cat /sys/class/net/eth0/carrier);[ $n = $c ] || echo CARRIER=$n;c=$n;sleep 0.5;done'
cat >"$T/netl.xml" <<XML
<domain type='kvm'>
  <name>netl</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>$LAB_KERNEL</kernel>
    <initrd>$LAB_INITRD</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 tvm.run=$(echo "$run" | sed 's/ /%20/g')</cmdline>
  </os>
  <features><acpi/><apic/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <interface type='ethernet'>
      <mac address='52:54:00:12:34:60'/>
      <target dev='tvmtest1' managed='no'/>
      <model type='virtio'/>
    </interface>
  </devices>
</domain>
XML
tvm define "$T/netl.xml" >/dev/null || fail "define"
stored() { tvm dumpxml netl --inactive | grep -c "<link state='$1'/>" || true; }

step "start in the namespace"
ip netns exec "$NS" "$TVM" --db "$DB" start netl >/dev/null || fail "start"
wait_count netl '^CARRIER=1' 1

step "live: down, then up again"
expect_out "Device updated successfully" tvm domif-setlink netl 52:54:00:12:34:60 down
wait_count netl '^CARRIER=0' 1
[ "$(stored down)" = 0 ] || fail "a live change went into the stored definition"
expect_out "Device updated successfully" tvm domif-setlink netl tvmtest1 up
wait_count netl '^CARRIER=1' 2
expect_err "interface 'eth7' not found" tvm domif-setlink netl eth7 down

step "--config on a running guest: stored only"
expect_out "Device updated successfully" tvm domif-setlink netl 52:54:00:12:34:60 down --config
[ "$(stored down)" = 1 ] || fail "--config did not change the stored definition"
sleep 3
[ "$(count netl '^CARRIER=0')" = 1 ] || fail "--config changed the running guest's link"
tvm destroy netl >/dev/null || fail "destroy"
grep 'CARRIER=' "$LOGDIR/netl.console.log" | tr -d '\r' | sed 's/^/   /'
echo "ok"
