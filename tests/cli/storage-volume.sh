# Volumes on tvm's own image layer, checked with qemu-img as the oracle:
# vol-create-as (raw, qcow2, overlays), vol-create from XML (placed in the
# pool), vol-create-from, vol-clone, vol-resize, vol-wipe, vol-info and the
# lookups, vol-delete; bad input refused before anything is made.
source "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"

P="$tmp/pool"
ok tvm pool-create-as pool dir --target "$P" --build

# qi FILE KEY: one field of qemu-img info --output json
qi() {
    qemu-img info --output json "$1" | sed -n "s/^ *\"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -1
}
check() {
    qemu-img check -q "$1" || fail "qemu-img check: $1 is not a clean image"
}

# ---- raw: all of it allocated unless told (libvirt), or sparse with --allocation 0 ----
ok tvm vol-create-as pool full.img 8M
out_is "Vol full.img created"$'\n'
[ "$(stat -c %s "$P/full.img")" -eq $((8 << 20)) ] || fail "full.img is not 8 MiB"
[ "$(($(stat -c %b "$P/full.img") * 512))" -ge $((8 << 20)) ] || fail "full.img is not allocated"
ok tvm vol-create-as pool sparse.img 1G --allocation 0
[ "$(stat -c %b "$P/sparse.img")" -eq 0 ] || fail "sparse.img has blocks"
[ "$(qi "$P/sparse.img" format)" = raw ] || fail "sparse.img is not raw to qemu-img"
ok tvm vol-info sparse.img pool
out_is "Name:           sparse.img
Type:           file
Capacity:       1.00 GiB
Allocation:     0.00 B"$'\n'

# ---- qcow2, and an overlay on it ----
ok tvm vol-create-as pool base.qcow2 2G --format qcow2
check "$P/base.qcow2"
[ "$(qi "$P/base.qcow2" virtual-size)" = 2147483648 ] || fail "base.qcow2 is not 2 GiB to qemu-img"
qemu-img create -q -f qcow2 "$tmp/empty.qcow2" 2G
qemu-img compare -q "$P/base.qcow2" "$tmp/empty.qcow2" || fail "a new qcow2 volume does not read as zeros"
ok tvm vol-create-as pool top.qcow2 0 --format qcow2 --backing-vol base.qcow2 --backing-vol-format qcow2
check "$P/top.qcow2"
[ "$(qi "$P/top.qcow2" backing-filename)" = "$P/base.qcow2" ] || fail "top.qcow2 has another backing file"
[ "$(qi "$P/top.qcow2" backing-filename-format)" = qcow2 ] || fail "top.qcow2's backing format is not qcow2"
[ "$(qi "$P/top.qcow2" virtual-size)" = 2147483648 ] || fail "top.qcow2 did not take its backing size"
# the backing format comes from the record when not given (never probed)
ok tvm vol-create-as pool top2.qcow2 3G --backing-vol "$P/full.img"
[ "$(qi "$P/top2.qcow2" backing-filename-format)" = raw ] || fail "top2.qcow2's backing format is not raw"
[ "$(qi "$P/top2.qcow2" format)" = qcow2 ] || fail "an overlay is not qcow2"
ok tvm vol-dumpxml top.qcow2 --pool pool
out_has "<backingStore>"
out_has "<path>$P/base.qcow2</path>"

# ---- vol-create: the pool decides where, whatever the XML's path ----
cat >"$tmp/v.xml" <<XML
<volume>
  <name>fromxml.qcow2</name>
  <capacity unit='M'>64</capacity>
  <target>
    <path>/somewhere/else/fromxml.qcow2</path>
    <format type='qcow2'/>
  </target>
</volume>
XML
ok tvm vol-create pool "$tmp/v.xml"
out_is "Vol fromxml.qcow2 created from $tmp/v.xml"$'\n'
[ -f "$P/fromxml.qcow2" ] && [ ! -e /somewhere/else/fromxml.qcow2 ] || fail "vol-create placed the file elsewhere"
check "$P/fromxml.qcow2"

# ---- data survives clone and create-from, sparsely ----
qemu-io -c 'write -P 0xab 1M 64k' -c 'write -P 0xcd 1500M 128k' "$P/base.qcow2" >/dev/null ||
    fail "qemu-io (package qemu-utils) could not write test data"
ok tvm vol-clone base.qcow2 copy.qcow2 --pool pool
out_is "Vol copy.qcow2 cloned from base.qcow2"$'\n'
check "$P/copy.qcow2"
qemu-img compare -q "$P/base.qcow2" "$P/copy.qcow2" || fail "the clone's data differs"
[ "$(qi "$P/copy.qcow2" actual-size)" -lt $((8 << 20)) ] || fail "the clone of a 2 GiB volume with 192 KiB of data is not sparse"
cat >"$tmp/raw.xml" <<XML
<volume>
  <name>asraw.img</name>
  <capacity unit='G'>2</capacity>
  <allocation>0</allocation>
  <target><format type='raw'/></target>
