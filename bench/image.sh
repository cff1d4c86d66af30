#!/usr/bin/env bash
# The image layer (tvm-image-bench) against `qemu-img bench` on the same files:
# qcow2 and raw, read and write, 4 KiB and 64 KiB requests, queue depth 1,
# host page cache on both sides (qemu-img bench -d 1 -t writeback, aio=threads).
# Writes go to freshly created images (so qcow2 allocates clusters on both
# sides); reads go to images filled beforehand, page cache warm.
#
# Each figure is the best of REPEAT runs (the two tools alternate), because a
# shared machine's noise is larger than the difference being measured.
#
#   bench/image.sh [BUILD_DIR]   (env: COUNT_4K, COUNT_64K, DISK, REPEAT, BENCH_DIR)
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-${TVM_BUILD:-$src/build}}
tvm_bench=$build/bench/tvm-image-bench
[ -x "$tvm_bench" ] || { echo "image.sh: $tvm_bench not built" >&2; exit 1; }
command -v qemu-img >/dev/null || { echo "image.sh: qemu-img missing" >&2; exit 1; }

count_4k=${COUNT_4K:-40000}
count_64k=${COUNT_64K:-4000}
repeat=${REPEAT:-3}
disk=${DISK:-1G}
dir=$(mktemp -d "${BENCH_DIR:-/tmp}/tvm-image-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

# Prints the seconds from a "Run completed in X seconds." line.
secs() { sed -n 's/^Run completed in \([0-9.]*\) seconds\./\1/p'; }
best() { if [ -z "$1" ]; then echo "$2"; else awk -v a="$1" -v b="$2" 'BEGIN { print (a < b ? a : b) }'; fi; }

fresh() { # fmt file
    rm -f "$2"
    qemu-img create -q -f "$1" "$2" "$disk"
}

filled() { # fmt file
    fresh "$1" "$2"
    qemu-io -f "$1" -c "write -P 0x5a 0 $disk" "$2" >/dev/null
}

printf '%-6s %-5s %-5s %12s %12s %7s\n' format op size "qemu MB/s" "tvm MB/s" ratio
for fmt in qcow2 raw; do
    for op in write read; do
        for size in 4k 64k; do
            if [ "$size" = 4k ]; then count=$count_4k; bytes=4096; else count=$count_64k; bytes=65536; fi
            w=; [ "$op" = write ] && w=-w
            f=$dir/img.$fmt
            [ "$op" = read ] && filled "$fmt" "$f"
            q=; t=
            for _ in $(seq "$repeat"); do
                [ "$op" = write ] && fresh "$fmt" "$f"
                sync # start each run without the other's dirty pages to write back
                s1=$(qemu-img bench $w -f "$fmt" -c "$count" -d 1 -s "$size" -t writeback -i threads "$f" | secs)
                [ "$op" = write ] && fresh "$fmt" "$f"
                sync
                s2=$("$tvm_bench" $w -f "$fmt" -c "$count" -s "$size" "$f" | secs)
                q=$(best "$q" "$s1")
                t=$(best "$t" "$s2")
            done
            if [ "$fmt" = qcow2 ]; then
                qemu-img check -q "$f" || { echo "image.sh: qemu-img check failed after tvm run" >&2; exit 1; }
            fi
            awk -v f="$fmt" -v o="$op" -v s="$size" -v q="$q" -v t="$t" -v n="$count" -v b="$bytes" 'BEGIN {
                mq = n * b / q / 1e6; mt = n * b / t / 1e6;
                printf "%-6s %-5s %-5s %12.1f %12.1f %6.2fx\n", f, o, s, mq, mt, mt / mq }'
        done
    done
done
