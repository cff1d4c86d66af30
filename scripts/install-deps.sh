#!/usr/bin/env bash
# Installs every Debian package tvm's build, tests and benchmarks need, and
# the system user "tvm" that tvm-vmm runs guests as when root starts them
# (its sandbox; without it, nobody/nogroup). Idempotent and quiet when
# nothing is missing. Run as root (or with sudo).
set -euo pipefail

BUILD_PKGS=(build-essential cmake pkg-config libxml2-dev libsqlite3-dev libncurses-dev
    libvncserver-dev libjson-c-dev zlib1g-dev libzstd-dev libcmocka-dev libnftables-dev
    libseccomp-dev # tvm-vmm's seccomp filter (libseccomp2 at run time)
    libchafa-dev libglib2.0-dev # tvm's terminal viewer draws pictures with libchafa (glib's headers)
    dnsmasq-base # dnsmasq: DHCP and DNS of tvm's virtual networks, at run time
    lvm2 # pvcreate, vgcreate, lvcreate, lvs ...: logical storage pools, at run time
    nfs-common # mount.nfs: netfs storage pools, at run time
    dpkg-dev) # dpkg-buildflags: the flags a Debian packager builds with (CI builds with them too)
# Test oracles and lab: tvm itself never runs QEMU; tests use these to check its work.
TEST_PKGS=(libxml2-utils libvirt-clients virtinst qemu-utils qemu-system-x86 busybox-static cpio
    xz-utils lz4 tmux iproute2 dnsmasq-base vncsnapshot sqlite3 kmod)
TEST_PKGS+=(acpica-tools socat) # ACPI table oracle (iasl); QMP/console clients in lab tests
TEST_PKGS+=(nftables) # nft lists what tvm's virtual networks put into the kernel
TEST_PKGS+=(clang-14 libclang-rt-14-dev) # libFuzzer + sanitizers: tests/fuzz (-DTVM_FUZZ=ON)
TEST_PKGS+=(groff-base) # cli/man.sh lints the man pages with groff -ww
TEST_PKGS+=(seabios grub-pc-bin mtools) # firmware boot: the BIOS a domain without <kernel>
# boots (tvm ships none), and what lab/fw-lib.sh makes GRUB disks with
TEST_PKGS+=(xorriso) # ISO 9660 images for the CD-ROM lab tests (tests/lab/t-scsi-*.sh)
TEST_PKGS+=(debian-installer-12-netboot-amd64) # a real installer: lab/t-fw-installer.sh boots it from an ISO
TEST_PKGS+=(nfs-kernel-server) # an NFS server (in the lab's L1) for lab/t-storage-netfs.sh
TEST_PKGS+=(strace) # cli/img-snapshot.sh kills tvm before chosen system calls (syscall fault injection)

want=("${BUILD_PKGS[@]}")
[ "${1:-}" = "--build-only" ] || want+=("${TEST_PKGS[@]}")

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
if [ ${#missing[@]} -gt 0 ]; then
    echo "install-deps: installing ${missing[*]}" >&2
    $SUDO apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The sandbox user: owns no file, cannot log in, in no group but its own
# (not kvm: tvm-vmm gets /dev/kvm already open).
if [ "${1:-}" != "--build-only" ] && ! getent passwd tvm >/dev/null; then
    echo "install-deps: adding the system user tvm (tvm-vmm's sandbox)" >&2
    $SUDO useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin --comment "tvm guest sandbox" tvm
fi
