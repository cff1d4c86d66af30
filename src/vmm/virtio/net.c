/* virtio-net (virtio 1.2, 5.1) on a tap: one receive queue (0) and one
 * transmit queue (1), features MAC and STATUS, always the 12-byte header of
 * VIRTIO_F_VERSION_1 (struct virtio_net_hdr_v1), receive buffers of one
 * frame each (no MRG_RXBUF, no GUEST_TSO: frames of at most the MTU).
 *
 * Offloads: CSUM with HOST_TSO4/6 lets the guest hand over partial
 * checksums and TCP segments of up to 64 KiB, which the tap completes and
 * splits; GUEST_CSUM lets the tap hand the guest partial or already
 * checked checksums (TUNSETOFFLOAD TUN_F_CSUM while negotiated). What a
 * guest did not negotiate is stripped from headers or the frame dropped.
 *
 * Transmit: each chain is {header, frame} in device-readable buffers;
 * the frame goes to the tap behind the checked header.
 *
 * Receive runs on the device's worker too, polling the tap (virtio_dev's
 * io_fd): a frame is read straight into the guest's buffer chain, with a
 * spill buffer behind it so that a frame larger than the chain is noticed
 * and dropped instead of being cut; the buffer then waits for the next
 * frame. With no buffer left the tap is not polled until the driver kicks
 * the receive queue, so frames wait in the tap's queue (and the kernel
 * drops them when it is full, as a NIC would). While the link is down, or
 * the driver is not ready, frames are read and dropped.
 *
 * Link state: QMP set_link {"name": "net0" | tap name | MAC, "up": bool}
 * flips VIRTIO_NET_S_LINK_UP and raises a configuration interrupt; the
 * guest's carrier follows. A down link also drops transmitted frames.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/uio.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/if_tun.h>

#include "control.h"
#include "core/base/err.h"
#include "core/base/tap.h"
#include "core/proto/vmstate-file.h"
#include "virtio/virtio.h"

/* feature bits */
#define NET_F_CSUM 0       /* we complete the guest's partial checksums (the tap does) */
#define NET_F_GUEST_CSUM 1 /* the guest takes partial / already-checked checksums */
#define NET_F_MAC 5
#define NET_F_HOST_TSO4 11 /* the guest may hand us TCP segments of up to 64 KiB */
#define NET_F_HOST_TSO6 12
#define NET_F_STATUS 16
#define NET_FEATURES                                                                               \
    ((1ULL << NET_F_CSUM) | (1ULL << NET_F_GUEST_CSUM) | (1ULL << NET_F_MAC) |                     \
     (1ULL << NET_F_HOST_TSO4) | (1ULL << NET_F_HOST_TSO6) | (1ULL << NET_F_STATUS))
#define NET_S_LINK_UP 1

/* struct virtio_net_hdr_v1 */
#define HDR_F_NEEDS_CSUM 1
#define HDR_F_DATA_VALID 2
#define HDR_GSO_NONE 0
#define HDR_GSO_TCPV4 1
#define HDR_GSO_TCPV6 4

#define RXQ 0
#define TXQ 1
#define NET_HDR_LEN                                                                                \
    12 /* flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, num_buffers */
#define HDR_NUM_BUFFERS 10
#define ETH_HDR_LEN 14
#define RX_BATCH 64 /* frames per wake-up before the lock is let go */
#define SPILL_LEN (64 * 1024 + 64)

/* struct virtio_net_config */
#define CFG_MAC 0
#define CFG_STATUS 6
#define CFG_MAX_PAIRS 8
#define CFG_MTU 10
#define CFG_SIZE 12

#define MAX_NETS 16

struct net {
    struct virtio_dev vdev; /* first: the core hands us this pointer */
    char name[16];          /* "net0": the QMP name, as QEMU's alias */
    char mac[18];
    struct tap tap; /* tap.fd < 0 when the fd was handed in */
    int fd;
    bool fd_dead;     /* read failed for good: stop polling it */
    unsigned offload; /* TUN_F_* the tap has now */
    bool link_up;
    uint8_t config[CFG_SIZE];

