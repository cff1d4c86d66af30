#!/usr/bin/env bash
# An inventory this user can read but not write (another user's file, or a
# read-only copy) still lists, shows and dumps everything; every change is
# refused with a message saying why, and the file is left exactly as it
# was. An empty --db is a usage error, never the default inventory.
. "$(dirname "$0")/lib.sh"

ro="$tmp/ro"
mkdir "$ro"
RODB="$ro/tvm.db"
"$TVM" --db "$RODB" define "$DATA/domain/minimal.xml" >/dev/null
"$TVM" --db "$RODB" net-define "$DATA/network/nat.xml" >/dev/null

# as_reader CMD...: CMD as a user who may read the inventory but not write
# it: as root, the unprivileged "nobody" (root itself may write anything);
# otherwise this user, with the file and its directory made read-only.
if [ "$(id -u)" -eq 0 ]; then
    chmod 0711 "$tmp"
    chmod 0755 "$ro"
    chmod 0644 "$RODB"
    install -d -o nobody -m 0700 "$tmp/run-nobody"
    as_reader() {
        TVM_RUNDIR="$tmp/run-nobody" setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
    }
else
    chmod 0444 "$RODB"
    chmod 0555 "$ro"
    as_reader() { "$@"; }
fi
before=$(sha256sum "$RODB")
ls "$ro" >"$tmp/files-before"

run 0 as_reader "$TVM" --db "$RODB" list --all
out_has "minimal"
out_has "shut off"
run 0 as_reader "$TVM" --db "$RODB" dominfo minimal
out_has "Name:           minimal"
run 0 as_reader "$TVM" --db "$RODB" dumpxml minimal
out_has "<name>minimal</name>"

run 1 as_reader "$TVM" --db "$RODB" undefine minimal
err_has "$RODB is read-only for this user: nothing can be changed"
run 1 as_reader "$TVM" --db "$RODB" define "$DATA/domain/minimal.xml"
err_has "read-only for this user"

[ "$(sha256sum "$RODB")" = "$before" ] || fail "the read-only inventory changed"
ls "$ro" | diff -u "$tmp/files-before" - || fail "files appeared beside the read-only inventory"
run 0 "$TVM" --db "$RODB" list --all --name
out_has "minimal"

# --db with an empty value: a usage error that touches no inventory
run 2 "$TVM" --db '' list --all
err_has "option --db needs a path (it is empty)"
run 2 "$TVM" --db= list --all
err_has "option --db needs a path (it is empty)"
echo "inventory-readonly: ok"
