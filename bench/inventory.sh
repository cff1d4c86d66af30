#!/usr/bin/env bash
# Inventory benchmark: define N domains through one `tvm --batch` (one
# store connection, one transaction per line), then time `tvm list --all`
# over them; side by side, virsh's test driver doing the same per-domain
# define in one virsh session (a smaller N, it is in-memory and slower).
#
#   bench/inventory.sh [N] [VIRSH_N]      (defaults 10000 and 1000)
#   TVM=path/to/tvm bench/inventory.sh    (default: build/tvm next to this script)
# Targets: define >= 2,000 domains/s; list --all under 100 ms at 10,000.
set -euo pipefail

N=${1:-10000}
VIRSH_N=${2:-1000}
here=$(cd "$(dirname "$0")" && pwd)
TVM=${TVM:-$here/../build/tvm}
[ -x "$TVM" ] || { echo "inventory.sh: no tvm binary at $TVM (set TVM=...)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/tvm-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export TVM_RUNDIR="$work/run"
mkdir -p "$work/xml" "$TVM_RUNDIR"

# N small virt-install-like domains: disk, NIC with its own MAC, serial
# console, VNC, memballoon, rng. Written with awk so generation stays quick.
gen_xml() { # gen_xml COUNT DIR BATCHFILE
    awk -v n="$1" -v dir="$2" -v batch="$3" 'BEGIN {
        for (i = 1; i <= n; i++) {
            f = sprintf("%s/vm%05d.xml", dir, i)
            printf "<domain type=\"kvm\">\n" > f
            printf "  <name>vm%05d</name>\n", i > f
            printf "  <uuid>%08x-5c3e-4d7a-9b1f-%012x</uuid>\n", i, i * 7919 > f
            printf "  <title>bench guest %d</title>\n", i > f
            printf "  <memory unit=\"MiB\">%d</memory>\n", 512 + (i % 4) * 512 > f
            printf "  <currentMemory unit=\"MiB\">512</currentMemory>\n" > f
            printf "  <vcpu placement=\"static\">%d</vcpu>\n", 1 + i % 4 > f
            printf "  <os>\n    <type arch=\"x86_64\" machine=\"pc-q35-7.2\">hvm</type>\n" > f
            printf "    <boot dev=\"hd\"/>\n  </os>\n" > f
            printf "  <features>\n    <acpi/>\n    <apic/>\n  </features>\n" > f
            printf "  <cpu mode=\"host-passthrough\"/>\n  <clock offset=\"utc\"/>\n" > f
            printf "  <on_poweroff>destroy</on_poweroff>\n  <on_reboot>restart</on_reboot>\n" > f
            printf "  <on_crash>destroy</on_crash>\n  <devices>\n" > f
            printf "    <disk type=\"file\" device=\"disk\">\n" > f
            printf "      <driver name=\"qemu\" type=\"qcow2\" cache=\"none\"/>\n" > f
            printf "      <source file=\"/var/lib/tvm/images/vm%05d.qcow2\"/>\n", i > f
            printf "      <target dev=\"vda\" bus=\"virtio\"/>\n    </disk>\n" > f
            printf "    <interface type=\"network\">\n" > f
            printf "      <mac address=\"52:54:00:%02x:%02x:%02x\"/>\n", int(i / 65536) % 256, int(i / 256) % 256, i % 256 > f
            printf "      <source network=\"default\"/>\n      <model type=\"virtio\"/>\n" > f
            printf "    </interface>\n" > f
            printf "    <serial type=\"pty\"><target port=\"0\"/></serial>\n" > f
            printf "    <console type=\"pty\"><target type=\"serial\" port=\"0\"/></console>\n" > f
            printf "    <graphics type=\"vnc\" port=\"-1\" autoport=\"yes\"/>\n" > f
            printf "    <memballoon model=\"virtio\"/>\n" > f
            printf "    <rng model=\"virtio\"><backend model=\"random\">/dev/urandom</backend></rng>\n" > f
            printf "  </devices>\n</domain>\n" > f
            close(f)
            printf "define %s\n", f > batch
        }
        close(batch)
    }'
}

now_ns() { date +%s%N; }
# cpu_ms FILE: user+sys milliseconds from a `/usr/bin/time -f "%U %S"` file.
cpu_ms() { awk '{ printf "%d", ($1 + $2) * 1000 }' "$1"; }
timed() { # timed OUTFILE CMD...: like running CMD, with its CPU time in OUTFILE
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -o "$1" -f "%U %S" "${@:2}"
    else
        echo "0 0" >"$1"
        "${@:2}"
    fi
}

gen_xml "$N" "$work/xml" "$work/define.tvm"

# ---- tvm: define N in one batch ----
db="$work/tvm.db"
t0=$(now_ns)
timed "$work/define.cpu" "$TVM" --db "$db" --batch "$work/define.tvm" >/dev/null
t1=$(now_ns)
define_ms=$(( (t1 - t0) / 1000000 ))
define_cpu_ms=$(cpu_ms "$work/define.cpu")
got=$("$TVM" --db "$db" list --all --name | grep -c .)
[ "$got" -eq "$N" ] || { echo "inventory.sh: defined $got of $N domains" >&2; exit 1; }

