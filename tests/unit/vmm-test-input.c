/* virtio-input driven with synthetic guest memory (a real struct vm from
 * vm_new(), no vCPU, no /dev/kvm), the way Linux's virtio_input driver
 * probes and uses it: the config space's select/subsel answers (name, ids,
 * event bits, the tablet's axis ranges), pointer and key events in eventq
 * buffers as struct virtio_input_event, LED reports on the statusq, and
 * what a hostile driver may do (unknown selects, buffers too small for an
 * event, no buffers at all while events keep coming).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "virtio/virtio.h"
#include "vm.h"
#include "vmm-guest.h"

#define QSIZE 64
#define RAM (64ull << 20)
#define RING_GPA(q) (0x10000 + (q)*0x4000)
#define EVT_GPA 0x40000 /* QSIZE event buffers of 8 bytes */

#define EV_SYN 0
#define EV_KEY 1
#define EV_REL 2
#define EV_ABS 3
#define EV_LED 0x11
#define EV_REP 0x14

struct harness {
    struct vm *vm;
    struct virtio_dev *dev;
    uint16_t avail_idx[2];
    uint16_t used_seen;
};

struct event {
    uint16_t type, code;
    int32_t value;
};

static void *gpa(struct harness *h, uint64_t a, uint64_t len)
{
    return guest_ptr(h->vm, a, len);
}

static void offer(struct harness *h, unsigned q, uint64_t addr, uint32_t len, uint16_t flags)
{
    uint16_t head = h->avail_idx[q] % QSIZE;
    guest_put_desc(h->vm, RING_GPA(q), head, addr, len, flags, 0);
    uint16_t *ring = gpa(h, RING_GPA(q) + 0x1000 + 4, 2 * QSIZE);
    ring[h->avail_idx[q] % QSIZE] = head;
    h->avail_idx[q]++;
    memcpy(gpa(h, RING_GPA(q) + 0x1000 + 2, 2), &h->avail_idx[q], 2);
}

/* Fills the eventq with N 8-byte device-writable buffers, as the driver does. */
static void offer_events(struct harness *h, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        uint64_t a = EVT_GPA + 8 * (h->avail_idx[0] % QSIZE);
        memset(gpa(h, a, 8), 0xEE, 8);
        offer(h, 0, a, 8, VIRTQ_DESC_F_WRITE);
    }
    virtio_dev_process(h->dev, 0);
}

static uint16_t used_idx(struct harness *h, unsigned q)
{
    return guest_used_idx(h->vm, RING_GPA(q) + 0x2000);
}

/* The events the device put in the used ring since the last call. */
static unsigned take_events(struct harness *h, struct event *out, unsigned max)
{
    virtio_dev_process(h->dev, 0);
    unsigned n = 0;
    uint16_t now = used_idx(h, 0);
    for (; h->used_seen != now && n < max; h->used_seen++) {
        uint8_t *e = gpa(h, RING_GPA(0) + 0x2000 + 4 + 8 * (h->used_seen % QSIZE), 8);
        uint32_t id, len;
        memcpy(&id, e, 4);
        memcpy(&len, e + 4, 4);
        assert_int_equal(len, 8);
        uint8_t *b = gpa(h, EVT_GPA + 8 * id, 8);
        memcpy(&out[n].type, b, 2);
        memcpy(&out[n].code, b + 2, 2);
        memcpy(&out[n].value, b + 4, 4);
        n++;
    }
    return n;
}

/* The driver's config access: write select/subsel, read size and union. */
static unsigned cfg_select(struct harness *h, uint8_t select, uint8_t subsel, uint8_t u[128])
{
    struct virtio_dev *d = h->dev;
    virtio_dev_lock(d);
    d->config[0] = select;
    d->ops->config_written(d, 0, 1);
    d->config[1] = subsel;
    d->ops->config_written(d, 1, 1);
    unsigned size = d->config[2];
    memcpy(u, d->config + 8, 128);
    virtio_dev_unlock(d);
    return size;
}

static bool bit(const uint8_t *map, unsigned b)
{
    return map[b / 8] >> (b % 8) & 1;
}

