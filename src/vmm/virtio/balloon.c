/* virtio-balloon (virtio 1.2, 5.5) with memory statistics, and the QMP
 * commands that drive it, named and shaped as QEMU's so libvirt-style
 * clients work unchanged:
 *   balloon {"value": BYTES}      the size the guest should shrink/grow to
 *   query-balloon -> {"actual": BYTES}
 *   qom-set/qom-get on /machine/peripheral/balloon0:
 *     guest-stats-polling-interval (seconds, 0 = off) and guest-stats
 *   event BALLOON_CHANGE {"actual": BYTES} when the guest's balloon moved.
 *
 * Queues: 0 inflate, 1 deflate (arrays of le32 page frame numbers in 4 KiB
 * units), 2 statistics (an array of packed {le16 tag, le64 value}).
 * Inflated pages are given back to the host with MADV_DONTNEED so the
 * VMM's RSS really drops; a deflated page needs nothing: the guest's next
 * touch faults in a zero page.
 *
 * The guest is not trusted: each PFN is checked against guest RAM, a page
 * counts once however often it is inflated (a bitmap, not the guest's own
 * "actual" figure), request sizes are capped, and statistics are parsed
 * from a copy with unknown tags ignored.
 *
 * Statistics follow QEMU's protocol: the driver leaves one buffer in the
 * stats queue; the device keeps it, and every polling interval hands it
 * back (used, 0 bytes), which makes the driver refill and requeue it. The
 * polling timer is a small thread that only marks a refresh as due and
 * kicks the stats queue, so all ring work stays on the device's worker.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "sandbox.h"
#include "virtio/virtio.h"

/* feature bits (5.5.3) */
#define BALLOON_F_STATS_VQ 1
#define BALLOON_F_DEFLATE_ON_OOM 2

#define Q_INFLATE 0
#define Q_DEFLATE 1
#define Q_STATS 2

#define PAGE_SHIFT 12
#define PAGE_SIZE (1u << PAGE_SHIFT)
/* Linux sends at most 256 PFNs per buffer; anything far beyond that is a
 * guest trying to keep the worker busy. The rest of such a buffer is ignored. */
#define MAX_PFNS_PER_REQ 65536u
/* Entries looked at in one statistics buffer (Linux sends 10 to 16). */
#define MAX_STATS_PER_REQ 64u
#define STAT_BYTES 10 /* packed: le16 tag, le64 value */

#define QOM_PATH "/machine/peripheral/balloon0"

/* QEMU's names for the statistics tags, in tag order. */
static const char *const stat_names[VIRTIO_BALLOON_S_NR] = {
    "stat-swap-in",      "stat-swap-out",     "stat-major-faults",     "stat-minor-faults",
    "stat-free-memory",  "stat-total-memory", "stat-available-memory", "stat-disk-caches",
    "stat-htlb-pgalloc", "stat-htlb-pgfail",  "stat-oom-kills",        "stat-alloc-stalls",
    "stat-async-scans",  "stat-direct-scans", "stat-async-reclaims",   "stat-direct-reclaims",
};

struct balloon_config {
    uint32_t num_pages; /* le32: pages the host wants in the balloon */
    uint32_t actual;    /* le32: pages in it (kept by the device, see above) */
};

struct balloon {
    struct virtio_dev vdev; /* first: the core hands us this pointer */
    struct balloon_config config;
    uint64_t ram_bytes;
    uint64_t npages; /* guest RAM in 4 KiB pages: the bitmap's size */
    uint64_t *inflated_map;
    size_t map_bytes;
    uint64_t inflated; /* pages set in inflated_map */
    uint64_t reported; /* `inflated` when BALLOON_CHANGE last went out */
    bool warned_bad_pfn, warned_big_req;

    /* statistics */
    bool stats_held;
    struct virtq_elem stats_elem;
    struct virtio_balloon_stats stats;

    /* polling timer thread */
    atomic_uint period; /* seconds, 0: no polling */
    atomic_bool refresh_due;
    atomic_bool timer_stop;
    int timer_wake_fd;
    int stats_kick_fd; /* a dup of the stats queue's kick eventfd: ours to close */
    pthread_t timer;
    bool timer_running;
};

