# Networks, storage pools and volumes: define, list, info, dumpxml, undefine.
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

# ---- volumes: made in the pool's directory, whatever path the XML names ----
# default-pool's target (/default-pool) is not on this host: a pool of the
# same shape under $tmp holds the volumes
ok tvm pool-create-as vols dir --target "$tmp/vols" --build
out_is "Pool vols created"$'\n'
vol=$(sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$DATA/volume/qcow2.xml" | head -1)
ok tvm vol-create vols "$DATA/volume/qcow2.xml"
out_is "Vol $vol created from $DATA/volume/qcow2.xml"$'\n'
[ -f "$tmp/vols/$vol" ] || fail "vol-create made no $tmp/vols/$vol"
ok tvm vol-list vols
grep -qE "^ $vol +$tmp/vols/$vol\$" "$tmp/out" || fail "vol-list lacks '$vol $tmp/vols/$vol'"
ok tvm vol-list vols --details
out_has "20.00 GiB"
ok tvm vol-dumpxml "$vol" --pool vols
out_has "<name>$vol</name>"
out_has "<path>$tmp/vols/$vol</path>"
ok tvm vol-dumpxml --pool vols "$vol"
out_has "<name>$vol</name>"
run 1 tvm vol-dumpxml "$vol"
err_has "failed to get vol '$vol'"
run 1 tvm vol-create vols "$DATA/volume/qcow2.xml"
err_has "$vol"
run 1 tvm vol-create no-pool "$DATA/volume/raw.xml"
err_has "pool 'no-pool' not found"
# an inactive pool takes no volume (libvirt's words)
run 1 tvm vol-create default-pool "$DATA/volume/raw.xml"
err_has "storage pool 'default-pool' is not active"
run 1 tvm vol-list default-pool
err_has "storage pool 'default-pool' is not active"

# an active pool cannot be undefined; stopped, its volumes are not listed
run 1 tvm pool-undefine vols
err_has "storage pool 'vols' is active"
ok tvm vol-delete "$vol" --pool vols
[ ! -e "$tmp/vols/$vol" ] || fail "vol-delete left $tmp/vols/$vol"
ok tvm pool-destroy vols
ok tvm pool-undefine vols
ok tvm pool-undefine default-pool
out_is "Pool default-pool has been undefined"$'\n'
ok tvm pool-list --all --name
out_lacks "default-pool"
echo "net-pool-vol: ok"
