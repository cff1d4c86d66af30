# The host verbs (nodeinfo, freecell, nodememstats, nodecpustats, hostname,
# uri, maxvcpus, sysinfo, capabilities, domcapabilities, host-validate,
# version --daemon), each against what the kernel says, read here on its own.
source "$(dirname "$0")/lib.sh"
: "${TVM_VMM:?set TVM_VMM to the tvm-vmm binary}"
export TVM_VMM
command -v virt-xml-validate >/dev/null ||
    fail "virt-xml-validate (package libvirt-clients) is missing: run scripts/install-deps.sh"

field() { # field LABEL: the value after "LABEL:" in $tmp/out
    sed -n "s/^$1: *//p" "$tmp/out"
}
meminfo() { awk -v f="$1:" '$1 == f {print $2}' /proc/meminfo; }

ok tvm help host
for v in nodeinfo capabilities domcapabilities freecell nodememstats nodecpustats hostname uri \
    maxvcpus sysinfo host-validate; do
    grep -qE "^    $v " "$tmp/out" || fail "help host lacks $v"
done

ok tvm nodeinfo
[ "$(field 'CPU model')" = "$(uname -m)" ] || fail "nodeinfo CPU model: $(field 'CPU model')"
[ "$(field 'CPU(s)')" = "$(nproc)" ] || fail "nodeinfo CPU(s) $(field 'CPU(s)'), nproc $(nproc)"
[ "$(field 'Memory size')" = "$(meminfo MemTotal) KiB" ] || fail "nodeinfo Memory size: $(field 'Memory size')"
cells=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
[ "$cells" -ge 1 ] || cells=1
[ "$(field 'NUMA cell(s)')" = "$cells" ] || fail "nodeinfo NUMA cell(s): $(field 'NUMA cell(s)'), sysfs $cells"
s=$(field 'CPU socket(s)') c=$(field 'Core(s) per socket') t=$(field 'Thread(s) per core')
[ $((s * c * t * cells)) -eq "$(nproc)" ] || fail "nodeinfo topology $s x $c x $t x $cells cells != $(nproc) CPUs"

ok tvm nodememstats
[ "$(sed -n 's/^total *: *\([0-9]*\) KiB$/\1/p' "$tmp/out")" = "$(meminfo MemTotal)" ] ||
    fail "nodememstats total differs from MemTotal $(meminfo MemTotal)"
grep -qE '^free   : +[0-9]+ KiB$' "$tmp/out" || fail "nodememstats has no free line"

ok tvm freecell --all
total=$(sed -n 's/^Total: *\([0-9]*\) KiB$/\1/p' "$tmp/out")
sum=$(awk '/^ +[0-9]+: /{s += $2} END {print s}' "$tmp/out")
[ -n "$total" ] && [ "$total" = "$sum" ] || fail "freecell --all: Total $total, cells add up to $sum"
[ "$(grep -cE '^ +[0-9]+: ' "$tmp/out")" = "$cells" ] || fail "freecell --all does not list $cells cells"
run 1 tvm freecell --cellno "$cells"
err_has "cell $cells does not exist"
run 2 tvm freecell --cellno 0 --all
err_has "mutually exclusive"

# CPU time: between two reads of /proc/stat taken around the command
hz=$(getconf CLK_TCK)
before=$(awk '$1 == "cpu" {printf "%.0f\n", ($2 + $3) * 1000000000 / '"$hz"'}' /proc/stat)
ok tvm nodecpustats
after=$(awk '$1 == "cpu" {printf "%.0f\n", ($2 + $3) * 1000000000 / '"$hz"'}' /proc/stat)
user=$(sed -n 's/^user: *//p' "$tmp/out")
awk -v b="$before" -v a="$after" -v u="$user" 'BEGIN {exit !(u >= b && u <= a)}' ||
    fail "nodecpustats user $user ns is not between $before and $after"
ok tvm nodecpustats --percent
[ "$(grep -cE '^(usage|user|system|idle|iowait): +[0-9]+\.[0-9]%$' "$tmp/out")" = 5 ] ||
    fail "nodecpustats --percent lines"
run 1 tvm nodecpustats --cpu 100000
err_has "CPU 100000 does not exist"

ok tvm hostname
out_is "$(hostname)"
ok tvm uri
[ "$(id -u)" = 0 ] && out_is "tvm:///system" || out_is "tvm:///session"

