/* virtio-input (virtio 1.2, 5.8): a tablet (absolute pointer), a mouse
 * (relative pointer) or a keyboard, as QEMU's virtio-tablet-pci,
 * virtio-mouse-pci and virtio-keyboard-pci present them. The driver
 * learns what the device can report from the config space (a select /
 * subsel pair picks which answer fills the union); events go to it on
 * the eventq, one struct virtio_input_event per buffer, and it sends LED
 * state on the statusq, which the device reads and drops.
 *
 * Events come from the VNC thread (display.c): they wait in a small ring
 * under the device lock until the worker, kicked, has eventq buffers to
 * put them in. A guest that never posts buffers loses events, whole
 * reports at a time, never the memory to hold them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "core/proto/keymap.h"
#include "virtio/virtio.h"
#include "vmm.h"

#define EVENTQ 0
#define STATUSQ 1

/* config->select (5.8.5) */
#define CFG_UNSET 0x00
#define CFG_ID_NAME 0x01
#define CFG_ID_SERIAL 0x02
#define CFG_ID_DEVIDS 0x03
#define CFG_PROP_BITS 0x10
#define CFG_EV_BITS 0x11
#define CFG_ABS_INFO 0x12

/* <linux/input-event-codes.h> */
#define EV_SYN 0x00
#define EV_KEY 0x01
#define EV_REL 0x02
#define EV_ABS 0x03
#define EV_LED 0x11
#define EV_REP 0x14
#define SYN_REPORT 0
#define REL_X 0x00
#define REL_Y 0x01
#define REL_HWHEEL 0x06
#define REL_WHEEL 0x08
#define ABS_X 0x00
#define ABS_Y 0x01
#define BTN_LEFT 0x110
#define BTN_RIGHT 0x111
#define BTN_MIDDLE 0x112
#define LED_NUML 0
#define LED_CAPSL 1
#define LED_SCROLLL 2
#define BUS_VIRTUAL 0x06

#define UNION_OFF 8
#define UNION_LEN 128
#define CONFIG_LEN (UNION_OFF + UNION_LEN)
#define EVENT_LEN 8
#define PENDING_MAX 128 /* events waiting for eventq buffers */
#define REPORT_MAX 16   /* events in one report (pointer: at most 8) */

struct event {
    uint16_t type, code;
    int32_t value;
};

struct input {
    struct virtio_dev vdev; /* first: the core hands us this pointer */
    enum virtio_input_kind kind;
    uint8_t config[CONFIG_LEN];
    struct event pending[PENDING_MAX];
    unsigned head, count;
    unsigned buttons;        /* the VNC mask last reported */
    unsigned last_x, last_y; /* the mouse's last position, pixels */
    bool have_last;
};

static const char *const names[] = {
    [VIRTIO_INPUT_TABLET] = "tvm virtio tablet",
    [VIRTIO_INPUT_MOUSE] = "tvm virtio mouse",
    [VIRTIO_INPUT_KEYBOARD] = "tvm virtio keyboard",
};

/* QEMU's ids (vendor 0x0627, products 1-3), so guests' quirks match. */
static const uint16_t products[] = {
    [VIRTIO_INPUT_KEYBOARD] = 1, [VIRTIO_INPUT_MOUSE] = 2, [VIRTIO_INPUT_TABLET] = 3};

/* ---- config space ---- */

