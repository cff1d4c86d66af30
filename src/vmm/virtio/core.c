/* The transport-independent part of a virtio device: status and feature
 * negotiation (virtio 1.2, 3.1), queues, the "needs reset" state, and the
 * worker thread that turns kicks into ops->queue_notify calls.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "sandbox.h"
#include "virtio/virtio.h"
#include "vmm.h"

#define RING_FEATURES                                                                              \
    ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |                        \
     (1ULL << VIRTIO_RING_F_EVENT_IDX))

int virtio_dev_init(struct virtio_dev *dev, struct vm *vm, const struct virtio_dev_ops *ops,
                    unsigned num_queues, uint64_t features, void *config, uint32_t config_size)
{
    dev->ops = ops;
    dev->stop_fd = -1;
    dev->io_fd = -1;
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
        dev->kick_fd[i] = -1;
    pthread_mutex_init(&dev->lock, NULL);
    pthread_cond_init(&dev->lock_free, NULL);
    if (num_queues == 0 || num_queues > VIRTIO_MAX_QUEUES)
        return err_set("%s: %u queues is out of range", ops->name, num_queues);
    dev->vm = vm;
    dev->num_queues = num_queues;
    dev->host_features = features | RING_FEATURES;
    dev->config = config;
    dev->config_size = config_size;
    if (!dev->id[0])
        snprintf(dev->id, sizeof dev->id, "%s", ops->name);
    for (unsigned i = 0; i < num_queues; i++) {
        virtq_reset(&dev->vq[i], vm);
        dev->kick_fd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (dev->kick_fd[i] < 0)
            return err_errno("%s: eventfd", dev->id);
    }
    dev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (dev->stop_fd < 0)
        return err_errno("%s: eventfd", dev->id);
    return 0;
}

bool virtio_dev_has(const struct virtio_dev *dev, unsigned feature)
{
    return feature < 64 && (dev->guest_features >> feature) & 1;
}

void virtio_dev_reset(struct virtio_dev *dev)
{
    dev->status = 0;
    dev->guest_features = 0;
    dev->broken = false;
    for (unsigned i = 0; i < dev->num_queues; i++)
        virtq_reset(&dev->vq[i], dev->vm);
    if (dev->ops->reset)
        dev->ops->reset(dev);
}

void virtio_dev_set_features(struct virtio_dev *dev, unsigned word, uint32_t value)
{
    /* Only before FEATURES_OK (3.1.1); the driver cannot ask for what we did not offer. */
    if (word > 1 || (dev->status & VIRTIO_CONFIG_S_FEATURES_OK))
        return;
    uint64_t mask = 0xFFFFFFFFULL << (32 * word);
    uint64_t v = ((uint64_t)value << (32 * word)) & dev->host_features;
    dev->guest_features = (dev->guest_features & ~mask) | v;
}

void virtio_dev_set_status(struct virtio_dev *dev, uint8_t status)
{
    if (status == 0) {
        virtio_dev_reset(dev);
        return;
    }
    /* A modern-only device refuses drivers that did not accept VERSION_1:
     * FEATURES_OK then does not stick and the driver gives up (3.1.1). */
    if ((status & VIRTIO_CONFIG_S_FEATURES_OK) && !(dev->status & VIRTIO_CONFIG_S_FEATURES_OK) &&
        !virtio_dev_has(dev, VIRTIO_F_VERSION_1))
        status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
    /* NEEDS_RESET is the device's to set; the driver cannot clear it. */
    status = (status & ~VIRTIO_CONFIG_S_NEEDS_RESET) | (dev->status & VIRTIO_CONFIG_S_NEEDS_RESET);
    bool now_ok =
        (status & VIRTIO_CONFIG_S_DRIVER_OK) && !(dev->status & VIRTIO_CONFIG_S_DRIVER_OK);
    dev->status = status;
    if (now_ok) {
        /* Buffers may already wait (drivers fill rx queues before DRIVER_OK). */
        for (unsigned i = 0; i < dev->num_queues; i++)
            if (dev->vq[i].ready)
                virtio_dev_kick(dev, i);
    }
}

void virtio_dev_queue_enable(struct virtio_dev *dev, unsigned q)
{
    if (q >= dev->num_queues)
        return;
    struct virtq *vq = &dev->vq[q];
    vq->indirect = virtio_dev_has(dev, VIRTIO_RING_F_INDIRECT_DESC);
    vq->event_idx = virtio_dev_has(dev, VIRTIO_RING_F_EVENT_IDX);
    if (virtq_enable(vq) < 0) {
        char why[256];
        snprintf(why, sizeof why, "queue %u: %s", q, err_msg());
        virtio_dev_set_broken(dev, why);
    }
}

