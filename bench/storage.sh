#!/usr/bin/env bash
# Storage verbs against their peers, side by side on the same machine in
# one run:
#   1. vol-create-as NAME SIZE --format qcow2 (through the inventory: pool
#      lookup, record) against `qemu-img create -f qcow2`, COUNT times each;
#   2. a full copy of a sparse 10 GiB qcow2 with 1 GiB written: vol-clone
#      and `tvm img convert -O qcow2` against `qemu-img convert -O qcow2`,
#      and `cp --sparse=always` of the same file (a byte copy, no format);
#   3. tvm clone (a domain whose disk is that qcow2: a full clone) against
#      the same two peers;
#   4. tvm clone --linked of a template whose disk is 1, 10 and 100 GiB
#      (must stay flat), against `qemu-img create -b BASE -F qcow2`.
#   5. a compressed copy: `tvm img convert -c -O qcow2` against
#      `qemu-img convert -c -O qcow2` of the same raw disk (ZDISK, with
#      ZWRITTEN of host binaries in it: real compressibility), and the
#      two copies' sizes.
# Each figure is the best of REPEAT runs (shared machines are noisy); the
# page cache is dropped before each copy when we may (root), else warm for
# all. Every copy is timed up to a sync: tvm makes its copy durable
# (fdatasync) before it reports success, qemu-img convert (cache=unsafe by
# default) and cp do not, so without it the peers would stop the clock with
# the data still in the page cache.
#
#   bench/storage.sh [BUILD_DIR]   (env: COUNT, REPEAT, DISK, WRITTEN, ZDISK, ZWRITTEN,
#                                   BENCH_DIR)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${TVM_BUILD:-$src/build}}
TVM=$build/tvm
[ -x "$TVM" ] || { echo "storage.sh: $TVM not built" >&2; exit 1; }
for t in qemu-img qemu-io; do
    command -v $t >/dev/null || { echo "storage.sh: $t missing (qemu-utils)" >&2; exit 1; }
done
count=${COUNT:-50}
repeat=${REPEAT:-3}
disk=${DISK:-10G}
written=${WRITTEN:-1G}
dir=$(mktemp -d "${BENCH_DIR:-$src/build}/tvm-storage-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT
export TVM_RUNDIR=$dir/run
tvm() { "$TVM" --db "$dir/tvm.db" "$@" >/dev/null; }

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }
best() { if [ -z "$1" ]; then echo "$2"; else awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; fi; }
ratio() { awk -v t="$1" -v p="$2" 'BEGIN { printf "%.2f", t / p }'; }
drop() { sync; [ -w /proc/sys/vm/drop_caches ] && echo 3 >/proc/sys/vm/drop_caches || true; }

tvm pool-create-as bench dir --target "$dir/pool" --build

# ---- 1: creating qcow2 volumes ----
q=; t=
for r in $(seq "$repeat"); do
    s=$(now)
    for i in $(seq "$count"); do qemu-img create -q -f qcow2 "$dir/q$r-$i.qcow2" "$disk"; done
    q=$(best "$q" "$(elapsed "$s")")
    s=$(now)
    for i in $(seq "$count"); do tvm vol-create-as bench "v$r-$i.qcow2" "$disk" --format qcow2; done
    t=$(best "$t" "$(elapsed "$s")")
done
printf '%-52s %9s %9s %7s\n' "operation" "peer s" "tvm s" "tvm/peer"
printf '%-52s %9s %9s %7s\n' "create $count qcow2 ($disk): qemu-img create / vol-create-as" "$q" "$t" "$(ratio "$t" "$q")"

# ---- 2: full copies of a sparse qcow2 ----
qemu-img create -q -f qcow2 "$dir/pool/src.qcow2" "$disk"
# 1 GiB of data in 64 MiB stripes over the whole disk, as a used guest disk has it
n=$(( $(qemu-img info --output json "$dir/pool/src.qcow2" | sed -n 's/.*"virtual-size": \([0-9]*\).*/\1/p') ))
w=$(( $(numfmt --from=iec "$written") ))
stripes=$((w / (64 << 20)))
step=$((n / stripes))
cmds=()
for i in $(seq 0 $((stripes - 1))); do cmds+=(-c "write -P $((i % 250 + 1)) $((i * step)) 64M"); done
qemu-io -f qcow2 "${cmds[@]}" "$dir/pool/src.qcow2" >/dev/null
tvm pool-refresh bench
qc=; tc=; ti=; cp=
for r in $(seq "$repeat"); do
    rm -f "$dir/qc.qcow2" "$dir/ti.qcow2" "$dir/cp.qcow2"
    "$TVM" --db "$dir/tvm.db" vol-delete clone.qcow2 bench >/dev/null 2>&1 || true
    drop; s=$(now); qemu-img convert -O qcow2 "$dir/pool/src.qcow2" "$dir/qc.qcow2"; sync; qc=$(best "$qc" "$(elapsed "$s")")
    drop; s=$(now); tvm vol-clone src.qcow2 clone.qcow2 bench; sync; tc=$(best "$tc" "$(elapsed "$s")")
    drop; s=$(now); tvm img convert -f qcow2 -O qcow2 "$dir/pool/src.qcow2" "$dir/ti.qcow2"; sync; ti=$(best "$ti" "$(elapsed "$s")")
    drop; s=$(now); cp --sparse=always "$dir/pool/src.qcow2" "$dir/cp.qcow2"; sync; cp=$(best "$cp" "$(elapsed "$s")")