/* The one balloon of this VMM, for the QMP commands (main loop thread). */
static struct balloon *the_balloon;
static bool qmp_registered;

static struct balloon *to_balloon(struct virtio_dev *d)
{
    return (struct balloon *)d;
}

static uint64_t guest_actual_bytes(const struct balloon *b)
{
    return b->ram_bytes - (b->inflated << PAGE_SHIFT);
}

/* ---- inflate / deflate ---- */

static void discard_run(uint8_t *start, size_t len)
{
    if (len && madvise(start, len, MADV_DONTNEED) < 0)
        fprintf(stderr, "tvm-vmm: virtio-balloon: madvise: %s\n", strerror(errno));
}

/* Bitmap index of the page at host address P, or -1 if P is not in RAM. */
static int64_t page_index(struct balloon *b, const uint8_t *p)
{
    const uint8_t *base = vm_gpa_ptr(b->vdev.vm, 0, 1);
    if (!base || p < base)
        return -1;
    uint64_t i = (uint64_t)(p - base) >> PAGE_SHIFT;
    return i < b->npages ? (int64_t)i : -1;
}

static bool map_test(const struct balloon *b, uint64_t i)
{
    return (b->inflated_map[i / 64] >> (i % 64)) & 1;
}

static void map_flip(struct balloon *b, uint64_t i)
{
    b->inflated_map[i / 64] ^= 1ULL << (i % 64);
}

/* One PFN from the guest: counted and (inflate) queued for discarding in
 * the current run of host-contiguous pages [*run, *run + *run_len). */
static void one_pfn(struct balloon *b, uint32_t pfn, bool inflate, uint8_t **run, size_t *run_len)
{
    uint8_t *p = vm_gpa_ptr(b->vdev.vm, (uint64_t)pfn << PAGE_SHIFT, PAGE_SIZE);
    int64_t i = p ? page_index(b, p) : -1;
    if (i < 0) {
        if (!b->warned_bad_pfn)
            fprintf(stderr,
                    "tvm-vmm: virtio-balloon: guest gave PFN 0x%" PRIx32
                    " outside its RAM; ignored (said once)\n",
                    pfn);
        b->warned_bad_pfn = true;
        return;
    }
    if (map_test(b, (uint64_t)i) != inflate) {
        map_flip(b, (uint64_t)i);
        b->inflated += inflate ? 1 : (uint64_t)-1;
    }
    if (!inflate)
        return;
    if (*run && *run + *run_len == p && *run_len < (1u << 30)) {
        *run_len += PAGE_SIZE;
        return;
    }
    discard_run(*run, *run_len);
    *run = p;
    *run_len = PAGE_SIZE;
}

