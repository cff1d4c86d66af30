# Held-out comparison with virsh: every domain XML of the corpus
# (tests/data/xml/domain, made by virt-install and virsh on libvirt's test
# driver) and a few documents libvirt refuses are defined in a fresh tvm
# inventory and in `virsh -c test:///default`, then the read-only verbs a
# user looks at are run on both: dumpxml --inactive (both sides put through
# the same canonicaliser, xmllint --c14n, which only unifies quoting and
# attribute order), dominfo, domblklist --details, domiflist and dommemstat.
# A document one side refuses the other must refuse too.
#
# Every differing line is printed. A difference passes only when an entry
# of virsh-heldout.allow names it (verb, side, the line, optionally the XML
# file) with the reason tvm is right to differ; an entry that no longer
# matches anything fails too, so the list cannot go stale.
source "$(dirname "$0")/lib.sh"
command -v virsh >/dev/null || fail "virsh (package libvirt-clients) is missing: run scripts/install-deps.sh"
command -v xmllint >/dev/null || fail "xmllint (package libxml2-utils) is missing: run scripts/install-deps.sh"
allow="$TVM_SRC/tests/cli/virsh-heldout.allow"
verbs=(dumpxml dominfo "domblklist --details" domiflist dommemstat)

# Documents libvirt's test driver refuses: tvm must refuse them as well.
mkdir -p "$tmp/xml"
cp "$DATA"/domain/*.xml "$tmp/xml/"
bad() { # NAME SED-EXPRESSION: a broken copy of minimal.xml
    sed "$2" "$DATA/domain/minimal.xml" >"$tmp/xml/refused-$1.xml"
}
bad video-model 's|<model type="qxl"/>|<model type="nosuch"/>|'
bad no-name '/<name>/d'
bad memory 's|<memory>262144</memory>|<memory>lots</memory>|'
bad boot-dev 's|<boot dev="hd"/>|<boot dev="tape"/>|'
bad domain-type 's|<domain type="test">|<domain type="nosuch">|'
bad lifecycle 's|<clock offset="utc"/>|&<on_reboot>explode</on_reboot>|'
bad not-xml 's|</domain>||'

# canon FILE: dumpxml's document as c14n writes it (unchanged otherwise)
canon() {
    xmllint --c14n "$1" 2>/dev/null || cat "$1"
}

# split OUT DIR: one file per verb from a run with "@@verb" marker lines
split_out() {
    awk -v dir="$2" '/^@@/ { f = dir "/" substr($0, 3); next } f { print >f }' "$1"
}

# allowed FILE VERB SIDE LINE: whether virsh-heldout.allow lets LINE differ;
# marks the entry used in $tmp/used
allowed() {
    local file=$1 verb=$2 side=$3 line=$4 n=0 f v s re why
    while IFS=$'\t' read -r f v s re why; do
        n=$((n + 1))
        case $f in '' | '#'*) continue ;; esac
        [ "$f" = "*" ] || [ "$f" = "$file" ] || continue
        [ "$v" = "$verb" ] && [[ $side == $s ]] || continue
        if [[ $line =~ ^($re)$ ]]; then
            echo "$n" >>"$tmp/used"
            return 0
        fi
    done <"$allow"
    return 1
}

total=0 same=0 allowed_only=0 bad_lines=0 defined=0
declare -A verb_same
: >"$tmp/used"
for x in "$tmp"/xml/*.xml; do
    base=$(basename "$x" .xml)
    name=$(xmllint --xpath 'string(/domain/name)' "$x" 2>/dev/null || true)
    [ -n "$name" ] || name=$base
    total=$((total + 1))
    rm -rf "$tmp/v" "$tmp/t" && mkdir -p "$tmp/v" "$tmp/t"
    # virsh: one session; stderr in the same stream, so each verb's section
    # holds its output or its error. The test driver's own running domain
    # 'test' goes first, so virsh-test.xml is defined fresh, as in tvm.
    script="destroy test; undefine test; echo @@define; define $x; "
    for verb in "${verbs[@]}"; do
        script+="echo @@${verb%% *}; $verb $name; "
    done
    stdbuf -oL -eL virsh -c test:///default "$script" >"$tmp/v.out" 2>&1 || true
    split_out "$tmp/v.out" "$tmp/v"
    if grep -q "^error: " "$tmp/v/define"; then v_def=refused; else v_def=defined; fi
    rm -f "$DB"
    if tvm define "$x" >/dev/null 2>"$tmp/t.err"; then t_def=defined; else t_def=refused; fi
    if [ "$v_def" != "$t_def" ]; then
        echo "$base define: virsh: $v_def, tvm: $t_def: $(cat "$tmp/v/define" "$tmp/t.err" | grep -v '^$' | tr '\n' ' ')"
        bad_lines=$((bad_lines + 1))
        continue
    fi
    if [ "$t_def" = refused ]; then
        same=$((same + 1))
        continue
    fi
    identical=yes only_allowed=yes
    defined=$((defined + 1))
    for verb in "${verbs[@]}"; do
        v=${verb%% *}
        touch "$tmp/v/$v"
        t_rc=0
        # shellcheck disable=SC2086 # the verb's options are words
        tvm $verb "$name" >"$tmp/t/$v" 2>"$tmp/t/$v.err" || t_rc=$?
        v_rc=0
        grep -q "^error: " "$tmp/v/$v" && v_rc=1
        if [ $v_rc -ne 0 ] || [ $t_rc -ne 0 ]; then
            # a failure on either side: the answers are the last error lines
            # (virsh's "error: " is tvm's "tvm: ", see tvm(1) COMPATIBILITY)
            { grep "^error: " "$tmp/v/$v" || echo "(succeeded)"; } | tail -1 |
                sed 's/^error: //' >"$tmp/v/$v.cmp"
            { [ $t_rc -ne 0 ] && tail -1 "$tmp/t/$v.err" || echo "(succeeded)"; } |
                sed 's/^tvm: //' >"$tmp/t/$v.cmp"
        elif [ "$v" = dumpxml ]; then
            canon "$tmp/v/$v" >"$tmp/v/$v.cmp"
            canon "$tmp/t/$v" >"$tmp/t/$v.cmp"
        else
            cp "$tmp/v/$v" "$tmp/v/$v.cmp"
            cp "$tmp/t/$v" "$tmp/t/$v.cmp"
        fi
        a="$tmp/v/$v.cmp" b="$tmp/t/$v.cmp"
        if cmp -s "$a" "$b"; then
            verb_same[$v]=$((${verb_same[$v]:-0} + 1))
            continue
        fi
        identical=no
        while IFS= read -r d; do
            side=${d:0:1} line=${d:2}
            if allowed "$base" "$v" "$side" "$line"; then
                continue
            fi
            only_allowed=no
            bad_lines=$((bad_lines + 1))
            echo "$base $v $side $line"
        done < <(diff "$a" "$b" | grep '^[<>]' | sed -e 's/^</-/' -e 's/^>/+/')
    done
    if [ $identical = yes ]; then
        same=$((same + 1))
    elif [ $only_allowed = yes ]; then
        allowed_only=$((allowed_only + 1))
    fi
done

# entries that matched nothing are stale
n=0
while IFS= read -r entry; do
    n=$((n + 1))
    case $entry in '' | '#'*) continue ;; esac
    if ! grep -qx "$n" "$tmp/used"; then
        echo "virsh-heldout.allow:$n matches no difference any more: $entry"
        bad_lines=$((bad_lines + 1))
    fi
done <"$allow"

for verb in "${verbs[@]}"; do
    echo "  ${verb%% *}: identical for ${verb_same[${verb%% *}]:-0} of $defined defined documents"
done
echo "virsh-heldout: $total documents, $same identical, $allowed_only differing only as virsh-heldout.allow allows, $bad_lines unexplained differences"
[ "$bad_lines" -eq 0 ] || fail "tvm differs from virsh (- virsh, + tvm), see above"