void virtio_dev_set_broken(struct virtio_dev *dev, const char *why)
{
    if (dev->broken)
        return;
    dev->broken = true;
    /* The driver can break and reset its device in a loop. */
    static struct guest_log_site site;
    guest_log(&site, "%s: %s; the device needs a reset", dev->id, why);
    /* Stop using the rings: the driver must reset the device (2.1.2). */
    for (unsigned i = 0; i < dev->num_queues; i++)
        dev->vq[i].ready = false;
    dev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
    if (dev->status & VIRTIO_CONFIG_S_DRIVER_OK) {
        dev->config_generation++;
        if (dev->transport.signal_config)
            dev->transport.signal_config(dev->transport.opaque);
    }
}

int virtio_dev_pop(struct virtio_dev *dev, unsigned q, struct virtq_elem *e)
{
    if (dev->broken)
        return -1;
    if (dev->budget == 0) {
        dev->budget_spent = true;
        return 0;
    }
    int r = virtq_pop(&dev->vq[q], e);
    if (r > 0)
        dev->budget--;
    if (r < 0) {
        char why[256];
        snprintf(why, sizeof why, "queue %u: %s", q, err_msg());
        virtio_dev_set_broken(dev, why);
    }
    return r;
}

void virtio_dev_push(struct virtio_dev *dev, unsigned q, const struct virtq_elem *e,
                     uint32_t written)
{
    struct virtq *vq = &dev->vq[q];
    virtq_push(vq, e, written);
    if (virtq_should_signal(vq) && dev->transport.signal_queue)
        dev->transport.signal_queue(dev->transport.opaque, q);
}

void virtio_dev_kick(struct virtio_dev *dev, unsigned q)
{
    uint64_t one = 1;
    if (q < dev->num_queues && write(dev->kick_fd[q], &one, sizeof one) < 0) {
        /* counter saturated: the worker is already due to run */
    }
}

void virtio_dev_lock(struct virtio_dev *dev)
{
    __atomic_add_fetch(&dev->lock_waiters, 1, __ATOMIC_SEQ_CST);
    pthread_mutex_lock(&dev->lock);
    __atomic_sub_fetch(&dev->lock_waiters, 1, __ATOMIC_SEQ_CST);
}

void virtio_dev_unlock(struct virtio_dev *dev)
{
    pthread_cond_broadcast(&dev->lock_free);
    pthread_mutex_unlock(&dev->lock);
}

/* The worker's lock: whoever waits in virtio_dev_lock() goes first, so
 * nobody waits for more than the one batch that was running. */
static void worker_lock(struct virtio_dev *dev)
{
    pthread_mutex_lock(&dev->lock);
    while (__atomic_load_n(&dev->lock_waiters, __ATOMIC_SEQ_CST) > 0)
        pthread_cond_wait(&dev->lock_free, &dev->lock);
    dev->budget = VIRTIO_KICK_BUDGET;
    dev->budget_spent = false;
}

void virtio_dev_process(struct virtio_dev *dev, unsigned q)
{
    worker_lock(dev);
    if (q < dev->num_queues && dev->vq[q].ready && !dev->broken &&
        (dev->status & VIRTIO_CONFIG_S_DRIVER_OK))
        dev->ops->queue_notify(dev, q);
    bool again = dev->budget_spent;
    pthread_mutex_unlock(&dev->lock);
    /* Stopped early with chains left: the worker's next poll comes back
     * to them, after the other queues and whoever waits for the lock. */
    if (again)
        virtio_dev_kick(dev, q);
}

void virtio_dev_io_process(struct virtio_dev *dev)
{
    worker_lock(dev);
    if (dev->io_fd >= 0 && dev->io_want && dev->ops->io_ready)
        dev->ops->io_ready(dev);
    bool again = dev->budget_spent;
    pthread_mutex_unlock(&dev->lock);
    /* A handler stopped by the budget took it for an empty queue (net
     * stops polling its tap): its queues' kicks set that right. */
    for (unsigned q = 0; again && q < dev->num_queues; q++)
        virtio_dev_kick(dev, q);
}

/* ---- saved state ---- */

int virtio_state_none_save(struct virtio_dev *dev, struct vsf_out *o)
{
    (void)dev;
    (void)o;
    return 0;
}

int virtio_state_none_load(struct virtio_dev *dev, struct vsf_in *in)
{
    (void)dev;
    (void)in;
    return 0;
}

