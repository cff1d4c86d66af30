/* virtio-console driven with synthetic guest memory (a real struct vm, no
 * vCPU) and a real console socket on the VMM's real event loop: guest
 * output on the transmit queue reaches a socket client; a client's input
 * waits while the guest posts no receive buffers, then fills the buffers
 * in order, each only up to its length; input past VCON_INPUT_MAX is
 * dropped, never queued without bound; the emergency-write register; a
 * malformed chain breaks the device until the driver resets it. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "console.h"
#include "core/base/err.h"
#include "virtio/vconsole.h"
#include "vm.h"
#include "vmm-guest.h"

#define QSIZE 16
#define RXQ 0
#define TXQ 1
/* per queue: descriptors, avail, used; buffers at BUF_GPA */
#define RING_GPA(q, part) (0x10000 + (q)*0x4000 + (part)*0x1000)
#define BUF_GPA 0x40000
#define RAM (32u << 20)
#define F_EMERG_WRITE 2

struct harness {
    struct vm *vm;
    struct loop *loop;
    struct virtio_dev *dev;
    char dir[64], sock[96];
    int client;
    uint16_t avail_idx[2];
    unsigned irqs[2];
};

static void on_queue(void *opaque, unsigned q)
{
    struct harness *h = opaque;
    if (q < 2)
        h->irqs[q]++;
}

static void *gpa(struct harness *h, uint64_t a, uint64_t len)
{
    return guest_ptr(h->vm, a, len);
}

static void put_desc(struct harness *h, unsigned q, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    guest_put_desc(h->vm, RING_GPA(q, 0), i, addr, len, flags, next);
}

static uint16_t used_idx(struct harness *h, unsigned q)
{
    uint16_t v;
    memcpy(&v, gpa(h, RING_GPA(q, 2) + 2, 2), 2);
    return v;
}

static uint32_t used_len(struct harness *h, unsigned q, unsigned slot)
{
    uint32_t v;
    memcpy(&v, gpa(h, RING_GPA(q, 2) + 4 + 8 * (slot % QSIZE) + 4, 4), 4);
    return v;
}

/* Offers chain HEAD on queue Q (no processing). */
static void offer(struct harness *h, unsigned q, uint16_t head)
{
    uint16_t *ring = gpa(h, RING_GPA(q, 1) + 4, 2 * QSIZE);
    ring[h->avail_idx[q] % QSIZE] = head;
    h->avail_idx[q]++;
    memcpy(gpa(h, RING_GPA(q, 1) + 2, 2), &h->avail_idx[q], 2);
}

/* What the worker thread would do: take the kicks and process. */
static void run_worker(struct harness *h)
{
    for (unsigned q = 0; q < 2; q++) {
        uint64_t n;
        if (read(h->dev->kick_fd[q], &n, sizeof n) == sizeof n)
            virtio_dev_process(h->dev, q);
    }
}

static void negotiate(struct harness *h, uint64_t features)
{
    struct virtio_dev *d = h->dev;
    memset(gpa(h, RING_GPA(0, 0), 0x8000), 0, 0x8000);
    pthread_mutex_lock(&d->lock);
    virtio_dev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_dev_set_features(d, 0, (uint32_t)features);
    virtio_dev_set_features(d, 1, (uint32_t)(features >> 32));
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_FEATURES_OK);
    for (unsigned q = 0; q < 2; q++) {
        d->vq[q].size = QSIZE;
        d->vq[q].desc_gpa = RING_GPA(q, 0);
        d->vq[q].avail_gpa = RING_GPA(q, 1);
        d->vq[q].used_gpa = RING_GPA(q, 2);
        virtio_dev_queue_enable(d, q);
    }
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER_OK);
    pthread_mutex_unlock(&d->lock);
    assert_false(d->broken);
    run_worker(h);
}

static int connect_to(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

static void spin(struct harness *h, int times)
{
    for (int i = 0; i < times; i++)
        loop_run_once(h->loop, 5);
}

static int setup(void **state)
{
    static struct harness h;
    memset(&h, 0, sizeof h);
    struct vm_config cfg = {.ram_bytes = RAM, .vcpus = 1};
    h.vm = vm_new(&cfg);
    h.loop = loop_new();
    snprintf(h.dir, sizeof h.dir, "/tmp/vmm-test-vconsole-XXXXXX");
    if (!h.vm || !h.loop || !mkdtemp(h.dir))
        return -1;
    snprintf(h.sock, sizeof h.sock, "%s/console1.sock", h.dir);
    struct console *con = console_new(h.loop, h.sock, NULL);
    if (!con)
        fail_msg("console_new: %s", err_msg());
    struct virtio_console_config_in c = {.con = con, .name = "console1"};
    h.dev = virtio_console_new(h.vm, &c);
    if (!h.dev)
        fail_msg("virtio_console_new: %s", err_msg());
    h.dev->transport = (struct virtio_transport){.signal_queue = on_queue, .opaque = &h};
    negotiate(&h, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << F_EMERG_WRITE));
    h.client = connect_to(h.sock);
    spin(&h, 3);
    *state = &h;
    return 0;
}

