/* Virtqueues driven with synthetic guest memory (a real struct vm from
 * vm_new(), no vCPU, no /dev/kvm): a virtio-rng device is negotiated and
 * fed good chains (direct, indirect, event index) and malformed ones. A
 * malformed chain must leave the device marked NEEDS_RESET with one config
 * interrupt, nothing in the used ring, and (under ASan) no access outside
 * guest RAM; a reset brings the device back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "virtio/virtio.h"
#include "vm.h"
#include "vmm-guest.h"

#define QSIZE 16
#define DESC_GPA 0x10000
#define AVAIL_GPA 0x11000
#define USED_GPA 0x12000
#define BUF_GPA 0x20000
#define IND_GPA 0x30000
#define IND2_GPA 0x31000
#define RAM (32u << 20)

struct harness {
    struct vm *vm;
    struct virtio_dev *dev;
    unsigned queue_irqs, config_irqs;
    uint16_t avail_idx;
};

static void on_queue(void *opaque, unsigned q)
{
    struct harness *h = opaque;
    (void)q;
    h->queue_irqs++;
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

static void put_desc(struct harness *h, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    guest_put_desc(h->vm, table, i, addr, len, flags, next);
}

static uint16_t used_idx(struct harness *h)
{
    return guest_used_idx(h->vm, USED_GPA);
}

static void used_elem(struct harness *h, unsigned slot, uint32_t *id, uint32_t *len)
{
    uint8_t *u = gpa(h, USED_GPA + 4 + 8 * (slot % QSIZE), 8);
    memcpy(id, u, 4);
    memcpy(len, u + 4, 4);
}

/* Offer the chain starting at HEAD and let the device process it. */
static void submit(struct harness *h, uint16_t head)
{
    uint16_t *ring = gpa(h, AVAIL_GPA + 4, 2 * QSIZE);
    ring[h->avail_idx % QSIZE] = head;
    h->avail_idx++;
    memcpy(gpa(h, AVAIL_GPA + 2, 2), &h->avail_idx, 2);
    virtio_dev_process(h->dev, 0);
}

static void negotiate(struct harness *h, uint64_t features)
{
    struct virtio_dev *d = h->dev;
    /* a driver hands over zeroed rings */
    memset(gpa(h, AVAIL_GPA, 0x1000), 0, 0x1000);
    memset(gpa(h, USED_GPA, 0x1000), 0, 0x1000);
    pthread_mutex_lock(&d->lock);
    virtio_dev_set_status(d, 0);
    virtio_dev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_dev_set_features(d, 0, (uint32_t)features);
    virtio_dev_set_features(d, 1, (uint32_t)(features >> 32));
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_FEATURES_OK);
    d->vq[0].size = QSIZE;
    d->vq[0].desc_gpa = DESC_GPA;
    d->vq[0].avail_gpa = AVAIL_GPA;
    d->vq[0].used_gpa = USED_GPA;
    virtio_dev_queue_enable(d, 0);
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER_OK);
    pthread_mutex_unlock(&d->lock);
    h->avail_idx = 0;
    h->queue_irqs = h->config_irqs = 0;
}

#define ALL_FEATURES                                                                               \
    ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |                        \
     (1ULL << VIRTIO_RING_F_EVENT_IDX))

static int setup(void **state)
{
    static struct harness h;
    memset(&h, 0, sizeof h);
    struct vm_config cfg = {.ram_bytes = RAM, .vcpus = 1};
    h.vm = vm_new(&cfg);
    if (!h.vm)
        fail_msg("vm_new: %s", err_msg());
    h.dev = virtio_rng_new(h.vm);
    if (!h.dev)
        fail_msg("virtio_rng_new: %s", err_msg());
    h.dev->transport = (struct virtio_transport){
        .signal_queue = on_queue, .signal_config = on_config, .opaque = &h};
    negotiate(&h, ALL_FEATURES & ~(1ULL << VIRTIO_RING_F_EVENT_IDX));
    *state = &h;
    return 0;
}

static int teardown(void **state)
{
    struct harness *h = *state;
    virtio_dev_free(h->dev);
    vm_free(h->vm);
    return 0;
}