static void negotiate(struct harness *h)
{
    struct virtio_dev *d = h->dev;
    virtio_dev_lock(d);
    virtio_dev_set_status(d, 0);
    virtio_dev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_dev_set_features(d, 1, 1); /* VERSION_1 */
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_FEATURES_OK);
    for (unsigned q = 0; q < 2; q++) {
        memset(gpa(h, RING_GPA(q), 0x3000), 0, 0x3000);
        d->vq[q].size = QSIZE;
        d->vq[q].desc_gpa = RING_GPA(q);
        d->vq[q].avail_gpa = RING_GPA(q) + 0x1000;
        d->vq[q].used_gpa = RING_GPA(q) + 0x2000;
        virtio_dev_queue_enable(d, q);
        h->avail_idx[q] = 0;
    }
    h->used_seen = 0;
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER_OK);
    virtio_dev_unlock(d);
}

static struct harness *make(enum virtio_input_kind kind, bool driver_up)
{
    struct harness *hp = calloc(1, sizeof *hp);
    assert_non_null(hp);
    struct harness h = {0};
    struct vm_config cfg = {.ram_bytes = RAM, .vcpus = 1};
    h.vm = vm_new(&cfg);
    if (!h.vm)
        fail_msg("vm_new: %s", err_msg());
    struct virtio_input_config_in c = {.kind = kind};
    h.dev = virtio_input_new(h.vm, &c);
    if (!h.dev)
        fail_msg("virtio_input_new: %s", err_msg());
    *hp = h;
    if (driver_up)
        negotiate(hp);
    return hp;
}

static void destroy(struct harness *h)
{
    virtio_dev_free(h->dev);
    vm_free(h->vm);
    free(h);
}

static void pointer(struct harness *h, unsigned x, unsigned y, unsigned buttons)
{
    struct virtio_input_pointer p = {
        .x = x, .y = y, .width = 640, .height = 400, .buttons = buttons};
    virtio_input_pointer(h->dev, &p);
}

static void test_tablet_config(void **state)
{
    (void)state;
    struct harness *h = make(VIRTIO_INPUT_TABLET, false);
    uint8_t u[128];
    unsigned n = cfg_select(h, 0x01, 0, u);
    assert_int_equal(n, strlen("tvm virtio tablet"));
    assert_memory_equal(u, "tvm virtio tablet", n);
    assert_int_equal(cfg_select(h, 0x03, 0, u), 8);
    uint16_t ids[4];
    memcpy(ids, u, 8);
    assert_int_equal(ids[0], 0x06);   /* BUS_VIRTUAL */
    assert_int_equal(ids[1], 0x0627); /* QEMU's vendor */
    assert_int_equal(ids[2], 3);      /* QEMU's tablet */
    /* EV_ABS: X and Y, each 0..32767 */
    assert_true(cfg_select(h, 0x11, EV_ABS, u) > 0);
    assert_true(bit(u, 0) && bit(u, 1));
    for (unsigned axis = 0; axis < 2; axis++) {
        assert_int_equal(cfg_select(h, 0x12, (uint8_t)axis, u), 20);
        uint32_t mm[2];
        memcpy(mm, u, 8);
        assert_int_equal(mm[0], 0);
        assert_int_equal(mm[1], 32767);
    }
    assert_int_equal(cfg_select(h, 0x12, 2, u), 0); /* no ABS_Z */
    /* EV_KEY: the three buttons, no keyboard keys */
    assert_int_equal(cfg_select(h, 0x11, EV_KEY, u), 0x112 / 8 + 1);
    assert_true(bit(u, 0x110) && bit(u, 0x111) && bit(u, 0x112));
    assert_false(bit(u, 30)); /* KEY_A */
    /* EV_REL: the wheels only (a tablet does not move relatively) */
    cfg_select(h, 0x11, EV_REL, u);
    assert_true(bit(u, 8) && bit(u, 6));
    assert_false(bit(u, 0));
    /* Whatever the guest selects, the answer fits and is empty. */
    for (unsigned s = 0; s < 256; s += 17)
        for (unsigned sub = 0; sub < 256; sub += 51)
            if (s != 0x01 && s != 0x03 && s != 0x11 && s != 0x12)
                assert_int_equal(cfg_select(h, (uint8_t)s, (uint8_t)sub, u), 0);
    assert_int_equal(cfg_select(h, 0x11, EV_LED, u), 0);
    destroy(h);
}

