# tvm img create|info|check|convert on real files, qemu-img as the oracle:
# what tvm writes passes qemu-img check and reads the same (compare); info
# --output json has qemu-img's field names and values; check finds what
# qemu-img check finds on clean and on damaged images.
source "$(dirname "$0")/lib.sh"
command -v qemu-img >/dev/null || fail "qemu-img (package qemu-utils) is missing: run scripts/install-deps.sh"
command -v qemu-io >/dev/null || fail "qemu-io (package qemu-utils) is missing: run scripts/install-deps.sh"
cd "$tmp"

# jget FILE KEY: a top-level scalar from pretty JSON (both tools print one per line)
jget() { sed -n "s/^ *\"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$1" | head -1; }

# ---- create ----
ok tvm img create -f raw r.img 10M
out_is "Formatting 'r.img', fmt=raw size=10485760"$'\n'
ok tvm img create -f qcow2 q.qcow2 2G
out_is "Formatting 'q.qcow2', fmt=qcow2 cluster_size=65536 extended_l2=off compression_type=zlib size=2147483648 lazy_refcounts=off refcount_bits=16"$'\n'
qemu-img check -q q.qcow2 || fail "qemu-img check fails on tvm's qcow2"
ok tvm img create -f qcow2 -b q.qcow2 -F qcow2 top.qcow2
qemu-img check -q top.qcow2 || fail "qemu-img check fails on tvm's overlay"
run 1 tvm img create -f qcow2 -b q.qcow2 top2.qcow2
err_has "-F"
run 1 tvm img create -f raw r.img 1M
err_has "r.img"

# ---- info: the same figures as qemu-img's, under the same names ----
qemu-io -c 'write -P 0x11 0 1M' -c 'write -P 0x22 1G 64k' q.qcow2 >/dev/null
qemu-io -c 'write -P 0x33 4M 64k' top.qcow2 >/dev/null
for f in r.img q.qcow2 top.qcow2; do
    ok tvm img info --output json "$f"
    cp "$tmp/out" tvm.json
    qemu-img info --output json "$f" >qemu.json
    for k in virtual-size filename format actual-size cluster-size backing-filename \
        backing-filename-format dirty-flag; do
        [ "$(jget tvm.json "$k")" = "$(jget qemu.json "$k")" ] ||
            fail "img info $f: $k is '$(jget tvm.json "$k")', qemu-img says '$(jget qemu.json "$k")'"
    done
done
ok tvm img info top.qcow2
out_has "image: top.qcow2"
out_has "file format: qcow2"
out_has "virtual size: 2 GiB (2147483648 bytes)"
out_has "backing file: q.qcow2"
out_has "backing file format: qcow2"

# ---- check: clean images, then damaged ones, as qemu-img check reports them ----
for f in q.qcow2 top.qcow2; do
    ok tvm img check "$f"
    qemu-img check "$f" >qemu.txt || fail "qemu-img check $f"
    diff qemu.txt "$tmp/out" >/dev/null || fail "img check $f differs from qemu-img's: $(diff qemu.txt "$tmp/out")"
done
run 1 tvm img check r.img
err_has "does not support checks"
# the header cluster's refcount (first entry of the first refcount block) set to 2, then to 0
rb=$(od -An -tu8 --endian=big -j 48 -N 8 q.qcow2 | tr -d ' ')
rb=$(od -An -tu8 --endian=big -j "$rb" -N 8 q.qcow2 | tr -d ' ')
cp q.qcow2 leak.qcow2
printf '\000\002' | dd of=leak.qcow2 bs=1 seek="$rb" conv=notrunc status=none
run 1 tvm img check leak.qcow2
out_has "Leaked cluster 0 refcount=2 reference=1"
out_has "1 leaked clusters were found on the image."
qemu-img check leak.qcow2 >/dev/null 2>&1 && fail "qemu-img finds no leak: the damage did not land"
cp q.qcow2 bad.qcow2
printf '\000\000' | dd of=bad.qcow2 bs=1 seek="$rb" conv=notrunc status=none
run 2 tvm img check bad.qcow2
out_has "ERROR cluster 0 refcount=0 reference=1"
out_has "1 errors were found on the image."
ok tvm img check --output json q.qcow2
[ "$(jget "$tmp/out" image-end-offset)" = "$(qemu-img check --output json q.qcow2 | sed -n 's/.*"image-end-offset": \([0-9]*\).*/\1/p')" ] ||
    fail "check --output json: image-end-offset differs from qemu-img's"

# ---- convert: the chain as one image, sparse, readable by qemu-img ----
ok tvm img convert -f qcow2 -O raw top.qcow2 flat.img
qemu-img compare -q -f qcow2 -F raw top.qcow2 flat.img || fail "convert to raw: data differs"
[ "$(du -k flat.img | cut -f1)" -lt 4096 ] || fail "convert to raw wrote zeros ($(du -k flat.img | cut -f1) KiB)"
ok tvm img convert -f qcow2 -O qcow2 top.qcow2 flat.qcow2
qemu-img check -q flat.qcow2 || fail "qemu-img check fails on the converted qcow2"
qemu-img compare -q top.qcow2 flat.qcow2 || fail "convert to qcow2: data differs"
[ -z "$(jget <(qemu-img info --output json flat.qcow2) backing-filename)" ] || fail "the converted image has a backing file"
ok tvm img convert -f raw -O qcow2 flat.img again.qcow2
qemu-img compare -q -f raw -F qcow2 flat.img again.qcow2 || fail "raw to qcow2: data differs"
run 2 tvm img frobnicate x
err_has "unknown subcommand 'frobnicate'"
echo "storage-img: ok"