static void set_bit(uint8_t *map, unsigned bit)
{
    if (bit < UNION_LEN * 8)
        map[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/* The event types and codes KIND reports, as a bitmap for EV_BITS subsel TYPE. */
static void ev_bits(enum virtio_input_kind kind, unsigned type, uint8_t *map)
{
    bool pointer = kind != VIRTIO_INPUT_KEYBOARD;
    if (type == EV_KEY && pointer) {
        set_bit(map, BTN_LEFT);
        set_bit(map, BTN_RIGHT);
        set_bit(map, BTN_MIDDLE);
    } else if (type == EV_KEY) {
        size_t n;
        const struct keymap_key *k = keymap_table(&n);
        for (size_t i = 0; i < n; i++)
            set_bit(map, k[i].linux_code);
    } else if (type == EV_REL && pointer) {
        if (kind == VIRTIO_INPUT_MOUSE) {
            set_bit(map, REL_X);
            set_bit(map, REL_Y);
        }
        set_bit(map, REL_WHEEL);
        set_bit(map, REL_HWHEEL);
    } else if (type == EV_ABS && kind == VIRTIO_INPUT_TABLET) {
        set_bit(map, ABS_X);
        set_bit(map, ABS_Y);
    } else if (type == EV_LED && !pointer) {
        set_bit(map, LED_NUML);
        set_bit(map, LED_CAPSL);
        set_bit(map, LED_SCROLLL);
    } else if (type == EV_REP && !pointer) {
        set_bit(map, 0); /* any bit: the kernel repeats held keys itself */
    }
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    put_le16(p, (uint16_t)v);
    put_le16(p + 2, (uint16_t)(v >> 16));
}

/* The answer to (select, subsel): size and union. Any pair the guest
 * writes is fine; one the device has no answer for has size 0. */
static unsigned answer(const struct input *in, unsigned select, unsigned subsel, uint8_t *u)
{
    switch (select) {
    case CFG_ID_NAME:
        if (subsel)
            return 0;
        memcpy(u, names[in->kind], strlen(names[in->kind]));
        return (unsigned)strlen(names[in->kind]);
    case CFG_ID_DEVIDS:
        if (subsel)
            return 0;
        put_le16(u, BUS_VIRTUAL);
        put_le16(u + 2, 0x0627);
        put_le16(u + 4, products[in->kind]);
        put_le16(u + 6, 1);
        return 8;
    case CFG_EV_BITS: {
        ev_bits(in->kind, subsel, u);
        unsigned size = UNION_LEN;
        while (size && !u[size - 1])
            size--;
        return size;
    }
    case CFG_ABS_INFO:
        if (in->kind != VIRTIO_INPUT_TABLET || (subsel != ABS_X && subsel != ABS_Y))
            return 0;
        put_le32(u, 0);                        /* min */
        put_le32(u + 4, VIRTIO_INPUT_ABS_MAX); /* max; fuzz, flat, res: 0 */
        return 20;
    default: /* CFG_UNSET, ID_SERIAL (none), PROP_BITS (none) */
        return 0;
    }
}

static void config_written(struct virtio_dev *dev, uint32_t off, uint32_t len)
{
    struct input *in = (struct input *)dev;
    (void)len;
    /* Only select and subsel are the driver's (5.8.6.1). */
    uint8_t select = in->config[0], subsel = in->config[1];
    memset(in->config + 2, 0, CONFIG_LEN - 2);
    in->config[2] = (uint8_t)answer(in, select, subsel, in->config + UNION_OFF);
    (void)off;
}

/* ---- events ---- */

static bool driver_ready(const struct virtio_dev *dev)
{
    return (dev->status & VIRTIO_CONFIG_S_DRIVER_OK) && !dev->broken;
}

/* Moves waiting events into eventq buffers: one event a buffer. */
static void flush(struct input *in)
{
    struct virtio_dev *dev = &in->vdev;
    struct virtq_elem *e = &dev->elem;
    while (in->count && virtio_dev_pop(dev, EVENTQ, e) > 0) {
        const struct event *ev = &in->pending[in->head];
        uint8_t raw[EVENT_LEN];
        put_le16(raw, ev->type);
        put_le16(raw + 2, ev->code);
        put_le32(raw + 4, (uint32_t)ev->value);
        uint32_t written = 0;
        if (e->in_len >= EVENT_LEN) {
            written = (uint32_t)iov_copy_to(e->in, e->nin, 0, raw, EVENT_LEN);
        } else {
            static struct guest_log_site site;
            guest_log(&site,
                      "%s: an eventq buffer of %u bytes is too small for an event; "
                      "the event is lost",
                      dev->id, e->in_len);
        }
        virtio_dev_push(dev, EVENTQ, e, written);
        in->head = (in->head + 1) % PENDING_MAX;
        in->count--;
    }
}

/* The driver's LED and repeat settings: read by nobody, returned at once. */
static void drain_status(struct virtio_dev *dev)
{
    struct virtq_elem *e = &dev->elem;
    while (virtio_dev_pop(dev, STATUSQ, e) > 0)
        virtio_dev_push(dev, STATUSQ, e, 0);
}

static void input_queue_notify(struct virtio_dev *dev, unsigned q)
{
    if (q == EVENTQ)
        flush((struct input *)dev);
    else
        drain_status(dev);
}

/* Queues one report (ending with SYN_REPORT) whole or not at all; with
 * the device lock held. The worker writes it out when kicked. */
static void queue_report(struct input *in, const struct event *ev, unsigned n)
{
    if (n == 0 || !driver_ready(&in->vdev) || in->count + n + 1 > PENDING_MAX)
        return;
    for (unsigned i = 0; i <= n; i++) {
        struct event syn = {EV_SYN, SYN_REPORT, 0};
        in->pending[(in->head + in->count) % PENDING_MAX] = i < n ? ev[i] : syn;
        in->count++;
    }
    virtio_dev_kick(&in->vdev, EVENTQ);
}

static unsigned scale(unsigned v, unsigned size)
{
    if (size < 2)
        return 0;
    if (v >= size)
        v = size - 1;
    return (unsigned)((uint64_t)v * VIRTIO_INPUT_ABS_MAX / (size - 1));
}

void virtio_input_pointer(struct virtio_dev *dev, const struct virtio_input_pointer *p)
{
    struct input *in = (struct input *)dev;
    if (!in || in->kind == VIRTIO_INPUT_KEYBOARD)
        return;
    static const struct {
        unsigned mask, code;
    } buttons[] = {{1, BTN_LEFT}, {2, BTN_MIDDLE}, {4, BTN_RIGHT}};
    struct event ev[REPORT_MAX];
    unsigned n = 0;
    virtio_dev_lock(dev);
    if (in->kind == VIRTIO_INPUT_TABLET) {
        ev[n++] = (struct event){EV_ABS, ABS_X, (int32_t)scale(p->x, p->width)};
        ev[n++] = (struct event){EV_ABS, ABS_Y, (int32_t)scale(p->y, p->height)};
    } else if (in->have_last && (p->x != in->last_x || p->y != in->last_y)) {
        ev[n++] = (struct event){EV_REL, REL_X, (int32_t)p->x - (int32_t)in->last_x};
        ev[n++] = (struct event){EV_REL, REL_Y, (int32_t)p->y - (int32_t)in->last_y};
    }
    in->last_x = p->x, in->last_y = p->y, in->have_last = true;
    for (size_t i = 0; i < sizeof buttons / sizeof buttons[0]; i++)
        if ((p->buttons ^ in->buttons) & buttons[i].mask)
            ev[n++] = (struct event){EV_KEY, (uint16_t)buttons[i].code,
                                     (p->buttons & buttons[i].mask) != 0};
    /* VNC's wheel is a button pressed and released per notch: count presses. */
    unsigned pressed = p->buttons & ~in->buttons;
    if (pressed & (VIRTIO_INPUT_WHEEL_UP | VIRTIO_INPUT_WHEEL_DOWN))
        ev[n++] = (struct event){EV_REL, REL_WHEEL, (pressed & VIRTIO_INPUT_WHEEL_UP) ? 1 : -1};
    if (pressed & (VIRTIO_INPUT_WHEEL_LEFT | VIRTIO_INPUT_WHEEL_RIGHT))
        ev[n++] = (struct event){EV_REL, REL_HWHEEL, (pressed & VIRTIO_INPUT_WHEEL_RIGHT) ? 1 : -1};
    in->buttons = p->buttons;
    queue_report(in, ev, n);
    virtio_dev_unlock(dev);
}

bool virtio_input_key(struct virtio_dev *dev, unsigned linux_code, bool down)
{
    struct input *in = (struct input *)dev;
    if (!in || in->kind != VIRTIO_INPUT_KEYBOARD)
        return false;
    virtio_dev_lock(dev);
    bool ready = driver_ready(dev);
    if (ready) {
        struct event ev = {EV_KEY, (uint16_t)linux_code, down};
        queue_report(in, &ev, 1);
    }
    virtio_dev_unlock(dev);
    return ready;
}

/* ---- life ---- */

static void input_reset(struct virtio_dev *dev)
{
    struct input *in = (struct input *)dev;
    in->head = in->count = 0;
    in->buttons = 0;
    in->have_last = false;
    memset(in->config, 0, sizeof in->config);
}

static void input_destroy(struct virtio_dev *dev)
{
    free(dev);
}

/* ---- saved state: the config space's question, the events the guest
 * has not taken yet, and the pointer as last reported ---- */

static int input_save(struct virtio_dev *dev, struct vsf_out *o)
{
    struct input *in = (struct input *)dev;
    vsf_put_u8(o, in->config[0]);
    vsf_put_u8(o, in->config[1]);
    vsf_put_u32(o, in->count);
    for (unsigned i = 0; i < in->count; i++) {
        const struct event *e = &in->pending[(in->head + i) % PENDING_MAX];
        vsf_put_u16(o, e->type);
        vsf_put_u16(o, e->code);
        vsf_put_u32(o, (uint32_t)e->value);
    }
    vsf_put_u32(o, in->buttons);
    vsf_put_u32(o, in->last_x);
    vsf_put_u32(o, in->last_y);
    vsf_put_u8(o, in->have_last);
    return 0;
}

static int input_load(struct virtio_dev *dev, struct vsf_in *vin)
{
    struct input *in = (struct input *)dev;
    uint8_t select, subsel;
    uint32_t n;
    if (vsf_get_u8(vin, "select", &select) < 0 || vsf_get_u8(vin, "subsel", &subsel) < 0 ||
        vsf_get_u32(vin, "pending events", &n) < 0)
        return -1;
    if (n > PENDING_MAX)
        return vsf_bad(vin, "pending events", n, "at most the event queue");
    for (unsigned i = 0; i < n; i++) {
        uint32_t value;
        if (vsf_get_u16(vin, "event type", &in->pending[i].type) < 0 ||
            vsf_get_u16(vin, "event code", &in->pending[i].code) < 0 ||
            vsf_get_u32(vin, "event value", &value) < 0)
            return -1;
        in->pending[i].value = (int32_t)value;
    }
    uint32_t buttons, x, y;
    bool have;
    if (vsf_get_u32(vin, "buttons", &buttons) < 0 || vsf_get_u32(vin, "last x", &x) < 0 ||
        vsf_get_u32(vin, "last y", &y) < 0 || vsf_get_bool(vin, "have last", &have) < 0)
        return -1;
    in->head = 0;
    in->count = n;
    in->buttons = buttons;
    in->last_x = x;
    in->last_y = y;
    in->have_last = have;
    in->config[0] = select;
    in->config[1] = subsel;
    config_written(dev, 0, 2);
    return 0;
}

static const struct virtio_dev_ops input_ops = {
    .name = "virtio-input",
    .device_id = VIRTIO_ID_INPUT,
    .pci_class = 0x0980, /* input device, other */
    .queue_notify = input_queue_notify,
    .reset = input_reset,
    .config_written = config_written,
    .destroy = input_destroy,
    .save = input_save,
    .load = input_load,
};

struct virtio_dev *virtio_input_new(struct vm *vm, const struct virtio_input_config_in *c)
{
    if (c->kind > VIRTIO_INPUT_KEYBOARD) {
        err_set("virtio-input: unknown kind %d", (int)c->kind);
        return NULL;
    }
    struct input *in = calloc(1, sizeof *in);
    if (!in) {
        err_set("out of memory");
        return NULL;
    }
    in->kind = c->kind;
    static const char *const kinds[] = {"tablet", "mouse", "keyboard"};
    snprintf(in->vdev.id, sizeof in->vdev.id, "virtio-input %s", kinds[c->kind]);
    if (virtio_dev_init(&in->vdev, vm, &input_ops, 2, 0, in->config, CONFIG_LEN) < 0) {
        virtio_dev_free(&in->vdev);
        return NULL;
    }
    return &in->vdev;
}