static void test_keyboard_config(void **state)
{
    (void)state;
    struct harness *h = make(VIRTIO_INPUT_KEYBOARD, false);
    uint8_t u[128];
    assert_true(cfg_select(h, 0x11, EV_KEY, u) > 0);
    assert_true(bit(u, 30) && bit(u, 28) && bit(u, 29)); /* KEY_A, ENTER, LEFTCTRL */
    assert_false(bit(u, 0x110));
    assert_true(cfg_select(h, 0x11, EV_LED, u) > 0);
    assert_true(bit(u, 0) && bit(u, 1) && bit(u, 2));
    assert_true(cfg_select(h, 0x11, EV_REP, u) > 0);
    assert_int_equal(cfg_select(h, 0x11, EV_ABS, u), 0);
    /* a key before the driver runs is the i8042's */
    assert_false(virtio_input_key(h->dev, 30, true));
    negotiate(h);
    offer_events(h, 8);
    assert_true(virtio_input_key(h->dev, 30, true));
    assert_true(virtio_input_key(h->dev, 30, false));
    struct event ev[8];
    assert_int_equal(take_events(h, ev, 8), 4);
    assert_int_equal(ev[0].type, EV_KEY);
    assert_int_equal(ev[0].code, 30);
    assert_int_equal(ev[0].value, 1);
    assert_int_equal(ev[1].type, EV_SYN);
    assert_int_equal(ev[2].value, 0);
    /* LED state from the driver is taken and returned */
    uint8_t led[8] = {EV_LED, 0, 1, 0, 1, 0, 0, 0};
    memcpy(gpa(h, 0x50000, 8), led, 8);
    offer(h, 1, 0x50000, 8, 0);
    virtio_dev_process(h->dev, 1);
    assert_int_equal(used_idx(h, 1), 1);
    /* a pointer sent to a keyboard is nothing */
    pointer(h, 1, 1, 1);
    assert_int_equal(take_events(h, ev, 8), 0);
    destroy(h);
}

static void test_tablet_events(void **state)
{
    (void)state;
    struct harness *h = make(VIRTIO_INPUT_TABLET, true);
    offer_events(h, 32);
    struct event ev[32];
    /* the far corner is the axis maximum, the middle about half of it */
    pointer(h, 639, 399, 0);
    assert_int_equal(take_events(h, ev, 32), 3);
    assert_int_equal(ev[0].type, EV_ABS);
    assert_int_equal(ev[0].code, 0);
    assert_int_equal(ev[0].value, 32767);
    assert_int_equal(ev[1].code, 1);
    assert_int_equal(ev[1].value, 32767);
    assert_int_equal(ev[2].type, EV_SYN);
    pointer(h, 320, 200, VIRTIO_INPUT_LEFT);
    assert_int_equal(take_events(h, ev, 32), 4);
    assert_int_equal(ev[0].value, 320 * 32767 / 639);
    assert_int_equal(ev[1].value, 200 * 32767 / 399);
    assert_int_equal(ev[2].type, EV_KEY);
    assert_int_equal(ev[2].code, 0x110); /* BTN_LEFT down */
    assert_int_equal(ev[2].value, 1);
    /* left up, right down together; the left is not reported again */
    pointer(h, 320, 200, VIRTIO_INPUT_RIGHT);
    assert_int_equal(take_events(h, ev, 32), 5);
    assert_int_equal(ev[2].code, 0x110);
    assert_int_equal(ev[2].value, 0);
    assert_int_equal(ev[3].code, 0x111);
    assert_int_equal(ev[3].value, 1);
    /* a wheel notch is a press: one REL_WHEEL step, nothing on release */
    pointer(h, 0, 0, VIRTIO_INPUT_WHEEL_DOWN);
    assert_int_equal(take_events(h, ev, 32), 5);
    assert_int_equal(ev[0].value, 0);
    assert_int_equal(ev[2].code, 0x111); /* right released */
    assert_int_equal(ev[3].type, EV_REL);
    assert_int_equal(ev[3].code, 8);
    assert_int_equal(ev[3].value, -1);
    pointer(h, 0, 0, 0);
    assert_int_equal(take_events(h, ev, 32), 3);
    /* coordinates beyond the screen stop at its edge */
    pointer(h, 5000, 5000, 0);
    assert_int_equal(take_events(h, ev, 32), 3);
    assert_int_equal(ev[0].value, 32767);
    destroy(h);
}

