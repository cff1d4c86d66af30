#!/usr/bin/env bash
# Boot-time and memory-overhead benchmark: tvm-vmm against QEMU/KVM
# (-M microvm and -M pc), same kernel + initramfs (the lab's L2 guest),
# same memory and vCPUs, N runs each, interleaved.
#
#   bench/boot.sh [--runs N] [--mem MIB] [--cpus N] [--vmm PATH] [--sandbox]
#
# --sandbox: tvm-vmm against itself with --no-sandbox ("no-sandbox")
# instead of QEMU: what its sandbox costs at start-up.
#
# Boot time: from exec to the guest's first userspace line (TVM-GUEST-UP)
# on the serial console. Overhead: the VMM's resident memory beyond guest
# RAM at that moment = Rss of the process minus Rss of the guest-RAM
# mapping (from /proc/PID/smaps). Needs KVM: on a host without usable
# hardware virtualization it runs itself inside the nested-KVM lab, where
# absolute times are those of a TCG-emulated L1, so compare the ratios.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
runs=5 mem=256 cpus=1 vmm=${TVM_VMM:-$repo/build/tvm-vmm} inside=0 sandbox=0
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --vmm) vmm=$2; shift 2 ;;
    --inside) inside=1; shift ;;
    --sandbox) sandbox=1; shift ;;
    *) echo "usage: bench/boot.sh [--runs N] [--mem MIB] [--cpus N] [--vmm PATH] [--sandbox]" >&2; exit 2 ;;
    esac
done
vmm=$(readlink -f "$vmm")
[ -x "$vmm" ] || { echo "bench: $vmm is not built" >&2; exit 2; }

if [ $inside = 0 ] && ! { grep -qw -e vmx -e svm /proc/cpuinfo && [ -w /dev/kvm ]; }; then
    echo "bench: no usable hardware virtualization here; running inside the nested-KVM lab" >&2
    cd "$repo"
    exec bash tests/lab/lab run --mem 3072 --cpus 2 --timeout 3000 -- \
        bash bench/boot.sh --inside --runs "$runs" --mem "$mem" --cpus "$cpus" --vmm "$vmm" \
        $([ $sandbox = 1 ] && echo --sandbox)
fi

guest=$(bash "$repo/tests/lab/lab" guest)
kernel=${guest% *} initrd=${guest#* }
cmdline="console=ttyS0 quiet panic=-1 tvm.shell" # the guest stays up to be measured
work=$(mktemp -d /tmp/bench-boot.XXXXXX)
trap 'rm -rf "$work"' EXIT

now_ms() { date +%s%3N; }

# overhead_kib PID: process Rss minus the Rss of its largest mapping of at
# least the guest's size (the guest RAM), and that guest Rss.
overhead_kib() {
    awk -v want=$((mem * 1024)) '
        /^[0-9a-f]+-[0-9a-f]+ / { cur = "" ; next }
        /^Size:/ { size = $2 }
        /^Rss:/ { total += $2; if (size >= want && size > best) { best = size; guest = $2 } }
        END { printf "%d %d\n", total - guest, guest }' "/proc/$1/smaps"
}

# measure NAME CMD...: start CMD (console on its stdout), wait for the
# banner, record boot ms and overhead, then kill it.
measure() {
    local name=$1 start pid line t over guestrss up
    shift
    local fifo=$work/out
    rm -f "$fifo"
    mkfifo "$fifo"
    start=$(now_ms)
    "$@" >"$fifo" 2>"$work/$name.err" </dev/null &
    pid=$!
    t=
    while IFS= read -r line; do
        case $line in
        *TVM-GUEST-UP*)
            t=$(($(now_ms) - start))
            read -r over guestrss < <(overhead_kib "$pid")
            up=$(echo "$line" | sed -n 's/.*uptime=\([0-9.]*\).*/\1/p')
            break
            ;;
        esac
    done <"$fifo" || true
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [ -z "$t" ]; then
        echo "bench: $name did not boot; its stderr:" >&2
        tail -5 "$work/$name.err" >&2
        return 1
    fi
    echo "$name $t $over $guestrss $up" >>"$work/results"
    printf '  %-12s boot %6d ms (guest uptime %6s s)  overhead %7d KiB  guest RSS %7d KiB\n' \
        "$name" "$t" "$up" "$over" "$guestrss"
}

# run_tvm [NAME VMM-ARGS...]
run_tvm() {
    local name=${1:-tvm-vmm} d=$work/${1:-tvm-vmm}
    shift $(($# > 0 ? 1 : 0))
    mkdir -p "$d"
    cat >"$d/domain.xml" <<XML
<domain type='kvm'><name>bench</name><memory unit='MiB'>$mem</memory><vcpu>$cpus</vcpu>
<os><type arch='x86_64'>hvm</type><kernel>$kernel</kernel><initrd>$initrd</initrd>
<cmdline>$cmdline</cmdline></os><features><acpi/><apic/></features></domain>
XML
    measure "$name" "$vmm" --domain "$d/domain.xml" --rundir "$d" --foreground "$@"
}

run_qemu() {
    local machine=$1
    measure "qemu-$machine" qemu-system-x86_64 -M "$machine" -enable-kvm -cpu host -m "$mem" \
        -smp "$cpus" -nodefaults -no-user-config -nographic -serial stdio \
        -kernel "$kernel" -initrd "$initrd" -append "$cmdline"
}

echo "bench: boot to TVM-GUEST-UP, $mem MiB, $cpus vCPU(s), $runs runs each ($(uname -r))"
for i in $(seq 1 "$runs"); do
    echo "run $i"
    if [ $sandbox = 1 ]; then
        # Alternate who goes first: a warm-up advantage falls to each side.
        if [ $((i % 2)) = 1 ]; then run_tvm; run_tvm no-sandbox --no-sandbox
        else run_tvm no-sandbox --no-sandbox; run_tvm; fi
        continue
    fi
    run_tvm
    run_qemu microvm
    run_qemu pc
done

echo
awk '
    { n[$1]++; t[$1, n[$1]] = $2; o[$1] += $3 }
    END {
        for (k in n) {
            # median boot time
            m = n[k]
            for (i = 1; i <= m; i++) a[i] = t[k, i]
            for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x }
            med[k] = (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
            ov[k] = o[k] / m
        }
        printf "%-12s %12s %16s\n", "vmm", "median boot", "mean overhead"
        for (k in n) printf "%-12s %9d ms %12.1f MiB\n", k, med[k], ov[k] / 1024
        print ""
        for (k in n) if (k != "tvm-vmm")
            printf "tvm-vmm / %-12s boot time x%.2f, memory overhead x%.2f\n", k,
                med["tvm-vmm"] / med[k], ov["tvm-vmm"] / ov[k]
    }' "$work/results"
