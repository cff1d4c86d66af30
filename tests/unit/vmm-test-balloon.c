/* virtio-balloon driven with synthetic guest memory (a real struct vm from
 * vm_new(), no vCPU, no /dev/kvm): inflate/deflate PFN arrays, hostile
 * ones (PFNs outside RAM, odd lengths, huge counts, the same page twice),
 * the statistics buffer protocol, targets and their bounds, reset, and the
 * QMP commands through the real control server on a unix socket.
 */
#include <errno.h>
#include <json-c/json.h>
#include <setjmp.h>
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

#include "board.h"
#include "control.h"
#include "core/model/domain.h"
#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "virtio/virtio.h"
#include "vm.h"
#include "vmm-guest.h"
#include "vmm-qmp.h"

#define QSIZE 16
#define RAM (128ull << 20)
#define TARGET (96ull << 20)
#define PAGE 4096u
/* Per queue q: descriptors, avail and used rings at RING_GPA(q) + 0/0x1000/0x2000. */
#define RING_GPA(q) (0x10000 + (q)*0x4000)
#define BUF_GPA 0x40000   /* PFN arrays and stats buffers */
#define DATA_GPA 0x200000 /* pages the guest "gives" to the balloon */

#define F_STATS_VQ 1
#define STATS_Q 2

struct harness {
    struct vm *vm;
    struct virtio_dev *dev;
    unsigned queue_irqs, config_irqs;
    uint16_t avail_idx[3];
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

static void put_desc(struct harness *h, unsigned q, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    guest_put_desc(h->vm, RING_GPA(q), i, addr, len, flags, next);
}

static uint16_t used_idx(struct harness *h, unsigned q)
{
    return guest_used_idx(h->vm, RING_GPA(q) + 0x2000);
}

/* One device-readable buffer [addr, addr+len) offered on queue q. */
static void submit(struct harness *h, unsigned q, uint64_t addr, uint32_t len)
{
    uint16_t head = h->avail_idx[q] % QSIZE;
    put_desc(h, q, head, addr, len, 0, 0);
    uint16_t *ring = gpa(h, RING_GPA(q) + 0x1000 + 4, 2 * QSIZE);
    ring[h->avail_idx[q] % QSIZE] = head;
    h->avail_idx[q]++;
    memcpy(gpa(h, RING_GPA(q) + 0x1000 + 2, 2), &h->avail_idx[q], 2);
    virtio_dev_process(h->dev, q);
}

static uint32_t config_u32(struct harness *h, unsigned off)
{
    uint32_t v;
    pthread_mutex_lock(&h->dev->lock);
    memcpy(&v, h->dev->config + off, 4);
    pthread_mutex_unlock(&h->dev->lock);
    return v;
}

static void negotiate(struct harness *h, uint64_t features)
{
    struct virtio_dev *d = h->dev;
    pthread_mutex_lock(&d->lock);
    virtio_dev_set_status(d, 0);
    virtio_dev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_dev_set_features(d, 0, (uint32_t)features);
    virtio_dev_set_features(d, 1, (uint32_t)(features >> 32));
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_FEATURES_OK);
    for (unsigned q = 0; q < 3; q++) {
        memset(gpa(h, RING_GPA(q), 0x3000), 0, 0x3000);
        d->vq[q].size = QSIZE;
        d->vq[q].desc_gpa = RING_GPA(q);
        d->vq[q].avail_gpa = RING_GPA(q) + 0x1000;
        d->vq[q].used_gpa = RING_GPA(q) + 0x2000;
        virtio_dev_queue_enable(d, q);
        h->avail_idx[q] = 0;
    }
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER_OK);
    pthread_mutex_unlock(&d->lock);
    h->queue_irqs = h->config_irqs = 0;
}

static int setup(void **state)
{
    static struct harness h;
    memset(&h, 0, sizeof h);
    struct vm_config cfg = {.ram_bytes = RAM, .vcpus = 1};
    h.vm = vm_new(&cfg);
    if (!h.vm)
        fail_msg("vm_new: %s", err_msg());
    struct virtio_balloon_config_in c = {.target_bytes = TARGET};
    h.dev = virtio_balloon_new(h.vm, &c);
    if (!h.dev)
        fail_msg("virtio_balloon_new: %s", err_msg());
    h.dev->transport = (struct virtio_transport){
        .signal_queue = on_queue, .signal_config = on_config, .opaque = &h};
    negotiate(&h, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << F_STATS_VQ));
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

