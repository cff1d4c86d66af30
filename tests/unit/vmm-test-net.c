/* virtio-net driven with synthetic guest memory (a real struct vm from
 * vm_new(), no vCPU) and a SOCK_SEQPACKET socketpair in place of the tap:
 * the device only sees a packet fd, and a seqpacket socket keeps frame
 * boundaries as a tap does. The test plays the guest driver (rings in
 * guest RAM) on one side and the host network on the other.
 *
 * Checked: the config space (MAC, link status), transmit (header zeroed,
 * frame intact across descriptors), receive (header fixed up, frame
 * intact, num_buffers 1, frames wait in the fd while the guest has no
 * buffer), frames larger than the buffer chain, empty and runt frames,
 * link down, set_link over a real QMP socket, a closed peer, and malformed
 * chains marking the device NEEDS_RESET (run under ASan for out-of-bounds).
 */
#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "control.h"
#include "core/base/err.h"
#include "vmm.h"
#include "virtio/virtio.h"
#include "vm.h"
#include "vmm-guest.h"
#include "vmm-qmp.h"

#define QSIZE 16
#define RXQ 0
#define TXQ 1
#define HDR 12
#define RAM (32u << 20)
#define MAC "52:54:00:12:34:56"

#define F_MAC 5
#define F_STATUS 16
#define F_CSUM 0
#define F_GUEST_CSUM 1
#define F_HOST_TSO4 11
#define FEATURES ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << F_MAC) | (1ULL << F_STATUS))
#define OFFLOADS ((1ULL << F_CSUM) | (1ULL << F_GUEST_CSUM) | (1ULL << F_HOST_TSO4))

static uint64_t features = FEATURES; /* what negotiate() accepts */

struct ring {
    uint64_t desc, avail, used;
    uint16_t avail_idx;
};

struct harness {
    struct vm *vm;
    struct virtio_dev *dev;
    int host; /* the "tap" side the test writes and reads */
    struct ring q[2];
    unsigned queue_irqs[2], config_irqs;
};

static const uint64_t BUF = 0x100000; /* buffers from here, 64 KiB apart */

static void on_queue(void *opaque, unsigned q)
{
    struct harness *h = opaque;
    h->queue_irqs[q]++;
}

static void on_config(void *opaque)
{
    struct harness *h = opaque;
    h->config_irqs++;
}

static void *gpa(struct harness *h, uint64_t a, uint64_t len)
{
    return guest_ptr(h->vm, a, len);
}

static void put_desc(struct harness *h, unsigned q, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    guest_put_desc(h->vm, h->q[q].desc, i, addr, len, flags, next);
}

static uint16_t used_idx(struct harness *h, unsigned q)
{
    return guest_used_idx(h->vm, h->q[q].used);
}

static void used_elem(struct harness *h, unsigned q, unsigned slot, uint32_t *id, uint32_t *len)
{
    uint8_t *u = gpa(h, h->q[q].used + 4 + 8 * (slot % QSIZE), 8);
    memcpy(id, u, 4);
    memcpy(len, u + 4, 4);
}

/* Offer the chain at HEAD on queue Q and kick it. */
static void submit(struct harness *h, unsigned q, uint16_t head)
{
    struct ring *r = &h->q[q];
    uint16_t *ring = gpa(h, r->avail + 4, 2 * QSIZE);
    ring[r->avail_idx % QSIZE] = head;
    r->avail_idx++;
    memcpy(gpa(h, r->avail + 2, 2), &r->avail_idx, 2);
    virtio_dev_process(h->dev, q);
}

static void negotiate(struct harness *h)
{
    struct virtio_dev *d = h->dev;
    pthread_mutex_lock(&d->lock);
    virtio_dev_set_status(d, 0);
    virtio_dev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_dev_set_features(d, 0, (uint32_t)features);
    virtio_dev_set_features(d, 1, (uint32_t)(features >> 32));
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_FEATURES_OK);
    for (unsigned q = 0; q < 2; q++) {
        struct ring *r = &h->q[q];
        r->desc = 0x10000 + 0x4000 * q;
        r->avail = r->desc + 0x1000;
        r->used = r->desc + 0x2000;
        r->avail_idx = 0;
        memset(gpa(h, r->desc, 0x3000), 0, 0x3000);
        d->vq[q].size = QSIZE;
        d->vq[q].desc_gpa = r->desc;
        d->vq[q].avail_gpa = r->avail;
        d->vq[q].used_gpa = r->used;
        virtio_dev_queue_enable(d, q);
    }
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER_OK);
    pthread_mutex_unlock(&d->lock);
    memset(h->queue_irqs, 0, sizeof h->queue_irqs);
    h->config_irqs = 0;
}