static bool is_broken(struct harness *h)
{
    return h->dev->broken && (h->dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
}

/* The device is broken, said so once, used nothing; a reset revives it. */
static void expect_broken_then_recover(struct harness *h, uint16_t used_before)
{
    assert_true(is_broken(h));
    assert_int_equal(h->config_irqs, 1);
    assert_int_equal(used_idx(h), used_before);
    /* further kicks do nothing */
    virtio_dev_process(h->dev, 0);
    assert_int_equal(used_idx(h), used_before);

    negotiate(h, ALL_FEATURES & ~(1ULL << VIRTIO_RING_F_EVENT_IDX));
    assert_false(is_broken(h));
    put_desc(h, DESC_GPA, 0, BUF_GPA, 64, VIRTQ_DESC_F_WRITE, 0);
    submit(h, 0);
    assert_int_equal(used_idx(h), 1);
}

static void test_direct_chain(void **state)
{
    struct harness *h = *state;
    uint8_t *buf = gpa(h, BUF_GPA, 0x300);
    memset(buf, 0, 0x300);
    /* a device-readable buffer, then two writable ones */
    put_desc(h, DESC_GPA, 3, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 5);
    put_desc(h, DESC_GPA, 5, BUF_GPA + 0x100, 100, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 7);
    put_desc(h, DESC_GPA, 7, BUF_GPA + 0x200, 28, VIRTQ_DESC_F_WRITE, 0);
    submit(h, 3);
    assert_false(is_broken(h));
    assert_int_equal(used_idx(h), 1);
    uint32_t id, len;
    used_elem(h, 0, &id, &len);
    assert_int_equal(id, 3);
    assert_int_equal(len, 128);
    /* entropy landed in the writable buffers only */
    static const uint8_t zero[100];
    assert_memory_equal(buf, zero, 16);
    assert_memory_not_equal(buf + 0x100, zero, 100);
    assert_memory_not_equal(buf + 0x200, zero, 28);
    assert_int_equal(h->queue_irqs, 1);
    assert_int_equal(h->config_irqs, 0);
}

static void test_indirect_chain(void **state)
{
    struct harness *h = *state;
    put_desc(h, IND_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
    put_desc(h, IND_GPA, 2, BUF_GPA + 8, 24, VIRTQ_DESC_F_WRITE, 0);
    put_desc(h, DESC_GPA, 1, IND_GPA, 3 * 16, VIRTQ_DESC_F_INDIRECT, 0);
    submit(h, 1);
    assert_false(is_broken(h));
    uint32_t id, len;
    used_elem(h, 0, &id, &len);
    assert_int_equal(used_idx(h), 1);
    assert_int_equal(id, 1);
    assert_int_equal(len, 32);
}

static void test_many_requests_wrap(void **state)
{
    struct harness *h = *state;
    /* More requests than the ring has entries: indexes wrap. */
    for (unsigned i = 0; i < 3 * QSIZE + 5; i++) {
        put_desc(h, DESC_GPA, i % QSIZE, BUF_GPA + 16 * (i % QSIZE), 16, VIRTQ_DESC_F_WRITE, 0);
        submit(h, i % QSIZE);
    }
    assert_false(is_broken(h));
    assert_int_equal(used_idx(h), 3 * QSIZE + 5);
    uint32_t id, len;
    used_elem(h, 3 * QSIZE + 4, &id, &len);
    assert_int_equal(id, (3 * QSIZE + 4) % QSIZE);
    assert_int_equal(len, 16);
}

static void test_event_idx(void **state)
{
    struct harness *h = *state;
    negotiate(h, ALL_FEATURES);
    /* used_event = 1: the driver wants an interrupt once used->idx passes 1 */
    uint16_t ev = 1;
    memcpy(gpa(h, AVAIL_GPA + 4 + 2 * QSIZE, 2), &ev, 2);
    put_desc(h, DESC_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
    submit(h, 0); /* used 0 -> 1: first signal is always sent */
    assert_int_equal(h->queue_irqs, 1);
    submit(h, 0); /* used 1 -> 2 crosses used_event 1 */
    assert_int_equal(h->queue_irqs, 2);
    submit(h, 0); /* 2 -> 3: used_event still 1, no interrupt */
    assert_int_equal(h->queue_irqs, 2);
    /* the device asked to be kicked at the next avail entry */
    uint16_t avail_event;
    memcpy(&avail_event, gpa(h, USED_GPA + 4 + 8 * QSIZE, 2), 2);
    assert_int_equal(avail_event, 3);
}

static void test_no_interrupt_flag(void **state)
{
    struct harness *h = *state;
    uint16_t flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    memcpy(gpa(h, AVAIL_GPA, 2), &flags, 2);
    put_desc(h, DESC_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE, 0);
    submit(h, 0);
    assert_int_equal(used_idx(h), 1);
    assert_int_equal(h->queue_irqs, 0);
}

static void test_zero_length_buffer_skipped(void **state)
{
    struct harness *h = *state;
    put_desc(h, DESC_GPA, 0, BUF_GPA, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    put_desc(h, DESC_GPA, 1, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
    submit(h, 0);
    assert_false(is_broken(h));
    uint32_t id, len;
    used_elem(h, 0, &id, &len);
    assert_int_equal(len, 8);
}

/* ---- malformed ---- */

static void test_loop(void **state)
{
    struct harness *h = *state;
    put_desc(h, DESC_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    put_desc(h, DESC_GPA, 1, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
    submit(h, 0);
    expect_broken_then_recover(h, 0);
}

static void test_self_loop_indirect(void **state)
{
    struct harness *h = *state;
    put_desc(h, IND_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
    put_desc(h, DESC_GPA, 0, IND_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
    submit(h, 0);
    expect_broken_then_recover(h, 0);
}

static void test_next_out_of_range(void **state)
{
    struct harness *h = *state;
    put_desc(h, DESC_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, QSIZE);
    submit(h, 0);
    expect_broken_then_recover(h, 0);
}

static void test_head_out_of_range(void **state)
{
    struct harness *h = *state;
    submit(h, 0xFFFF);
    expect_broken_then_recover(h, 0);
}

static void test_address_outside_ram(void **state)
{
    struct harness *h = *state;
    put_desc(h, DESC_GPA, 0, RAM - 4, 8, VIRTQ_DESC_F_WRITE, 0); /* straddles the end */
    submit(h, 0);
    expect_broken_then_recover(h, 0);
    put_desc(h, DESC_GPA, 0, 0xFFFFFFFF00000000ULL, 8, VIRTQ_DESC_F_WRITE, 0);
    submit(h, 0);
    expect_broken_then_recover(h, 1);
}

static void test_len_overflow(void **state)
{
    struct harness *h = *state;
    /* addr + len wraps around 2^64 */
    put_desc(h, DESC_GPA, 0, 0xFFFFFFFFFFFFFFF0ULL, 0x100, VIRTQ_DESC_F_WRITE, 0);
    submit(h, 0);
    expect_broken_then_recover(h, 0);
    /* each buffer fits, but the chain totals more than 4 GiB */
    for (unsigned i = 0; i < 3; i++)
        put_desc(h, DESC_GPA, i, BUF_GPA, 0xFFFFFFF0u, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT,
                 i + 1);
    put_desc(h, DESC_GPA, 3, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
    submit(h, 0);
    expect_broken_then_recover(h, 1);
}

static void test_indirect_in_indirect(void **state)
{
    struct harness *h = *state;
    put_desc(h, IND2_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
    put_desc(h, IND_GPA, 0, IND2_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
    put_desc(h, DESC_GPA, 0, IND_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
    submit(h, 0);
    expect_broken_then_recover(h, 0);
}

static void test_indirect_bad_size(void **state)
{
    struct harness *h = *state;
    put_desc(h, DESC_GPA, 0, IND_GPA, 24, VIRTQ_DESC_F_INDIRECT, 0);
    submit(h, 0);
    expect_broken_then_recover(h, 0);
    put_desc(h, DESC_GPA, 0, IND_GPA, 0, VIRTQ_DESC_F_INDIRECT, 0); /* zero-length table */
    submit(h, 0);
    expect_broken_then_recover(h, 1);
    put_desc(h, DESC_GPA, 0, RAM - 16, 32, VIRTQ_DESC_F_INDIRECT, 0); /* table past RAM */
    submit(h, 0);
    expect_broken_then_recover(h, 1);
}

static void test_indirect_not_negotiated(void **state)
{
    struct harness *h = *state;
    negotiate(h, 1ULL << VIRTIO_F_VERSION_1);
    put_desc(h, IND_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
    put_desc(h, DESC_GPA, 0, IND_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
    submit(h, 0);
    expect_broken_then_recover(h, 0);
}

static void test_wrong_direction(void **state)
{
    struct harness *h = *state;
    put_desc(h, DESC_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    put_desc(h, DESC_GPA, 1, BUF_GPA + 8, 8, 0, 0);
    submit(h, 0);
    expect_broken_then_recover(h, 0);
}

static void test_avail_jump(void **state)
{
    struct harness *h = *state;
    put_desc(h, DESC_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
    h->avail_idx = QSIZE + 1; /* more entries than the ring holds */
    memcpy(gpa(h, AVAIL_GPA + 2, 2), &h->avail_idx, 2);
    virtio_dev_process(h->dev, 0);
    expect_broken_then_recover(h, 0);
}

static void test_ring_outside_ram(void **state)
{
    struct harness *h = *state;
    struct virtio_dev *d = h->dev;
    pthread_mutex_lock(&d->lock);
    d->vq[0].ready = false;
    d->vq[0].used_gpa = RAM - 8; /* the used ring runs past the end of RAM */
    virtio_dev_queue_enable(d, 0);
    pthread_mutex_unlock(&d->lock);
    assert_true(is_broken(h));
    assert_int_equal(h->config_irqs, 1);
    assert_false(d->vq[0].ready);
}

static void test_needs_reset_sticks(void **state)
{
    struct harness *h = *state;
    put_desc(h, DESC_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
    submit(h, 0);
    assert_true(is_broken(h));
    /* The driver writing status back cannot clear NEEDS_RESET; only 0 does. */
    pthread_mutex_lock(&h->dev->lock);
    virtio_dev_set_status(h->dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                                      VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    assert_true(h->dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
    virtio_dev_set_status(h->dev, 0);
    assert_int_equal(h->dev->status, 0);
    pthread_mutex_unlock(&h->dev->lock);
}

static void test_version_1_required(void **state)
{
    struct harness *h = *state;
    struct virtio_dev *d = h->dev;
    pthread_mutex_lock(&d->lock);
    virtio_dev_set_status(d, 0);
    virtio_dev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_dev_set_features(d, 0, 1u << VIRTIO_RING_F_INDIRECT_DESC);
    virtio_dev_set_features(d, 1, 0);
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_FEATURES_OK);
    assert_false(d->status & VIRTIO_CONFIG_S_FEATURES_OK);
    /* bits we never offered do not stick */
    virtio_dev_set_features(d, 1, 0xFFFFFFFF);
    assert_int_equal(d->guest_features >> 32, 1);
    pthread_mutex_unlock(&d->lock);
}

static void test_iov_helpers(void **state)
{
    (void)state;
    uint8_t a[3] = {1, 2, 3}, b[5] = {4, 5, 6, 7, 8};
    struct iovec v[2] = {{a, 3}, {b, 5}}, s[2];
    uint8_t out[8];
    assert_int_equal(iov_copy_from(v, 2, 2, out, 4), 4);
    assert_memory_equal(out, ((uint8_t[]){3, 4, 5, 6}), 4);
    assert_int_equal(iov_copy_from(v, 2, 6, out, 8), 2);
    unsigned n = iov_slice(v, 2, 1, 5, s, 2);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].iov_len, 2);
    assert_int_equal(s[1].iov_len, 3);
    assert_int_equal(iov_copy_to(v, 2, 7, (uint8_t[]){9, 9}, 2), 1);
    assert_int_equal(b[4], 9);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_direct_chain),
        T(test_indirect_chain),
        T(test_many_requests_wrap),
        T(test_event_idx),
        T(test_no_interrupt_flag),
        T(test_zero_length_buffer_skipped),
        T(test_loop),
        T(test_self_loop_indirect),
        T(test_next_out_of_range),
        T(test_head_out_of_range),
        T(test_address_outside_ram),
        T(test_len_overflow),
        T(test_indirect_in_indirect),
        T(test_indirect_bad_size),
        T(test_indirect_not_negotiated),
        T(test_wrong_direction),
        T(test_avail_jump),
        T(test_ring_outside_ram),
        T(test_needs_reset_sticks),
        T(test_version_1_required),
        cmocka_unit_test(test_iov_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
