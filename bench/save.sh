#!/usr/bin/env bash
# Save/restore benchmark: a running guest (the lab's L2 kernel and
# initramfs) with MEM MiB of RAM, TOUCH MiB of it filled with non-zero
# bytes, saved to a file and restored, by tvm (tvm save / tvm restore on
# tvm-vmm) and by QEMU/KVM (-M pc; stop + migrate "exec:cat > FILE", then
# a new QEMU with -incoming "exec:cat FILE"), interleaved, N runs each.
#
#   bench/save.sh [--runs N] [--mem MIB] [--touch MIB]
#
# Save time: from the command to the file complete (tvm: `tvm save`
# returns; QEMU: query-migrate "completed"). Restore time: from the
# command to the guest running again (tvm: `tvm restore` returns; QEMU:
# process start to query-status "running"). Also the file sizes. Needs
# KVM: without usable hardware virtualization it runs itself inside the
# nested-KVM lab, where absolute times are a TCG-emulated L1's: compare
# the ratios.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
runs=3 mem=1024 touch=512 inside=0
tvm_bin=${TVM:-$repo/build/tvm}
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --touch) touch=$2; shift 2 ;;
    --inside) inside=1; shift ;;
    *) echo "usage: bench/save.sh [--runs N] [--mem MIB] [--touch MIB]" >&2; exit 2 ;;
    esac
done
tvm_bin=$(readlink -f "$tvm_bin")
[ -x "$tvm_bin" ] || { echo "bench: $tvm_bin is not built" >&2; exit 2; }

if [ $inside = 0 ] && ! { grep -qw -e vmx -e svm /proc/cpuinfo && [ -w /dev/kvm ]; }; then
    echo "bench: no usable hardware virtualization here; running inside the nested-KVM lab" >&2
    cd "$repo"
    exec bash tests/lab/lab run --mem 4096 --cpus 2 --timeout 3000 -- \
        env TVM="$tvm_bin" TVM_VMM="$(dirname "$tvm_bin")/tvm-vmm" \
        bash bench/save.sh --inside --runs "$runs" --mem "$mem" --touch "$touch"
fi
command -v qemu-system-x86_64 >/dev/null && command -v socat >/dev/null ||
    { echo "bench: qemu-system-x86_64 and socat are needed" >&2; exit 2; }

