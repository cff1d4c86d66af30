# Every corpus document through the real binary: define it, dump it, check
# the dump against libvirt's schema and its values against the input -- for
# domains, against what libvirt itself (virsh's test driver) makes of the
# same file, so units and defaults are normalised the way virsh does.
source "$(dirname "$0")/lib.sh"

# xp FILE XPATH: the string value of XPATH in FILE ("" when absent). An
# XPath xmllint cannot evaluate (a typo) fails the test: it would make
# both sides of a comparison "" and agree.
xp() {
    local v
    v=$(xmllint --xpath "string($2)" "$1" 2>"$tmp/xp.err") ||
        fail "xmllint cannot evaluate XPath '$2' on $1: $(cat "$tmp/xp.err")"
    printf '%s\n' "$v"
}

# vals FILE XPATH...: the string values of all XPATHs, in array VALS, from
# one xmllint run (a fork per value makes this test crawl). A failed
# evaluation or a wrong number of values fails the test.
vals() {
    local f=$1 expr="concat(''" x out
    shift
    for x in "$@"; do
        expr+=", string($x), '@@'"
    done
    out=$(xmllint --xpath "$expr)" "$f" 2>"$tmp/xp.err") ||
        fail "xmllint cannot evaluate the XPaths on $f ($*): $(cat "$tmp/xp.err")"
    mapfile -d '' VALS < <(printf '%s' "$out" | sed 's/@@/\x00/g')
    [ "${#VALS[@]}" -eq $# ] || fail "$f: ${#VALS[@]} values for $# XPaths"
}

# Every XPath compared must find a value in at least one document of the
# corpus (checked at the end): an XPath that is "" everywhere compares
# nothing, whether by a typo or a corpus that lacks the element.
declare -A XP_USED=() XP_FOUND=()
xp_note() { # XPATH VALUE
    local k=${1//\[[0-9]\]/[N]}
    XP_USED[$k]=1
    [ -z "$2" ] || XP_FOUND[$k]=1
}
xp_coverage() {
    local k missing=()
    for k in "${!XP_USED[@]}"; do
        [ -n "${XP_FOUND[$k]:-}" ] || missing+=("$k")
    done
    [ ${#missing[@]} -eq 0 ] || fail "XPaths empty in every corpus document (typo, or the corpus lacks them): ${missing[*]}"
}

# agree WHAT A B XPATH...: each XPATH has the same value in files A and B.
agree() {
    local what=$1 a=$2 b=$3 i=0 x
    shift 3
    vals "$a" "$@"
    local -a va=("${VALS[@]}")
    vals "$b" "$@"
    for x in "$@"; do
        same "$what $x" "${va[i]}" "${VALS[i]}"
        xp_note "$x" "${va[i]}"
        i=$((i + 1))
    done
}

# same WHAT A B: two values must agree.
same() {
    [ "$2" = "$3" ] || fail "$1: '$2' != '$3'"
}

valid() { # FILE SCHEMA
    virt-xml-validate "$1" "$2" >"$tmp/validate" 2>&1 ||
        fail "$1 does not validate as $2: $(cat "$tmp/validate")"$'\n'"$(cat "$1")"
}

# ---- domains ----
ndom=0
for f in "$DATA"/domain/*.xml; do
    name=$(xp "$f" /domain/name)
    ok tvm define "$f"
    out_has "Domain '$name' defined from $f"
    tvm dumpxml "$name" >"$tmp/dom.xml"
    valid "$tmp/dom.xml" domain
    head -c 5 "$tmp/dom.xml" | grep -q '^<?xml' && fail "$name: dumpxml has an XML declaration"

    virsh -q -c test:///default "define $f; dumpxml --inactive $name" >"$tmp/virsh.xml" ||
        fail "virsh could not define $f"
    agree "$name" "$tmp/dom.xml" "$tmp/virsh.xml" /domain/name /domain/@type /domain/memory \
        /domain/memory/@unit /domain/currentMemory /domain/maxMemory /domain/maxMemory/@slots \
        /domain/vcpu /domain/vcpu/@current /domain/vcpu/@placement /domain/title \
        /domain/description /domain/cpu/@mode /domain/cpu/model /domain/cpu/topology/@cores \
        /domain/os/type /domain/os/kernel /domain/os/initrd /domain/os/cmdline \
        /domain/on_poweroff /domain/on_reboot /domain/on_crash /domain/clock/@offset \
        "count(/domain/devices/disk)" "count(/domain/devices/interface)" \
        "count(/domain/devices/graphics)" "count(/domain/devices/channel)" \
        "count(/domain/devices/rng)" "count(/domain/devices/serial)" \
        /domain/devices/serial/target/@port /domain/devices/console/target/@type \
        /domain/devices/graphics/@autoport /domain/devices/graphics/@port \
        /domain/devices/graphics/listen/@address \
        "sum(/domain/devices/controller[@type='usb']/@index)" \
        "count(/domain/devices/disk[@device='disk'])" \
        "count(/domain/devices/disk/target[@bus='virtio'])"
    # What the input fixed stays fixed; what it left out was generated.
    uuid=$(xp "$tmp/dom.xml" /domain/uuid)
    if grep -q '<uuid>' "$f"; then
        same "$name uuid" "$uuid" "$(xp "$tmp/virsh.xml" /domain/uuid)"
    else
        [[ $uuid =~ ^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$ ]] ||
            fail "$name: generated uuid '$uuid'"
    fi
    nnic=$(xp "$tmp/dom.xml" "count(/domain/devices/interface)")
    for ((i = 1; i <= nnic; i++)); do
        mac=$(xp "$tmp/dom.xml" "/domain/devices/interface[$i]/mac/@address")
        want=$(xp "$f" "/domain/devices/interface[$i]/mac/@address")
        if [ -n "$want" ]; then
            same "$name nic $i mac" "$mac" "${want,,}"
        else
            [[ $mac =~ ^52:54:00(:[0-9a-f]{2}){3}$ ]] || fail "$name: generated MAC '$mac'"
        fi
    done
    ndisk=$(xp "$tmp/dom.xml" "count(/domain/devices/disk)")
    paths=()
    for ((i = 1; i <= ndisk; i++)); do
        for x in source/@file source/@dev target/@dev target/@bus driver/@cache serial \
            boot/@order; do
            paths+=("/domain/devices/disk[$i]/$x")
        done
        for x in readonly shareable; do
            paths+=("count(/domain/devices/disk[$i]/$x)")
        done
    done
    # disks in libvirt's order (grouped by bus): compared with virsh's dump
    [ "${#paths[@]}" -eq 0 ] || agree "$name" "$tmp/dom.xml" "$tmp/virsh.xml" "${paths[@]}"
    paths=()
    for ((i = 1; i <= nnic; i++)); do
        for x in @type "source/@*[1]" model/@type link/@state; do
            paths+=("/domain/devices/interface[$i]/$x")
        done
        # a tap name is kept unless it has one of libvirt's own prefixes
        want=$(xp "$f" "/domain/devices/interface[$i]/target/@dev")
        [[ $want =~ ^(vnet|macvtap|macvlan) ]] && want=
        same "$name nic $i target" "$(xp "$tmp/dom.xml" "/domain/devices/interface[$i]/target/@dev")" "$want"
    done
    [ "${#paths[@]}" -eq 0 ] || agree "$name" "$tmp/dom.xml" "$f" "${paths[@]}"

    # The dump is a fixed point: defining it again changes nothing.
    ok tvm define "$tmp/dom.xml"
    tvm dumpxml "$name" >"$tmp/dom2.xml"
    cmp -s "$tmp/dom.xml" "$tmp/dom2.xml" || fail "$name: dumpxml changed after re-define: $(diff "$tmp/dom.xml" "$tmp/dom2.xml")"
    ndom=$((ndom + 1))
done
[ "$ndom" -ge 30 ] || fail "only $ndom domain files"

# Unknown XML survives define/dumpxml byte for byte (the file is in normal
# form); dumpxml ends with a blank line, as virsh's does.
tvm dumpxml keeper >"$tmp/keeper.xml"
[ "$(tail -c 2 "$tmp/keeper.xml" | od -An -c | tr -d ' ')" = '\n\n' ] ||
    fail "dumpxml does not end with a blank line"
sed -i '$ {/^$/d}' "$tmp/keeper.xml"
cmp -s "$tmp/keeper.xml" "$DATA/domain/hand-unknown.xml" ||
    fail "hand-unknown.xml changed: $(diff "$tmp/keeper.xml" "$DATA/domain/hand-unknown.xml")"

# Bad input names file, line and element, and changes nothing.
printf '<domain type="kvm">\n  <name>broken</name>\n  <memory unit="XB">1</memory>\n</domain>\n' >"$tmp/bad.xml"
run 1 tvm define "$tmp/bad.xml"
err_has "bad.xml:3: <memory>: unknown unit 'XB'"
run 1 tvm dumpxml broken

# ---- networks, pools, volumes ----
for f in "$DATA"/network/*.xml; do
    name=$(xp "$f" /network/name)
    ok tvm net-define "$f"
    tvm net-dumpxml "$name" >"$tmp/net.xml"
    valid "$tmp/net.xml" network
    agree "network $name" "$tmp/net.xml" "$f" /network/name /network/uuid /network/bridge/@name \
        /network/bridge/@stp /network/forward/@mode /network/forward/nat/port/@start \
        /network/mac/@address /network/domain/@name "count(/network/ip)" /network/ip/@address \
        /network/ip/@prefix /network/ip/@netmask /network/ip/dhcp/range/@start "count(//host)"
done

for f in "$DATA"/pool/*.xml; do
    name=$(xp "$f" /pool/name)
    ok tvm pool-define "$f"
    tvm pool-dumpxml "$name" >"$tmp/pool.xml"
    valid "$tmp/pool.xml" storagepool
    agree "pool $name" "$tmp/pool.xml" "$f" /pool/name /pool/uuid /pool/@type /pool/target/path \
        /pool/source/device/@path /pool/source/host/@name /pool/source/dir/@path \
        /pool/source/name /pool/source/format/@type /pool/capacity /pool/available
done

# Volumes are made in a running pool's directory; the corpus names
# /default-pool (virsh's test driver's), so its paths are moved there. The
# base image comes first: the overlay's backing file must exist.
ok tvm pool-create-as images-run dir --target "$tmp/vols" --build
for f in "$DATA"/volume/raw.xml "$DATA"/volume/*.xml; do
    name=$(xp "$f" /volume/name)
    [ -e "$tmp/vols/$name" ] && continue
    sed "s:/default-pool/:$tmp/vols/:g" "$f" >"$tmp/in.xml"
    ok tvm vol-create images-run "$tmp/in.xml"
    tvm vol-dumpxml "$name" --pool images-run >"$tmp/vol.xml"
    valid "$tmp/vol.xml" storagevol
    agree "volume $name" "$tmp/vol.xml" "$tmp/in.xml" /volume/name /volume/capacity \
        /volume/capacity/@unit /volume/target/format/@type /volume/backingStore/path \
        /volume/backingStore/format/@type
    # allocation is what the host holds now; a raw volume holds at least what was asked
    if [ "$(xp "$tmp/in.xml" /volume/target/format/@type)" = raw ]; then
        [ "$(xp "$tmp/vol.xml" /volume/allocation)" -ge "$(xp "$tmp/in.xml" /volume/allocation)" ] ||
            fail "volume $name: allocation $(xp "$tmp/vol.xml" /volume/allocation) below the asked"
    fi
done
# Units converted exactly: 20 G = 20 GiB, in bytes (qcow2: nothing allocated up front).
printf "<volume>\n  <name>sized</name>\n  <capacity unit='G'>20</capacity>\n  <target><format type='qcow2'/></target>\n</volume>\n" >"$tmp/sized.xml"
ok tvm vol-create images-run "$tmp/sized.xml"
tvm vol-dumpxml sized --pool images-run >"$tmp/vol.xml"
same "20G volume" "$(xp "$tmp/vol.xml" /volume/capacity)" 21474836480
same "20G volume unit" "$(xp "$tmp/vol.xml" /volume/capacity/@unit)" bytes
qemu-img info --output json "$tmp/vols/sized" >"$tmp/qi.json" || fail "qemu-img info sized"
grep -q '"virtual-size": 21474836480' "$tmp/qi.json" || fail "qemu-img sees another size: $(cat "$tmp/qi.json")"

# ---- snapshots of the test driver's own domain ----
for f in "$DATA"/snapshot/*.xml; do
    name=$(xp "$f" /domainsnapshot/name)
    if ! grep -q '<creationTime>' "$f"; then # libvirt refuses to redefine it too
        run 1 tvm snapshot-create test "$f" --redefine
        err_has "missing creationTime from existing snapshot"
        continue
    fi
    ok tvm snapshot-create test "$f" --redefine
    tvm snapshot-dumpxml test "$name" >"$tmp/snap.xml"
    valid "$tmp/snap.xml" domainsnapshot
    agree "snapshot $name" "$tmp/snap.xml" "$f" /domainsnapshot/name /domainsnapshot/description \
        /domainsnapshot/state /domainsnapshot/parent/name /domainsnapshot/creationTime \
        /domainsnapshot/memory/@snapshot /domainsnapshot/memory/@file \
        "count(/domainsnapshot/disks/disk)" /domainsnapshot/disks/disk/source/@file \
        /domainsnapshot/domain/uuid
done
xp_coverage
echo "xml-roundtrip: $ndom domains and every network/pool/volume/snapshot file passed"
