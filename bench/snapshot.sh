#!/usr/bin/env bash
# qcow2 internal snapshots: `tvm img snapshot -c/-d` (tvm's image layer)
# against `qemu-img snapshot -c/-d` on two copies of the same image — a
# 10 GiB qcow2 with 1 GiB written (four 256 MiB runs spread over the
# disk) — alternating the two tools, RUNS rounds, median times and the
# ratio tvm/qemu-img. Also what a snapshot of the shut-off disk adds to
# the file (allocated bytes, du): metadata only, no data cluster copied.
#
#   bench/snapshot.sh [BUILD_DIR]   (env: RUNS, DISK, BENCH_DIR)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${TVM_BUILD:-$src/build}}
tvm=$build/tvm
[ -x "$tvm" ] || { echo "snapshot.sh: $tvm not built" >&2; exit 1; }
for t in qemu-img qemu-io; do
    command -v $t >/dev/null || { echo "snapshot.sh: $t missing (qemu-utils)" >&2; exit 1; }
done
runs=${RUNS:-9}
disk=${DISK:-10G}
dir=$(mktemp -d "${BENCH_DIR:-$src/build}/tvm-snapshot-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

qemu-img create -q -f qcow2 "$dir/tvm.qcow2" "$disk"
qemu-io -c 'write -P 0x5a 0 256M' -c 'write -P 0x5b 3G 256M' -c 'write -P 0x5c 6G 256M' \
    -c 'write -P 0x5d 9G 256M' "$dir/tvm.qcow2" >/dev/null
cp --sparse=always "$dir/tvm.qcow2" "$dir/qemu.qcow2"
sync

ns() { date +%s%N; }
alloc() { du --block-size=1 "$1" | cut -f1; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# one TOOL OP NAME FILE: prints the milliseconds (3 decimals) it took
one() {
    local t0 t1
    t0=$(ns)
    if [ "$1" = tvm ]; then "$tvm" img snapshot "$2" "$3" "$4" >/dev/null; else qemu-img snapshot "$2" "$3" "$4"; fi
    t1=$(ns)
    awk -v d=$((t1 - t0)) 'BEGIN { printf "%.3f\n", d / 1e6 }'
}

: >"$dir/times"
for i in $(seq 1 "$runs"); do
    for tool in tvm qemu; do
        before=$(alloc "$dir/$tool.qcow2")
        c=$(one $tool -c "s$i" "$dir/$tool.qcow2")
        after=$(alloc "$dir/$tool.qcow2")
        qemu-io -c "write -P $i 1G 64k" "$dir/$tool.qcow2" >/dev/null # the disk moves on
        echo "$tool create $c $((after - before))" >>"$dir/times"
    done
done
for i in $(seq 1 "$runs"); do
    for tool in tvm qemu; do
        d=$(one $tool -d "s$i" "$dir/$tool.qcow2")
        echo "$tool delete $d 0" >>"$dir/times"
    done
done
for f in tvm qemu; do
    qemu-img check -q "$dir/$f.qcow2" || { echo "snapshot.sh: qemu-img check fails on $f.qcow2" >&2; exit 1; }
done
qemu-img compare -q "$dir/tvm.qcow2" "$dir/qemu.qcow2" || { echo "snapshot.sh: the two disks differ" >&2; exit 1; }

fig() { awk -v t="$1" -v o="$2" -v c="$3" '$1 == t && $2 == o { print $c }' "$dir/times" | median; }
printf '%-28s %12s %12s %8s\n' "10 GiB qcow2, 1 GiB written" "tvm" "qemu-img" "ratio"
for op in create delete; do
    a=$(fig tvm $op 3) b=$(fig qemu $op 3)
    printf '%-28s %10s ms %10s ms %8s\n' "snapshot $op (median of $runs)" "$a" "$b" \
        "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
done
a=$(fig tvm create 4) b=$(fig qemu create 4)
printf '%-28s %9s KiB %9s KiB\n' "file grows per create" "$((a / 1024))" "$((b / 1024))"
echo "(data written to the disk: 1048576 KiB; a snapshot copying it would add as much)"
