# The man pages render without groff warnings and document the inventory
# verbs and every global option that tvm accepts.
source "$(dirname "$0")/lib.sh"

man1="$TVM_SRC/man/tvm.1"
man5="$TVM_SRC/man/tvm-batch.5"
man8="$TVM_SRC/man/tvm-vmm.8"
[ -f "$man1" ] && [ -f "$man5" ] && [ -f "$man8" ] || fail "man pages missing"

# groff (package groff-base, installed by scripts/install-deps.sh) is the lint.
command -v groff >/dev/null || fail "groff (package groff-base) is missing: run scripts/install-deps.sh"
for page in "$man1" "$man5" "$man8"; do
    LC_ALL=C.UTF-8 groff -ww -z -man "$page" >"$tmp/out" 2>"$tmp/err" || fail "groff failed on $page"
    [ ! -s "$tmp/err" ] || fail "groff warnings for $page"
done
LC_ALL=C.UTF-8 groff -man -Tascii -P-c -P-b -P-u "$man1" 2>/dev/null >"$tmp/tvm.txt"

# Every foundation verb (as tvm help lists it) has an entry in tvm(1). The
# help goes to a file first: `tvm help | grep -q` would kill tvm with
# SIGPIPE at the first match, and pipefail would call that a failure.
tvm help >"$tmp/help"
for verb in define undefine list dominfo dumpxml edit domrename desc domuuid domname domid \
    autostart domblklist domblkinfo blockresize domiflist net-define net-undefine net-list net-dumpxml net-info net-edit net-autostart \
    net-start net-destroy \
    pool-define pool-undefine pool-list pool-dumpxml pool-info pool-edit pool-autostart \
    pool-define-as pool-create pool-create-as pool-build pool-start pool-destroy pool-delete \
    pool-refresh vol-create vol-list vol-dumpxml vol-delete vol-create-as vol-create-from \
    vol-clone vol-resize vol-wipe vol-upload vol-download vol-info vol-path vol-key vol-name vol-pool img clone template \
    snapshot-create snapshot-create-as snapshot-revert snapshot-info snapshot-parent \
    snapshot-list snapshot-dumpxml snapshot-current snapshot-delete \
    events help version; do
    grep -qE "^    $verb " "$tmp/help" || fail "'$verb' is documented but not in the table"
    grep -qE "(^|[ ,])$verb( |,|$)" "$tmp/tvm.txt" || fail "tvm.1 lacks '$verb'"
done
for opt in --db --batch --keep-going --theme --version --help; do
    grep -qF -- "$opt" "$tmp/tvm.txt" || fail "tvm.1 lacks $opt"
done
# tvm-vmm(8) names every option tvm-vmm accepts and every QMP command it
# answers (query-commands of a VMM is not available without KVM: the
# command table in the source is the list).
LC_ALL=C.UTF-8 groff -man -Tascii -P-c -P-b -P-u "$man8" 2>/dev/null >"$tmp/vmm.txt"
"${TVM_VMM:?set TVM_VMM}" --help >"$tmp/vmm-help"
for opt in $(grep -oE -- '--[a-z-]+' "$tmp/vmm-help" | sort -u); do
    [ "$opt" = --help ] || grep -qF -- "$opt" "$tmp/vmm.txt" || fail "tvm-vmm.8 lacks $opt"
done
for cmd in $(grep -rhoE '(\{"[a-z_-]+", qmp_|control_register\("[a-z_-]+")' "$TVM_SRC"/src/vmm "$TVM_SRC"/src/vnc |
    sed -E 's/^(\{|control_register\()"//; s/"(, qmp_|\))?$//' | sort -u); do
    case $cmd in *[!a-z_-]*) continue ;; esac
    grep -qE "(^|[ ,])$cmd( |,|$)" "$tmp/vmm.txt" || fail "tvm-vmm.8 lacks the QMP command $cmd"
done
echo "man: ok"
