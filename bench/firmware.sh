#!/usr/bin/env bash
# Firmware boot benchmark: the same disk image (MBR, FAT, GRUB for BIOS,
# the lab's L2 kernel + initrd; tests/lab/fw-lib.sh makes it) booted by
# tvm-vmm + SeaBIOS and by QEMU -M pc with the same bios-256k.bin (Debian's
# seabios), both on KVM, same memory and vCPUs, N runs each, interleaved.
#
#   bench/firmware.sh [--runs N] [--mem MIB] [--cpus N] [--vmm PATH]
#
# Two times from exec, both read on the serial console (the BIOS's serial
# console, sercon, for SeaBIOS and GRUB; the guest's ttyS0 after that):
# to the boot loader's first output ("GRUB loading") and to the guest's
# first userspace line (TVM-GUEST-UP). Needs KVM: without usable hardware
# virtualization it runs itself inside the nested-KVM lab, where absolute
# times are those of a TCG-emulated L1: compare the ratios.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
runs=3 mem=256 cpus=1 vmm=${TVM_VMM:-$repo/build/tvm-vmm} inside=0
bios=/usr/share/seabios/bios-256k.bin
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --vmm) vmm=$2; shift 2 ;;
    --inside) inside=1; shift ;;
    *) echo "usage: bench/firmware.sh [--runs N] [--mem MIB] [--cpus N] [--vmm PATH]" >&2; exit 2 ;;
    esac
done
vmm=$(readlink -f "$vmm")
[ -x "$vmm" ] || { echo "bench: $vmm is not built" >&2; exit 2; }
[ -f "$bios" ] || { echo "bench: $bios missing (Debian package seabios)" >&2; exit 2; }

if [ $inside = 0 ] && ! { grep -qw -e vmx -e svm /proc/cpuinfo && [ -w /dev/kvm ]; }; then
    echo "bench: no usable hardware virtualization here; running inside the nested-KVM lab" >&2
    cd "$repo"
    exec bash tests/lab/lab run --mem 3072 --cpus 2 --timeout 3000 -- \
        bash bench/firmware.sh --inside --runs "$runs" --mem "$mem" --cpus "$cpus" --vmm "$vmm"
fi

guest=$(bash "$repo/tests/lab/lab" guest)
LAB_KERNEL=${guest% *} LAB_INITRD=${guest#* }
work=$(mktemp -d /tmp/bench-fw.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$repo/tests/lab/fw-lib.sh"
make_grub_disk "$work/disk.raw" "console=ttyS0 quiet panic=-1 tvm.shell"
qemu-img convert -O qcow2 "$work/disk.raw" "$work/disk.qcow2"
rm -f "$work/disk.raw"

now_ms() { date +%s%3N; }

# measure NAME CMD...: start CMD (serial console on its stdout), note when
# GRUB first speaks and when the guest's banner comes, then kill it. Each
# run gets a fresh copy of the image (a boot writes nothing, but both
# sides start from the same bytes).
measure() {
    local name=$1 start pid line t1= t2=
    shift
    local fifo=$work/out
    rm -f "$fifo"
    mkfifo "$fifo"
    start=$(now_ms)
    "$@" >"$fifo" 2>"$work/$name.err" </dev/null &
    pid=$!
    while IFS= read -r line; do
        case $line in
        *"GRUB loading"*) [ -n "$t1" ] || t1=$(($(now_ms) - start)) ;;
        *TVM-GUEST-UP*)
            t2=$(($(now_ms) - start))
            break
            ;;
        esac
    done <"$fifo" || true
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    if [ -z "$t1" ] || [ -z "$t2" ]; then
        echo "bench: $name did not boot; its stderr:" >&2
        tail -5 "$work/$name.err" >&2
        return 1
    fi
    echo "$name $t1 $t2" >>"$work/results"
    printf '  %-8s GRUB after %6d ms, userspace after %6d ms\n' "$name" "$t1" "$t2"
}

run_tvm() {
    local d=$work/tvm
    mkdir -p "$d"
    cat >"$d/domain.xml" <<XML
<domain type='kvm'><name>bench</name><memory unit='MiB'>$mem</memory><vcpu>$cpus</vcpu>
<os><type arch='x86_64'>hvm</type><loader>$bios</loader></os><features><acpi/><apic/></features>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='$work/disk.qcow2'/><target dev='vda' bus='virtio'/></disk></devices></domain>
XML
    measure tvm-vmm "$vmm" --domain "$d/domain.xml" --rundir "$d" --foreground
}

run_qemu() {
    measure qemu-pc qemu-system-x86_64 -M pc -enable-kvm -cpu host -m "$mem" -smp "$cpus" \
        -nodefaults -no-user-config -nographic -serial stdio -bios "$bios" \
        -drive "file=$work/disk.qcow2,if=virtio,format=qcow2"
}

echo "bench: SeaBIOS + GRUB from a virtio disk, $mem MiB, $cpus vCPU(s), $runs runs each ($(uname -r))"
for i in $(seq 1 "$runs"); do
    echo "run $i"
    if [ $((i % 2)) = 1 ]; then run_tvm; run_qemu; else run_qemu; run_tvm; fi
done

echo
awk '
    function median(k, col,   m, i, j, a, x) {
        m = n[k]
        for (i = 1; i <= m; i++) a[i] = v[k, col, i]
        for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { x = a[i]; a[i] = a[j]; a[j] = x }
        return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
    }
    { n[$1]++; v[$1, 1, n[$1]] = $2; v[$1, 2, n[$1]] = $3 }
    END {
        printf "%-8s %16s %20s\n", "vmm", "median to GRUB", "median to userspace"
        for (k in n) printf "%-8s %13d ms %17d ms\n", k, median(k, 1), median(k, 2)
        printf "\ntvm-vmm / qemu-pc: to GRUB x%.2f, to userspace x%.2f\n",
            median("tvm-vmm", 1) / median("qemu-pc", 1), median("tvm-vmm", 2) / median("qemu-pc", 2)
    }' "$work/results"