</volume>
XML
ok tvm vol-create-from pool "$tmp/raw.xml" top.qcow2 --inputpool pool
out_is "Vol asraw.img created from input vol top.qcow2"$'\n'
qemu-img compare -q -f raw -F qcow2 "$P/asraw.img" "$P/top.qcow2" || fail "create-from: data differs"
[ "$(($(stat -c %b "$P/asraw.img") * 512))" -lt $((8 << 20)) ] || fail "create-from wrote zeros"

# ---- resize ----
ok tvm vol-resize copy.qcow2 3G --pool pool
out_is "Size of volume 'copy.qcow2' successfully changed to 3G"$'\n'
check "$P/copy.qcow2"
[ "$(qi "$P/copy.qcow2" virtual-size)" = 3221225472 ] || fail "qemu-img does not see 3 GiB"
ok tvm vol-resize copy.qcow2 1G --pool pool --delta
[ "$(qi "$P/copy.qcow2" virtual-size)" = 4294967296 ] || fail "--delta did not add 1 GiB"
run 1 tvm vol-resize copy.qcow2 1G --pool pool
err_has "Can't shrink capacity below current capacity unless shrink flag explicitly specified"
run 1 tvm vol-resize copy.qcow2 1G --pool pool --shrink
err_has "shrinking a qcow2 image is not supported"
[ "$(qi "$P/copy.qcow2" virtual-size)" = 4294967296 ] || fail "a refused resize changed the size"
ok tvm vol-resize sparse.img --shrink -- -512M pool
[ "$(stat -c %s "$P/sparse.img")" -eq $((512 << 20)) ] || fail "raw shrink by -512M failed"
run 1 tvm vol-resize sparse.img --pool pool -- -1M
err_has "negative size requires --shrink"
ok tvm vol-info copy.qcow2 --pool pool
out_has "Capacity:       4.00 GiB"

# ---- wipe ----
ok tvm vol-wipe copy.qcow2 pool
out_is "Vol copy.qcow2 wiped"$'\n'
check "$P/copy.qcow2"
qemu-img create -q -f qcow2 "$tmp/empty4.qcow2" 4G
qemu-img compare -q "$P/copy.qcow2" "$tmp/empty4.qcow2" || fail "the wiped volume does not read as zeros"
run 2 tvm vol-wipe copy.qcow2 pool --algorithm dod
err_has "algorithm 'dod' is not supported"

# ---- lookups by name and pool, or by key (path) ----
ok tvm vol-path top.qcow2 pool
out_is "$P/top.qcow2"$'\n'
ok tvm vol-key --pool pool top.qcow2
out_is "$P/top.qcow2"$'\n'
ok tvm vol-name "$P/top.qcow2"
out_is "top.qcow2"$'\n'
ok tvm vol-pool "$P/top.qcow2"
out_is "pool"$'\n'
ok tvm vol-info "$P/top.qcow2"
out_has "Name:           top.qcow2"
run 1 tvm vol-info nosuch pool
err_has "no storage vol with matching name 'nosuch' in pool 'pool'"
run 2 tvm vol-info top.qcow2 pool --pool other
err_has "give the pool once"

# ---- bad input: refused, nothing made ----
before=$(ls "$P" | sort)
run 1 tvm vol-create-as pool '../escape' 1M
err_has "volume name"
run 1 tvm vol-create-as pool '-rf' 1M
err_has "may not start with '-'"
run 2 tvm vol-create-as pool x.img 12Q
err_has "invalid capacity '12Q'"
run 1 tvm vol-create-as pool x.img 1M --format vmdk
err_has "vmdk"
run 1 tvm vol-create-as pool x.img 1M --format raw --backing-vol base.qcow2
err_has "a raw volume cannot have a backing volume"
run 1 tvm vol-create-as pool full.img 1M
err_has "storage volume 'full.img' exists already in pool 'pool'"
run 1 tvm vol-create-as pool y.qcow2 1M --format qcow2 --backing-vol nosuch
err_has "backing volume"
[ "$(ls "$P" | sort)" = "$before" ] || fail "refused commands changed the pool: $(ls "$P")"

# ---- delete ----
ok tvm vol-delete top2.qcow2 pool
out_is "Vol top2.qcow2 deleted"$'\n'
[ ! -e "$P/top2.qcow2" ] || fail "vol-delete left the file"
ok tvm vol-delete "$P/asraw.img"
ok tvm vol-list pool
out_lacks "top2.qcow2"
out_lacks "asraw.img"
echo "storage-volume: ok"
