/* virtio-rng (virtio 1.2, 5.4): one request queue; the device fills each
 * device-writable buffer with entropy from the host's getrandom(). */
#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#include "core/base/err.h"
#include "virtio/virtio.h"

struct rng {
    struct virtio_dev vdev; /* first: the core hands us this pointer */
};

static uint32_t fill(const struct virtq_elem *e)
{
    uint32_t done = 0;
    for (unsigned i = 0; i < e->nin; i++) {
        uint8_t *p = e->in[i].iov_base;
        size_t left = e->in[i].iov_len;
        while (left > 0) {
            ssize_t n = getrandom(p, left, 0);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return done; /* give what we have; the driver asks again */
            }
            p += n;
            left -= n;
            done += n;
        }
    }
    return done;
}

static void rng_queue_notify(struct virtio_dev *dev, unsigned q)
{
    struct virtq_elem *e = &dev->elem;
    while (virtio_dev_pop(dev, q, e) > 0)
        virtio_dev_push(dev, q, e, fill(e));
}

static void rng_destroy(struct virtio_dev *dev)
{
    free(dev);
}

static const struct virtio_dev_ops rng_ops = {
    .name = "virtio-rng",
    .device_id = VIRTIO_ID_RNG,
    .pci_class = 0xFF00, /* unclassified */
    .queue_notify = rng_queue_notify,
    .destroy = rng_destroy,
    .save = virtio_state_none_save,
    .load = virtio_state_none_load,
};

struct virtio_dev *virtio_rng_new(struct vm *vm)
{
    struct rng *r = calloc(1, sizeof *r);
    if (!r) {
        err_set("out of memory");
        return NULL;
    }
    if (virtio_dev_init(&r->vdev, vm, &rng_ops, 1, 0, NULL, 0) < 0) {
        virtio_dev_free(&r->vdev);
        return NULL;
    }
    return &r->vdev;
}
