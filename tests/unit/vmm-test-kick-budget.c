/* A guest that keeps its avail ring full cannot keep a device's worker,
 * or the device lock, to itself. The "guest" here refills the ring from
 * the device's own interrupt callback, so every chain the device returns
 * is replaced at once, for ever:
 * - one kick does a bounded amount of work (at most a ring's worth of
 *   chains), then the worker lets go and comes back for the rest;
 * - with the real worker thread running against such a guest, the main
 *   loop's calls that take the device lock (here the virtio console's)
 *   still answer, each after at most a bounded number of chains. An
 *   alarm turns a hang (the old behaviour) into a failure.
 * Work is counted in chains, never in wall-clock time.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "virtio/vconsole.h"
#include "virtio/virtio.h"
#include "vm.h"
#include "vmm-guest.h"

#define QSIZE 16
#define DESC_GPA 0x10000
#define AVAIL_GPA 0x11000
#define USED_GPA 0x12000
#define BUF_GPA 0x20000
/* Before the fix one kick never ends; the guest stops refilling here so
 * that the first test can fail instead of hang. */
#define REFILL_CAP 1000000u

struct h {
    struct vm *vm;
    struct virtio_dev *dev;
    unsigned q;
    uint16_t avail_idx;
    atomic_uint pushes;
    bool endless; /* refill without a cap */
};

/* The guest: each returned chain is offered again right away. */
static void on_queue(void *opaque, unsigned q)
{
    struct h *h = opaque;
    unsigned n = atomic_fetch_add(&h->pushes, 1) + 1;
    if (q != h->q || (!h->endless && n >= REFILL_CAP))
        return;
    uint16_t *ring = guest_ptr(h->vm, AVAIL_GPA + 4, 2 * QSIZE);
    __atomic_store_n(&ring[h->avail_idx % QSIZE], (uint16_t)(h->avail_idx % QSIZE),
                     __ATOMIC_RELAXED);
    h->avail_idx++;
    __atomic_store_n((uint16_t *)guest_ptr(h->vm, AVAIL_GPA + 2, 2), h->avail_idx,
                     __ATOMIC_RELEASE);
}

static void on_config(void *opaque)
{
    (void)opaque;
}

static void negotiate(struct h *h, unsigned q, uint16_t flags)
{
    struct virtio_dev *d = h->dev;
    memset(guest_ptr(h->vm, AVAIL_GPA, 0x2000), 0, 0x2000);
    pthread_mutex_lock(&d->lock);
    virtio_dev_set_status(d, 0);
    virtio_dev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_dev_set_features(d, 1, 1); /* VERSION_1 */
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_FEATURES_OK);
    d->vq[q].size = QSIZE;
    d->vq[q].desc_gpa = DESC_GPA;
    d->vq[q].avail_gpa = AVAIL_GPA;
    d->vq[q].used_gpa = USED_GPA;
    virtio_dev_queue_enable(d, q);
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER_OK);
    pthread_mutex_unlock(&d->lock);
    /* a full ring: QSIZE one-buffer chains */
    for (unsigned i = 0; i < QSIZE; i++)
        guest_put_desc(h->vm, DESC_GPA, i, BUF_GPA + 64 * i, 64, flags, 0);
    uint16_t *ring = guest_ptr(h->vm, AVAIL_GPA + 4, 2 * QSIZE);
    for (unsigned i = 0; i < QSIZE; i++)
        ring[i] = (uint16_t)i;
    h->avail_idx = QSIZE;
    __atomic_store_n((uint16_t *)guest_ptr(h->vm, AVAIL_GPA + 2, 2), h->avail_idx,
                     __ATOMIC_RELEASE);
    atomic_store(&h->pushes, 0);
}

static struct vm *new_vm(void)
{
    struct vm_config cfg = {.ram_bytes = 32 << 20, .vcpus = 1};
    struct vm *vm = vm_new(&cfg);
    assert_non_null(vm);
    return vm;
}

static void test_one_kick_is_bounded(void **state)
{
    (void)state;
    static struct h h;
    memset(&h, 0, sizeof h);
    h.vm = new_vm();
    h.dev = virtio_rng_new(h.vm);
    assert_non_null(h.dev);
    h.dev->transport = (struct virtio_transport){
        .signal_queue = on_queue, .signal_config = on_config, .opaque = &h};
    negotiate(&h, 0, VIRTQ_DESC_F_WRITE);
    virtio_dev_process(h.dev, 0);
    unsigned first = atomic_load(&h.pushes);
    /* some work was done, at most a ring's worth (was: until the guest stopped) */
    assert_true(first > 0);
    assert_true(first <= VIRTQ_MAX_SIZE);
    /* the rest is not forgotten: the queue's kick is pending again */
    uint64_t v = 0;
    assert_int_equal(read(h.dev->kick_fd[0], &v, sizeof v), (ssize_t)sizeof v);
    assert_true(v >= 1);
    /* and the next kick carries on where this one stopped */
    virtio_dev_process(h.dev, 0);
    unsigned second = atomic_load(&h.pushes);
    assert_true(second > first && second - first <= VIRTQ_MAX_SIZE);
    virtio_dev_free(h.dev);
    vm_free(h.vm);
}

static void on_alarm(int sig)
{
    (void)sig;
    static const char msg[] = "the main loop's call never got the device lock\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(1);
}

static void test_main_loop_answers(void **state)
{
    (void)state;
    static struct h h;
    memset(&h, 0, sizeof h);
    h.vm = new_vm();
    struct virtio_console_config_in c = {.con = NULL, .name = "console1"};
    h.dev = virtio_console_new(h.vm, &c);
    assert_non_null(h.dev);
    h.dev->transport = (struct virtio_transport){
        .signal_queue = on_queue, .signal_config = on_config, .opaque = &h};
    h.q = 1; /* transmitq: the guest prints without pause */
    h.endless = true;
    negotiate(&h, 1, 0);
    signal(SIGALRM, on_alarm);
    alarm(30);
    assert_int_equal(virtio_dev_start(h.dev), 0);
    /* the guest is busy for good */
    while (atomic_load(&h.pushes) < 10 * VIRTQ_MAX_SIZE)
        usleep(1000);
    unsigned worst = 0;
    for (int i = 0; i < 200; i++) {
        unsigned before = atomic_load(&h.pushes);
        assert_int_equal(virtio_console_pending_input(h.dev), 0);
        unsigned during = atomic_load(&h.pushes) - before;
        if (during > worst)
            worst = during;
    }
    alarm(0);
    /* The device kept working, and the call waited for at most the batch
     * that was running when it asked, plus one after it returned. */
    assert_true(worst <= 2 * VIRTQ_MAX_SIZE);
    h.endless = false;
    virtio_dev_free(h.dev);
    vm_free(h.vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_kick_is_bounded),
        cmocka_unit_test(test_main_loop_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
