# edit with scripted editors: a valid change lands, an unchanged file says
# so, an invalid or uuid-changing edit is refused (non-interactive) and the
# store keeps the old definition; interactively, virsh's "Try again?" prompt.
source "$(dirname "$0")/lib.sh"

ok tvm define "$DATA/domain/minimal.xml"
dom=$(names)

# A valid change: set the vcpu count to 3.
cat >"$tmp/ed-vcpu.sh" <<'SH'
sed -i -e 's:<vcpu\([^>]*\)>[0-9]*</vcpu>:<vcpu\1>3</vcpu>:' -e 's: current=.[0-9]*.::' "$1"
SH
EDITOR="sh $tmp/ed-vcpu.sh" ok tvm edit "$dom"
out_is "Domain '$dom' XML configuration edited."$'\n'
ok tvm dominfo "$dom"
out_has "CPU(s):         3"
tvm dumpxml "$dom" >"$tmp/good.xml"
grep -q ">3</vcpu>" "$tmp/good.xml" || fail "dumpxml lacks the edited vcpu"
ok tvm events --domain "$dom"
out_has "updated edited"

# VISUAL wins over EDITOR; an untouched file is "not changed".
VISUAL=true EDITOR=false ok tvm edit "$dom"
out_is "Domain '$dom' XML configuration not changed."$'\n'

# Invalid XML, not interactive: the parser's error, nothing changed.
cat >"$tmp/ed-break.sh" <<'SH'
sed -i 's:</name>:</nam>:' "$1"
SH
EDITOR="sh $tmp/ed-break.sh" run 1 tvm edit "$dom" </dev/null
grep -qE "^tvm: .*tvm-edit-[^:]*\.xml:[0-9]+: " "$tmp/err" || fail "no FILE:LINE: $(cat "$tmp/err")"
tvm dumpxml "$dom" | cmp -s - "$tmp/good.xml" || fail "an invalid edit changed the domain"

# The uuid is the key: changing it is refused.
cat >"$tmp/ed-uuid.sh" <<'SH'
sed -i 's:<uuid>[^<]*</uuid>:<uuid>0f0f0f0f-1111-2222-3333-444444444444</uuid>:' "$1"
SH
EDITOR="sh $tmp/ed-uuid.sh" run 1 tvm edit "$dom" </dev/null
err_has "the uuid cannot be changed"
tvm dumpxml "$dom" | cmp -s - "$tmp/good.xml" || fail "a uuid edit changed the domain"

# A guest tvm-vmm cannot run is refused as define refuses it.
cat >"$tmp/ed-arch.sh" <<'SH'
sed -i "s:arch='[a-z0-9_]*'>hvm:arch='sparc'>hvm:" "$1"
SH
EDITOR="sh $tmp/ed-arch.sh" run 1 tvm edit "$dom" </dev/null
err_has "<type arch>: tvm-vmm runs x86_64 and i686 guests, not arch 'sparc'"
tvm dumpxml "$dom" | cmp -s - "$tmp/good.xml" || fail "an edit to arch sparc changed the domain"

# A failing editor changes nothing.
EDITOR="sh -c 'exit 3'" run 1 tvm edit "$dom"
err_has "failed with exit status 3"
tvm dumpxml "$dom" | cmp -s - "$tmp/good.xml" || fail "a failed editor changed the domain"

# Interactive (a pseudo-terminal from script(1)): the prompt, '?' help,
# 'n' aborts; then 'y' re-runs the editor, which fixes the file this time.
if command -v script >/dev/null && script -qec true /dev/null >/dev/null 2>&1; then
    printf '?\nn\n' | EDITOR="sh $tmp/ed-break.sh" script -qec "$TVM --db $DB edit $dom" /dev/null \
        >"$tmp/out" 2>&1 && fail "interactive edit answered 'n' succeeded"
    out_has "Failed. Try again? [y,n,i,f,?]:"
    out_has "n - abort"
    tvm dumpxml "$dom" | cmp -s - "$tmp/good.xml" || fail "an aborted edit changed the domain"

    # 'y': edited again; the second pass restores the tag and adds a title.
    cat >"$tmp/ed-twice.sh" <<SH
if [ -e "$tmp/second-time" ]; then
    sed -i -e 's:</nam>:</name>:' -e 's:</name>:</name><title>after retry</title>:' "\$1"
else
    touch "$tmp/second-time"
    sed -i 's:</name>:</nam>:' "\$1"
fi
SH
    printf 'y\n' | EDITOR="sh $tmp/ed-twice.sh" script -qec "$TVM --db $DB edit $dom" /dev/null \
        >"$tmp/out" 2>&1 || fail "interactive edit with 'y' failed: $(cat "$tmp/out")"
    out_has "Failed. Try again?"
    out_has "XML configuration edited."
    ok tvm desc "$dom" --title
    out_is "after retry"$'\n'
fi
# In a batch read from stdin the editor does not get the script as its input.
cat >"$tmp/ed-stdin.sh" <<SH
readlink /proc/self/fd/0 >"$tmp/editor-stdin"
sed -i 's:</name>:</name><title>from batch</title>:' "\$1"
SH
printf 'edit %s\ndesc %s --title --new-desc after\n' "$dom" "$dom" |
    EDITOR="sh $tmp/ed-stdin.sh" run 0 "$TVM" --db "$DB" --batch -
out_has "XML configuration edited."
out_has "Domain title updated successfully"
! grep -q '^pipe:' "$tmp/editor-stdin" || fail "the editor's stdin was the batch script"

# net-edit and pool-edit share the loop.
ok tvm net-define "$DATA/network/nat.xml"
net=$(tvm net-list --all --name | sed '/^$/d')
cat >"$tmp/ed-bridge.sh" <<'SH'
sed -i "s:<bridge name=.[^'\"]*.:<bridge name='tvmedit0':" "$1"
SH
EDITOR="sh $tmp/ed-bridge.sh" ok tvm net-edit "$net"
out_is "Network $net XML configuration edited."$'\n'
ok tvm net-info "$net"
out_has "Bridge:         tvmedit0"
EDITOR=true ok tvm net-edit "$net"
out_is "Network $net XML configuration not changed."$'\n'
tvm net-dumpxml "$net" >"$tmp/net-good.xml"
EDITOR="sh $tmp/ed-break.sh" run 1 tvm net-edit "$net" </dev/null
tvm net-dumpxml "$net" | cmp -s - "$tmp/net-good.xml" || fail "an invalid net-edit changed the network"

ok tvm pool-define "$DATA/pool/dir.xml"
pool=$(tvm pool-list --all --name | awk 'NF { print $1 }') # virsh pads these names
cat >"$tmp/ed-path.sh" <<'SH'
sed -i "s:<path>[^<]*</path>:<path>/srv/tvm-edited</path>:" "$1"
SH
EDITOR="sh $tmp/ed-path.sh" ok tvm pool-edit "$pool"
out_is "Pool $pool XML configuration edited."$'\n'
tvm pool-dumpxml "$pool" | grep -q "<path>/srv/tvm-edited</path>" || fail "pool-edit not applied"
EDITOR="sh $tmp/ed-uuid.sh" run 1 tvm pool-edit "$pool" </dev/null
err_has "the uuid cannot be changed"
echo "edit: ok"
