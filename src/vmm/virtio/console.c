/* virtio-console (virtio 1.2, 5.3) with one port and no MULTIPORT: queue 0
 * (receiveq) takes host input to the guest, queue 1 (transmitq) brings the
 * guest's output; Linux makes it /dev/hvc0. Each device has its own console
 * socket server (console.h), so it is reached like the UART, on its own
 * socket in the run directory.
 *
 * Input arrives on the loop thread whenever a client types; the guest may
 * have posted no buffers then, or buffers smaller than the input. It waits
 * in a bounded buffer (VCON_INPUT_MAX; beyond that keys are dropped, as a
 * full UART FIFO does) and the worker hands it out chain by chain, each
 * filled up to its own writable length and never further.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "virtio/vconsole.h"

#define RXQ 0
#define TXQ 1

#define F_EMERG_WRITE 2 /* config emerg_wr: one byte of output without queues */

/* struct virtio_console_config: cols, rows (F_SIZE), max_nr_ports
 * (F_MULTIPORT), emerg_wr (F_EMERG_WRITE). */
#define CFG_EMERG_WR 8
#define CFG_SIZE 12

struct vcon {
    struct virtio_dev vdev; /* first: the core hands us this pointer */
    uint8_t config[CFG_SIZE];
    struct console *con; /* owned; NULL: output dropped, no input */
    /* Host input the guest has not taken yet; under vdev.lock. */
    uint8_t input[VCON_INPUT_MAX];
    size_t input_len;
    bool warned_full;
};

static struct vcon *vcon_of(struct virtio_dev *dev)
{
    return (struct vcon *)dev;
}

static void emit(struct vcon *v, const uint8_t *buf, size_t len)
{
    if (v->con)
        console_output(v->con, buf, len);
}

static void transmit(struct vcon *v)
{
    struct virtq_elem *e = &v->vdev.elem;
    while (virtio_dev_pop(&v->vdev, TXQ, e) > 0) {
        for (unsigned i = 0; i < e->nout; i++)
            emit(v, e->out[i].iov_base, e->out[i].iov_len);
        virtio_dev_push(&v->vdev, TXQ, e, 0);
    }
}

/* Pops a receive buffer only when there is something to put in it, so
 * buffers the guest posts early stay posted. */
static void receive(struct vcon *v)
{
    struct virtq_elem *e = &v->vdev.elem;
    while (v->input_len > 0 && virtio_dev_pop(&v->vdev, RXQ, e) > 0) {
        size_t n = iov_copy_to(e->in, e->nin, 0, v->input, v->input_len);
        memmove(v->input, v->input + n, v->input_len - n);
        v->input_len -= n;
        virtio_dev_push(&v->vdev, RXQ, e, (uint32_t)n);
    }
}

static void vcon_queue_notify(struct virtio_dev *dev, unsigned q)
{
    if (q == TXQ)
        transmit(vcon_of(dev));
    else
        receive(vcon_of(dev));
}

/* The loop thread, with the writer client's keys. */
static void vcon_input(void *opaque, const uint8_t *buf, size_t len)
{
    struct vcon *v = opaque;
    virtio_dev_lock(&v->vdev);
    size_t room = VCON_INPUT_MAX - v->input_len;
    if (len > room) {
        static struct guest_log_site site; /* the guest can drain and stall again */
        if (!v->warned_full)
            guest_log(&site, "%s: the guest does not read its console; input dropped",
                      v->vdev.id);
        v->warned_full = true;
        len = room;
    } else if (v->input_len == 0) {
        v->warned_full = false;
    }
    memcpy(v->input + v->input_len, buf, len);
    v->input_len += len;
    virtio_dev_unlock(&v->vdev);
    virtio_dev_kick(&v->vdev, RXQ);
}

static void vcon_config_written(struct virtio_dev *dev, uint32_t off, uint32_t len)
{
    struct vcon *v = vcon_of(dev);
    if (off <= CFG_EMERG_WR && off + len > CFG_EMERG_WR && virtio_dev_has(dev, F_EMERG_WRITE))
        emit(v, &v->config[CFG_EMERG_WR], 1);
}

/* Saved state: the input the guest has not taken yet. */
static int vcon_save(struct virtio_dev *dev, struct vsf_out *o)
{
    struct vcon *v = vcon_of(dev);
    vsf_put_u32(o, (uint32_t)v->input_len);
    vsf_put_bytes(o, v->input, v->input_len);
    return 0;
}

static int vcon_load(struct virtio_dev *dev, struct vsf_in *in)
{
    struct vcon *v = vcon_of(dev);
    uint32_t n;
    if (vsf_get_u32(in, "input bytes", &n) < 0)
        return -1;
    if (n > VCON_INPUT_MAX)
        return vsf_bad(in, "input bytes", n, "at most the input buffer");
    if (vsf_get_bytes(in, "input", v->input, n) < 0)
        return -1;
    v->input_len = n;
    return 0;
}

static void vcon_destroy(struct virtio_dev *dev)
{
    struct vcon *v = vcon_of(dev);
    console_free(v->con);
    free(v);
}

static const struct virtio_dev_ops vcon_ops = {
    .name = "virtio-console",
    .device_id = VIRTIO_ID_CONSOLE,
    .pci_class = 0x0780, /* communication controller, other: as QEMU */
    .queue_notify = vcon_queue_notify,
    .config_written = vcon_config_written,
    .destroy = vcon_destroy,
    .save = vcon_save,
    .load = vcon_load,
};

struct virtio_dev *virtio_console_new(struct vm *vm, const struct virtio_console_config_in *c)
{
    struct vcon *v = calloc(1, sizeof *v);
    if (!v) {
        console_free(c->con);
        err_set("out of memory");
        return NULL;
    }
    v->con = c->con;
    snprintf(v->vdev.id, sizeof v->vdev.id, "virtio-console %s", c->name ? c->name : "?");
    if (virtio_dev_init(&v->vdev, vm, &vcon_ops, 2, 1ULL << F_EMERG_WRITE, v->config, CFG_SIZE) <
        0) {
        virtio_dev_free(&v->vdev);
        return NULL;
    }
    if (v->con)
        console_set_input(v->con, vcon_input, v);
    return &v->vdev;
}

size_t virtio_console_pending_input(struct virtio_dev *dev)
{
    virtio_dev_lock(dev);
    size_t n = vcon_of(dev)->input_len;
    virtio_dev_unlock(dev);
    return n;
}
