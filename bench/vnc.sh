#!/usr/bin/env bash
# VNC frame rate and the VMM's CPU time: tvm-vmm's VNC server (src/vnc)
# against QEMU's, in one run, on the same guest (the lab's L2 kernel and
# initramfs, direct kernel boot, VGA text mode: the lab kernel has no DRM,
# and text mode is a screen both VMMs show) that rewrites its whole text
# screen continuously (/dev/vcs, two full screens in turn, about 100
# changes a second). The same client, tests/lab/vnc-probe.c (libvncclient,
# raw encoding, incremental requests), counts the FramebufferUpdates it
# receives in SECONDS on each server's unix socket; over the same window
# the VMM's CPU time is read from /proc/PID/task/*/stat, all threads and
# the threads that are not vCPUs (the display and VNC work: the guest's
# own loop is the same on both sides).
#
#   bench/vnc.sh [--seconds N] [--vmm PATH]     (env TVM_BUILD: the build directory)
#
# Needs KVM: without usable hardware virtualization it runs itself inside
# the nested-KVM lab (take /tmp/tvm-lab.lock first), where absolute figures
# are those of a nested guest: compare the ratios.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
build=${TVM_BUILD:-$repo/build}
seconds=20 vmm=${TVM_VMM:-$build/tvm-vmm} inside=0
while [ $# -gt 0 ]; do
    case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --vmm) vmm=$2; shift 2 ;;
    --inside) inside=1; shift ;;
    *) echo "usage: bench/vnc.sh [--seconds N] [--vmm PATH]" >&2; exit 2 ;;
    esac
done
vmm=$(readlink -f "$vmm")
probe=$(readlink -f "$build/tests/vnc-probe")
[ -x "$vmm" ] || { echo "bench: $vmm is not built" >&2; exit 2; }
[ -x "$probe" ] || { echo "bench: $probe is not built" >&2; exit 2; }

if [ $inside = 0 ] && ! { grep -qw -e vmx -e svm /proc/cpuinfo && [ -w /dev/kvm ]; }; then
    echo "bench: no usable hardware virtualization here; running inside the nested-KVM lab" >&2
    cd "$repo"
    exec bash tests/lab/lab run --mem 3072 --cpus 2 --timeout 1200 -- \
        env TVM_BUILD="$build" bash bench/vnc.sh --inside --seconds "$seconds" --vmm "$vmm"
fi
command -v qemu-system-x86_64 >/dev/null || { echo "bench: qemu-system-x86_64 is missing" >&2; exit 2; }

guest=$(bash "$repo/tests/lab/lab" guest)
kernel=${guest% *} initrd=${guest#* }
# Two full 80x25 screens of different characters, written in turn to the
# visible console's screen memory.
loop='cd /tmp;i=0;while [ $i -lt 2000 ];do printf A;i=$((i+1));done >a;tr A B <a >b'
loop+=';echo SCREEN-LOOP;while :;do cat a >/dev/vcs;usleep 5000;cat b >/dev/vcs;usleep 5000;done'
cmdline="console=tty0 console=ttyS0 quiet panic=-1 vt.global_cursor_default=0 tvm.run=${loop// /%20}"
cmdline_xml=$(sed 's/&/\&amp;/g; s/</\&lt;/g; s/>/\&gt;/g' <<<"$cmdline")
work=$(mktemp -d /tmp/bench-vnc.XXXXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

# cpu_ticks PID: "ALL NONVCPU" clock ticks (utime + stime) of its threads;
# vCPU threads are tvm-vmm's "vcpuN" and QEMU's "CPU N/KVM".
cpu_ticks() {
    local all=0 rest=0 t comm v
    for t in /proc/"$1"/task/*; do
        comm=$(cat "$t/comm" 2>/dev/null) || continue
        # fields after the ")" that ends comm: utime is the 12th, stime the 13th
        v=$(sed 's/.*) //' "$t/stat" 2>/dev/null | awk '{print $12 + $13}') || continue
        all=$((all + v))
        case $comm in vcpu[0-9]* | CPU\ [0-9]*/KVM) ;; *) rest=$((rest + v)) ;; esac
    done
    echo "$all $rest"
}

