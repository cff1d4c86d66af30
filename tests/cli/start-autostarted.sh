# start-autostarted, as the boot unit runs it: pools first, then networks,
# then domains marked autostart and not running; what is not marked, or is
# up already, is left alone; one that fails does not stop the others and is
# named; a pool recorded active whose storage has gone (as after a reboot)
# is started again and never written to meanwhile.
source "$(dirname "$0")/lib.sh"

unit=$(dirname "$TVM")/tvm-autostart.service
[ -f "$unit" ] || fail "the build made no $unit"
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
[ "${exec_start##*/}" = "tvm start-autostarted" ] || fail "the unit runs '$exec_start'"
grep -qx 'KillMode=process' "$unit" || fail "stopping the unit would kill the guests it started"
# The unit's command line, on this build's tvm and this test's inventory.
read -r -a unit_args <<<"${exec_start#* }"
boot() { tvm "${unit_args[@]}"; }

ok tvm pool-define-as pa dir --target "$tmp/pa"
ok tvm pool-build pa
ok tvm pool-autostart pa
ok tvm pool-define-as pb dir --target "$tmp/pb"
ok tvm pool-build pb
ok tvm pool-define-as pc dir --target "$tmp/pc"
ok tvm pool-autostart pc
cat >"$tmp/d.xml" <<XML
<domain type='kvm'>
  <name>nokernel</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><kernel>$tmp/no-such-vmlinuz</kernel></os>
</domain>
XML
ok tvm define "$tmp/d.xml"
ok tvm autostart nokernel

run 1 boot
out_has "Pool pa started"
out_lacks "Pool pb"
err_has "2 of 3 autostart objects did not start: "
err_has "pool 'pc': cannot open directory '$tmp/pc': it does not exist (tvm pool-build pc makes it)"
err_has "domain 'nokernel': Failed to start domain 'nokernel': "
ok tvm pool-list --all
out_has " pa     active     yes"
out_has " pb     inactive   no"
out_has " pc     inactive   yes"

# pc built: now all but the domain start; pa, already up, is not started twice.
ok tvm pool-build pc
run 1 boot
out_is "Pool pc started"$'\n\n'
err_has "1 of 2 autostart objects did not start: domain 'nokernel'"

# pa's directory vanishes behind tvm's back: it is not active any more and
# a volume is refused rather than made where the pool is not; once the
# directory is back, so is the pool, and a boot run has nothing to start.
ok tvm undefine nokernel
rm -rf "$tmp/pa"
run 1 tvm vol-create-as pa v.img 1M
err_has "storage pool 'pa' is not active"
[ ! -e "$tmp/pa/v.img" ] || fail "a volume was written into the vanished pool"
mkdir "$tmp/pa"
ok boot
out_is ""
ok tvm vol-create-as pa v.img 1M
[ -f "$tmp/pa/v.img" ] || fail "no volume in the pool once its directory is back"
echo "start-autostarted: ok"