static int cmp_pfn(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The PFN array of one request (device-readable part; a trailing partial
 * entry is ignored, as QEMU does). */
static void do_pfns(struct balloon *b, const struct virtq_elem *e, bool inflate)
{
    uint64_t n = e->out_len / 4;
    if (n > MAX_PFNS_PER_REQ) {
        if (!b->warned_big_req)
            fprintf(stderr,
                    "tvm-vmm: virtio-balloon: a request of %" PRIu64
                    " PFNs; only the first %u are used (said once)\n",
                    n, MAX_PFNS_PER_REQ);
        b->warned_big_req = true;
        n = MAX_PFNS_PER_REQ;
    }
    uint32_t chunk[256];
    uint8_t *run = NULL;
    size_t run_len = 0;
    for (uint64_t done = 0; done < n;) {
        size_t want = n - done < 256 ? (size_t)(n - done) : 256;
        size_t got = iov_copy_from(e->out, e->nout, done * 4, chunk, want * 4) / 4;
        if (got == 0)
            break;
        for (size_t k = 0; k < got; k++)
            chunk[k] = le32toh(chunk[k]);
        /* Linux hands out balloon pages in no useful order; sorted, the
         * neighbours among them merge into one madvise() each. */
        if (inflate)
            qsort(chunk, got, sizeof chunk[0], cmp_pfn);
        for (size_t k = 0; k < got; k++)
            one_pfn(b, chunk[k], inflate, &run, &run_len);
        done += got;
    }
    discard_run(run, run_len);
}

static void sync_actual(struct balloon *b)
{
    b->config.actual = htole32((uint32_t)b->inflated);
    if (b->inflated == b->reported)
        return;
    b->reported = b->inflated;
    char data[64];
    snprintf(data, sizeof data, "{\"actual\": %" PRIu64 "}", guest_actual_bytes(b));
    vm_emit_event(b->vdev.vm, "BALLOON_CHANGE", data);
}

/* ---- statistics ---- */

/* Parses one statistics buffer into b->stats; unknown tags are skipped. */
static void parse_stats(struct balloon *b, const struct virtq_elem *e)
{
    uint64_t n = e->out_len / STAT_BYTES;
    if (n > MAX_STATS_PER_REQ)
        n = MAX_STATS_PER_REQ;
    for (uint64_t k = 0; k < n; k++) {
        uint8_t raw[STAT_BYTES];
        if (iov_copy_from(e->out, e->nout, k * STAT_BYTES, raw, STAT_BYTES) != STAT_BYTES)
            break;
        uint16_t tag;
        uint64_t val;
        memcpy(&tag, raw, 2);
        memcpy(&val, raw + 2, 8);
        tag = le16toh(tag);
        val = le64toh(val);
        if (tag < VIRTIO_BALLOON_S_NR)
            b->stats.value[tag] = val > INT64_MAX ? INT64_MAX : (int64_t)val;
    }
    b->stats.last_update = (int64_t)time(NULL);
}

static void stats_notify(struct balloon *b)
{
    struct virtio_dev *dev = &b->vdev;
    if (atomic_exchange(&b->refresh_due, false) && b->stats_held) {
        b->stats_held = false;
        virtio_dev_push(dev, Q_STATS, &b->stats_elem, 0);
    }
    while (virtio_dev_pop(dev, Q_STATS, &dev->elem) > 0) {
        parse_stats(b, &dev->elem);
        /* One buffer is kept; a second one means the driver wants the
         * first back. */
        if (b->stats_held)
            virtio_dev_push(dev, Q_STATS, &b->stats_elem, 0);
        memcpy(&b->stats_elem, &dev->elem, sizeof b->stats_elem);
        b->stats_held = true;
    }
}

static void balloon_queue_notify(struct virtio_dev *dev, unsigned q)
{
    struct balloon *b = to_balloon(dev);
    struct virtq_elem *e = &dev->elem;
    if (q == Q_STATS) {
        stats_notify(b);
        return;
    }
    while (virtio_dev_pop(dev, q, e) > 0) {
        do_pfns(b, e, q == Q_INFLATE);
        virtio_dev_push(dev, q, e, 0);
    }
    sync_actual(b);
}

/* ---- polling timer ---- */

static void request_refresh(struct balloon *b)
{
    uint64_t one = 1;
    atomic_store(&b->refresh_due, true);
    if (write(b->stats_kick_fd, &one, sizeof one) < 0) {
        /* counter saturated: the worker is due to run anyway */
    }
}

static void *timer_main(void *opaque)
{
    struct balloon *b = opaque;
    for (;;) {
        sandbox_thread_enter(SANDBOX_THREAD_WORKER); /* as the virtio workers */
        unsigned period = atomic_load(&b->period);
        struct pollfd p = {.fd = b->timer_wake_fd, .events = POLLIN};
        int r = poll(&p, 1, period ? (int)(period > 86400 ? 86400 : period) * 1000 : -1);
        if (r < 0 && errno != EINTR)
            return NULL;
        if (r > 0) {
            uint64_t v;
            if (read(b->timer_wake_fd, &v, sizeof v) < 0) {
                /* spurious wake-up */
            }
            if (atomic_load(&b->timer_stop))
                return NULL;
            continue; /* the period changed: wait anew */
        }
        if (r == 0 && period)
            request_refresh(b);
    }
}

static void wake_timer(struct balloon *b)
{
    uint64_t one = 1;
    if (write(b->timer_wake_fd, &one, sizeof one) < 0) {
        /* counter saturated: already awake */
    }
}

static int timer_start(struct balloon *b)
{
    b->timer_wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (b->timer_wake_fd < 0)
        return err_errno("virtio-balloon: eventfd");
    b->stats_kick_fd = dup(b->vdev.kick_fd[Q_STATS]);
    if (b->stats_kick_fd < 0)
        return err_errno("virtio-balloon: dup");
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&b->timer, NULL, timer_main, b);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0)
        return err_set("virtio-balloon: cannot start its timer thread: %s", strerror(rc));
    b->timer_running = true;
    return 0;
}

