# Networks, storage pools and volume records: define, list, info, dumpxml, undefine.
source "$(dirname "$0")/lib.sh"

# ---- networks ----
for f in "$DATA"/network/*.xml; do
    ok tvm net-define "$f"
    out_has "defined from $f"
done
count=$(ls "$DATA"/network/*.xml | wc -l)
ok tvm net-list --all --name
[ "$(sed '/^$/d' "$tmp/out" | wc -l)" -eq "$count" ] || fail "net-list --all --name: want $count"
ok tvm net-list
out_is " Name   State   Autostart   Persistent"$'\n'"----------------------------------------"
ok tvm net-list --all
out_has " Name          State      Autostart   Persistent"
out_has " default       inactive   no          yes"
ok tvm net-info default
out_has "Name:           default"
out_has "UUID:           $(sed -n 's:.*<uuid>\(.*\)</uuid>.*:\1:p' "$DATA/network/virsh-default.xml")"
out_has "Active:         no"
out_has "Bridge:         virbr0"
ok tvm net-dumpxml default
out_has "<name>default</name>"
out_has "virbr0"
ok tvm net-autostart default
out_is "Network default marked as autostarted"$'\n'
ok tvm net-list --all
out_has " default       inactive   yes         yes"
ok tvm net-autostart default --disable
out_is "Network default unmarked as autostarted"$'\n'
ok tvm net-info default
out_has "Autostart:      no"
tvm net-dumpxml default >"$tmp/net.xml"
# the dump defined again updates the same network (one 'default', same
# uuid) and is a fixed point
ok tvm net-define "$tmp/net.xml"
out_is "Network default defined from $tmp/net.xml"$'\n'
tvm net-dumpxml default >"$tmp/net2.xml"
cmp -s "$tmp/net.xml" "$tmp/net2.xml" || fail "net-dumpxml changed after re-define: $(diff "$tmp/net.xml" "$tmp/net2.xml")"
[ "$(tvm net-list --all --name | grep -cx default)" -eq 1 ] || fail "re-define made a second network: $(tvm net-list --all --name)"
ok tvm net-undefine default
out_is "Network default has been undefined"$'\n'
run 1 tvm net-info default
err_has "network 'default' not found"

# ---- pools ----
ok tvm pool-define "$DATA/pool/virsh-default-pool.xml"
out_is "Pool default-pool defined from $DATA/pool/virsh-default-pool.xml"$'\n'
ok tvm pool-define "$DATA/pool/dir.xml"
ok tvm pool-list --all
out_has " default-pool   inactive   no"
ok tvm pool-list --all --details
out_has "Capacity"
out_has " default-pool   inactive   no          yes          -          -            -"
ok tvm pool-list --all --name
out_has "default-pool"
ok tvm pool-autostart default-pool
out_is "Pool default-pool marked as autostarted"$'\n'
ok tvm pool-info default-pool
out_has "Autostart:      yes"
ok tvm pool-autostart default-pool --disable
ok tvm pool-info default-pool
out_has "Name:           default-pool"
out_has "Autostart:      no"
out_has "State:          inactive"
ok tvm pool-dumpxml default-pool
out_has "<name>default-pool</name>"

# ---- volumes (records only) ----
vol=$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$DATA/volume/raw.xml" | head -1)
ok tvm vol-create default-pool "$DATA/volume/raw.xml"
out_is "Vol $vol created from $DATA/volume/raw.xml"$'\n'
vol2=$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$DATA/volume/qcow2.xml" | head -1)
ok tvm vol-create default-pool "$DATA/volume/qcow2.xml"
out_is "Vol $vol2 created from $DATA/volume/qcow2.xml"$'\n'
ok tvm vol-list default-pool
out_has " Name "
path=$(sed -n 's:.*<path>\(.*\)</path>.*:\1:p' "$DATA/volume/raw.xml" | head -1)
path2=$(sed -n 's:.*<path>\(.*\)</path>.*:\1:p' "$DATA/volume/qcow2.xml" | head -1)
# both volumes, each with its own path
grep -qE "^ $vol +$path\$" "$tmp/out" || fail "vol-list lacks '$vol $path'"
grep -qE "^ $vol2 +$path2\$" "$tmp/out" || fail "vol-list lacks '$vol2 $path2'"
ok tvm vol-list default-pool --details
out_has "Capacity"
out_has "1.00 GiB"
ok tvm vol-dumpxml "$vol" --pool default-pool
out_has "<name>$vol</name>"
ok tvm vol-dumpxml --pool default-pool "$vol"
out_has "<name>$vol</name>"
run 2 tvm vol-dumpxml "$vol"
err_has "--pool is required"
run 1 tvm vol-create default-pool "$DATA/volume/raw.xml"
err_has "$vol"
run 1 tvm vol-create no-pool "$DATA/volume/raw.xml"
err_has "pool 'no-pool' not found"
ok tvm help vol-create
out_has "metadata only"

# a pool with volumes cannot be undefined; after vol-delete it can
run 1 tvm pool-undefine default-pool
ok tvm pool-list --all --name
out_has "default-pool"
for v in $(tvm vol-list default-pool | awk 'NR > 2 && NF { print $1 }'); do
    ok tvm vol-delete "$v" --pool default-pool
done
ok tvm pool-undefine default-pool
out_is "Pool default-pool has been undefined"$'\n'
ok tvm pool-list --all --name
out_lacks "default-pool"
echo "net-pool-vol: ok"