/* Writes PFNS as a le32 array at BUF_GPA and submits it on queue q. */
static void send_pfns(struct harness *h, unsigned q, const uint32_t *pfns, unsigned n,
                      uint32_t extra_bytes)
{
    memcpy(gpa(h, BUF_GPA, 4 * n), pfns, 4 * n);
    submit(h, q, BUF_GPA, 4 * n + extra_bytes);
}

/* ---- saved state ---- */

static int dev_save(struct harness *h, struct vsf_out *o, bool whole)
{
    pthread_mutex_lock(&h->dev->lock);
    int rc = whole ? virtio_dev_save(h->dev, o) : h->dev->ops->save(h->dev, o);
    pthread_mutex_unlock(&h->dev->lock);
    return rc;
}

static int dev_load(struct harness *h, const uint8_t *data, size_t len, bool whole)
{
    struct vsf_in in = {.section = "virtio@05", .data = data, .len = len};
    err_clear();
    pthread_mutex_lock(&h->dev->lock);
    int rc = whole ? virtio_dev_load(h->dev, &in) : h->dev->ops->load(h->dev, &in);
    if (rc == 0)
        rc = vsf_in_done(&in);
    pthread_mutex_unlock(&h->dev->lock);
    return rc;
}

/* The balloon's pages, target and period come back after a reset (what a
 * fresh tvm-vmm is); every prefix of the file and every hostile value is
 * refused, naming the field, and leaves the device as it was. */
static void test_saved_state(void **state)
{
    struct harness *h = *state;
    uint32_t pfns[5] = {DATA_GPA / PAGE, DATA_GPA / PAGE + 1, DATA_GPA / PAGE + 64,
                        DATA_GPA / PAGE + 65, (uint32_t)(RAM / PAGE - 1)};
    send_pfns(h, 0, pfns, 5, 0);
    assert_int_equal(config_u32(h, 4), 5);
    virtio_balloon_set_period(h->dev, 7);
    struct vsf_out whole = {0}, own = {0};
    assert_int_equal(dev_save(h, &whole, true), 0);
    assert_int_equal(dev_save(h, &own, false), 0);
    assert_false(whole.oom || own.oom);

    /* A guest reset empties the balloon; the saved state fills it again. */
    pthread_mutex_lock(&h->dev->lock);
    virtio_dev_set_status(h->dev, 0);
    pthread_mutex_unlock(&h->dev->lock);
    virtio_balloon_set_period(h->dev, 0);
    assert_int_equal(config_u32(h, 4), 0);
    if (dev_load(h, whole.data, whole.len, true) < 0)
        fail_msg("load: %s", err_msg());
    assert_int_equal(config_u32(h, 4), 5);
    assert_int_equal(config_u32(h, 0), (RAM - TARGET) / PAGE);
    assert_int_equal(virtio_balloon_actual(h->dev), RAM - 5 * PAGE);
    assert_int_equal(virtio_balloon_period(h->dev), 7);
    /* The pages count once, as before: inflating one again adds nothing. */
    send_pfns(h, 0, pfns, 1, 0);
    assert_int_equal(config_u32(h, 4), 5);

    /* Every prefix of the device's own part is refused by name. */
    for (size_t n = 0; n < own.len; n++) {
        assert_int_equal(dev_load(h, own.data, n, false), -1);
        assert_non_null(strstr(err_msg(), "virtio@05"));
        assert_int_equal(config_u32(h, 4), 5);
    }
    /* Layout: u32 target, u32 period, u8 held, u64 pages, u64 words, then
     * {u32 index, u64 bits} per word. */
    struct {
        size_t off;
        uint64_t value;
        unsigned width;
        const char *field;
    } bad[] = {
        {0, RAM / PAGE + 1, 4, "target pages"}, {8, 1, 1, "stats held"},
        {9, RAM / PAGE * 2, 8, "pages"},        {17, RAM / PAGE, 8, "map words"},
        {25, RAM / PAGE / 64, 4, "map index"},  {37, 0, 4, "map index"}, /* not rising */
    };
    uint8_t *copy = malloc(own.len);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memcpy(copy, own.data, own.len);
        memcpy(copy + bad[i].off, &bad[i].value, bad[i].width);
        if (i == 1) /* held without the stats queue's buffer taken */
            h->dev->vq[STATS_Q].last_avail = 0;
        assert_int_equal(dev_load(h, copy, own.len, false), -1);
        if (!strstr(err_msg(), bad[i].field))
            fail_msg("case %zu: '%s' does not name '%s'", i, err_msg(), bad[i].field);
        assert_int_equal(config_u32(h, 4), 5);
    }
    free(copy);
    vsf_out_free(&whole);
    vsf_out_free(&own);
}

