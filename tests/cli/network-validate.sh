#!/usr/bin/env bash
# Issue 10, finding 2: every value of a network's XML that reaches
# dnsmasq.conf, an nft command or a command line is checked, at net-define
# (nothing is stored) and again at net-start (a definition stored before the
# check, or edited in the database, starts nothing): host and domain names
# per RFC 1123, interface names as the kernel takes them and without quotes.
# A newline in <domain name> would add any dnsmasq option (dhcp-script= runs
# as root on every lease); a quote in <forward dev> any nft command.
#
# net-start is tried on bad definitions: as root it runs inside network and
# mount namespaces of its own, so that a start the check misses builds its
# bridge and rules there, not on the host.
if [ -z "${TVM_IN_NETNS:-}" ] && [ "$(id -u)" -eq 0 ] &&
    unshare --net --mount true >/dev/null 2>&1; then
    exec unshare --net --mount -- env TVM_IN_NETNS=1 bash -c \
        'mount --make-rprivate / && mount -t sysfs none /sys && exec bash "$0"' "$0"
fi
. "$(dirname "$0")/lib.sh"

cleanup_validate() {
    local f
    for f in "$TVM_RUNDIR"/network/*/dnsmasq.pid; do # what a missed check started
        [ -f "$f" ] && pkill -F "$f" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup_validate EXIT

# net_xml NAME FORWARD BRIDGE DOMAIN HOSTNAME: a NAT network with one <host>.
net_xml() {
    cat <<XML
<network>
  <name>$1</name>
  $2
  <bridge name="$3"/>
  <domain name="$4"/>
  <ip address='192.168.151.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.151.100' end='192.168.151.120'/>
      <host mac='52:54:00:00:00:51' name="$5" ip='192.168.151.51'/>
    </dhcp>
  </ip>
</network>
XML
}

good_fwd="<forward mode='nat' dev='eth0'/>"
nl='&#10;'

# refused WHAT XML...: net-define refuses, naming WHAT, and stores nothing.
refused() {
    local what=$1
    shift
    net_xml "$@" >"$tmp/bad.xml"
    run 1 tvm net-define "$tmp/bad.xml"
    err_has "<$what>"
    ok tvm net-list --all --name
    [ -z "$(sed '/^$/d' "$tmp/out")" ] || fail "a refused net-define stored: $(cat "$tmp/out")"
}

refused "domain name" bad "$good_fwd" tvmbr5 "example.com${nl}dhcp-script=/tmp/evil" fixed
refused "domain name" bad "$good_fwd" tvmbr5 'exa&quot;mple.com' fixed
refused "domain name" bad "$good_fwd" tvmbr5 'under_score.example' fixed
refused "host name" bad "$good_fwd" tvmbr5 example.com "fixed${nl}conf-file=/tmp/evil"
refused "host name" bad "$good_fwd" tvmbr5 example.com 'fixed,set:x'
refused "host name" bad "$good_fwd" tvmbr5 example.com '-leadinghyphen'
refused "host name" bad "$good_fwd" tvmbr5 example.com "$(printf 'a%.0s' {1..64})"
refused "forward dev" bad "<forward mode='nat' dev='eth0\"; flush ruleset; \"'/>" tvmbr5 \
    example.com fixed
refused "forward dev" bad "<forward mode='nat' dev='eth0${nl}x'/>" tvmbr5 example.com fixed
refused "forward dev" bad "<forward mode='nat' dev='much-too-long-ifname'/>" tvmbr5 example.com \
    fixed
refused "bridge name" bad "$good_fwd" 'br&quot;0' example.com fixed
refused "bridge name" bad "$good_fwd" 'br 0' example.com fixed

# The same values are fine where they are fine: dotted host names, digits
# first (RFC 1123), hyphens inside, a trailing dot on the domain.
net_xml good "$good_fwd" tvmbr5 'lab-1.example.com.' '3com-host.lab' >"$tmp/good.xml"
ok tvm net-define "$tmp/good.xml"

# A definition that slipped in before the check (here: written into the
# database directly) is refused at start, before anything is built.
bad_domain=$(printf 'example.com\ndhcp-script=/tmp/evil')
sqlite3 "$DB" "UPDATE networks SET xml = replace(xml, 'lab-1.example.com.', '$bad_domain')
               WHERE name = 'good'"
sqlite3 "$DB" "SELECT xml FROM networks WHERE name = 'good'" | grep -q '^dhcp-script=' ||
    fail "could not plant the bad definition"
run 1 tvm net-start good
err_has "<domain name>"
[ ! -e "$TVM_RUNDIR/network/good" ] || fail "net-start wrote $(ls "$TVM_RUNDIR/network/good")"
! ip link show tvmbr5 >/dev/null 2>&1 || fail "net-start built the bridge"
ok tvm net-list --all
out_has "inactive"

sqlite3 "$DB" <<SQL
UPDATE networks SET xml = replace(replace(xml, '$bad_domain', 'example.com'),
    'dev=''eth0''', 'dev=''eth0&quot;; flush ruleset; &quot;''') WHERE name = 'good';
SQL
sqlite3 "$DB" "SELECT xml FROM networks WHERE name = 'good'" | grep -q 'flush ruleset' ||
    fail "could not plant the bad forward dev"
run 1 tvm net-start good
err_has "<forward dev>"
[ ! -e "$TVM_RUNDIR/network/good" ] || fail "net-start wrote $(ls "$TVM_RUNDIR/network/good")"
echo "network-validate: ok"
