#!/usr/bin/env bash
# The PVH entry: tvm-vmm boots the same guest kernel as an uncompressed ELF
# vmlinux (the lab extracts it from the bzImage) through its
# XEN_ELFNOTE_PHYS32_ENTRY note and hvm_start_info, with 2 vCPUs; the
# guest comes up with its initrd, sees both CPUs, and powers off cleanly.
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"
VMLINUX=${LAB_VMLINUX:-$(dirname "$LAB_KERNEL")/vmlinux}
[ -f "$VMLINUX" ] || fail "no ELF vmlinux at $VMLINUX (the lab build extracts it)"

step "PVH boot of $VMLINUX"
domain pvh 2 384 ""
sed -i "s|<kernel>.*</kernel>|<kernel>$VMLINUX</kernel>|" "$DIR/domain.xml"
start
wait_console 'TVM-GUEST-UP'
grep 'TVM-GUEST-UP' "$DIR/console.log" | grep -q 'cpus=2 ' || fail "guest does not see 2 CPUs"
wait_exit
[ "$VMM_RC" -eq 0 ] || fail "tvm-vmm exit status $VMM_RC"
check_clean
[ "$(exit_reason)" = shutdown ] || fail "exit.json reason '$(exit_reason)', want shutdown"
echo "ok"
