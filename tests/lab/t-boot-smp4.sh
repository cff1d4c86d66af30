#!/usr/bin/env bash
# tvm-vmm boots the lab guest with 4 vCPUs and 1 GiB: all four CPUs come
# online (the BSP starts the APs through the in-kernel LAPIC), MemTotal is
# at least 85 % of 1 GiB, and the guest's poweroff ends tvm-vmm cleanly.
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"
boot_check b4 4 1024
echo "ok"
