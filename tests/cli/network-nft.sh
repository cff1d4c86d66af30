#!/usr/bin/env bash
# Issue 10, finding 9: each network's nftables rules live in a table of its
# own, named by the network's UUID, so bridges whose names differ only in
# punctuation (br-1, br_1) no longer share one table (where starting one
# replaced the other's rules and destroying one removed both); and the table
# is of the inet family, so an isolated network stops IPv6 as well as IPv4.
# Runs in network and mount namespaces of its own, as network.sh does.
if [ -z "${TVM_IN_NETNS:-}" ]; then
    probe='mount --make-rprivate / && mount -t sysfs none /sys &&
        ip link add tvmprobe0 type bridge && nft add table inet tvmprobe'
    if [ "$(id -u)" -ne 0 ] || ! unshare --net --mount sh -c "$probe" >/dev/null 2>&1; then
        echo "network-nft: needs root, network namespaces, bridges and nftables; skipped"
        exit 77
    fi
    exec unshare --net --mount -- env TVM_IN_NETNS=1 bash -c \
        'mount --make-rprivate / && mount -t sysfs none /sys && exec bash "$0"' "$0"
fi
. "$(dirname "$0")/lib.sh"
command -v nft >/dev/null || fail "nft (package nftables) is missing"

# isolated networks: rules only, no address, so no dnsmasq either
for n in 1 2; do
    br=$([ $n = 1 ] && echo br-1 || echo br_1)
    cat >"$tmp/iso$n.xml" <<XML
<network>
  <name>iso$n</name>
  <bridge name='$br'/>
</network>
XML
    ok tvm net-define "$tmp/iso$n.xml"
done

# table_of NAME: the table tvm gives network NAME, tvm_ and its UUID's digits.
table_of() {
    echo "tvm_$("$TVM" --db "$DB" net-info "$1" | awk '/^UUID:/ { gsub("-", "", $2); print $2 }')"
}

ok tvm net-start iso1
ok tvm net-start iso2
nft list ruleset >"$tmp/rules"
grep -q 'oifname "br-1" reject' "$tmp/rules" || fail "iso1's rules went when iso2 started: $(cat "$tmp/rules")"
grep -q 'oifname "br_1" reject' "$tmp/rules" || fail "iso2 has no rules: $(cat "$tmp/rules")"
for n in iso1 iso2; do
    t=$(table_of $n)
    [ "$t" != tvm_ ] || fail "no uuid for $n"
    nft list table inet "$t" >"$tmp/t" 2>&1 || fail "no table 'inet $t' for $n: $(cat "$tmp/rules")"
done
! grep -q '^table ip ' "$tmp/rules" || fail "an IPv4-only table (IPv6 unfiltered): $(cat "$tmp/rules")"

ok tvm net-destroy iso2
nft list ruleset >"$tmp/rules"
grep -q 'oifname "br-1" reject' "$tmp/rules" || fail "destroying iso2 took iso1's rules: $(cat "$tmp/rules")"
! nft list table inet "$(table_of iso2)" >/dev/null 2>&1 || fail "iso2's table left after net-destroy"
ok tvm net-destroy iso1
nft list ruleset >"$tmp/rules"
! grep -q 'tvm_' "$tmp/rules" || fail "tables left after net-destroy: $(cat "$tmp/rules")"
echo "network-nft: ok"
