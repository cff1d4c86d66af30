# domblklist and domiflist against libvirt itself: for every corpus domain,
# tvm's tables must match what `virsh -c test:///default` prints for the
# same file. Allowed differences: libvirt sorts disks by bus and target
# (compared as sets), its test driver names every interface "testnetN"
# (the Interface column is not compared), and MACs the file leaves out are
# random on both sides.
source "$(dirname "$0")/lib.sh"
# virsh is the oracle here; scripts/install-deps.sh installs it, so its absence
# is a failure, never a pass.
command -v virsh >/dev/null || fail "virsh (package libvirt-clients) is missing: run scripts/install-deps.sh"

# blk FILE: the table rows (no header, rule or blank line), blanks squeezed, sorted.
blk() {
    tail -n +3 "$1" | sed -E '/^$/d; s/  +/ /g' | sort
}
# ifl FILE MACS_FIXED: rows with the Interface column blanked, MACs too unless fixed.
ifl() {
    tail -n +3 "$1" | sed -E '/^$/d; s/  +/ /g; s/^ [^ ]+ / X /' |
        if [ "$2" = yes ]; then cat; else sed -E 's/ [0-9a-f:]{17}$/ MAC/'; fi
}

n=0
for f in "$DATA"/domain/*.xml; do
    name=$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$f" | head -1)
    ok tvm define "$f"
    tvm domblklist "$name" --details >"$tmp/t-blk"
    tvm domiflist "$name" >"$tmp/t-if"
    virsh -c test:///default "define $f; domblklist $name --details" 2>/dev/null |
        tail -n +3 >"$tmp/v-blk"
    virsh -c test:///default "define $f; domiflist $name" 2>/dev/null | tail -n +3 >"$tmp/v-if"
    head -2 "$tmp/t-blk" | sed -E 's/-+$/-/' >"$tmp/t-head"
    head -2 "$tmp/v-blk" | sed -E 's/-+$/-/' >"$tmp/v-head"
    cmp -s "$tmp/t-head" "$tmp/v-head" || fail "$name: domblklist header differs"
    [ "$(blk "$tmp/t-blk")" = "$(blk "$tmp/v-blk")" ] ||
        fail "$name: domblklist differs from virsh:"$'\n'"$(cat "$tmp/t-blk")"$'\n'"virsh:"$'\n'"$(cat "$tmp/v-blk")"
    nics=$(grep -c '<interface' "$f" || true)
    macs=$(grep -c '<mac address' "$f" || true)
    fixed=no
    [ "$nics" -eq "$macs" ] && fixed=yes
    [ "$(ifl "$tmp/t-if" $fixed)" = "$(ifl "$tmp/v-if" $fixed)" ] ||
        fail "$name: domiflist differs from virsh:"$'\n'"$(cat "$tmp/t-if")"$'\n'"virsh:"$'\n'"$(cat "$tmp/v-if")"
    n=$((n + 1))
done
[ "$n" -ge 10 ] || fail "only $n corpus domains compared"
run 1 tvm domblklist nosuch
err_has "domain 'nosuch' not found"
echo "devlists: ok ($n domains agree with virsh)"
