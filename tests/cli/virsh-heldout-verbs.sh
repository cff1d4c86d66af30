# Held-out comparison with virsh, command by command: the lists in
# virsh-heldout/*.cmds (one per kind of object: domains, networks, pools and
# volumes, errors) hold virsh commands, read-only and writing, run once
# through one `virsh -c test:///default` session and once through tvm (one
# one-shot command each, on one inventory), starting from the same objects
# (the test driver's domain 'test' shut off, its network 'default' inactive,
# its pool 'default-pool' running; tvm's pool is a dir pool under $tmp).
#
# Each command's output is compared: a *dumpxml verb's document after
# xmllint --c14n (quoting and attribute order only); when either side
# fails, the error lines only (virsh's "error: " is tvm's "tvm: ", and tvm's
# exit codes differ, both in tvm(1) COMPATIBILITY). Every differing line is
# printed; it passes only when an entry of virsh-heldout-verbs.allow names it
# with the reason tvm is right to differ, and an entry that matches nothing
# fails, so the list cannot go stale.
#
# A line starting with '!' runs in a virsh of its own: virsh parses a whole
# command string before it runs any of it, so a usage error would stop the
# session. $DATA is tests/data/xml, $SCRATCH the test's directory, $POOL
# the test driver's pool directory (/default-pool) for virsh and tvm's
# equivalent for tvm: a directory of the same length (/tmp/tvmXXXXX), so that
# columns sized by a path keep their widths once the '~' entry of the
# allow-list has put /default-pool in its place.
source "$(dirname "$0")/lib.sh"
command -v virsh >/dev/null || fail "virsh (package libvirt-clients) is missing: run scripts/install-deps.sh"
command -v xmllint >/dev/null || fail "xmllint (package libxml2-utils) is missing: run scripts/install-deps.sh"
here="$TVM_SRC/tests/cli"
allow="$here/virsh-heldout-verbs.allow"
defects="$here/virsh-heldout-verbs.defects"
virsh_pool=/default-pool
pool_dir=$(mktemp -d /tmp/tvmXXXXX)
trap 'rm -rf "$tmp" "$pool_dir"' EXIT
[ ${#pool_dir} -eq ${#virsh_pool} ] || fail "$pool_dir is not as long as $virsh_pool"
: >"$tmp/used"
: >"$tmp/used-defects"
bad_lines=0 defect_lines=0

# allowed KIND VERB SIDE LINE [LIST]: whether an entry of LIST (the
# allow-list) lets LINE differ; marks the entry used
allowed() {
    local kind=$1 verb=$2 side=$3 line=$4 list=${5:-$allow} n=0 k v s re why used
    used=$tmp/used
    [ "$list" = "$allow" ] || used=$tmp/used-defects
    while IFS=$'\t' read -r k v s re why; do
        n=$((n + 1))
        case $k in '' | '#'*) continue ;; esac
        [ "$k" = "*" ] || [ "$k" = "$kind" ] || continue
        [[ $verb == $v ]] || continue
        [[ $side == $s ]] || continue
        if [[ $line =~ ^($re)$ ]]; then
            echo "$n" >>"$used"
            return 0
        fi
    done <"$list"
    return 1
}

# The allow-list's '~' entries, once: "LINE-NUMBER KIND VERB FROM=TO" each
subst=()
n=0
while IFS=$'\t' read -r k v s re why; do
    n=$((n + 1))
    case $k in '' | '#'*) continue ;; esac
    [ "$s" = "~" ] && subst+=("$n"$'\x1f'"$k"$'\x1f'"$v"$'\x1f'"${re//\$POOL/$pool_dir}")
done <"$allow"