guest=$(bash "$repo/tests/lab/lab" guest)
kernel=${guest% *} initrd=${guest#* }
# The guest fills TOUCH MiB of its RAM (a file in a tmpfs of its own)
# with 'Z', says so, and stays up.
fill="mount -t tmpfs -o size=$((touch + 16))m t /mnt;"
fill+=" dd if=/dev/zero bs=1M count=$touch 2>/dev/null | tr \\\\000 Z >/mnt/fill; echo TVM-FILLED; while :; do sleep 60; done"
cmdline="console=ttyS0 quiet panic=-1 tvm.run=${fill// /%20}"
work=$(mktemp -d /tmp/bench-save.XXXXXX)
trap 'for p in $(jobs -p); do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"' EXIT
export TVM_RUNDIR=$work/run
db=$work/tvm.db

now_ms() { date +%s%3N; }
tvm() { "$tvm_bin" --db "$db" "$@"; }
# wait_file FILE PATTERN: until FILE has a line matching PATTERN (600 s).
wait_file() {
    local t=0
    until grep -q -- "$2" "$1" 2>/dev/null; do
        [ $t -lt 3000 ] || { echo "bench: no '$2' in $1" >&2; tail -5 "$1" >&2; exit 1; }
        sleep 0.2
        t=$((t + 1))
    done
}

cat >"$work/bench.xml" <<XML
<domain type='kvm'><name>bench</name><memory unit='MiB'>$mem</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type><kernel>$kernel</kernel><initrd>$initrd</initrd>
<cmdline>$cmdline</cmdline></os><features><acpi/><apic/></features></domain>
XML
tvm define "$work/bench.xml" >/dev/null

run_tvm() {
    local f=$work/tvm.save t0 t1 t2
    rm -f "$f"
    tvm start bench >/dev/null
    wait_file "$work/log/bench.console.log" ^TVM-FILLED
    t0=$(now_ms)
    tvm save bench "$f" >/dev/null
    t1=$(now_ms)
    tvm restore "$f" >/dev/null
    t2=$(now_ms)
    tvm destroy bench >/dev/null
    record tvm $((t1 - t0)) $((t2 - t1)) "$(stat -c %s "$f")"
}

# qmp SOCK CMD...: one connection, the commands in turn, the replies.
qmp() {
    local sock=$1
    shift
    { echo '{"execute": "qmp_capabilities"}'; printf '%s\n' "$@"; sleep 0.2; } |
        socat -t 5 - "UNIX-CONNECT:$sock"
}
# qmp_wait SOCK CMD PATTERN: until CMD's reply matches PATTERN.
qmp_wait() {
    local t=0
    until qmp "$1" "{\"execute\": \"$2\"}" | grep -q -- "$3"; do
        [ $t -lt 6000 ] || { echo "bench: QEMU never said '$3' to $2" >&2; exit 1; }
        sleep 0.1
        t=$((t + 1))
    done
}

qemu() {
    qemu-system-x86_64 -M pc -enable-kvm -cpu host -m "$mem" -smp 1 -nodefaults -no-user-config \
        -display none -serial "file:$work/qemu.console" -qmp "unix:$1,server=on,wait=off" \
        -kernel "$kernel" -initrd "$initrd" -append "$cmdline" "${@:2}" &
}

run_qemu() {
    local f=$work/qemu.save s1=$work/q1.sock s2=$work/q2.sock t0 t1 t2
    rm -f "$f" "$s1" "$s2" "$work/qemu.console"
    qemu "$s1"
    local pid=$!
    wait_file "$work/qemu.console" ^TVM-FILLED
    t0=$(now_ms)
    qmp "$s1" '{"execute": "stop"}' "{\"execute\": \"migrate\", \"arguments\": {\"uri\": \"exec:cat > $f\"}}" >/dev/null
    qmp_wait "$s1" query-migrate '"completed"'
    t1=$(now_ms)
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    qemu "$s2" -incoming "exec:cat $f"
    pid=$!
    qmp_wait "$s2" query-status '"running"'
    t2=$(now_ms)
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
    record qemu $((t1 - t0)) $((t2 - t1)) "$(stat -c %s "$f")"
}

record() {
    echo "$*" >>"$work/results"
    printf '  %-5s save %7d ms  restore %7d ms  file %6d MiB\n' "$1" "$2" "$3" $(($4 >> 20))
}

echo "bench: save/restore of a running guest, $mem MiB with $touch MiB touched, $runs runs each ($(uname -r))"
for i in $(seq 1 "$runs"); do
    echo "run $i"
    if [ $((i % 2)) = 1 ]; then run_tvm; run_qemu; else run_qemu; run_tvm; fi
done

echo
awk '
    function median(k, col,   m, i, j, x, a) {
        m = n[k]
        for (i = 1; i <= m; i++) a[i] = v[k, col, i]
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x }
        return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    { n[$1]++; v[$1, 2, n[$1]] = $2; v[$1, 3, n[$1]] = $3; v[$1, 4, n[$1]] = $4 }
    END {
        printf "%-6s %14s %16s %12s\n", "vmm", "median save", "median restore", "file"
        for (k in n) printf "%-6s %11d ms %13d ms %8.0f MiB\n", k, median(k, 2), median(k, 3), median(k, 4) / 1048576
        print ""
        printf "tvm / qemu: save time x%.2f, restore time x%.2f, file size x%.2f\n",
            median("tvm", 2) / median("qemu", 2), median("tvm", 3) / median("qemu", 3),
            median("tvm", 4) / median("qemu", 4)
    }' "$work/results"