    struct virtq_elem rx_elem; /* a receive buffer waiting for a frame that fits */
    bool rx_held;
    struct iovec rx_iov[VIRTQ_MAX_SIZE + 1];
    struct iovec tx_iov[VIRTQ_MAX_SIZE + 1];
    uint8_t tx_hdr[NET_HDR_LEN];
    uint8_t spill[SPILL_LEN];

    uint64_t rx_packets, rx_dropped, tx_packets, tx_dropped, tx_errors;
    bool rx_error_logged, tx_error_logged;
};

/* Every live net device, for set_link (main loop thread) to find by name. */
static struct net *nets[MAX_NETS];
static unsigned nets_made;
static pthread_mutex_t nets_lock = PTHREAD_MUTEX_INITIALIZER;

static struct net *to_net(struct virtio_dev *d)
{
    return (struct net *)d;
}

/* ---- receive ---- */

/* The guest can take a frame now. */
static bool rx_open(const struct net *n)
{
    const struct virtio_dev *d = &n->vdev;
    return n->link_up && !d->broken && (d->status & VIRTIO_CONFIG_S_DRIVER_OK) && d->vq[RXQ].ready;
}

static bool fd_hung_up(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

/* A read gave R (errno set when R < 0): false when there is nothing more
 * to read now. A hard error stops the polling instead of spinning on it. */
static bool rx_result_ok(struct net *n, ssize_t r)
{
    if (r > 0)
        return true;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return false;
    if (r == 0 && !fd_hung_up(n->fd))
        return true; /* an empty datagram (not from a tap): dropped by the caller */
    if (!n->rx_error_logged)
        fprintf(stderr, "tvm-vmm: %s: %s; receiving stops\n", n->vdev.id,
                r < 0 ? strerror(errno) : "the packet fd was closed");
    n->rx_error_logged = true;
    n->fd_dead = true;
    n->vdev.io_want = false;
    return false;
}

/* Nobody can take frames: read one and drop it. False when none was there. */
static bool rx_discard(struct net *n)
{
    ssize_t r = read(n->fd, n->spill, sizeof n->spill);
    if (!rx_result_ok(n, r))
        return false;
    n->rx_dropped++;
    return true;
}

/* 1: a receive buffer is held; 0: the driver has none (stop polling until
 * it kicks); -1: the ring or the chain is malformed (device broken). */
static int rx_take_buffer(struct net *n)
{
    struct virtio_dev *d = &n->vdev;
    int r = virtio_dev_pop(d, RXQ, &n->rx_elem);
    if (r == 0)
        d->io_want = false;
    if (r <= 0)
        return r;
    if (n->rx_elem.nout > 0 || n->rx_elem.in_len < NET_HDR_LEN + ETH_HDR_LEN) {
        virtio_dev_set_broken(d, "receive buffer is device-readable or too small for a frame");
        return -1;
    }
    n->rx_held = true;
    return 1;
}

/* The header as the guest must see it: checksum flags only with
 * GUEST_CSUM (a partial checksum cannot go to a guest without it), never
 * segmentation (we take no GSO from the tap), one buffer. False if the
 * frame cannot be given to this guest at all. */
static bool rx_fix_header(const struct net *n, const struct virtq_elem *e)
{
    uint8_t h[NET_HDR_LEN];
    iov_copy_from(e->in, e->nin, 0, h, sizeof h);
    bool csum = virtio_dev_has(&n->vdev, NET_F_GUEST_CSUM);
    if (h[1] != HDR_GSO_NONE || (!csum && (h[0] & HDR_F_NEEDS_CSUM)))
        return false;
    if (csum) {
        h[0] &= HDR_F_NEEDS_CSUM | HDR_F_DATA_VALID;
        memset(h + 2, 0, 4); /* hdr_len, gso_size; csum_start/offset stay */
    } else {
        memset(h, 0, sizeof h);
    }
    h[HDR_NUM_BUFFERS] = 1;
    h[HDR_NUM_BUFFERS + 1] = 0;
    iov_copy_to(e->in, e->nin, 0, h, sizeof h);
    return true;
}

/* Reads one frame into the held buffer. False when there is nothing more. */
static bool rx_one(struct net *n)
{
    struct virtq_elem *e = &n->rx_elem;
    memcpy(n->rx_iov, e->in, e->nin * sizeof e->in[0]);
    n->rx_iov[e->nin] = (struct iovec){.iov_base = n->spill, .iov_len = sizeof n->spill};
    ssize_t r = readv(n->fd, n->rx_iov, (int)e->nin + 1);
    if (!rx_result_ok(n, r))
        return false;
    /* Too big for the chain (it reached the spill buffer), or no frame at
     * all: drop it and keep the buffer for the next one. */
    if ((size_t)r > e->in_len || r < NET_HDR_LEN + ETH_HDR_LEN || !rx_fix_header(n, e)) {
        n->rx_dropped++;
        return true;
    }
    n->rx_held = false;
    n->rx_packets++;
    virtio_dev_push(&n->vdev, RXQ, e, (uint32_t)r);
    return true;
}

static void net_io_ready(struct virtio_dev *d)
{
    struct net *n = to_net(d);
    for (unsigned i = 0; i < RX_BATCH && d->io_want; i++) {
        if (!rx_open(n)) {
            if (!rx_discard(n))
                return;
            continue;
        }
        if (!n->rx_held && rx_take_buffer(n) <= 0)
            continue; /* none: io_want is off; broken: frames are dropped next */
        if (!rx_one(n))
            return;
    }
}

/* Poll the fd again (lock held); from off the worker, wake it to notice. */
static void rx_resume(struct net *n, bool wake)
{
    n->vdev.io_want = !n->fd_dead;
    if (wake)
        virtio_dev_kick(&n->vdev, RXQ);
}

/* ---- transmit ---- */

/* The header for the tap: the guest's checksum and segmentation requests
 * as far as we offered them, else nothing. False: drop the frame (a
 * segmentation type the guest did not negotiate). */
static bool tx_header(const struct net *n, const struct virtq_elem *e, uint8_t h[NET_HDR_LEN])
{
    const struct virtio_dev *d = &n->vdev;
    iov_copy_from(e->out, e->nout, 0, h, NET_HDR_LEN);
    h[HDR_NUM_BUFFERS] = h[HDR_NUM_BUFFERS + 1] = 0;
    if (!virtio_dev_has(d, NET_F_CSUM)) {
        memset(h, 0, NET_HDR_LEN); /* whatever it says means nothing */
        return true;
    }
    h[0] &= HDR_F_NEEDS_CSUM;
    switch (h[1]) {
    case HDR_GSO_NONE:
        return true;
    case HDR_GSO_TCPV4:
        return virtio_dev_has(d, NET_F_HOST_TSO4) && (h[0] & HDR_F_NEEDS_CSUM);
    case HDR_GSO_TCPV6:
        return virtio_dev_has(d, NET_F_HOST_TSO6) && (h[0] & HDR_F_NEEDS_CSUM);
    default:
        return false;
    }
}

static void tx_one(struct net *n, const struct virtq_elem *e)
{
    size_t frame = e->out_len - NET_HDR_LEN;
    if (!n->link_up || frame < ETH_HDR_LEN || !tx_header(n, e, n->tx_hdr)) {
        n->tx_dropped++;
        return;
    }
    n->tx_iov[0] = (struct iovec){.iov_base = n->tx_hdr, .iov_len = NET_HDR_LEN};
    unsigned k = iov_slice(e->out, e->nout, NET_HDR_LEN, frame, n->tx_iov + 1, VIRTQ_MAX_SIZE);
    ssize_t w = writev(n->fd, n->tx_iov, (int)k + 1);
    if (w >= 0) {
        n->tx_packets++;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        n->tx_dropped++; /* the host side is full: a NIC drops too */
    } else {
        /* EINVAL: the tap refused the header (a bad checksum offset ...) */
        if (!n->tx_error_logged)
            fprintf(stderr, "tvm-vmm: %s: transmit: %s\n", n->vdev.id, strerror(errno));
        n->tx_error_logged = true;
        n->tx_errors++;
    }
}

static void tx_drain(struct net *n)
{
    struct virtio_dev *d = &n->vdev;
    struct virtq_elem *e = &d->elem;
    while (virtio_dev_pop(d, TXQ, e) > 0) {
        if (e->out_len < NET_HDR_LEN) {
            virtio_dev_set_broken(d, "transmit request shorter than the 12-byte header");
            return;
        }
        tx_one(n, e);
        virtio_dev_push(d, TXQ, e, 0);
    }
}

/* The tap may hand us partial checksums only while the guest takes them. */
static void sync_offload(struct net *n)
{
    unsigned want = virtio_dev_has(&n->vdev, NET_F_GUEST_CSUM) ? TUN_F_CSUM : 0;
    if (n->tap.fd < 0 || want == n->offload)
        return;
    if (tap_set_offload(&n->tap, want) < 0) {
        fprintf(stderr, "tvm-vmm: %s: %s\n", n->vdev.id, err_msg());
        err_clear();
    }
    n->offload = want; /* failed: frames with partial checksums are dropped, never wrong */
}

static void net_queue_notify(struct virtio_dev *d, unsigned q)
{
    struct net *n = to_net(d);
    sync_offload(n);
    if (q == RXQ) {
        /* New buffers: take what already waits in the tap, then poll it again. */
        rx_resume(n, false);
        net_io_ready(d);
    } else if (q == TXQ) {
        tx_drain(n);
    }
}

static void net_reset(struct virtio_dev *d)
{
    struct net *n = to_net(d);
    n->rx_held = false; /* that buffer belonged to the rings the driver just dropped */
    sync_offload(n);    /* guest_features are 0 again: no partial checksums */
    rx_resume(n, true);
}

/* ---- link state ---- */

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void set_link(struct net *n, bool up)
{
    struct virtio_dev *d = &n->vdev;
    virtio_dev_lock(d);
    n->link_up = up;
    put16(n->config + CFG_STATUS, up ? NET_S_LINK_UP : 0);
    if (d->status & VIRTIO_CONFIG_S_DRIVER_OK) {
        d->config_generation++;
        if (d->transport.signal_config)
            d->transport.signal_config(d->transport.opaque);
    }
    rx_resume(n, true);
    virtio_dev_unlock(d);
}

static bool net_matches(const struct net *n, const char *name)
{
    return !strcmp(n->name, name) || (n->tap.name[0] && !strcmp(n->tap.name, name)) ||
           !strcasecmp(n->mac, name);
}

/* QMP set_link {"name": STR, "up": BOOL} (as QEMU's). */
static int qmp_set_link(struct json_object *args, struct json_object **ret)
{
    struct json_object *name, *up;
    (void)ret;
    if (!json_object_object_get_ex(args, "name", &name) ||
        !json_object_is_type(name, json_type_string))
        return err_set("set_link: 'name' (a string) is required");
    if (!json_object_object_get_ex(args, "up", &up) || !json_object_is_type(up, json_type_boolean))
        return err_set("set_link: 'up' (true or false) is required");
    json_object_object_foreach(args, key, val)
    {
        (void)val;
        if (strcmp(key, "name") && strcmp(key, "up"))
            return err_set("set_link: unknown argument '%s'", key);
    }
    const char *s = json_object_get_string(name);
    int rc = -1;
    pthread_mutex_lock(&nets_lock);
    for (unsigned i = 0; i < MAX_NETS; i++) {
        if (nets[i] && net_matches(nets[i], s)) {
            set_link(nets[i], json_object_get_boolean(up));
            rc = 0;
            break;
        }
    }
    pthread_mutex_unlock(&nets_lock);
    if (rc < 0)
        err_set("interface '%s' not found", s);
    return rc;
}

static int registry_add(struct net *n)
{
    static bool registered;
    pthread_mutex_lock(&nets_lock);
    unsigned i = 0;
    while (i < MAX_NETS && nets[i])
        i++;
    int rc = 0;
    if (i == MAX_NETS)
        rc = err_set("too many network interfaces (at most %d)", MAX_NETS);
    if (rc == 0 && !registered)
        rc = control_register("set_link", qmp_set_link);
    if (rc == 0) {
        registered = true;
        nets[i] = n;
        snprintf(n->name, sizeof n->name, "net%u", nets_made++);
    }
    pthread_mutex_unlock(&nets_lock);
    return rc;
}

static void registry_del(struct net *n)
{
    pthread_mutex_lock(&nets_lock);
    for (unsigned i = 0; i < MAX_NETS; i++)
        if (nets[i] == n)
            nets[i] = NULL;
    pthread_mutex_unlock(&nets_lock);
}

/* ---- life cycle ---- */

static void net_destroy(struct virtio_dev *d)
{
    struct net *n = to_net(d);
    registry_del(n);
    if (n->tap.fd >= 0)
        tap_close(&n->tap);
    else if (n->fd >= 0)
        close(n->fd);
    free(n);
}

/* Saved state: the link, and whether a receive buffer was held. A held
 * buffer is handed back to the ring (the device's place in it goes back
 * one), so the restored device pops it again, as QEMU's virtio does with
 * requests in flight. The tap's offloads follow the features at the
 * first kick. */
static int net_save(struct virtio_dev *d, struct vsf_out *o)
{
    struct net *n = to_net(d);
    vsf_put_u8(o, n->link_up);
    vsf_put_u8(o, n->rx_held);
    return 0;
}

static int net_load(struct virtio_dev *d, struct vsf_in *in)
{
    struct net *n = to_net(d);
    bool up, held;
    if (vsf_get_bool(in, "link", &up) < 0 || vsf_get_bool(in, "rx held", &held) < 0)
        return -1;
    n->link_up = up;
    put16(n->config + CFG_STATUS, up ? NET_S_LINK_UP : 0);
    n->rx_held = false;
    if (held)
        d->vq[RXQ].last_avail--;
    return 0;
}

static const struct virtio_dev_ops net_ops = {
    .name = "virtio-net",
    .device_id = VIRTIO_ID_NET,
    .pci_class = 0x0200, /* network, Ethernet */
    .queue_notify = net_queue_notify,
    .reset = net_reset,
    .destroy = net_destroy,
    .io_ready = net_io_ready,
    .save = net_save,
    .load = net_load,
};

static int fill_config(struct net *n, const char *mac)
{
    unsigned b[6];
    char end;
    if (!mac || sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                       &end) != 6)
        return err_set("invalid MAC address '%s'", mac ? mac : "");
    for (int i = 0; i < 6; i++)
        n->config[CFG_MAC + i] = (uint8_t)b[i];
    snprintf(n->mac, sizeof n->mac, "%s", mac);
    put16(n->config + CFG_STATUS, n->link_up ? NET_S_LINK_UP : 0);
    put16(n->config + CFG_MAX_PAIRS, 1);
    put16(n->config + CFG_MTU, 1500);
    return 0;
}

