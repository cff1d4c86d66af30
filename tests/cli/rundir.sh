#!/usr/bin/env bash
# Issue 10, finding 8 (and 12's /run/tvm mode): the run directory holds the
# guests' control sockets and pid files, so tvm uses it only when it is a
# real directory (not a symlink) owned by tvm's user that nobody else can
# write; one it creates is 0700, and so is what a network start creates
# below it. Without XDG_RUNTIME_DIR it is /tmp/tvm-UID, which anybody could
# have made first.
source "$(dirname "$0")/lib.sh"

ok tvm define "$DATA/domain/minimal.xml"
dom=$(names)

# refused_start WHY: tvm start refuses the run directory, saying WHY.
refused_start() {
    run 1 tvm start "$dom"
    err_has "run directory"
    err_has "$1"
    ok tvm domstate "$dom"
    out_has "shut off"
}

real="$TVM_RUNDIR"

# A symlink (to a directory tvm would otherwise accept).
mkdir -p "$tmp/elsewhere"
chmod 700 "$tmp/elsewhere"
ln -s "$tmp/elsewhere" "$tmp/link"
TVM_RUNDIR="$tmp/link" refused_start "symbolic link"
[ -z "$(ls -A "$tmp/elsewhere")" ] || fail "tvm wrote through the symlink: $(ls -A "$tmp/elsewhere")"

# Writable by others.
mkdir -p "$tmp/open"
chmod 1777 "$tmp/open"
TVM_RUNDIR="$tmp/open" refused_start "writable by others"

# Owned by someone else (only root can set that up here).
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
    mkdir -p "$tmp/theirs"
    chmod 700 "$tmp/theirs"
    chown nobody "$tmp/theirs"
    TVM_RUNDIR="$tmp/theirs" refused_start "owned by uid $(id -u nobody)"
fi

# One tvm creates, by whichever verb first needs it: 0700, parents too.
export TVM_RUNDIR="$tmp/fresh/tvm"
if [ "$(id -u)" -eq 0 ] && unshare --net --mount true >/dev/null 2>&1; then
    cat >"$tmp/iso.xml" <<'XML'
<network>
  <name>iso</name>
  <bridge name='tvmrd0'/>
</network>
XML
    ok tvm net-define "$tmp/iso.xml"
    # in namespaces of its own, so the bridge and rules stay there
    unshare --net --mount -- bash -c 'mount --make-rprivate / && mount -t sysfs none /sys &&
        "$TVM" --db "$0" net-start iso && "$TVM" --db "$0" net-destroy iso' "$DB" \
        >"$tmp/out" 2>"$tmp/err" || fail "net-start in a namespace"
    [ "$(stat -c %a "$TVM_RUNDIR")" = 700 ] ||
        fail "net-start made $TVM_RUNDIR $(stat -c %a "$TVM_RUNDIR"), want 700"
fi
run 1 tvm start "$dom" # fails later (no kernel), but has made the directory
[ -d "$TVM_RUNDIR" ] || fail "start did not create $TVM_RUNDIR"
[ "$(stat -c %a "$TVM_RUNDIR")" = 700 ] || fail "$TVM_RUNDIR is $(stat -c %a "$TVM_RUNDIR"), want 700"

# A directory of tvm's own that is only too open to reading is tightened.
export TVM_RUNDIR="$real"
chmod 755 "$TVM_RUNDIR"
run 1 tvm start "$dom"
[ "$(stat -c %a "$TVM_RUNDIR")" = 700 ] || fail "$TVM_RUNDIR left $(stat -c %a "$TVM_RUNDIR")"
echo "rundir: ok"
