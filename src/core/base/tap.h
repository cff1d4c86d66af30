/* Tap devices for virtio-net (tvm opens them and hands them to tvm-vmm;
 * tvm-vmm started by hand opens its own): <interface type='ethernet'> and
 * <interface type='bridge'> as libvirt sets them up.
 *
 * tap_open() opens /dev/net/tun as a tap with a 12-byte virtio-net header
 * in front of every frame (IFF_VNET_HDR, TUNSETVNETHDRSZ) and no offloads:
 * the kernel hands us only whole, checksummed frames of at most the MTU
 * until tap_set_offload() says otherwise. Writes may carry partial
 * checksums and TCP segmentation requests either way.
 *
 * - A name that does not exist yet (or none: the kernel picks vnet%d) makes
 *   a new tap, which the kernel removes when its fd closes, i.e. when
 *   tvm-vmm exits. It gets the guest's MAC with the first byte set to 0xfe
 *   (as libvirt does, so a bridge never takes the guest's address as its
 *   own).
 * - An existing tap (made by the admin with `ip tuntap add ... mode tap`) is
 *   attached as it is and outlives us.
 * - With a bridge, the tap is enslaved to it (and released again on close if
 *   the tap was not ours); the tap takes the bridge's MTU.
 * The link is brought up either way.
 *
 * Errors name the device and the cause: no /dev/net/tun, no permission
 * (CAP_NET_ADMIN), a bad name, a name that is not a tap, a bridge that does
 * not exist.
 */
#ifndef TVM_CORE_BASE_TAP_H
#define TVM_CORE_BASE_TAP_H

#include <net/if.h>
#include <stdbool.h>

#define TAP_VNET_HDR_LEN 12 /* struct virtio_net_hdr_v1, num_buffers included */

struct tap {
    int fd; /* non-blocking, close-on-exec */
    char name[IFNAMSIZ];
    bool created;  /* we made it: it goes away with fd */
    bool enslaved; /* we added it to `bridge` */
    char bridge[IFNAMSIZ];
};

struct tap_config {
    const char *ifname; /* NULL or "": "vnet%d" */
    const char *bridge; /* NULL: type ethernet */
    const char *mac;    /* the guest's MAC, "52:54:00:..." (may be NULL) */
};

/* 0 with *t filled, or -1 with a message naming the tap or the bridge. */
int tap_open(const struct tap_config *c, struct tap *t);
/* A tap someone else opened with tap_open() (tvm, handing it to tvm-vmm):
 * takes FD (closed on error too); the name comes from the kernel. Closing
 * it releases nothing: whoever opened it put it on its bridge. */
int tap_adopt(int fd, struct tap *t);
/* TUNSETOFFLOAD: which TUN_F_* frames the tap may hand us (0 at open). */
int tap_set_offload(struct tap *t, unsigned flags);
/* Releases the tap from a bridge we added it to, then closes it. */
void tap_close(struct tap *t);

#endif
