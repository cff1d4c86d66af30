#!/usr/bin/env bash
# tvm-vmm refuses what it cannot boot with one clear line on stderr, exit
# status 1 and exit.json reason "error" naming the problem; it leaves no
# pid file or socket behind.
set -euo pipefail
. "$(dirname "$0")/boot-lib.sh"

# expect_error WHAT PATTERN: run tvm-vmm on $DIR, which must fail with PATTERN.
expect_error() {
    set +e
    "$TVM_VMM" --domain "$DIR/domain.xml" --rundir "$DIR" --console-log "$DIR/console.log" \
        </dev/null >"$DIR/vmm.log" 2>&1
    rc=$?
    set -e
    [ "$rc" -eq 1 ] || fail "$1: exit status $rc, want 1"
    grep -q -- "$2" "$DIR/vmm.log" || fail "$1: stderr lacks '$2'"
    grep -q '^tvm-vmm: ' "$DIR/vmm.log" || fail "$1: message not prefixed with tvm-vmm:"
    check_clean
    [ "$(exit_reason)" = error ] || fail "$1: exit.json reason '$(exit_reason)'"
    grep -q -- "$2" "$DIR/exit.json" || fail "$1: exit.json detail lacks '$2'"
    echo "   $(head -1 "$DIR/vmm.log")"
}

step "kernel missing"
domain e1 1 256 ""
sed -i "s|<kernel>.*</kernel>|<kernel>$T/no-such-vmlinuz</kernel>|" "$DIR/domain.xml"
expect_error "missing kernel" "kernel $T/no-such-vmlinuz: No such file or directory"

step "not a kernel"
domain e2 1 256 ""
head -c 65536 /dev/zero >"$T/zeros"
sed -i "s|<kernel>.*</kernel>|<kernel>$T/zeros</kernel>|" "$DIR/domain.xml"
expect_error "not a kernel" "$T/zeros: not a Linux kernel (no HdrS signature)"

step "initrd too large for the memory"
domain e3 1 128 ""
truncate -s 200M "$T/big.img"
sed -i "s|<initrd>.*</initrd>|<initrd>$T/big.img</initrd>|" "$DIR/domain.xml"
expect_error "initrd too large" "initrd $T/big.img (200 MiB) does not fit"

step "more memory than the host has"
domain e4 1 $((64 * 1024 * 1024)) ""
expect_error "huge memory" "the host can give only"

step "/dev/kvm not accessible"
if command -v setpriv >/dev/null && [ "$(id -u)" -eq 0 ] && [ "$(stat -c %a /dev/kvm)" = 600 ]; then
    # Everything the unprivileged user needs must be reachable by it: a
    # world-readable directory of its own under /tmp (the scratch dir is 0700).
    P=$(mktemp -d /tmp/tvm-kvm-perm-XXXXXX)
    chmod 755 "$P"
    saved_T=$T
    T=$P
    domain e6 1 256 ""
    T=$saved_T
    # the images load before KVM is opened, so they must be readable too
    cp "$LAB_KERNEL" "$P/vmlinuz"
    cp "$LAB_INITRD" "$P/initrd"
    sed -i -e "s|<kernel>.*</kernel>|<kernel>$P/vmlinuz</kernel>|" \
        -e "s|<initrd>.*</initrd>|<initrd>$P/initrd</initrd>|" "$DIR/domain.xml"
    chmod 644 "$P/vmlinuz" "$P/initrd" "$DIR/domain.xml"
    chmod 777 "$DIR"
    set +e
    setpriv --reuid=65534 --regid=65534 --clear-groups "$TVM_VMM" --domain "$DIR/domain.xml" \
        --rundir "$DIR" </dev/null >"$DIR/vmm.log" 2>&1
    rc=$?
    set -e
    [ "$rc" -eq 1 ] || fail "no /dev/kvm access: exit status $rc, want 1"
    grep -q 'cannot open /dev/kvm: Permission denied (add the user to the kvm group)' "$DIR/vmm.log" ||
        fail "no /dev/kvm access: unclear error: $(cat "$DIR/vmm.log")"
    check_clean
    echo "   $(head -1 "$DIR/vmm.log")"
    rm -rf "$P"
else
    echo "   (skipped: needs root, setpriv and a 0600 /dev/kvm)"
fi

step "bad XML"
domain e5 1 256 ""
echo '<domain type="kvm"><name>x</name>' >"$DIR/domain.xml"
expect_error "bad XML" "domain.xml"
echo "ok"