static void test_boot_target(void **state)
{
    struct harness *h = *state;
    /* num_pages = (memory - currentMemory) / 4 KiB, actual 0 */
    assert_int_equal(config_u32(h, 0), (RAM - TARGET) / PAGE);
    assert_int_equal(config_u32(h, 4), 0);
    assert_int_equal(virtio_balloon_actual(h->dev), RAM);
    assert_true(h->dev->host_features & (1ULL << F_STATS_VQ));
    assert_false(h->dev->host_features & (1ULL << 2)); /* no DEFLATE_ON_OOM unless asked */
}

static void test_inflate_discards_and_counts(void **state)
{
    struct harness *h = *state;
    uint8_t *data = gpa(h, DATA_GPA, 8 * PAGE);
    memset(data, 0xA5, 8 * PAGE);
    uint32_t pfns[8];
    for (unsigned i = 0; i < 8; i++)
        pfns[i] = DATA_GPA / PAGE + i;
    send_pfns(h, 0, pfns, 8, 0);
    assert_int_equal(used_idx(h, 0), 1);
    assert_int_equal(config_u32(h, 4), 8);
    assert_int_equal(virtio_balloon_actual(h->dev), RAM - 8 * PAGE);
    /* The host gave the pages back: they read as zero now. */
    for (unsigned i = 0; i < 8 * PAGE; i++)
        if (data[i] != 0)
            fail_msg("byte %u of the inflated pages is 0x%02x, not 0", i, data[i]);

    /* The same pages again count once. */
    send_pfns(h, 0, pfns, 8, 0);
    assert_int_equal(config_u32(h, 4), 8);

    /* Deflate two; deflating one never inflated changes nothing. */
    uint32_t back[3] = {pfns[0], pfns[1], DATA_GPA / PAGE + 100};
    send_pfns(h, 1, back, 3, 0);
    assert_int_equal(used_idx(h, 1), 1);
    assert_int_equal(config_u32(h, 4), 6);
    assert_int_equal(virtio_balloon_actual(h->dev), RAM - 6 * PAGE);
    /* A deflated page is the guest's again. */
    data[0] = 7;
    assert_int_equal(data[0], 7);

    /* Pages given in descending, interleaved order are discarded all the same. */
    uint8_t *more = gpa(h, DATA_GPA + 64 * PAGE, 6 * PAGE);
    memset(more, 0x5A, 6 * PAGE);
    uint32_t shuffled[6];
    for (unsigned i = 0; i < 6; i++)
        shuffled[i] = DATA_GPA / PAGE + 64 + (i % 2 ? 5 - i / 2 : i / 2);
    send_pfns(h, 0, shuffled, 6, 0);
    assert_int_equal(config_u32(h, 4), 12);
    for (unsigned i = 0; i < 6 * PAGE; i++)
        if (more[i] != 0)
            fail_msg("byte %u of the shuffled pages is 0x%02x, not 0", i, more[i]);
}

static void test_hostile_pfns(void **state)
{
    struct harness *h = *state;
    /* Beyond RAM, the last page and one past it, the 32-bit maximum. */
    uint32_t pfns[4] = {0xFFFFFFFFu, (uint32_t)(RAM / PAGE), (uint32_t)(RAM / PAGE) - 1,
                        (uint32_t)(0xC0000000ull / PAGE)};
    send_pfns(h, 0, pfns, 4, 0);
    assert_false(h->dev->broken);
    assert_int_equal(used_idx(h, 0), 1);
    assert_int_equal(config_u32(h, 4), 1); /* only the last page of RAM */

    /* A length that is not a multiple of 4: the partial entry is ignored. */
    uint32_t two[2] = {DATA_GPA / PAGE, DATA_GPA / PAGE + 1};
    send_pfns(h, 0, two, 2, 3);
    assert_int_equal(config_u32(h, 4), 3);

    /* A huge request (1 MiB of PFNs, all naming RAM): bounded work, no crash. */
    uint32_t *many = gpa(h, BUF_GPA, 1u << 20);
    for (unsigned i = 0; i < (1u << 18); i++)
        many[i] = (uint32_t)(DATA_GPA / PAGE + 16 + (i % 1024));
    submit(h, 0, BUF_GPA, 1u << 20);
    assert_false(h->dev->broken);
    assert_int_equal(used_idx(h, 0), 3);
    assert_int_equal(config_u32(h, 4), 3 + 1024);

    /* A zero-length buffer is a no-op. */
    submit(h, 0, BUF_GPA, 0);
    assert_int_equal(used_idx(h, 0), 4);
    assert_int_equal(config_u32(h, 4), 3 + 1024);
}