done
qemu-img compare -q "$dir/pool/src.qcow2" "$dir/pool/clone.qcow2" || { echo "storage.sh: the clone differs" >&2; exit 1; }
qemu-img compare -q "$dir/pool/src.qcow2" "$dir/ti.qcow2" || { echo "storage.sh: the converted image differs" >&2; exit 1; }
size() { du -k "$1" | awk '{ printf "%.0f MiB", $1 / 1024 }'; }
printf '%-52s %9s %9s %7s\n' "copy $disk qcow2, $written written: qemu-img convert / vol-clone" "$qc" "$tc" "$(ratio "$tc" "$qc")"
printf '%-52s %9s %9s %7s\n' "  same: qemu-img convert / tvm img convert" "$qc" "$ti" "$(ratio "$ti" "$qc")"
printf '%-52s %9s %9s %7s\n' "  same: cp --sparse=always / vol-clone" "$cp" "$tc" "$(ratio "$tc" "$cp")"
echo "on disk: source $(size "$dir/pool/src.qcow2"), qemu-img $(size "$dir/qc.qcow2"), vol-clone $(size "$dir/pool/clone.qcow2"), cp $(size "$dir/cp.qcow2")"

# ---- 3: a full clone of a domain with that disk ----
cat >"$dir/src.xml" <<XML
<domain type='kvm'><name>src</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type></os><devices>
<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$dir/pool/src.qcow2'/><target dev='vda' bus='virtio'/></disk>
</devices></domain>
XML
tvm define "$dir/src.xml"
fc=
for r in $(seq "$repeat"); do
    "$TVM" --db "$dir/tvm.db" undefine src-clone --remove-all-storage >/dev/null 2>&1 || true
    drop; s=$(now); tvm clone --original src --auto-clone; sync; fc=$(best "$fc" "$(elapsed "$s")")
done
qemu-img compare -q "$dir/pool/src.qcow2" "$dir/pool/src-clone.qcow2" || { echo "storage.sh: the domain clone differs" >&2; exit 1; }
printf '%-52s %9s %9s %7s\n' "clone (full) of that domain: qemu-img convert / tvm clone" "$qc" "$fc" "$(ratio "$fc" "$qc")"
printf '%-52s %9s %9s %7s\n' "  same: cp --sparse=always / tvm clone" "$cp" "$fc" "$(ratio "$fc" "$cp")"

# ---- 4: linked clones of templates of growing size ----
for gb in 1 10 100; do
    qemu-img create -q -f qcow2 "$dir/pool/t$gb.qcow2" "${gb}G"
    qemu-io -f qcow2 -c "write -P 7 0 64M" "$dir/pool/t$gb.qcow2" >/dev/null
    sed "s|<name>src</name>|<name>t$gb</name>|; s|src.qcow2|t$gb.qcow2|" "$dir/src.xml" >"$dir/t$gb.xml"
    tvm define "$dir/t$gb.xml"
    tvm template "t$gb"
    ql=; tl=
    for r in $(seq "$repeat"); do
        s=$(now); qemu-img create -q -f qcow2 -b "$dir/pool/t$gb.qcow2" -F qcow2 "$dir/q$gb-$r.qcow2"; ql=$(best "$ql" "$(elapsed "$s")")
        s=$(now); tvm clone --original "t$gb" --name "l$gb-$r" --linked; tl=$(best "$tl" "$(elapsed "$s")")
    done
    qemu-img compare -q "$dir/pool/t$gb.qcow2" "$dir/pool/l$gb-1.qcow2" || { echo "storage.sh: the linked clone differs" >&2; exit 1; }
    printf '%-52s %9s %9s %7s\n' "linked clone, ${gb} GiB template: qemu-img create -b / tvm clone --linked" "$ql" "$tl" "$(ratio "$tl" "$ql")"
done

# ---- 5: compressed copies (convert -c) ----
zdisk=${ZDISK:-1G}
zw=$(( $(numfmt --from=iec "${ZWRITTEN:-256M}") ))
truncate -s "$zdisk" "$dir/z.raw"
# host binaries (repeated when there are fewer than ZWRITTEN): neither zeros nor noise
{ cat /usr/bin/* 2>/dev/null || true; } | head -c "$zw" >"$dir/bins" || true
bins=$(stat -c %s "$dir/bins")
[ "$bins" -gt 0 ] || { echo "storage.sh: no binaries in /usr/bin to compress" >&2; exit 1; }
for ((off = 0; off < zw; off += bins)); do
    dd if="$dir/bins" of="$dir/z.raw" bs=1M seek="$off" oflag=seek_bytes conv=notrunc status=none
done
zq=; zt=
for r in $(seq "$repeat"); do
    rm -f "$dir/zq.qcow2" "$dir/zt.qcow2"
    drop; s=$(now); qemu-img convert -c -f raw -O qcow2 "$dir/z.raw" "$dir/zq.qcow2"; sync; zq=$(best "$zq" "$(elapsed "$s")")
    drop; s=$(now); tvm img convert -c -f raw -O qcow2 "$dir/z.raw" "$dir/zt.qcow2"; sync; zt=$(best "$zt" "$(elapsed "$s")")
done
qemu-img compare -q -f raw "$dir/z.raw" "$dir/zt.qcow2" || { echo "storage.sh: the compressed copy differs" >&2; exit 1; }
printf '%-52s %9s %9s %7s\n' "convert -c $zdisk raw, ${ZWRITTEN:-256M} binaries: qemu-img / tvm img" "$zq" "$zt" "$(ratio "$zt" "$zq")"
zs() { stat -c %s "$1"; }
echo "compressed size: qemu-img $(size "$dir/zq.qcow2") ($(zs "$dir/zq.qcow2") bytes), tvm $(size "$dir/zt.qcow2") ($(zs "$dir/zt.qcow2") bytes), tvm/qemu-img $(ratio "$(zs "$dir/zt.qcow2")" "$(zs "$dir/zq.qcow2")")"