static void test_mouse_relative(void **state)
{
    (void)state;
    struct harness *h = make(VIRTIO_INPUT_MOUSE, true);
    offer_events(h, 16);
    struct event ev[16];
    pointer(h, 100, 100, 0); /* the first position is where it starts */
    assert_int_equal(take_events(h, ev, 16), 0);
    pointer(h, 90, 130, 0);
    assert_int_equal(take_events(h, ev, 16), 3);
    assert_int_equal(ev[0].type, EV_REL);
    assert_int_equal(ev[0].code, 0);
    assert_int_equal(ev[0].value, -10);
    assert_int_equal(ev[1].code, 1);
    assert_int_equal(ev[1].value, 30);
    destroy(h);
}

/* A driver that posts no buffers, or buffers too small, loses events but
 * the device holds a bounded number and keeps working. */
static void test_hostile_driver(void **state)
{
    (void)state;
    struct harness *h = make(VIRTIO_INPUT_TABLET, true);
    for (unsigned i = 0; i < 10000; i++)
        pointer(h, i % 640, i % 400, i & 1);
    /* only whole reports were kept, as many as the ring holds */
    offer_events(h, QSIZE);
    struct event ev[QSIZE];
    unsigned n = take_events(h, ev, QSIZE);
    assert_true(n > 0 && n <= QSIZE);
    assert_int_equal(ev[0].type, EV_ABS);
    /* 4-byte buffers: returned empty, nothing written past them */
    struct harness *k = make(VIRTIO_INPUT_TABLET, true);
    uint8_t *guard = gpa(k, EVT_GPA, 16);
    memset(guard, 0x5A, 16);
    offer(k, 0, EVT_GPA, 4, VIRTQ_DESC_F_WRITE);
    pointer(k, 1, 1, 0);
    virtio_dev_process(k->dev, 0);
    assert_int_equal(used_idx(k, 0), 1);
    uint8_t *e = gpa(k, RING_GPA(0) + 0x2000 + 4, 8);
    uint32_t len;
    memcpy(&len, e + 4, 4);
    assert_int_equal(len, 0);
    for (unsigned i = 0; i < 16; i++)
        assert_int_equal(guard[i], 0x5A);
    assert_false(k->dev->broken);
    destroy(k);
    destroy(h);
}

/* After a reset events wait for the new driver; nothing stale is sent. */
static void test_reset_drops_pending(void **state)
{
    (void)state;
    struct harness *h = make(VIRTIO_INPUT_TABLET, true);
    pointer(h, 10, 10, VIRTIO_INPUT_LEFT);
    negotiate(h); /* status 0 first: a reset */
    offer_events(h, 8);
    struct event ev[8];
    assert_int_equal(take_events(h, ev, 8), 0);
    /* the left button counts as released after the reset */
    pointer(h, 10, 10, VIRTIO_INPUT_LEFT);
    assert_int_equal(take_events(h, ev, 8), 4);
    assert_int_equal(ev[2].code, 0x110);
    assert_int_equal(ev[2].value, 1);
    destroy(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tablet_config),  cmocka_unit_test(test_keyboard_config),
        cmocka_unit_test(test_tablet_events),  cmocka_unit_test(test_mouse_relative),
        cmocka_unit_test(test_hostile_driver), cmocka_unit_test(test_reset_drops_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