/* A stats buffer: COUNT packed {le16 tag, le64 value} entries. */
static void put_stats(struct harness *h, const uint16_t *tags, const uint64_t *vals, unsigned count)
{
    uint8_t *p = gpa(h, BUF_GPA, 10 * count);
    for (unsigned i = 0; i < count; i++) {
        memcpy(p + 10 * i, &tags[i], 2);
        memcpy(p + 10 * i + 2, &vals[i], 8);
    }
}

static void test_stats_protocol(void **state)
{
    struct harness *h = *state;
    struct virtio_balloon_stats s;
    virtio_balloon_get_stats(h->dev, &s);
    assert_int_equal(s.last_update, 0);
    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++)
        assert_int_equal(s.value[i], -1);

    /* The driver's first buffer: swap-in, free, total, an unknown tag, and
     * 7 stray bytes after the last whole entry. */
    uint16_t tags[4] = {0, 4, 5, 200};
    uint64_t vals[4] = {4096, 300ull << 20, 500ull << 20, 99};
    put_stats(h, tags, vals, 4);
    submit(h, STATS_Q, BUF_GPA, 40 + 7);
    /* Kept by the device, not returned. */
    assert_int_equal(used_idx(h, STATS_Q), 0);
    virtio_balloon_get_stats(h->dev, &s);
    assert_int_equal(s.value[0], 4096);
    assert_int_equal(s.value[4], 300ll << 20);
    assert_int_equal(s.value[5], 500ll << 20);
    assert_int_equal(s.value[1], -1);
    assert_true(s.last_update > 0);

    /* Polling on: the kept buffer goes back (0 bytes) to ask for a refill. */
    unsigned irqs = h->queue_irqs;
    virtio_balloon_set_period(h->dev, 5);
    assert_int_equal(virtio_balloon_period(h->dev), 5);
    virtio_dev_process(h->dev, STATS_Q);
    assert_int_equal(used_idx(h, STATS_Q), 1);
    assert_true(h->queue_irqs > irqs);
    uint32_t len;
    memcpy(&len, gpa(h, RING_GPA(STATS_Q) + 0x2000 + 4 + 4, 4), 4);
    assert_int_equal(len, 0);

    /* The refill carries new figures. */
    vals[1] = 200ull << 20;
    put_stats(h, tags, vals, 4);
    submit(h, STATS_Q, BUF_GPA, 40);
    virtio_balloon_get_stats(h->dev, &s);
    assert_int_equal(s.value[4], 200ll << 20);
    assert_int_equal(used_idx(h, STATS_Q), 1);
    /* No refresh due: a kick alone returns nothing. */
    virtio_dev_process(h->dev, STATS_Q);
    assert_int_equal(used_idx(h, STATS_Q), 1);
    virtio_balloon_set_period(h->dev, 0);
}

static void test_target_bounds(void **state)
{
    struct harness *h = *state;
    assert_int_equal(virtio_balloon_set_target(h->dev, RAM + PAGE), -1);
    assert_non_null(strstr(err_msg(), "above the guest's memory"));
    assert_int_equal(virtio_balloon_set_target(h->dev, 32ull << 20), -1);
    assert_non_null(strstr(err_msg(), "below"));
    assert_int_equal(config_u32(h, 0), (RAM - TARGET) / PAGE);
    assert_int_equal(h->config_irqs, 0);

    assert_int_equal(virtio_balloon_set_target(h->dev, 64ull << 20), 0);
    assert_int_equal(config_u32(h, 0), (64ull << 20) / PAGE);
    assert_int_equal(h->config_irqs, 1);
    /* The same target again: no needless interrupt. */
    assert_int_equal(virtio_balloon_set_target(h->dev, 64ull << 20), 0);
    assert_int_equal(h->config_irqs, 1);
    assert_int_equal(virtio_balloon_set_target(h->dev, RAM), 0);
    assert_int_equal(config_u32(h, 0), 0);
}