/* ---- device ops ---- */

static void stats_clear(struct virtio_balloon_stats *s)
{
    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++)
        s->value[i] = -1;
    s->last_update = 0;
}

/* Guest or VM reset: the new driver starts with an empty balloon (every
 * page is the guest's again); the host's target stays. */
static void balloon_reset(struct virtio_dev *dev)
{
    struct balloon *b = to_balloon(dev);
    memset(b->inflated_map, 0, b->map_bytes);
    b->inflated = 0;
    b->stats_held = false;
    atomic_store(&b->refresh_due, false);
    sync_actual(b);
}

static void balloon_destroy(struct virtio_dev *dev)
{
    struct balloon *b = to_balloon(dev);
    if (b->timer_running) {
        atomic_store(&b->timer_stop, true);
        wake_timer(b);
        pthread_join(b->timer, NULL);
    }
    if (b->timer_wake_fd >= 0)
        close(b->timer_wake_fd);
    if (b->stats_kick_fd >= 0)
        close(b->stats_kick_fd);
    if (b->inflated_map)
        munmap(b->inflated_map, b->map_bytes);
    if (the_balloon == b)
        the_balloon = NULL;
    free(b);
}

/* Saved state: the host's target, the polling period, which pages the
 * guest gave (the bitmap: the only record of them; their contents are
 * zero pages the saved RAM leaves out), and whether the statistics
 * buffer was held. A held buffer goes back to the ring (the device's
 * place in it one back), so the restored device pops it again, as
 * virtio-net does with its receive buffer. The figures themselves are
 * asked afresh. */
/* The bitmap goes as its words that are not zero, each with its index:
 * a balloon holds a part of RAM, and a section has a bounded size. */
#define MAP_ENTRY_BYTES 12u
#define MAP_SAVE_MAX (VSF_SECTION_MAX / 2)

static int balloon_save(struct virtio_dev *dev, struct vsf_out *o)
{
    struct balloon *b = to_balloon(dev);
    size_t words = b->map_bytes / 8;
    uint64_t used = 0;
    for (size_t w = 0; w < words; w++)
        used += b->inflated_map[w] != 0;
    if (used * MAP_ENTRY_BYTES > MAP_SAVE_MAX)
        return err_set("%s: %" PRIu64 " pages in the balloon are too many to save; deflate it "
                       "first (setmem)",
                       dev->id, b->inflated);
    vsf_put_u32(o, le32toh(b->config.num_pages));
    vsf_put_u32(o, atomic_load(&b->period));
    vsf_put_u8(o, b->stats_held);
    vsf_put_u64(o, b->npages);
    vsf_put_u64(o, used);
    for (size_t w = 0; w < words; w++)
        if (b->inflated_map[w]) {
            vsf_put_u32(o, (uint32_t)w);
            vsf_put_u64(o, b->inflated_map[w]);
        }
    return 0;
}

/* MAP: the saved words put in place (it starts all zero); *COUNT the
 * pages they hold. Each index inside the map, rising; no page past RAM. */