# normalise KIND VERB FILE...: applies the '~' entries (a Perl substitution
# FROM=TO on each line; $POOL in FROM is tvm's pool directory) whose kind and
# verb fit to the outputs in FILE...; marks the entries that changed something
normalise() {
    local kind=$1 verb=$2 e k v fit=()
    shift 2
    for e in "${subst[@]}"; do
        IFS=$'\x1f' read -r n k v _ <<<"$e"
        { [ "$k" = "*" ] || [ "$k" = "$kind" ]; } && [[ $verb == $v ]] && fit+=("$e")
    done
    [ ${#fit[@]} -gt 0 ] || return 0
    SUBST=$(printf '%s\n' "${fit[@]}") perl -i -ne '
        BEGIN { @s = map { [split /\x1f/] } split /\n/, $ENV{SUBST} }
        for my $e (@s) {
            my ($n, $from, $to) = ($e->[0], split(/=/, $e->[3], 2));
            $used{$n} = 1 if s/$from/"\"$to\""/gee;
        }
        print;
        END { print STDERR "$_\n" for keys %used }' "$@" 2>>"$tmp/used"
}

# setup_tvm: a fresh inventory with the objects the test driver starts with
setup_tvm() {
    rm -rf "$DB" "$tmp/p-"* "${pool_dir:?}"/*
    tvm define "$DATA/domain/virsh-test.xml" >/dev/null
    tvm net-define "$DATA/network/virsh-default.xml" >/dev/null
    sed "s:<path>/default-pool</path>:<path>$pool_dir</path>:" \
        "$DATA/pool/virsh-default-pool.xml" >"$tmp/default-pool.xml"
    tvm pool-create "$tmp/default-pool.xml" >/dev/null
}
virsh_prologue="destroy test; net-destroy default; "

# expand LINE POOL: the command with $DATA, $SCRATCH and $POOL put in
expand() {
    local l=${1//\$DATA/$DATA}
    l=${l//\$POOL/$2}
    echo "${l//\$SCRATCH/$tmp}"
}

# compare KIND N COMMAND V-OUT T-OUT T-RC: prints and counts the unexplained
# differing lines of one command
compare() {
    local kind=$1 n=$2 cmd=$3 v=$4 t=$5 t_rc=$6 verb a=$tmp/a b=$tmp/b side line d
    verb=${cmd#!}
    verb=${verb%% *}
    if grep -q "^error: " "$v" "$t" || [ "$t_rc" -ne 0 ]; then
        { grep "^error: " "$v" || echo "(succeeded)"; } >"$a"
        { grep "^error: " "$t" || echo "(succeeded)"; } >"$b"
    elif [[ $verb == *dumpxml ]]; then
        xmllint --c14n "$v" >"$a" 2>/dev/null || cp "$v" "$a"
        xmllint --c14n "$t" >"$b" 2>/dev/null || cp "$t" "$b"
    else
        cp "$v" "$a"
        cp "$t" "$b"
    fi
    if cmp -s "$a" "$b"; then
        same[$kind]=$((${same[$kind]:-0} + 1))
        return
    fi
    differing[$kind]=$((${differing[$kind]:-0} + 1))
    while IFS= read -r d; do
        side=${d:0:1} line=${d:2}
        allowed "$kind" "$verb" "$side" "$line" && continue
        if allowed "$kind" "$verb" "$side" "$line" "$defects"; then
            defect_lines=$((defect_lines + 1))
            continue
        fi
        bad_lines=$((bad_lines + 1))
        echo "$kind:$n [$cmd] $side $line"
    done < <(diff "$a" "$b" | grep '^[<>]' | sed -e 's/^</-/' -e 's/^>/+/')
}

# side_xml POOL: documents with a disk in POOL (a qcow2 volume that tvm
# snapshots for real), written for each side just before it runs, under one
# path, so that both print the same file names
side_xml() {
    sed -e 's|<name>minimal</name>|<name>snap</name>|' -e 's|f806f3295e6b|f806f3295e00|' \
        -e "s|<devices>|&<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$1/snap.qcow2'/><target dev='vda' bus='virtio'/></disk>|" \
        "$DATA/domain/minimal.xml" >"$tmp/snap.xml"
}

declare -A same differing count
for list in "$here"/virsh-heldout/*.cmds; do
    kind=$(basename "$list" .cmds)
    mapfile -t cmds < <(grep -v -e '^#' -e '^$' "$list")
    count[$kind]=${#cmds[@]}
    # virsh: one session for the list, each '!' line a session of its own
    script=$virsh_prologue
    for i in "${!cmds[@]}"; do
        [[ ${cmds[$i]} == '!'* ]] && continue
        script+="echo @@$i; $(expand "${cmds[$i]}" "$virsh_pool"); "
    done
    rm -rf "$tmp/v" "$tmp/t" && mkdir -p "$tmp/v" "$tmp/t"
    side_xml "$virsh_pool"
    stdbuf -oL -eL virsh -c test:///default "$script" >"$tmp/v.out" 2>&1 || true
    awk -v dir="$tmp/v" '/^@@[0-9]+$/ { f = dir "/" substr($0, 3); printf "" >f; next } f { print >f }' "$tmp/v.out"
    for i in "${!cmds[@]}"; do
        [[ ${cmds[$i]} == '!'* ]] || continue
        stdbuf -oL -eL virsh -c test:///default "$(expand "${cmds[$i]#!}" "$virsh_pool")" >"$tmp/v/$i" 2>&1 || true
    done
    # tvm: one command a process, on one inventory
    setup_tvm
    side_xml "$pool_dir"
    for i in "${!cmds[@]}"; do
        line=$(expand "${cmds[$i]#!}" "$pool_dir")
        eval "set -- $line"
        rc=0
        tvm "$@" >"$tmp/t/$i" 2>"$tmp/t/$i.err" </dev/null || rc=$?
        sed 's/^tvm: /error: /' "$tmp/t/$i.err" >>"$tmp/t/$i"
        verb=${cmds[$i]#!}
        [ -e "$tmp/v/$i" ] || echo "(virsh did not run it)" >"$tmp/v/$i"
        normalise "$kind" "${verb%% *}" "$tmp/t/$i" "$tmp/v/$i"
        compare "$kind" "$((i + 1))" "${cmds[$i]}" "$tmp/v/$i" "$tmp/t/$i" "$rc"
    done
done

# entries that matched nothing are stale: a fixed defect leaves its list
for list in "$allow" "$defects"; do
    used=$tmp/used
    [ "$list" = "$allow" ] || used=$tmp/used-defects
    n=0
    while IFS= read -r entry; do
        n=$((n + 1))
        case $entry in '' | '#'*) continue ;; esac
        if ! grep -qx "$n" "$used"; then
            echo "$(basename "$list"):$n matches no difference any more: $entry"
            bad_lines=$((bad_lines + 1))
        fi
    done <"$list"
done

total=0
for kind in "${!count[@]}"; do
    total=$((total + count[$kind]))
    echo "  $kind: ${count[$kind]} commands, ${same[$kind]:-0} identical, ${differing[$kind]:-0} differing"
done
echo "virsh-heldout-verbs: $total commands, $defect_lines differing lines of known defects (virsh-heldout-verbs.defects), $bad_lines unexplained"
[ "$bad_lines" -eq 0 ] || fail "tvm differs from virsh (- virsh, + tvm), see above"