static void test_reset_empties_balloon(void **state)
{
    struct harness *h = *state;
    uint32_t pfns[2] = {DATA_GPA / PAGE, DATA_GPA / PAGE + 1};
    send_pfns(h, 0, pfns, 2, 0);
    assert_int_equal(virtio_balloon_actual(h->dev), RAM - 2 * PAGE);
    negotiate(h, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << F_STATS_VQ));
    assert_int_equal(virtio_balloon_actual(h->dev), RAM);
    assert_int_equal(config_u32(h, 4), 0);
    assert_int_equal(config_u32(h, 0), (RAM - TARGET) / PAGE); /* the target stays */
    /* Only one balloon per VMM. */
    struct virtio_balloon_config_in c = {0};
    assert_null(virtio_balloon_new(h->vm, &c));
}

/* ---- QMP through the real control server ---- */

/* One command; the reply parsed. */
static struct json_object *qmp(struct vmm_qmp *q, const char *req)
{
    const char *line = vmm_qmp_send(q, req);
    struct json_object *o = json_tokener_parse(line);
    if (!o)
        fail_msg("not JSON: %s", line);
    return o;
}

static int64_t ret_int(struct json_object *o, const char *key)
{
    struct json_object *r, *v;
    if (!json_object_object_get_ex(o, "return", &r))
        fail_msg("error reply: %s", json_object_to_json_string(o));
    if (key && !json_object_object_get_ex(r, key, &v))
        fail_msg("no %s in %s", key, json_object_to_json_string(o));
    return json_object_get_int64(key ? v : r);
}

static const char *error_desc(struct json_object *o)
{
    struct json_object *e = NULL, *d = NULL;
    if (!json_object_object_get_ex(o, "error", &e) || !json_object_object_get_ex(e, "desc", &d))
        fail_msg("expected an error, got %s", json_object_to_json_string(o));
    return json_object_get_string(d);
}

static void test_qmp(void **state)
{
    struct harness *h = *state;
    static struct vmm_qmp q;
    vmm_qmp_open(&q, h->vm, "b");

    struct json_object *o = qmp(&q, "{\"execute\": \"query-balloon\"}");
    assert_int_equal(ret_int(o, "actual"), (int64_t)RAM);
    json_object_put(o);

    o = qmp(&q, "{\"execute\": \"balloon\", \"arguments\": {\"value\": 100663296}}");
    ret_int(o, NULL);
    json_object_put(o);
    assert_int_equal(config_u32(h, 0), (RAM - (96ull << 20)) / PAGE);

    o = qmp(&q, "{\"execute\": \"balloon\", \"arguments\": {\"value\": 1073741824}}");
    assert_non_null(strstr(error_desc(o), "above the guest's memory"));
    json_object_put(o);
    o = qmp(&q, "{\"execute\": \"balloon\", \"arguments\": {\"value\": \"1G\"}}");
    assert_non_null(strstr(error_desc(o), "expected: integer"));
    json_object_put(o);
    o = qmp(&q, "{\"execute\": \"balloon\", \"arguments\": {\"value\": 0}}");
    assert_non_null(strstr(error_desc(o), "expects a size"));
    json_object_put(o);
    o = qmp(&q, "{\"execute\": \"balloon\", \"arguments\": {\"value\": 1, \"x\": 2}}");
    assert_non_null(strstr(error_desc(o), "'x' is unexpected"));
    json_object_put(o);
    assert_int_equal(config_u32(h, 0), (RAM - (96ull << 20)) / PAGE);

    /* Inflating moves query-balloon. */
    uint32_t pfns[4] = {DATA_GPA / PAGE + 200, DATA_GPA / PAGE + 201, DATA_GPA / PAGE + 202,
                        DATA_GPA / PAGE + 203};
    send_pfns(h, 0, pfns, 4, 0);
    o = qmp(&q, "{\"execute\": \"query-balloon\"}");
    assert_int_equal(ret_int(o, "actual"), (int64_t)(RAM - 4 * PAGE));
    json_object_put(o);

    /* QOM: the polling interval and the statistics, QEMU's names. */
    o = qmp(&q, "{\"execute\": \"qom-set\", \"arguments\": {\"path\": "
                "\"/machine/peripheral/balloon0\", \"property\": "
                "\"guest-stats-polling-interval\", \"value\": 3}}");
    ret_int(o, NULL);
    json_object_put(o);
    o = qmp(&q, "{\"execute\": \"qom-get\", \"arguments\": {\"path\": "
                "\"/machine/peripheral/balloon0\", \"property\": "
                "\"guest-stats-polling-interval\"}}");
    assert_int_equal(ret_int(o, NULL), 3);
    json_object_put(o);
    o = qmp(&q, "{\"execute\": \"qom-set\", \"arguments\": {\"path\": "
                "\"/machine/peripheral/balloon0\", \"property\": "
                "\"guest-stats-polling-interval\", \"value\": -1}}");
    assert_non_null(strstr(error_desc(o), "greater than zero"));
    json_object_put(o);

    uint16_t tags[2] = {4, 6};
    uint64_t vals[2] = {123456789, 987654321};
    put_stats(h, tags, vals, 2);
    submit(h, STATS_Q, BUF_GPA, 20);
    o = qmp(&q, "{\"execute\": \"qom-get\", \"arguments\": {\"path\": "
                "\"/machine/peripheral/balloon0\", \"property\": \"guest-stats\"}}");
    struct json_object *r, *st, *v;
    assert_true(json_object_object_get_ex(o, "return", &r));
    assert_true(json_object_object_get_ex(r, "stats", &st));
    assert_true(json_object_object_get_ex(st, "stat-free-memory", &v));
    assert_int_equal(json_object_get_int64(v), 123456789);
    assert_true(json_object_object_get_ex(st, "stat-available-memory", &v));
    assert_int_equal(json_object_get_int64(v), 987654321);
    assert_true(json_object_object_get_ex(st, "stat-swap-out", &v));
    assert_int_equal(json_object_get_int64(v), -1);
    assert_true(json_object_object_get_ex(r, "last-update", &v));
    assert_true(json_object_get_int64(v) > 0);
    json_object_put(o);

    o = qmp(&q, "{\"execute\": \"qom-get\", \"arguments\": {\"path\": \"/machine/nothing\", "
                "\"property\": \"guest-stats\"}}");
    assert_non_null(strstr(error_desc(o), "not found"));
    json_object_put(o);

    vmm_qmp_close(&q);
}