static int load_map(struct balloon *b, struct vsf_in *in, uint64_t *map, uint64_t *count)
{
    uint64_t used, words = b->map_bytes / 8;
    if (vsf_get_u64(in, "map words", &used) < 0)
        return -1;
    if (used > words)
        return vsf_bad(in, "map words", used, "at most the map's size");
    int64_t prev = -1;
    *count = 0;
    for (uint64_t i = 0; i < used; i++) {
        uint32_t w;
        uint64_t bits;
        if (vsf_get_u32(in, "map index", &w) < 0 || vsf_get_u64(in, "map word", &bits) < 0)
            return -1;
        if (w >= words || (int64_t)w <= prev)
            return vsf_bad(in, "map index", w, "rising, inside the map");
        if (w == words - 1 && b->npages % 64 && bits >> (b->npages % 64))
            return vsf_bad(in, "map word", bits, "pages inside the guest's RAM");
        map[w] = bits;
        prev = w;
        *count += (uint64_t)__builtin_popcountll(bits);
    }
    return 0;
}

static int balloon_load(struct virtio_dev *dev, struct vsf_in *in)
{
    struct balloon *b = to_balloon(dev);
    uint32_t target, period;
    uint64_t npages;
    bool held;
    if (vsf_get_u32(in, "target pages", &target) < 0 || vsf_get_u32(in, "period", &period) < 0 ||
        vsf_get_bool(in, "stats held", &held) < 0 || vsf_get_u64(in, "pages", &npages) < 0)
        return -1;
    if (npages != b->npages)
        return vsf_bad(in, "pages", npages, "the guest's RAM in 4 KiB pages");
    if (target > b->npages)
        return vsf_bad(in, "target pages", target, "at most the guest's RAM");
    if (held && !(dev->vq[Q_STATS].ready && dev->vq[Q_STATS].last_avail))
        return vsf_bad(in, "stats held", 1, "a buffer the ready stats queue gave");
    /* Read whole before anything changes: a bad file leaves the device as it was. */
    uint64_t *map = calloc(1, b->map_bytes), count = 0;
    if (!map)
        return err_set("out of memory");
    if (load_map(b, in, map, &count) < 0) {
        free(map);
        return -1;
    }
    memcpy(b->inflated_map, map, b->map_bytes);
    free(map);
    b->inflated = b->reported = count;
    b->config.num_pages = htole32(target);
    b->config.actual = htole32((uint32_t)count);
    atomic_store(&b->period, period);
    wake_timer(b);
    b->stats_held = false;
    if (held)
        dev->vq[Q_STATS].last_avail--;
    return 0;
}

static const struct virtio_dev_ops balloon_ops = {
    .name = "virtio-balloon",
    .device_id = VIRTIO_ID_BALLOON,
    .pci_class = 0xFF00, /* unclassified, as QEMU's virtio-balloon-pci */
    .queue_notify = balloon_queue_notify,
    .reset = balloon_reset,
    .destroy = balloon_destroy,
    .save = balloon_save,
    .load = balloon_load,
};

/* ---- the API behind the QMP commands ---- */

int virtio_balloon_set_target(struct virtio_dev *dev, uint64_t guest_bytes)
{
    struct balloon *b = to_balloon(dev);
    uint64_t floor =
        b->ram_bytes < VIRTIO_BALLOON_MIN_BYTES ? b->ram_bytes : VIRTIO_BALLOON_MIN_BYTES;
    if (guest_bytes > b->ram_bytes)
        return err_set("balloon target %" PRIu64 " KiB is above the guest's memory (%" PRIu64
                       " KiB)",
                       guest_bytes >> 10, b->ram_bytes >> 10);
    if (guest_bytes < floor)
        return err_set("balloon target %" PRIu64 " KiB is below the %" PRIu64
                       " KiB a guest is left at least",
                       guest_bytes >> 10, floor >> 10);
    virtio_dev_lock(dev);
    uint32_t pages = (uint32_t)((b->ram_bytes - guest_bytes) >> PAGE_SHIFT);
    if (le32toh(b->config.num_pages) != pages) {
        b->config.num_pages = htole32(pages);
        dev->config_generation++;
        if ((dev->status & VIRTIO_CONFIG_S_DRIVER_OK) && dev->transport.signal_config)
            dev->transport.signal_config(dev->transport.opaque);
    }
    virtio_dev_unlock(dev);
    return 0;
}