static struct harness *make(void **state, bool link_down)
{
    static struct harness h;
    memset(&h, 0, sizeof h);
    struct vm_config cfg = {.ram_bytes = RAM, .vcpus = 1};
    h.vm = vm_new(&cfg);
    if (!h.vm)
        fail_msg("vm_new: %s", err_msg());
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    h.host = sv[1];
    struct virtio_net_config_in c = {.mac = MAC, .link_down = link_down, .fd = sv[0]};
    h.dev = virtio_net_new(h.vm, &c);
    if (!h.dev)
        fail_msg("virtio_net_new: %s", err_msg());
    h.dev->transport = (struct virtio_transport){
        .signal_queue = on_queue, .signal_config = on_config, .opaque = &h};
    negotiate(&h);
    *state = &h;
    return &h;
}

static int setup(void **state)
{
    features = FEATURES;
    make(state, false);
    return 0;
}

static int setup_down(void **state)
{
    features = FEATURES;
    make(state, true);
    return 0;
}

static int setup_offload(void **state)
{
    features = FEATURES | OFFLOADS;
    struct harness *h = make(state, false);
    assert_true(h->dev->guest_features & (1ULL << F_HOST_TSO4));
    return 0;
}

static int teardown(void **state)
{
    struct harness *h = *state;
    virtio_dev_free(h->dev);
    if (h->host >= 0)
        close(h->host);
    vm_free(h->vm);
    return 0;
}

