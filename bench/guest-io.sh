#!/usr/bin/env bash
# Guest I/O through virtio-blk: tvm-vmm against QEMU/KVM in the same run.
#
#   bench/guest-io.sh [--repeat N] [--secs S] [--size MIB] [--depth N]
#                     [--mem MIB] [--cpus N] [--formats "raw qcow2"] [--vmm PATH] [--sandbox]
#
# One guest (the lab's L2 kernel + initramfs, plus bench/guest-io built
# static and appended as a second cpio archive; same memory, vCPUs and
# kernel command line) boots under tvm-vmm and under
#   qemu-system-x86_64 -M pc -enable-kvm ... -drive ...,cache=writeback,aio=threads
#     -device virtio-blk-pci,num-queues=1
# (tvm's virtio-blk has one queue; QEMU is an oracle only, tvm never runs it)
# with two disks of the same format: vda, filled on the host beforehand
# (sequential 1 MiB reads, random 4 KiB reads at queue depth 1 and N), and
# vdb, created fresh before every boot (sequential 1 MiB writes and random
# 4 KiB writes at depth 1 and N, each on its own third of the disk, so a
# qcow2 allocates clusters on both sides). The guest uses O_DIRECT.
#
# Host side: the images live on tmpfs (inside the lab, L1's /tmp; the
# lab's work tree is a 9p mount), so the host page cache holds them and
# O_DIRECT is impossible there: both VMMs run with cache=writeback.
#
# The two VMMs alternate, REPEAT boots each per format; every figure is the
# best of its REPEAT values (the machine is shared, noise only slows down).
# --sandbox: tvm-vmm against itself with --no-sandbox instead of QEMU
# (what its seccomp filter, landlock and uid switch cost), columns "tvm"
# and "nosb".
# Needs KVM: without hardware virtualization it runs itself inside the
# nested-KVM lab, where L1 is TCG-emulated: compare the ratios, not the
# absolute numbers. Not part of ctest.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
repeat=${REPEAT:-3} secs=5 size=256 depth=16 mem=256 cpus=2 formats="raw qcow2"
vmm=${TVM_VMM:-$repo/build/tvm-vmm} inside=0 other=qemu probe_only=0
usage() {
    sed -n '4,5p' "$0" | sed 's/^# \{0,1\}/usage: /' >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
    --repeat) repeat=$2; shift 2 ;;
    --secs) secs=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --depth) depth=$2; shift 2 ;;
    --mem) mem=$2; shift 2 ;;
    --cpus) cpus=$2; shift 2 ;;
    --formats) formats=$2; shift 2 ;;
    --vmm) vmm=$2; shift 2 ;;
    --inside) inside=1; shift ;;
    --sandbox) other=nosb; shift ;;
    --probe-only) probe_only=1; shift ;; # build the guest's probe, nothing else (bench/sandbox.sh)
    *) usage ;;
    esac
done
vmm=$(readlink -f "$vmm")
[ -x "$vmm" ] || { echo "guest-io: $vmm is not built" >&2; exit 2; }
for t in qemu-system-x86_64 qemu-img qemu-io cpio gcc; do
    command -v $t >/dev/null || { echo "guest-io: $t is missing" >&2; exit 2; }
done

# The probe is built next to the VMM, outside the lab (L1 sees the host's
# / read-only and the work tree read-write, and compiles slowly under TCG).
probe=$(dirname "$vmm")/bench/guest-io
probe_cpio=$probe.cpio.gz
if [ ! -x "$probe" ] || [ "$here/guest-io.c" -nt "$probe" ] || [ ! -f "$probe_cpio" ]; then
    mkdir -p "$(dirname "$probe")"
    gcc -O2 -static -pthread -Wall -Wextra -o "$probe" "$here/guest-io.c"
    stage=$(mktemp -d)
    mkdir -p "$stage/bin"
    cp "$probe" "$stage/bin/guest-io"
    (cd "$stage" && find . -print | cpio -o -H newc 2>/dev/null | gzip -1) >"$probe_cpio"
    rm -rf "$stage"
fi
[ $probe_only = 0 ] || exit 0

if [ $inside = 0 ] && ! { grep -qw -e vmx -e svm /proc/cpuinfo && [ -w /dev/kvm ]; }; then
    echo "guest-io: no usable hardware virtualization here; running inside the nested-KVM lab" >&2
    cd "$repo"
    exec bash tests/lab/lab run --mem 4096 --cpus 2 --timeout 3300 -- \
        bash bench/guest-io.sh --inside --repeat "$repeat" --secs "$secs" --size "$size" \
        --depth "$depth" --mem "$mem" --cpus "$cpus" --formats "$formats" --vmm "$vmm" \
        $([ $other = nosb ] && echo --sandbox)