uint64_t virtio_balloon_actual(struct virtio_dev *dev)
{
    struct balloon *b = to_balloon(dev);
    virtio_dev_lock(dev);
    uint64_t v = guest_actual_bytes(b);
    virtio_dev_unlock(dev);
    return v;
}

void virtio_balloon_get_stats(struct virtio_dev *dev, struct virtio_balloon_stats *out)
{
    virtio_dev_lock(dev);
    *out = to_balloon(dev)->stats;
    virtio_dev_unlock(dev);
}

unsigned virtio_balloon_period(struct virtio_dev *dev)
{
    return atomic_load(&to_balloon(dev)->period);
}

void virtio_balloon_set_period(struct virtio_dev *dev, unsigned seconds)
{
    struct balloon *b = to_balloon(dev);
    unsigned was = atomic_exchange(&b->period, seconds);
    wake_timer(b);
    /* As QEMU: switching polling on asks for fresh figures at once. */
    if (seconds && !was)
        request_refresh(b);
}

/* ---- QMP ---- */

static struct balloon *qmp_balloon(void)
{
    if (!the_balloon)
        err_set("No balloon device has been activated");
    return the_balloon;
}

/* Integer member NAME of ARGS into *v, with QMP's messages. */
static int arg_int(struct json_object *args, const char *name, int64_t *v)
{
    struct json_object *o;
    if (!json_object_object_get_ex(args, name, &o))
        return err_set("Parameter '%s' is missing", name);
    if (!json_object_is_type(o, json_type_int))
        return err_set("Invalid parameter type for '%s', expected: integer", name);
    *v = json_object_get_int64(o);
    return 0;
}

static int arg_string(struct json_object *args, const char *name, const char **v)
{
    struct json_object *o;
    if (!json_object_object_get_ex(args, name, &o))
        return err_set("Parameter '%s' is missing", name);
    if (!json_object_is_type(o, json_type_string))
        return err_set("Invalid parameter type for '%s', expected: string", name);
    *v = json_object_get_string(o);
    return 0;
}

static int only_args(struct json_object *args, const char *const *allowed)
{
    json_object_object_foreach(args, key, val)
    {
        (void)val;
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok = ok || strcmp(*a, key) == 0;
        if (!ok)
            return err_set("Parameter '%s' is unexpected", key);
    }
    return 0;
}

static int qmp_balloon_cmd(struct json_object *args, struct json_object **ret)
{
    static const char *const allowed[] = {"value", NULL};
    struct balloon *b = qmp_balloon();
    int64_t value;
    (void)ret;
    if (!b || only_args(args, allowed) < 0 || arg_int(args, "value", &value) < 0)
        return -1;
    if (value <= 0)
        return err_set("Parameter 'value' expects a size");
    return virtio_balloon_set_target(&b->vdev, (uint64_t)value);
}

static int qmp_query_balloon(struct json_object *args, struct json_object **ret)
{
    static const char *const allowed[] = {NULL};
    struct balloon *b = qmp_balloon();
    if (!b || only_args(args, allowed) < 0)
        return -1;
    *ret = json_object_new_object();
    json_object_object_add(*ret, "actual",
                           json_object_new_int64((int64_t)virtio_balloon_actual(&b->vdev)));
    return 0;
}

static struct json_object *stats_object(struct balloon *b)
{
    struct virtio_balloon_stats s;
    virtio_balloon_get_stats(&b->vdev, &s);
    struct json_object *st = json_object_new_object();
    for (unsigned i = 0; i < VIRTIO_BALLOON_S_NR; i++)
        json_object_object_add(st, stat_names[i], json_object_new_int64(s.value[i]));
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "stats", st);
    json_object_object_add(o, "last-update", json_object_new_int64(s.last_update));
    return o;
}

/* The QOM path and property of a qom-get/qom-set, checked. */
static struct balloon *qom_target(struct json_object *args, const char *const *allowed,
                                  const char **prop)
{
    const char *path;
    if (only_args(args, allowed) < 0 || arg_string(args, "path", &path) < 0 ||
        arg_string(args, "property", prop) < 0)
        return NULL;
    if (strcmp(path, QOM_PATH) != 0) {
        err_set("Device '%s' not found", path);
        return NULL;
    }
    return qmp_balloon();
}