# measure NAME PID SOCKET LOG: waits for the guest's loop, then runs the
# client for SECONDS and records "NAME fps cpu-all cpu-nonvcpu" (CPU seconds).
measure() {
    local name=$1 pid=$2 sock=$3 log=$4 end=$((SECONDS + 300)) a0 r0 a1 r1 out hz
    until grep -q SCREEN-LOOP "$log" 2>/dev/null && [ -S "$sock" ]; do
        [ $SECONDS -lt $end ] && kill -0 "$pid" 2>/dev/null || {
            echo "bench: $name did not start its screen loop; its log:" >&2
            tail -5 "$log" >&2
            return 1
        }
        sleep 1
    done
    sleep 3 # the screen loop is running
    hz=$(getconf CLK_TCK)
    read -r a0 r0 < <(cpu_ticks "$pid")
    out=$("$probe" "$sock" fps "$seconds")
    read -r a1 r1 < <(cpu_ticks "$pid")
    echo "  $name: $out"
    echo "$name $(awk '{print $6, $10}' <<<"$out") $(((a1 - a0) * 100 / hz)) $(((r1 - r0) * 100 / hz))" >>"$work/results"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

run_tvm() {
    local d=$work/tvm
    mkdir -p "$d"
    cat >"$d/domain.xml" <<XML
<domain type='kvm'><name>bench</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64'>hvm</type><kernel>$kernel</kernel><initrd>$initrd</initrd>
<cmdline>$cmdline_xml</cmdline></os><features><acpi/><apic/></features>
<devices><video><model type='vga'/></video></devices></domain>
XML
    "$vmm" --domain "$d/domain.xml" --rundir "$d" --foreground >"$d/out" 2>&1 </dev/null &
    measure tvm-vmm $! "$d/vnc.sock" "$d/out"
}

run_qemu() {
    local d=$work/qemu
    mkdir -p "$d"
    qemu-system-x86_64 -M pc -enable-kvm -cpu host -m 256 -smp 1 -nodefaults -no-user-config \
        -name bench,debug-threads=on -display none -vga std -vnc "unix:$d/vnc.sock" \
        -serial "file:$d/out" -kernel "$kernel" -initrd "$initrd" -append "$cmdline" \
        >"$d/err" 2>&1 </dev/null &
    measure qemu $! "$d/vnc.sock" "$d/out"
}

echo "bench: VNC FramebufferUpdates/s and VMM CPU over ${seconds}s, VGA text 80x25 rewritten ~100/s ($(uname -r))"
run_tvm
run_qemu
echo
awk -v s="$seconds" '
    { fps[$1] = $2; mpx[$1] = $3 / s; all[$1] = $4 / 100; rest[$1] = $5 / 100 }
    END {
        printf "%-8s %8s %10s %14s %20s\n", "vmm", "fps", "Mpixel/s", "CPU s (all)", "CPU s (non-vCPU)"
        for (k in fps) printf "%-8s %8.1f %10.1f %14.2f %20.2f\n", k, fps[k], mpx[k], all[k], rest[k]
        print ""
        if (fps["qemu"] > 0 && mpx["qemu"] > 0 && all["qemu"] > 0 && rest["qemu"] > 0)
            printf "tvm-vmm / qemu: fps x%.2f, Mpixel/s x%.2f, CPU (all) x%.2f, CPU (non-vCPU) x%.2f, " \
                "non-vCPU CPU per frame x%.2f, per Mpixel x%.2f\n",
                fps["tvm-vmm"] / fps["qemu"], mpx["tvm-vmm"] / mpx["qemu"], all["tvm-vmm"] / all["qemu"],
                rest["tvm-vmm"] / rest["qemu"], (rest["tvm-vmm"] / fps["tvm-vmm"]) / (rest["qemu"] / fps["qemu"]),
                (rest["tvm-vmm"] / mpx["tvm-vmm"]) / (rest["qemu"] / mpx["qemu"])
    }' "$work/results"