/* <memballoon> in a domain -> the model -> the board's typed config. -1:
 * the model refused the document. */
static int from_xml(const char *devices, struct virtio_balloon_config_in *c)
{
    char xml[1024];
    snprintf(xml, sizeof xml,
             "<domain type='kvm'><name>b</name><memory unit='MiB'>512</memory>"
             "<currentMemory unit='MiB'>384</currentMemory><vcpu>1</vcpu>"
             "<os><type>hvm</type></os><devices>%s</devices></domain>",
             devices);
    struct domain *d;
    if (domain_parse(xml, strlen(xml), "t.xml", &d) < 0)
        return -1;
    int rc = board_balloon_config(d, c);
    domain_free(d);
    return rc;
}

static void test_from_domain(void **state)
{
    (void)state;
    struct virtio_balloon_config_in c;
    assert_int_equal(from_xml("<memballoon model='virtio'><stats period='2'/></memballoon>", &c),
                     1);
    assert_int_equal(c.target_bytes, 384ull << 20);
    assert_int_equal(c.stats_period, 2);
    assert_false(c.deflate_on_oom);
    assert_int_equal(from_xml("<memballoon model='virtio' autodeflate='on'/>", &c), 1);
    assert_int_equal(c.stats_period, 0);
    assert_true(c.deflate_on_oom);
    assert_int_equal(from_xml("<memballoon model='virtio'><stats period='-5'/></memballoon>", &c),
                     1);
    assert_int_equal(c.stats_period, 0);
    assert_int_equal(from_xml("<memballoon model='none'/>", &c), 0);
    assert_int_equal(from_xml("", &c), 0);
    /* the model refuses what libvirt refuses, with libvirt's words */
    assert_int_equal(from_xml("<memballoon model='virtio'/><memballoon model='virtio'/>", &c), -1);
    assert_non_null(strstr(err_msg(), "only a single memory balloon device is supported"));
    assert_int_equal(from_xml("<memballoon model='virtio'><stats period='soon'/></memballoon>", &c),
                     -1);
    assert_non_null(strstr(err_msg(), "invalid statistics collection period"));
    assert_int_equal(from_xml("<memballoon model='virtio' autodeflate='maybe'/>", &c), -1);
    assert_non_null(strstr(err_msg(), "Invalid value for attribute 'autodeflate'"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_from_domain),
        cmocka_unit_test_setup_teardown(test_boot_target, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inflate_discards_and_counts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_pfns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_protocol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_target_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_empties_balloon, setup, teardown),
        cmocka_unit_test_setup_teardown(test_saved_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qmp, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