# ---- tvm: list --all, best of 5 ----
best="" best_cpu=""
for _ in 1 2 3 4 5; do
    t0=$(now_ns)
    timed "$work/list.cpu" "$TVM" --db "$db" list --all >/dev/null
    t1=$(now_ns)
    ms=$(( (t1 - t0) / 1000000 ))
    cpu=$(cpu_ms "$work/list.cpu")
    if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
    if [ -z "$best_cpu" ] || [ "$cpu" -lt "$best_cpu" ]; then best_cpu=$cpu; fi
done
list_ms=$best
list_cpu_ms=$best_cpu

# ---- virsh test driver: VIRSH_N defines in one session, then + list --all ----
# The test driver runs inside the virsh process, so its CPU time is the
# peer's whole cost; wall times are reported too. A session with no work
# (best of 3) is subtracted.
virsh_define_ms="" virsh_list_ms="" virsh_define_cpu="" virsh_list_cpu=""
if command -v virsh >/dev/null && [ "$VIRSH_N" -gt 0 ]; then
    mkdir -p "$work/vxml"
    gen_xml "$VIRSH_N" "$work/vxml" "$work/virsh-define.txt"
    { cat "$work/virsh-define.txt"; echo "list --all"; } >"$work/virsh-list.txt"
    echo "" >"$work/empty.txt"
    # vsession SCRIPT: sets s_ms and s_cpu, best of 3
    vsession() {
        s_ms="" s_cpu=""
        for _ in 1 2 3; do
            local t0 t1 ms cpu
            t0=$(now_ns)
            timed "$work/v.cpu" virsh -q -c test:///default <"$1" >/dev/null
            t1=$(now_ns)
            ms=$(( (t1 - t0) / 1000000 ))
            cpu=$(cpu_ms "$work/v.cpu")
            if [ -z "$s_ms" ] || [ "$ms" -lt "$s_ms" ]; then s_ms=$ms; fi
            if [ -z "$s_cpu" ] || [ "$cpu" -lt "$s_cpu" ]; then s_cpu=$cpu; fi
        done
    }
    vsession "$work/empty.txt"; base_ms=$s_ms base_cpu=$s_cpu
    vsession "$work/virsh-define.txt"; def_ms=$s_ms def_cpu=$s_cpu
    vsession "$work/virsh-list.txt"
    clamp() { [ "$1" -gt 0 ] && echo "$1" || echo 1; }
    virsh_define_ms=$(clamp $((def_ms - base_ms)))
    virsh_define_cpu=$(clamp $((def_cpu - base_cpu)))
    virsh_list_ms=$(( s_ms - def_ms > 0 ? s_ms - def_ms : 0 ))
    virsh_list_cpu=$(( s_cpu - def_cpu > 0 ? s_cpu - def_cpu : 0 ))
fi

rate() { # rate COUNT MS -> per second
    awk -v n="$1" -v ms="$2" 'BEGIN { if (ms <= 0) ms = 1; printf "%.0f", n * 1000 / ms }'
}
per_us() { # per_us MS COUNT -> microseconds per item
    awk -v n="$2" -v ms="$1" 'BEGIN { printf "%.0f", ms * 1000 / n }'
}

tvm_rate=$(rate "$N" "$define_ms")
tvm_cpu_rate=$(rate "$N" "$define_cpu_ms")
row() { printf '%-46s %12s %12s %8s\n' "$@"; }
have_virsh() { [ -n "$virsh_define_ms" ]; }
echo
row "inventory benchmark" "tvm" "virsh test" "target"
row "----------------------------------------------" "------------" "------------" "--------"
row "domains defined (N)" "$N" "$(have_virsh && echo "$VIRSH_N" || echo -)" ""
row "define: wall ms / domains per s" "$define_ms/$tvm_rate" \
    "$(have_virsh && echo "$virsh_define_ms/$(rate "$VIRSH_N" "$virsh_define_ms")" || echo -)" ">= 2000"
row "define: CPU ms / domains per CPU-s" "$define_cpu_ms/$tvm_cpu_rate" \
    "$(have_virsh && echo "$virsh_define_cpu/$(rate "$VIRSH_N" "$virsh_define_cpu")" || echo -)" ""
row "define: CPU us per domain" "$(per_us "$define_cpu_ms" "$N")" \
    "$(have_virsh && per_us "$virsh_define_cpu" "$VIRSH_N" || echo -)" ""
row "list --all at own N: wall ms (best)" "$list_ms" "$(have_virsh && echo "$virsh_list_ms" || echo -)" "< 100"
row "list --all at own N: CPU ms (best)" "$list_cpu_ms" "$(have_virsh && echo "$virsh_list_cpu" || echo -)" ""
if have_virsh; then
    row "define CPU per domain, tvm / virsh" "$(awk -v a="$define_cpu_ms" -v n="$N" \
        -v b="$virsh_define_cpu" -v m="$VIRSH_N" 'BEGIN { printf "%.2f", (a / n) / (b / m) }')" "" ""
fi
echo "host: $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg) (wall times include waiting for the CPU)"
echo
pass=yes
[ "$tvm_rate" -ge 2000 ] || pass=no
[ "$list_ms" -lt 100 ] || pass=no
echo "targets met on wall time: $pass"
pass=yes
[ "$tvm_cpu_rate" -ge 2000 ] || pass=no
[ "$list_cpu_ms" -lt 100 ] || pass=no
echo "targets met on CPU time: $pass"
