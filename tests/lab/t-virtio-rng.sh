#!/usr/bin/env bash
# virtio-rng: with <rng model='virtio'> the guest's hw_random core picks
# virtio_rng and /dev/hwrng returns bytes (two reads differ).
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"

domain rng 1 256 'tvm.run=echo%20RNG-CURRENT=$(cat%20/sys/class/misc/hw_random/rng_current);dd%20if=/dev/hwrng%20bs=16%20count=1%202>/dev/null|hexdump%20-C|head%20-1|sed%20s/^/RNG1:/;dd%20if=/dev/hwrng%20bs=16%20count=1%202>/dev/null|hexdump%20-C|head%20-1|sed%20s/^/RNG2:/'
sed -i "s|</on_crash>|</on_crash><devices><rng model='virtio'><backend model='random'>/dev/urandom</backend></rng></devices>|" "$DIR/domain.xml"
step "guest reads /dev/hwrng"
start
wait_exit
[ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC"
grep -a 'RNG' "$DIR/console.log" | tr -d '\r' | sed 's/^/   /'
grep -aq '^RNG-CURRENT=virtio_rng' "$DIR/console.log" || fail "rng_current is not virtio_rng"
r1=$(grep -a '^RNG1:00000000' "$DIR/console.log" | tr -d '\r' | cut -c15-62)
r2=$(grep -a '^RNG2:00000000' "$DIR/console.log" | tr -d '\r' | cut -c15-62)
[ "$(echo "$r1" | wc -w)" -eq 16 ] || fail "first read did not return 16 bytes: '$r1'"
[ "$(echo "$r2" | wc -w)" -eq 16 ] || fail "second read did not return 16 bytes: '$r2'"
[ "$r1" != "$r2" ] || fail "two reads returned the same bytes"
! grep -q 'Call Trace\|WARNING:\|BUG:' "$DIR/console.log" || fail "guest kernel warned or oopsed"
echo "ok"
