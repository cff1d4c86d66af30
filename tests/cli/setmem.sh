#!/usr/bin/env bash
# setmem on a shut-off domain (virsh semantics: the stored <currentMemory>,
# KiB by default or a scaled size, bounded by <memory>, refusals change
# nothing), --live refused while it is not running, and dommemstat --period
# --config writing <memballoon><stats period/>.
. "$(dirname "$0")/lib.sh"

cur() { tvm dumpxml rng-balloon | sed -n 's:.*<currentMemory unit=.KiB.>\(.*\)</currentMemory>.*:\1:p'; }

ok tvm define "$DATA/domain/rng-balloon.xml"
[ "$(cur)" = 524288 ] || fail "currentMemory before: '$(cur)'"

# Plain number: KiB. Shut off, so --current means --config.
ok tvm setmem rng-balloon 262144
out_is ""
[ "$(cur)" = 262144 ] || fail "setmem 262144: currentMemory '$(cur)'"
ok tvm dominfo rng-balloon
out_has "Used memory:    262144 KiB"
out_has "Max memory:     524288 KiB"

# Scaled sizes, --size, and --config spelled out.
ok tvm setmem rng-balloon 384M --config
[ "$(cur)" = 393216 ] || fail "setmem 384M: currentMemory '$(cur)'"
ok tvm setmem rng-balloon --size 500MB --config
[ "$(cur)" = 488282 ] || fail "setmem 500MB (5*10^8 bytes, rounded up to KiB): '$(cur)'"
ok tvm setmem rng-balloon 512MiB
[ "$(cur)" = 524288 ] || fail "setmem 512MiB: currentMemory '$(cur)'"
ok tvm setmem rng-balloon 300000
ok tvm events --domain rng-balloon
out_has "currentMemory 300000 KiB"

# Refusals, each changing nothing.
before=$(tvm dumpxml rng-balloon)
run 1 tvm setmem rng-balloon 524289
err_has "cannot set memory higher than max memory"
run 1 tvm setmem rng-balloon 1G
err_has "cannot set memory higher than max memory"
run 1 tvm setmem rng-balloon 0
err_has "memory must not be zero"
run 1 tvm setmem rng-balloon 12XB
err_has "Scaled numeric value '12XB' for <size> option is malformed"
run 1 tvm setmem rng-balloon -5
err_has "malformed"
run 1 tvm setmem rng-balloon 256M --live
err_has "domain is not running"
run 2 tvm setmem rng-balloon 256M --live --current
err_has "mutually exclusive"
run 2 tvm setmem rng-balloon
err_has "command 'setmem' requires --size option"
run 1 tvm setmem nosuch 256M
err_has "nosuch"
[ "$(tvm dumpxml rng-balloon)" = "$before" ] || fail "a refused setmem changed the definition"

# A batch stops at the refused line, and the line before it is kept.
printf 'setmem rng-balloon 400000\nsetmem rng-balloon 9G\nsetmem rng-balloon 100000\n' >"$tmp/b.tvm"
run 1 tvm --batch "$tmp/b.tvm"
err_has "b.tvm:2: "
[ "$(cur)" = 400000 ] || fail "batch: currentMemory '$(cur)', want 400000"

# dommemstat: a shut-off domain has no live figures; --period --config is stored.
run 1 tvm dommemstat rng-balloon
err_has "domain is not running"
ok tvm dommemstat rng-balloon --period 7 --config
out_is ""
tvm dumpxml rng-balloon | grep -q "<stats period=\"7\"/>\|<stats period='7'/>" ||
    fail "no <stats period='7'/> after dommemstat --period 7 --config"
ok tvm dommemstat rng-balloon --period 0
tvm dumpxml rng-balloon | grep -q "<stats" && fail "period 0 left a <stats> element"
run 1 tvm dommemstat rng-balloon --period -1
err_has "Invalid collection period value '-1'"
run 1 tvm dommemstat rng-balloon --period 3 --live
err_has "domain is not running"

# A domain without a balloon has no stats period to set.
ok tvm define "$DATA/domain/minimal.xml"
name=$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$DATA/domain/minimal.xml" | head -1)
run 1 tvm dommemstat "$name" --period 5 --config
err_has "has no virtio memballoon"

ok tvm help setmem
out_has "setmem DOMAIN SIZE"
echo "setmem: ok"