fi

guest=$(bash "$repo/tests/lab/lab" guest)
kernel=${guest% *}
work=$(mktemp -d /tmp/bench-guest-io.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The kernel unpacks concatenated archives: the lab's initramfs, then /bin/guest-io.
initrd=$work/initrd
cat "${guest#* }" "$probe_cpio" >"$initrd"
run="/bin/guest-io -t $secs -q $depth /dev/vda /dev/vdb"
cmdline="console=ttyS0 quiet panic=-1 tvm.run=${run// /%20}"
boot_timeout=$((600 + 8 * secs))
read_bytes=$((size * 1024 * 1024))
write_bytes=$((3 * size / 2 * 1024 * 1024)) # three regions of size/2

# prepare FMT: the filled read disk, once per format (reads leave it alone).
prepare() {
    local raw=$work/read.raw
    if [ ! -f "$raw" ]; then
        qemu-img create -q -f raw "$raw" "${size}M"
        qemu-io -f raw -c "write -P 0x5a 0 ${size}M" "$raw" >/dev/null
    fi
    [ "$1" = raw ] || qemu-img convert -O "$1" "$raw" "$work/read.$1"
}

fresh_write_disk() {
    rm -f "$work/write.$1"
    qemu-img create -q -f "$1" "$work/write.$1" "$write_bytes"
}

# wait_guest PID LOG NAME: the VMM ends when the guest powers off.
wait_guest() {
    local pid=$1 log=$2 name=$3 t=0
    while kill -0 "$pid" 2>/dev/null; do
        if [ $t -ge $boot_timeout ]; then
            kill -9 "$pid" 2>/dev/null || true
            echo "guest-io: $name did not finish within ${boot_timeout}s" >&2
            break
        fi
        sleep 1
        t=$((t + 1))
    done
    wait "$pid" 2>/dev/null || true
}

# collect NAME FMT LOG ERR: keep the IO lines, or show why there are none.
collect() {
    local name=$1 fmt=$2 log=$3 err=$4
    if ! grep -aq '^IO done' "$log"; then
        echo "guest-io: $name ($fmt) gave no figures; console and stderr tails:" >&2
        tail -n 15 "$log" "$err" >&2 || true
        echo "$name $fmt" >>"$work/failed"
        return 0
    fi
    local got
    got=$(tr -d '\r' <"$log" | sed -n 's/^IO seq-read .*bytes=\([0-9]*\).*/\1/p')
    # vda must be the read disk (its whole size read once): catches a swapped order.
    [ "$got" = "$read_bytes" ] || { echo "guest-io: $name read $got bytes from vda, wanted $read_bytes" >&2; return 1; }
    tr -d '\r' <"$log" | awk -v v="$name" -v f="$fmt" '
        /^IO (seq|rand)-/ { split($3, kv, "="); printf "%s %s %s %s %s\n", f, $2, v, kv[2], kv[1] }' \
        >>"$work/results"
    tr -d '\r' <"$log" | grep '^IO [sr]' | sed "s/^IO /  $name: /"
    tr -d '\r' <"$log" | sed -n "s/^IO info /  $name: guest /p"
}

# check_written FMT WHO: the image is consistent and the sequential pass
# (0xa5 over the first third, in multi-segment requests) reached it intact.
check_written() {
    local f=$work/write.$1 out
    if [ "$1" = qcow2 ] && ! qemu-img check -q "$f"; then
        echo "guest-io: qemu-img check failed after $2" >&2
        exit 1
    fi
    out=$(qemu-io -f "$1" -c "read -P 0xa5 0 $((write_bytes / 3))" "$f" 2>&1) || true
    if ! grep -q '^read ' <<<"$out" || grep -qi 'fail\|mismatch' <<<"$out"; then
        echo "guest-io: after $2 the sequential region is not the pattern written: $out" >&2
        exit 1
    fi
}

# run_tvm FORMAT [NAME VMM-ARGS...]: NAME (tvm) is the figures' column.
run_tvm() {
    local fmt=$1 name=${2:-tvm} d=$work/${2:-tvm}
    shift $(($# > 1 ? 2 : 1))
    rm -rf "$d"
    mkdir -p "$d"
    disk() { echo "<disk type='file' device='disk'><driver name='qemu' type='$fmt' cache='writeback' io='threads'/><source file='$1'/><target dev='$2' bus='virtio'/></disk>"; }
    cat >"$d/domain.xml" <<XML
<domain type='kvm'><name>bench-io</name><memory unit='MiB'>$mem</memory><vcpu>$cpus</vcpu>
<os><type arch='x86_64'>hvm</type><kernel>$kernel</kernel><initrd>$initrd</initrd>
<cmdline>$cmdline</cmdline></os><features><acpi/><apic/></features>
<on_poweroff>destroy</on_poweroff><on_reboot>destroy</on_reboot><on_crash>destroy</on_crash>
<devices>$(disk "$work/read.$fmt" vda)$(disk "$work/write.$fmt" vdb)</devices></domain>
XML
    "$vmm" --domain "$d/domain.xml" --rundir "$d" --console-log "$d/console.log" "$@" \
        </dev/null >"$d/vmm.log" 2>&1 &
    wait_guest $! "$d/console.log" "$name"
    collect "$name" "$fmt" "$d/console.log" "$d/vmm.log"
}

run_nosb() { run_tvm "$1" nosb --no-sandbox; }

run_qemu() {
    local fmt=$1 d=$work/qemu
    rm -rf "$d"
    mkdir -p "$d"
    local drive="if=none,format=$fmt,cache=writeback,aio=threads"
    qemu-system-x86_64 -M pc -enable-kvm -cpu host -m "$mem" -smp "$cpus" -nodefaults \
        -no-user-config -display none -no-reboot -serial "file:$d/console.log" \
        -kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
        -drive "file=$work/read.$fmt,id=d0,$drive" -device virtio-blk-pci,drive=d0,num-queues=1 \
        -drive "file=$work/write.$fmt,id=d1,$drive" -device virtio-blk-pci,drive=d1,num-queues=1 \
        </dev/null >"$d/qemu.log" 2>&1 &
    wait_guest $! "$d/console.log" qemu
    collect qemu "$fmt" "$d/console.log" "$d/qemu.log"
}

echo "guest-io: $mem MiB, $cpus vCPU(s), read disk ${size} MiB, write disk $((write_bytes >> 20)) MiB," \
    "${secs} s per random figure, depth 1 and $depth, best of $repeat ($(uname -r))"
: >"$work/results"
for fmt in $formats; do
    prepare "$fmt"
    for i in $(seq 1 "$repeat"); do
        echo "$fmt run $i"
        # Alternate who goes first: a warm-up advantage then falls to each side.
        if [ $((i % 2)) = 1 ]; then order="tvm $other"; else order="$other tvm"; fi
        for who in $order; do
            fresh_write_disk "$fmt"
            "run_$who" "$fmt"
            grep -qx "$who $fmt" "$work/failed" 2>/dev/null || check_written "$fmt" "$who"
        done
    done
    rm -f "$work/read.$fmt" "$work/write.$fmt"
done

echo
awk -v other=$other '
    { k = $1 " " $2; if (!(k in seen)) { seen[k] = 1; order[++n] = k; unit[k] = $5 }
      if ($4 > best[k, $3]) best[k, $3] = $4 }
    END {
        printf "%-6s %-16s %-5s %10s %10s %7s\n", "format", "figure", "unit", "tvm", other, "tvm/" other
        for (i = 1; i <= n; i++) {
            k = order[i]; split(k, p, " ")
            t = best[k, "tvm"]; q = best[k, other]
            r = q > 0 ? t / q : 0
            printf("%-6s %-16s %-5s %10.1f %10.1f %7.2fx%s\n", p[1], p[2], unit[k], t, q, r,
                   r < 0.9 ? "  below 0.9" : "")
        }
    }' "$work/results"
echo
if [ $inside = 1 ]; then
    echo "note: L1 is TCG-emulated (nested KVM in the lab): absolute figures mean little, the ratios are what count"
fi
echo "note: images on tmpfs, cache=writeback on both sides (host page cache; O_DIRECT is impossible on tmpfs)"
# A boot without figures is a failure of the run, not a number to skip quietly.
if [ -s "$work/failed" ]; then
    echo "guest-io: $(wc -l <"$work/failed") boot(s) gave no figures (best of the others above):" \
        $(sort "$work/failed" | uniq -c | awk '{ printf "%s %s x%d; ", $2, $3, $1 }') >&2
    exit 1
fi
