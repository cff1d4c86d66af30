#!/usr/bin/env bash
# What tvm-vmm's sandbox costs: boot time (bench/boot.sh --sandbox) and
# guest I/O through virtio-blk (bench/guest-io.sh --sandbox), tvm-vmm
# against itself with --no-sandbox (what TVM_VMM_SANDBOX=0 does), in one
# run of the nested-KVM lab, both reported as ratios sandbox / none.
#
#   bench/sandbox.sh [--runs N] [--repeat N] [--secs S] [--formats "raw qcow2"] [--vmm PATH]
#
# The sandbox here is all of it: the uid switch (the lab runs as root),
# capabilities, no_new_privs, rlimits, landlock, and the seccomp filters
# per thread class (every system call of a vCPU thread or device worker
# passes two filters, the main loop's and its own). Needs KVM: without
# hardware virtualization it runs inside the lab (L1 is TCG-emulated:
# compare the ratios). Not part of ctest; take /tmp/tvm-lab.lock around it
# when other labs may run.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
repo=$(cd "$here/.." && pwd -P)
runs=5 repeat=2 secs=5 formats=raw vmm=${TVM_VMM:-$repo/build/tvm-vmm} inside=0
while [ $# -gt 0 ]; do
    case $1 in
    --runs) runs=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --secs) secs=$2; shift 2 ;;
    --formats) formats=$2; shift 2 ;;
    --vmm) vmm=$2; shift 2 ;;
    --inside) inside=1; shift ;;
    *) sed -n '7p' "$0" | sed 's/^# \{0,1\}/usage: /' >&2; exit 2 ;;
    esac
done
vmm=$(readlink -f "$vmm")
[ -x "$vmm" ] || { echo "bench: $vmm is not built" >&2; exit 2; }

if [ $inside = 0 ] && ! { grep -qw -e vmx -e svm /proc/cpuinfo && [ -w /dev/kvm ]; }; then
    # The guest's I/O probe is built out here (L1 compiles slowly).
    bash "$here/guest-io.sh" --probe-only --vmm "$vmm"
    echo "bench: no usable hardware virtualization here; running inside the nested-KVM lab" >&2
    cd "$repo"
    exec bash tests/lab/lab run --mem 4096 --cpus 2 --timeout 3300 -- \
        bash bench/sandbox.sh --inside --runs "$runs" --repeat "$repeat" --secs "$secs" \
        --formats "$formats" --vmm "$vmm"
fi

inner=(--vmm "$vmm" --sandbox)
[ $inside = 1 ] && inner+=(--inside)
echo "== boot time: sandbox (tvm-vmm) against none (no-sandbox)"
bash "$here/boot.sh" "${inner[@]}" --runs "$runs"
echo
echo "== guest I/O: sandbox (tvm) against none (nosb)"
bash "$here/guest-io.sh" "${inner[@]}" --repeat "$repeat" --secs "$secs" --formats "$formats"