static bool is_broken(struct harness *h)
{
    return h->dev->broken && (h->dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* A test frame: dst/src MACs, ethertype 0x0800, then a counting payload. */
static void make_frame(uint8_t *f, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(seed + i * 7);
    f[12] = 0x08;
    f[13] = 0x00;
}

/* The host sends {header, frame} as a tap would hand it to us. */
static void host_send(struct harness *h, const uint8_t *hdr, const uint8_t *frame, size_t len)
{
    struct iovec iov[2] = {{(void *)hdr, HDR}, {(void *)frame, len}};
    struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
    assert_int_equal(sendmsg(h->host, &m, 0), (ssize_t)(HDR + len));
}

/* What the device wrote to the "tap": -1 if nothing is there. */
static ssize_t host_recv(struct harness *h, uint8_t *buf, size_t len)
{
    ssize_t r = recv(h->host, buf, len, MSG_DONTWAIT);
    return r < 0 && errno == EAGAIN ? -1 : r;
}

/* One writable receive buffer of LEN bytes at BUF + slot*64K as descriptor SLOT. */
static void post_rx(struct harness *h, unsigned slot, uint32_t len)
{
    memset(gpa(h, BUF + 0x10000 * slot, len + 64), 0xEE, len + 64); /* and a little past it */
    put_desc(h, RXQ, slot, BUF + 0x10000 * slot, len, VIRTQ_DESC_F_WRITE, 0);
    submit(h, RXQ, (uint16_t)slot);
}

/* ---- config space ---- */

static void test_config(void **state)
{
    struct harness *h = *state;
    const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    assert_int_equal(h->dev->config_size, 12);
    assert_memory_equal(h->dev->config, mac, 6);
    uint16_t status;
    memcpy(&status, h->dev->config + 6, 2);
    assert_int_equal(status, 1); /* VIRTIO_NET_S_LINK_UP */
    assert_true(h->dev->host_features & (1ULL << F_MAC));
    assert_true(h->dev->host_features & (1ULL << F_STATUS));
    assert_int_equal(h->dev->ops->device_id, 1);
    assert_int_equal(h->dev->num_queues, 2);
}

static void test_bad_mac(void **state)
{
    (void)state;
    struct vm_config cfg = {.ram_bytes = RAM, .vcpus = 1};
    struct vm *vm = vm_new(&cfg);
    assert_non_null(vm);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    struct virtio_net_config_in c = {.mac = "52:54:00:zz:00:01", .fd = sv[0]};
    assert_null(virtio_net_new(vm, &c));
    assert_non_null(strstr(err_msg(), "invalid MAC address '52:54:00:zz:00:01'"));
    /* the fd was handed over and closed: the peer sees the hang-up */
    char b;
    assert_int_equal(read(sv[1], &b, 1), 0);
    close(sv[1]);
    vm_free(vm);
}

/* ---- transmit ---- */

static void test_tx(void **state)
{
    struct harness *h = *state;
    uint8_t frame[100];
    make_frame(frame, sizeof frame, 3);
    /* header with flags the guest had no business setting, then the frame in two pieces */
    uint8_t *hdr = gpa(h, BUF, HDR);
    memset(hdr, 0xAB, HDR);
    memcpy(gpa(h, BUF + 0x1000, 40), frame, 40);
    memcpy(gpa(h, BUF + 0x2000, 60), frame + 40, 60);
    put_desc(h, TXQ, 0, BUF, HDR, VIRTQ_DESC_F_NEXT, 1);
    put_desc(h, TXQ, 1, BUF + 0x1000, 40, VIRTQ_DESC_F_NEXT, 2);
    put_desc(h, TXQ, 2, BUF + 0x2000, 60, 0, 0);
    submit(h, TXQ, 0);
    assert_false(is_broken(h));
    assert_int_equal(used_idx(h, TXQ), 1);
    uint32_t id, len;
    used_elem(h, TXQ, 0, &id, &len);
    assert_int_equal(id, 0);
    assert_int_equal(len, 0);
    assert_int_equal(h->queue_irqs[TXQ], 1);

    uint8_t got[256];
    static const uint8_t zero[HDR];
    assert_int_equal(host_recv(h, got, sizeof got), HDR + 100);
    assert_memory_equal(got, zero, HDR);
    assert_memory_equal(got + HDR, frame, 100);
    assert_int_equal(host_recv(h, got, sizeof got), -1);
}

/* A header alone (an empty frame) or a runt is completed but never sent. */
static void test_tx_empty_and_runt(void **state)
{
    struct harness *h = *state;
    put_desc(h, TXQ, 0, BUF, HDR, 0, 0);
    submit(h, TXQ, 0);
    put_desc(h, TXQ, 1, BUF, HDR + 10, 0, 0);
    submit(h, TXQ, 1);
    assert_false(is_broken(h));
    assert_int_equal(used_idx(h, TXQ), 2);
    uint8_t got[64];
    assert_int_equal(host_recv(h, got, sizeof got), -1);
}

/* ---- receive ---- */

static void expect_rx(struct harness *h, unsigned slot, uint16_t head, const uint8_t *frame,
                      size_t len)
{
    uint32_t id, ulen;
    used_elem(h, RXQ, slot, &id, &ulen);
    assert_int_equal(id, head);
    assert_int_equal(ulen, HDR + len);
    uint8_t *b = gpa(h, BUF + 0x10000 * head, HDR + len);
    const uint8_t want_hdr[HDR] = {[10] = 1}; /* flags cleared, num_buffers = 1 */
    assert_memory_equal(b, want_hdr, HDR);
    assert_memory_equal(b + HDR, frame, len);
}

static void test_rx(void **state)
{
    struct harness *h = *state;
    post_rx(h, 0, 1526);
    uint8_t hdr[HDR];
    memset(hdr, 0, HDR);
    hdr[0] = 2;  /* DATA_VALID, as a tap sets it: not for a guest without GUEST_CSUM */
    hdr[10] = 7; /* num_buffers the tap does not write */
    uint8_t frame[1514];
    make_frame(frame, sizeof frame, 9);
    host_send(h, hdr, frame, sizeof frame);
    virtio_dev_io_process(h->dev);
    assert_false(is_broken(h));
    assert_int_equal(used_idx(h, RXQ), 1);
    expect_rx(h, 0, 0, frame, sizeof frame);
    assert_int_equal(h->queue_irqs[RXQ], 1);
    /* the byte after the frame is untouched */
    assert_int_equal(*(uint8_t *)gpa(h, BUF + HDR + 1514, 1), 0xEE);
}

/* A chain of three buffers takes one frame; the frame fills it exactly. */
static void test_rx_chain(void **state)
{
    struct harness *h = *state;
    const uint64_t a = BUF + 0x10000 * 5;
    put_desc(h, RXQ, 5, a, 20, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 6);
    put_desc(h, RXQ, 6, a + 20, 30, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 7);
    put_desc(h, RXQ, 7, a + 50, 150, VIRTQ_DESC_F_WRITE, 0);
    submit(h, RXQ, 5);
    uint8_t hdr[HDR] = {0}, frame[200 - HDR];
    make_frame(frame, sizeof frame, 1);
    host_send(h, hdr, frame, sizeof frame);
    virtio_dev_io_process(h->dev);
    assert_int_equal(used_idx(h, RXQ), 1);
    expect_rx(h, 0, 5, frame, sizeof frame);
}

/* Frames that arrive while the guest has no buffer wait, in order. */
static void test_rx_waits_for_buffers(void **state)
{
    struct harness *h = *state;
    uint8_t hdr[HDR] = {0}, f1[60], f2[70];
    make_frame(f1, sizeof f1, 1);
    make_frame(f2, sizeof f2, 2);
    host_send(h, hdr, f1, sizeof f1);
    host_send(h, hdr, f2, sizeof f2);
    virtio_dev_io_process(h->dev);
    assert_int_equal(used_idx(h, RXQ), 0);
    assert_false(h->dev->io_want); /* not polling the fd until the driver kicks */
    post_rx(h, 0, 1526);
    assert_int_equal(used_idx(h, RXQ), 1);
    expect_rx(h, 0, 0, f1, sizeof f1);
    post_rx(h, 1, 1526);
    assert_int_equal(used_idx(h, RXQ), 2);
    expect_rx(h, 1, 1, f2, sizeof f2);
}

/* A frame larger than the chain is dropped whole; the buffer takes the next one. */
static void test_rx_too_big(void **state)
{
    struct harness *h = *state;
    post_rx(h, 2, 200);
    uint8_t hdr[HDR] = {0}, big[1000], small[100];
    make_frame(big, sizeof big, 4);
    make_frame(small, sizeof small, 5);
    host_send(h, hdr, big, sizeof big);
    virtio_dev_io_process(h->dev);
    assert_int_equal(used_idx(h, RXQ), 0);
    /* one byte too many is too big as well */
    host_send(h, hdr, big, 200 - HDR + 1);
    virtio_dev_io_process(h->dev);
    assert_int_equal(used_idx(h, RXQ), 0);
    assert_int_equal(*(uint8_t *)gpa(h, BUF + 0x20000 + 200, 1), 0xEE); /* nothing past the end */
    host_send(h, hdr, small, sizeof small);
    virtio_dev_io_process(h->dev);
    assert_int_equal(used_idx(h, RXQ), 1);
    expect_rx(h, 0, 2, small, sizeof small);
    assert_false(is_broken(h));
}

/* An empty datagram and a runt (shorter than an Ethernet header) are dropped. */
static void test_rx_empty_and_runt(void **state)
{
    struct harness *h = *state;
    post_rx(h, 0, 1526);
    assert_int_equal(send(h->host, "", 0, 0), 0);
    uint8_t hdr[HDR] = {0}, runt[10] = {0}, ok[64];
    host_send(h, hdr, runt, sizeof runt);
    assert_int_equal(send(h->host, hdr, 5, 0), 5); /* not even a header */
    make_frame(ok, sizeof ok, 6);
    host_send(h, hdr, ok, sizeof ok);
    virtio_dev_io_process(h->dev);
    assert_int_equal(used_idx(h, RXQ), 1);
    expect_rx(h, 0, 0, ok, sizeof ok);
}

/* A segmented (GSO) frame cannot go to a guest that did not ask for it. */
static void test_rx_gso_dropped(void **state)
{
    struct harness *h = *state;
    post_rx(h, 0, 1526);
    uint8_t hdr[HDR] = {[1] = 1}, frame[100], ok[80];
    make_frame(frame, sizeof frame, 1);
    make_frame(ok, sizeof ok, 2);
    host_send(h, hdr, frame, sizeof frame);
    memset(hdr, 0, HDR);
    host_send(h, hdr, ok, sizeof ok);
    virtio_dev_io_process(h->dev);
    assert_int_equal(used_idx(h, RXQ), 1);
    expect_rx(h, 0, 0, ok, sizeof ok);
}

/* Before DRIVER_OK frames are read and dropped, not kept for later. */
static void test_rx_before_driver_ok(void **state)
{
    struct harness *h = *state;
    pthread_mutex_lock(&h->dev->lock);
    virtio_dev_set_status(h->dev, 0);
    pthread_mutex_unlock(&h->dev->lock);
    uint8_t hdr[HDR] = {0}, old[60], fresh[61];
    make_frame(old, sizeof old, 1);
    make_frame(fresh, sizeof fresh, 2);
    host_send(h, hdr, old, sizeof old);
    virtio_dev_io_process(h->dev);
    negotiate(h);
    host_send(h, hdr, fresh, sizeof fresh);
    post_rx(h, 0, 1526);
    assert_int_equal(used_idx(h, RXQ), 1);
    expect_rx(h, 0, 0, fresh, sizeof fresh);
}

/* The peer goes away: receiving stops without spinning or breaking the device. */
static void test_peer_closed(void **state)
{
    struct harness *h = *state;
    post_rx(h, 0, 1526);
    close(h->host);
    h->host = -1;
    virtio_dev_io_process(h->dev);
    assert_false(h->dev->io_want);
    assert_false(is_broken(h));
    /* transmit now fails quietly and completes the request */
    put_desc(h, TXQ, 0, BUF + 0x40000, HDR + 60, 0, 0);
    submit(h, TXQ, 0);
    assert_int_equal(used_idx(h, TXQ), 1);
}

/* ---- offloads ---- */

/* Without CSUM a partial checksum cannot reach the guest: dropped. */
static void test_rx_partial_csum_without_guest_csum(void **state)
{
    struct harness *h = *state;
    post_rx(h, 0, 1526);
    uint8_t hdr[HDR] = {[0] = 1, [6] = 34, [8] = 16}, f[100], ok[90];
    make_frame(f, sizeof f, 1);
    make_frame(ok, sizeof ok, 2);
    host_send(h, hdr, f, sizeof f);
    memset(hdr, 0, HDR);
    host_send(h, hdr, ok, sizeof ok);
    virtio_dev_io_process(h->dev);
    assert_int_equal(used_idx(h, RXQ), 1);
    expect_rx(h, 0, 0, ok, sizeof ok);
}

/* With GUEST_CSUM the flags and checksum position go to the guest. */
static void test_rx_guest_csum(void **state)
{
    struct harness *h = *state;
    post_rx(h, 0, 1526);
    uint8_t hdr[HDR] = {[0] = 1 | 2 | 0x40, [2] = 9, [4] = 9, [6] = 34, [8] = 16, [10] = 5};
    uint8_t f[100];
    make_frame(f, sizeof f, 1);
    host_send(h, hdr, f, sizeof f);
    virtio_dev_io_process(h->dev);
    assert_int_equal(used_idx(h, RXQ), 1);
    const uint8_t want[HDR] = {[0] = 3, [6] = 34, [8] = 16, [10] = 1};
    assert_memory_equal(gpa(h, BUF, HDR), want, HDR);
    assert_memory_equal(gpa(h, BUF + HDR, sizeof f), f, sizeof f);
}

/* With CSUM and HOST_TSO4 the guest's request reaches the tap as it was. */
static void test_tx_offload(void **state)
{
    struct harness *h = *state;
    uint8_t hdr[HDR] = {
        [0] = 1 | 0x80, [1] = 1, [2] = 54, [4] = 0xa8, [5] = 0x05, [6] = 34, [8] = 16, [10] = 3};
    uint8_t f[3000];
    make_frame(f, sizeof f, 4);
    memcpy(gpa(h, BUF, HDR), hdr, HDR);
    memcpy(gpa(h, BUF + HDR, sizeof f), f, sizeof f);
    put_desc(h, TXQ, 0, BUF, HDR + sizeof f, 0, 0);
    submit(h, TXQ, 0);
    uint8_t got[4096];
    assert_int_equal(host_recv(h, got, sizeof got), HDR + sizeof f);
    const uint8_t want[HDR] = {
        [0] = 1, [1] = 1, [2] = 54, [4] = 0xa8, [5] = 0x05, [6] = 34, [8] = 16};
    assert_memory_equal(got, want, HDR);
    assert_memory_equal(got + HDR, f, sizeof f);
    /* TCPv6 segmentation was not negotiated (nor UDP, nor TSO without a checksum) */
    uint8_t *g = gpa(h, BUF, HDR);
    g[1] = 4;
    submit(h, TXQ, 0);
    g[1] = 3;
    submit(h, TXQ, 0);
    g[0] = 0;
    g[1] = 1;
    submit(h, TXQ, 0);
    assert_int_equal(used_idx(h, TXQ), 4);
    assert_int_equal(host_recv(h, got, sizeof got), -1);
    assert_false(is_broken(h));
}

/* ---- malformed chains ---- */

static void expect_broken(struct harness *h)
{
    assert_true(is_broken(h));
    assert_int_equal(h->config_irqs, 1);
    /* a reset brings it back */
    negotiate(h);
    assert_false(is_broken(h));
    uint8_t hdr[HDR] = {0}, f[60];
    make_frame(f, sizeof f, 8);
    post_rx(h, 3, 1526);
    host_send(h, hdr, f, sizeof f);
    virtio_dev_io_process(h->dev);
    assert_int_equal(used_idx(h, RXQ), 1);
    expect_rx(h, 0, 3, f, sizeof f);
}

static void test_rx_readable_buffer(void **state)
{
    struct harness *h = *state;
    put_desc(h, RXQ, 0, BUF, 1526, 0, 0); /* device-readable in the receive queue */
    submit(h, RXQ, 0);
    assert_int_equal(used_idx(h, RXQ), 0);
    expect_broken(h);
}

static void test_rx_buffer_too_small_for_header(void **state)
{
    struct harness *h = *state;
    put_desc(h, RXQ, 0, BUF, 8, VIRTQ_DESC_F_WRITE, 0);
    submit(h, RXQ, 0);
    expect_broken(h);
}

static void test_rx_out_of_ram(void **state)
{
    struct harness *h = *state;
    put_desc(h, RXQ, 0, RAM - 100, 1526, VIRTQ_DESC_F_WRITE, 0);
    submit(h, RXQ, 0);
    uint8_t hdr[HDR] = {0}, f[200];
    make_frame(f, sizeof f, 1);
    host_send(h, hdr, f, sizeof f);
    virtio_dev_io_process(h->dev);
    assert_int_equal(used_idx(h, RXQ), 0);
    expect_broken(h);
}

static void test_rx_loop(void **state)
{
    struct harness *h = *state;
    put_desc(h, RXQ, 0, BUF, 100, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    put_desc(h, RXQ, 1, BUF + 100, 100, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
    submit(h, RXQ, 0);
    expect_broken(h);
}

static void test_tx_short_header(void **state)
{
    struct harness *h = *state;
    put_desc(h, TXQ, 0, BUF, HDR - 1, 0, 0);
    submit(h, TXQ, 0);
    assert_int_equal(used_idx(h, TXQ), 0);
    uint8_t got[64];
    assert_int_equal(host_recv(h, got, sizeof got), -1);
    expect_broken(h);
}

static void test_tx_huge_length(void **state)
{
    struct harness *h = *state;
    put_desc(h, TXQ, 0, BUF, 0xFFFFFFF0u, 0, 0);
    submit(h, TXQ, 0);
    uint8_t got[64];
    assert_int_equal(host_recv(h, got, sizeof got), -1);
    expect_broken(h);
}

/* ---- link state ---- */

static void test_link_down_at_start(void **state)
{
    struct harness *h = *state;
    uint16_t status;
    memcpy(&status, h->dev->config + 6, 2);
    assert_int_equal(status, 0);
    /* frames either way are dropped */
    uint8_t hdr[HDR] = {0}, f[60];
    make_frame(f, sizeof f, 1);
    post_rx(h, 0, 1526);
    host_send(h, hdr, f, sizeof f);
    virtio_dev_io_process(h->dev);
    assert_int_equal(used_idx(h, RXQ), 0);
    memcpy(gpa(h, BUF + 0x50000 + HDR, sizeof f), f, sizeof f);
    put_desc(h, TXQ, 0, BUF + 0x50000, HDR + sizeof f, 0, 0);
    submit(h, TXQ, 0);
    assert_int_equal(used_idx(h, TXQ), 1);
    uint8_t got[128];
    assert_int_equal(host_recv(h, got, sizeof got), -1);
}

static uint16_t link_status(struct harness *h)
{
    uint16_t s;
    memcpy(&s, h->dev->config + 6, 2);
    return s;
}

/* set_link through a real QMP control socket. */
static void test_set_link_qmp(void **state)
{
    struct harness *h = *state;
    static struct vmm_qmp q;
    vmm_qmp_open(&q, h->vm, "net");

    /* by MAC (any case): down, and the guest is told */
    assert_non_null(strstr(vmm_qmp_send(&q, "{\"execute\": \"set_link\", \"arguments\": {\"name\": "
                                            "\"52:54:00:12:34:56\", \"up\": false}}"),
                           "\"return\""));
    assert_int_equal(link_status(h), 0);
    assert_int_equal(h->config_irqs, 1);
    /* a down link drops transmitted frames */
    put_desc(h, TXQ, 0, BUF + 0x50000, HDR + 60, 0, 0);
    submit(h, TXQ, 0);
    uint8_t got[128];
    assert_int_equal(host_recv(h, got, sizeof got), -1);
    /* by QMP name: up again */
    const char *name = strrchr(h->dev->id, ' ') + 1; /* "virtio-net netN" */
    char req[256];
    snprintf(req, sizeof req,
             "{\"execute\": \"set_link\", \"arguments\": {\"name\": \"%s\", \"up\": true}}", name);
    assert_non_null(strstr(vmm_qmp_send(&q, req), "\"return\""));
    assert_int_equal(link_status(h), 1);
    assert_int_equal(h->config_irqs, 2);
    submit(h, TXQ, 0);
    assert_int_equal(host_recv(h, got, sizeof got), HDR + 60);

    /* errors name the problem and change nothing */
    const char *r =
        vmm_qmp_send(&q, "{\"execute\": \"set_link\", \"arguments\": {\"name\": \"eth9\", "
                         "\"up\": false}}");
    assert_non_null(strstr(r, "interface 'eth9' not found"));
    r = vmm_qmp_send(&q, "{\"execute\": \"set_link\", \"arguments\": {\"name\": \"net0\"}}");
    assert_non_null(strstr(r, "'up' (true or false) is required"));
    r = vmm_qmp_send(&q, "{\"execute\": \"set_link\", \"arguments\": {\"name\": \"net0\", \"up\": "
                         "\"no\"}}");
    assert_non_null(strstr(r, "'up' (true or false) is required"));
    assert_int_equal(link_status(h), 1);
    assert_int_equal(h->config_irqs, 2);

    vmm_qmp_close(&q);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN); /* as tvm-vmm does: a closed peer is an error, not a signal */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config, setup, teardown),
        cmocka_unit_test(test_bad_mac),
        cmocka_unit_test_setup_teardown(test_tx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_empty_and_runt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_waits_for_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_too_big, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_empty_and_runt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_gso_dropped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_before_driver_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_closed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_partial_csum_without_guest_csum, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_guest_csum, setup_offload, teardown),
        cmocka_unit_test_setup_teardown(test_tx_offload, setup_offload, teardown),
        cmocka_unit_test_setup_teardown(test_rx_readable_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_buffer_too_small_for_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_out_of_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_short_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_huge_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_link_down_at_start, setup_down, teardown),
        cmocka_unit_test_setup_teardown(test_set_link_qmp, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