ok tvm maxvcpus
max=$(sed -n 1p "$tmp/out")
[ "$max" -ge 1 ] && [ "$max" -le 255 ] || fail "maxvcpus $max"
run 1 tvm maxvcpus --type xen
err_has "unknown virttype: xen"

if [ -r /sys/class/dmi/id/sys_vendor ] && [ -s /sys/class/dmi/id/sys_vendor ]; then
    ok tvm sysinfo
    out_has "<entry name='manufacturer'>$(cat /sys/class/dmi/id/sys_vendor)</entry>"
else
    run 1 tvm sysinfo
    err_has "this host shows no SMBIOS data"
fi

ok tvm capabilities
cp "$tmp/out" "$tmp/caps.xml"
virt-xml-validate "$tmp/caps.xml" capability >/dev/null 2>&1 || fail "capabilities does not validate"
grep -qF "<arch>$(uname -m)</arch>" "$tmp/caps.xml" || fail "capabilities: host arch"
grep -qF "<cells num='$cells'>" "$tmp/caps.xml" || fail "capabilities: cells"
[ "$(grep -c "<cpu id=" "$tmp/caps.xml")" = "$(nproc)" ] || fail "capabilities lists not $(nproc) CPUs"
if [ -c /dev/kvm ] && [ -w /dev/kvm ] && grep -qE '(vmx|svm)' /proc/cpuinfo; then
    grep -qF "<emulator>$TVM_VMM</emulator>" "$tmp/caps.xml" || fail "capabilities: emulator"
else # no usable KVM: no guest can run, and none is listed
    ! grep -q "<guest>" "$tmp/caps.xml" || fail "capabilities lists guests without a usable /dev/kvm"
fi
ok tvm capabilities --xpath //host/cpu/arch
out_is "<arch>$(uname -m)</arch>"

ok tvm domcapabilities
cp "$tmp/out" "$tmp/dcaps.xml"
virt-xml-validate "$tmp/dcaps.xml" domaincaps >/dev/null 2>&1 || fail "domcapabilities does not validate"
grep -qF "<vcpu max='255'/>" "$tmp/dcaps.xml" || fail "domcapabilities vcpu max"
grep -qF "<path>$TVM_VMM</path>" "$tmp/dcaps.xml" || fail "domcapabilities path"
ok tvm domcapabilities --arch i686 --virttype kvm --machine pc
run 1 tvm domcapabilities --arch sparc
err_has "not arch 'sparc'"
run 1 tvm domcapabilities --machine q35
err_has "machine type 'q35'"
# what domcapabilities says is what define enforces
printf "<domain type='kvm'><name>big</name><memory>65536</memory><vcpu>256</vcpu><os><type>hvm</type></os></domain>\n" >"$tmp/big.xml"
run 1 tvm define "$tmp/big.xml"
err_has "tvm-vmm's limit of 255"

# host-validate: each verdict against the same fact read here
verdict() { sed -n "s/^ *TVM: Checking $1 *: \([A-Z]*\).*/\1/p" "$tmp/out"; }
rc=0
tvm host-validate >"$tmp/out" 2>"$tmp/err" || rc=$?
grep -qE '(vmx|svm)' /proc/cpuinfo && want=PASS || want=FAIL
[ "$(verdict 'for hardware virtualization')" = "$want" ] || fail "host-validate: virtualization is not $want"
[ -c /dev/kvm ] && want=PASS || want=FAIL
[ "$(verdict 'if device \/dev\/kvm exists')" = "$want" ] || fail "host-validate: /dev/kvm is not $want"
[ -c /dev/net/tun ] && want=PASS || want=FAIL
[ "$(verdict 'if device \/dev\/net\/tun exists')" = "$want" ] || fail "host-validate: tun is not $want"
[ "$(verdict 'for the tvm-vmm binary')" = PASS ] || fail "host-validate does not find tvm-vmm"
grep -q ': FAIL' "$tmp/out" && want=1 || want=0
[ "$rc" = "$want" ] || fail "host-validate exited $rc with FAIL lines: $(grep -c ': FAIL' "$tmp/out")"
[ "$(grep -cE '^ +TVM: Checking .*: (PASS|WARN \(.+\)|FAIL \(.+\))$' "$tmp/out")" = "$(wc -l <"$tmp/out")" ] ||
    fail "host-validate: a line without a verdict or without a reason"

ok tvm version --daemon
out_has "Running against daemon: none"
echo "host-verbs: ok"