static int qmp_qom_get(struct json_object *args, struct json_object **ret)
{
    static const char *const allowed[] = {"path", "property", NULL};
    const char *prop;
    struct balloon *b = qom_target(args, allowed, &prop);
    if (!b)
        return -1;
    if (strcmp(prop, "guest-stats") == 0)
        *ret = stats_object(b);
    else if (strcmp(prop, "guest-stats-polling-interval") == 0)
        *ret = json_object_new_int64(virtio_balloon_period(&b->vdev));
    else if (strcmp(prop, "actual") == 0)
        *ret = json_object_new_int64((int64_t)virtio_balloon_actual(&b->vdev));
    else
        return err_set("Property 'virtio-balloon-pci.%s' not found", prop);
    return 0;
}

static int qmp_qom_set(struct json_object *args, struct json_object **ret)
{
    static const char *const allowed[] = {"path", "property", "value", NULL};
    const char *prop;
    int64_t v;
    (void)ret;
    struct balloon *b = qom_target(args, allowed, &prop);
    if (!b)
        return -1;
    if (strcmp(prop, "guest-stats-polling-interval") != 0)
        return err_set("Property 'virtio-balloon-pci.%s' cannot be set", prop);
    if (arg_int(args, "value", &v) < 0)
        return -1;
    if (v < 0)
        return err_set("timer value must be greater than zero");
    if (v > UINT32_MAX)
        return err_set("timer value is too big");
    virtio_balloon_set_period(&b->vdev, (unsigned)v);
    return 0;
}

static int register_qmp(void)
{
    if (qmp_registered)
        return 0;
    if (control_register("balloon", qmp_balloon_cmd) < 0 ||
        control_register("query-balloon", qmp_query_balloon) < 0 ||
        control_register("qom-get", qmp_qom_get) < 0 ||
        control_register("qom-set", qmp_qom_set) < 0)
        return err_prefix("virtio-balloon: ");
    qmp_registered = true;
    return 0;
}

/* ---- creation ---- */

static int balloon_init(struct balloon *b, struct vm *vm, const struct virtio_balloon_config_in *c)
{
    uint64_t features = 1ULL << BALLOON_F_STATS_VQ;
    if (c->deflate_on_oom)
        features |= 1ULL << BALLOON_F_DEFLATE_ON_OOM;
    if (virtio_dev_init(&b->vdev, vm, &balloon_ops, 3, features, &b->config, sizeof b->config) < 0)
        return -1;
    b->ram_bytes = vm_ram_size(vm);
    b->npages = b->ram_bytes >> PAGE_SHIFT;
    b->map_bytes = ((b->npages + 63) / 64) * 8;
    /* Untouched parts cost nothing: a 1 TiB guest's 32 MiB map stays small. */
    void *m = mmap(NULL, b->map_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return err_errno("virtio-balloon: page map");
    b->inflated_map = m;
    uint64_t target = c->target_bytes ? c->target_bytes : b->ram_bytes;
    if (target > b->ram_bytes)
        target = b->ram_bytes;
    b->config.num_pages = htole32((uint32_t)((b->ram_bytes - target) >> PAGE_SHIFT));
    stats_clear(&b->stats);
    atomic_store(&b->period, c->stats_period);
    if (timer_start(b) < 0)
        return -1;
    if (register_qmp() < 0)
        return -1;
    return 0;
}

struct virtio_dev *virtio_balloon_new(struct vm *vm, const struct virtio_balloon_config_in *c)
{
    if (the_balloon) {
        err_set("only one virtio-balloon per guest");
        return NULL;
    }
    struct balloon *b = calloc(1, sizeof *b);
    if (!b) {
        err_set("out of memory");
        return NULL;
    }
    b->timer_wake_fd = b->stats_kick_fd = -1;
    if (balloon_init(b, vm, c) < 0) {
        virtio_dev_free(&b->vdev);
        return NULL;
    }
    the_balloon = b;
    return &b->vdev;
}