static int teardown(void **state)
{
    struct harness *h = *state;
    close(h->client);
    virtio_dev_free(h->dev); /* frees the console, unlinks the socket */
    assert_int_equal(access(h->sock, F_OK), -1);
    rmdir(h->dir);
    loop_free(h->loop);
    vm_free(h->vm);
    return 0;
}

/* Reads what the client got within a short while (NUL-terminated). */
static size_t client_read(struct harness *h, char *buf, size_t cap)
{
    size_t n = 0;
    for (int tries = 0; tries < 50 && n + 1 < cap; tries++) {
        spin(h, 1);
        struct pollfd p = {.fd = h->client, .events = POLLIN};
        if (poll(&p, 1, 10) <= 0)
            continue;
        ssize_t r = recv(h->client, buf + n, cap - 1 - n, MSG_DONTWAIT);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    return n;
}

static void client_send(struct harness *h, const void *buf, size_t len)
{
    assert_int_equal(send(h->client, buf, len, 0), (ssize_t)len);
    spin(h, 3);
}

/* Posts one receive buffer of LEN bytes at ADDR, poisoned past LEN. */
static void post_rx(struct harness *h, unsigned desc, uint64_t addr, uint32_t len)
{
    memset(gpa(h, addr, len + 16), '#', len + 16);
    put_desc(h, RXQ, desc, addr, len, VIRTQ_DESC_F_WRITE, 0);
    offer(h, RXQ, (uint16_t)desc);
    virtio_dev_kick(h->dev, RXQ); /* as the guest's notify would */
    run_worker(h);
}

static void test_guest_output_reaches_socket(void **state)
{
    struct harness *h = *state;
    /* One message over two device-readable descriptors. */
    memcpy(gpa(h, BUF_GPA, 6), "hello ", 6);
    memcpy(gpa(h, BUF_GPA + 0x100, 7), "world\n", 7);
    put_desc(h, TXQ, 0, BUF_GPA, 6, VIRTQ_DESC_F_NEXT, 1);
    put_desc(h, TXQ, 1, BUF_GPA + 0x100, 6, 0, 0);
    offer(h, TXQ, 0);
    virtio_dev_kick(h->dev, TXQ);
    run_worker(h);
    assert_int_equal(used_idx(h, TXQ), 1);
    assert_int_equal(used_len(h, TXQ, 0), 0);
    assert_true(h->irqs[TXQ] >= 1);
    char got[64];
    client_read(h, got, sizeof got);
    assert_string_equal(got, "hello world\n");
}

static void test_input_waits_for_buffers(void **state)
{
    struct harness *h = *state;
    uint16_t used0 = used_idx(h, RXQ);
    client_send(h, "abcdef", 6);
    run_worker(h);
    /* No buffer posted: nothing used, the input is held. */
    assert_int_equal(used_idx(h, RXQ), used0);
    assert_int_equal(virtio_console_pending_input(h->dev), 6);
    /* A 4-byte buffer takes 4 and not one byte more. */
    post_rx(h, 0, BUF_GPA + 0x1000, 4);
    assert_int_equal(used_idx(h, RXQ), used0 + 1);
    assert_int_equal(used_len(h, RXQ, used0), 4);
    assert_memory_equal(gpa(h, BUF_GPA + 0x1000, 8), "abcd####", 8);
    assert_int_equal(virtio_console_pending_input(h->dev), 2);
    /* The rest goes into the next buffer, which then holds only that. */
    post_rx(h, 1, BUF_GPA + 0x2000, 64);
    assert_int_equal(used_idx(h, RXQ), used0 + 2);
    assert_int_equal(used_len(h, RXQ, used0 + 1), 2);
    assert_memory_equal(gpa(h, BUF_GPA + 0x2000, 4), "ef##", 4);
    /* A buffer posted with nothing to say stays posted until input comes. */
    post_rx(h, 2, BUF_GPA + 0x3000, 64);
    assert_int_equal(used_idx(h, RXQ), used0 + 2);
    client_send(h, "xyz\n", 4);
    run_worker(h);
    assert_int_equal(used_idx(h, RXQ), used0 + 3);
    assert_int_equal(used_len(h, RXQ, used0 + 2), 4);
    assert_memory_equal(gpa(h, BUF_GPA + 0x3000, 5), "xyz\n#", 5);
}

/* A chain of two writable descriptors is filled across both. */
static void test_input_across_chain(void **state)
{
    struct harness *h = *state;
    uint16_t used0 = used_idx(h, RXQ);
    client_send(h, "0123456789", 10);
    memset(gpa(h, BUF_GPA + 0x4000, 32), '#', 32);
    memset(gpa(h, BUF_GPA + 0x5000, 32), '#', 32);
    put_desc(h, RXQ, 3, BUF_GPA + 0x4000, 3, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 4);
    put_desc(h, RXQ, 4, BUF_GPA + 0x5000, 5, VIRTQ_DESC_F_WRITE, 0);
    offer(h, RXQ, 3);
    virtio_dev_kick(h->dev, RXQ);
    run_worker(h);
    assert_int_equal(used_idx(h, RXQ), used0 + 1);
    assert_int_equal(used_len(h, RXQ, used0), 8);
    assert_memory_equal(gpa(h, BUF_GPA + 0x4000, 4), "012#", 4);
    assert_memory_equal(gpa(h, BUF_GPA + 0x5000, 6), "34567#", 6);
    assert_int_equal(virtio_console_pending_input(h->dev), 2);
    post_rx(h, 5, BUF_GPA + 0x6000, 16);
    assert_memory_equal(gpa(h, BUF_GPA + 0x6000, 3), "89#", 3);
}

/* A guest that never reads costs at most VCON_INPUT_MAX: the excess is
 * dropped and the oldest input is what the guest gets later. */
static void test_input_bounded(void **state)
{
    struct harness *h = *state;
    assert_int_equal(virtio_console_pending_input(h->dev), 0);
    size_t total = VCON_INPUT_MAX + 10000;
    uint8_t *big = malloc(total);
    for (size_t i = 0; i < total; i++)
        big[i] = (uint8_t)('a' + i % 26);
    size_t sent = 0;
    while (sent < total) {
        ssize_t w = send(h->client, big + sent, total - sent, MSG_DONTWAIT);
        if (w > 0)
            sent += (size_t)w;
        else
            assert_true(errno == EAGAIN);
        spin(h, 1);
    }
    spin(h, 5);
    assert_int_equal(virtio_console_pending_input(h->dev), VCON_INPUT_MAX);
    uint16_t used0 = used_idx(h, RXQ);
    post_rx(h, 6, BUF_GPA + 0x10000, 100);
    assert_int_equal(used_len(h, RXQ, used0), 100);
    assert_memory_equal(gpa(h, BUF_GPA + 0x10000, 100), big, 100);
    free(big);
    /* Drain the rest so the next test starts empty. */
    while (virtio_console_pending_input(h->dev) > 0)
        post_rx(h, 7, BUF_GPA + 0x20000, 4096);
}

/* F_EMERG_WRITE: a byte written to emerg_wr goes out at once. */
static void test_emergency_write(void **state)
{
    struct harness *h = *state;
    assert_true(virtio_dev_has(h->dev, F_EMERG_WRITE));
    char got[16];
    client_read(h, got, sizeof got); /* anything left over */
    pthread_mutex_lock(&h->dev->lock);
    h->dev->config[8] = '!';
    h->dev->ops->config_written(h->dev, 8, 4);
    pthread_mutex_unlock(&h->dev->lock);
    client_read(h, got, sizeof got);
    assert_string_equal(got, "!");
}

/* A transmit chain pointing outside guest RAM breaks the device (nothing
 * is sent, nothing used); after the driver resets and sets it up again,
 * held input still reaches the guest. */
static void test_bad_chain_then_reset(void **state)
{
    struct harness *h = *state;
    char got[64];
    client_read(h, got, sizeof got);
    uint16_t used0 = used_idx(h, TXQ);
    put_desc(h, TXQ, 0, RAM - 8, 64, 0, 0);
    offer(h, TXQ, 0);
    virtio_dev_kick(h->dev, TXQ);
    run_worker(h);
    assert_true(h->dev->broken);
    assert_true(h->dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
    assert_int_equal(used_idx(h, TXQ), used0);
    assert_int_equal(client_read(h, got, sizeof got), 0);
    client_send(h, "after-reset", 11);
    pthread_mutex_lock(&h->dev->lock);
    virtio_dev_set_status(h->dev, 0);
    pthread_mutex_unlock(&h->dev->lock);
    h->avail_idx[0] = h->avail_idx[1] = 0;
    negotiate(h, 1ULL << VIRTIO_F_VERSION_1);
    assert_false(h->dev->broken);
    post_rx(h, 0, BUF_GPA + 0x1000, 32);
    assert_int_equal(used_idx(h, RXQ), 1);
    assert_int_equal(used_len(h, RXQ, 0), 11);
    assert_memory_equal(gpa(h, BUF_GPA + 0x1000, 12), "after-reset#", 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guest_output_reaches_socket),
        cmocka_unit_test(test_input_waits_for_buffers),
        cmocka_unit_test(test_input_across_chain),
        cmocka_unit_test(test_input_bounded),
        cmocka_unit_test(test_emergency_write),
        cmocka_unit_test(test_bad_chain_then_reset),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
