#!/usr/bin/env bash
# tvm-vmm boots the lab's Linux guest directly (no tvm) with 1 vCPU and
# 256 MiB, then 2 vCPUs and 512 MiB; the guest's own banner must show that
# many CPUs and a MemTotal of at least 85 % of the configured memory (and
# not more). The guest then powers off: tvm-vmm exits 0 with exit.json
# reason "shutdown" and leaves no socket or pid file. (4 vCPUs and 1 GiB:
# t-boot-smp4.sh.)
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"
boot_check b1 1 256
boot_check b2 2 512
echo "ok"