int virtio_dev_save(struct virtio_dev *dev, struct vsf_out *o)
{
    if (!dev->ops->save)
        return err_set("%s: saving its state is not supported", dev->id);
    vsf_put_u16(o, dev->ops->device_id);
    vsf_put_u32(o, dev->num_queues);
    vsf_put_u64(o, dev->guest_features);
    vsf_put_u8(o, dev->status);
    vsf_put_u8(o, dev->config_generation);
    vsf_put_u8(o, dev->broken);
    for (unsigned i = 0; i < dev->num_queues; i++)
        virtq_save(&dev->vq[i], o);
    return dev->ops->save(dev, o);
}

int virtio_dev_load(struct virtio_dev *dev, struct vsf_in *in)
{
    if (!dev->ops->load)
        return err_set("%s: loading its state is not supported", dev->id);
    uint16_t id;
    uint32_t nq;
    uint64_t features;
    uint8_t status, gen;
    bool broken;
    if (vsf_get_u16(in, "device id", &id) < 0 || vsf_get_u32(in, "queues", &nq) < 0 ||
        vsf_get_u64(in, "features", &features) < 0 || vsf_get_u8(in, "status", &status) < 0 ||
        vsf_get_u8(in, "config generation", &gen) < 0 || vsf_get_bool(in, "broken", &broken) < 0)
        return -1;
    if (id != dev->ops->device_id)
        return vsf_bad(in, "device id", id, "this slot's virtio device");
    if (nq != dev->num_queues)
        return vsf_bad(in, "queues", nq, "this device's queue count");
    if (features & ~dev->host_features)
        return vsf_bad(in, "features", features, "only features this device offers");
    for (unsigned i = 0; i < dev->num_queues; i++)
        if (virtq_load(&dev->vq[i], in) < 0)
            return -1;
    dev->guest_features = features;
    dev->status = status;
    dev->config_generation = gen;
    dev->broken = broken;
    return dev->ops->load(dev, in);
}

/* ---- worker thread ---- */

static void *worker_main(void *opaque)
{
    struct virtio_dev *dev = opaque;
    struct pollfd p[VIRTIO_MAX_QUEUES + 2];
    unsigned n = dev->num_queues;
    for (unsigned i = 0; i < n; i++)
        p[i] = (struct pollfd){.fd = dev->kick_fd[i], .events = POLLIN};
    p[n] = (struct pollfd){.fd = dev->stop_fd, .events = POLLIN};
    for (;;) {
        /* Started before the sandbox: the worker's filter at the first
         * wake-up after it (the process's holds until then). */
        sandbox_thread_enter(SANDBOX_THREAD_WORKER);
        sandbox_selftest_point(SANDBOX_THREAD_WORKER);
        /* poll() skips a negative fd: the device's own fd only while it wants input. */
        pthread_mutex_lock(&dev->lock);
        p[n + 1] = (struct pollfd){.fd = dev->io_want ? dev->io_fd : -1, .events = POLLIN};
        pthread_mutex_unlock(&dev->lock);
        if (poll(p, n + 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "tvm-vmm: %s: poll: %s\n", dev->id, strerror(errno));
            return NULL;
        }
        if (p[n].revents)
            return NULL;
        for (unsigned i = 0; i < n; i++) {
            uint64_t v;
            if (!(p[i].revents & POLLIN) || read(dev->kick_fd[i], &v, sizeof v) < 0)
                continue;
            virtio_dev_process(dev, i);
        }
        if (p[n + 1].revents)
            virtio_dev_io_process(dev);
    }
}

int virtio_dev_start(struct virtio_dev *dev)
{
    sigset_t all, old;
    sigfillset(&all);
    /* Signals belong to the main loop (signalfd), never to the worker. */
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&dev->worker, NULL, worker_main, dev);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return err_set("%s: cannot start its thread: %s", dev->id, strerror(rc));
    dev->worker_running = true;
    return 0;
}

void virtio_dev_free(struct virtio_dev *dev)
{
    if (!dev)
        return;
    if (dev->worker_running) {
        uint64_t one = 1;
        if (write(dev->stop_fd, &one, sizeof one) == sizeof one)
            pthread_join(dev->worker, NULL);
        dev->worker_running = false;
    }
    for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
        if (dev->kick_fd[i] >= 0)
            close(dev->kick_fd[i]);
    if (dev->stop_fd >= 0)
        close(dev->stop_fd);
    pthread_mutex_destroy(&dev->lock);
    pthread_cond_destroy(&dev->lock_free);
    if (dev->ops->destroy)
        dev->ops->destroy(dev);
}