static int open_fd(struct net *n, const struct virtio_net_config_in *c)
{
    if (c->fd >= 0)
        return 0;
    if (c->tap) {
        n->tap = *c->tap;
        c->tap->fd = -1;
        n->fd = n->tap.fd;
        return 0;
    }
    struct tap_config tc = {.ifname = c->ifname, .bridge = c->bridge, .mac = c->mac};
    if (tap_open(&tc, &n->tap) < 0)
        return -1;
    n->fd = n->tap.fd;
    return 0;
}

struct virtio_dev *virtio_net_new(struct vm *vm, const struct virtio_net_config_in *c)
{
    struct net *n = calloc(1, sizeof *n);
    if (!n) {
        if (c->fd >= 0)
            close(c->fd);
        err_set("out of memory");
        return NULL;
    }
    n->tap.fd = -1;
    n->fd = c->fd; /* ours from here on, closed by net_destroy */
    n->link_up = !c->link_down;
    if (virtio_dev_init(&n->vdev, vm, &net_ops, 2, NET_FEATURES, n->config, CFG_SIZE) < 0 ||
        registry_add(n) < 0 || fill_config(n, c->mac) < 0 || open_fd(n, c) < 0)
        goto fail;
    /* Messages name the tap, as the host's admin knows it. */
    snprintf(n->vdev.id, sizeof n->vdev.id, "virtio-net %s",
             n->tap.name[0] ? n->tap.name : n->name);
    n->vdev.io_fd = n->fd;
    n->vdev.io_want = true;
    return &n->vdev;
fail:
    virtio_dev_free(&n->vdev);
    return NULL;
}

const char *virtio_net_tap_name(const struct virtio_dev *dev)
{
    const struct net *n = (const struct net *)dev; /* vdev is the first member */
    return n->tap.fd >= 0 && n->tap.name[0] ? n->tap.name : NULL;
}
