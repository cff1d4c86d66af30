/* Split virtqueue, device side. See queue.h.
 *
 * Ring layout (virtio 1.2, 2.7): descriptor table of 16-byte entries
 * {le64 addr, le32 len, le16 flags, le16 next}; available ring {le16 flags,
 * le16 idx, le16 ring[size], le16 used_event}; used ring {le16 flags,
 * le16 idx, {le32 id, le32 len} ring[size], le16 avail_event}. x86 is
 * little-endian, so fields are read with plain loads at their offsets.
 */
#include <string.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "virtio/queue.h"
#include "vmm.h"

#define DESC_SIZE 16

struct desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

static uint64_t avail_bytes(uint16_t size)
{
    return 6 + 2 * (uint64_t)size;
}

static uint64_t used_bytes(uint16_t size)
{
    return 6 + 8 * (uint64_t)size;
}

/* Guest-shared 16-bit fields: one access each, with the ordering the
 * spec's memory barriers ask for. */
static uint16_t load16(const uint8_t *p)
{
    return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE);
}

static void store16(uint8_t *p, uint16_t v)
{
    __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE);
}

void virtq_reset(struct virtq *q, struct vm *vm)
{
    memset(q, 0, sizeof *q);
    q->vm = vm;
    q->size = VIRTQ_MAX_SIZE;
}

int virtq_enable(struct virtq *q)
{
    if (q->size == 0 || (q->size & (q->size - 1)) || q->size > VIRTQ_MAX_SIZE)
        return err_set("queue size %u is not a power of two up to %u", q->size, VIRTQ_MAX_SIZE);
    if (q->desc_gpa % 16 || q->avail_gpa % 2 || q->used_gpa % 4)
        return err_set("ring addresses are misaligned");
    q->desc = vm_gpa_ptr(q->vm, q->desc_gpa, (uint64_t)q->size * DESC_SIZE);
    q->avail = vm_gpa_ptr(q->vm, q->avail_gpa, avail_bytes(q->size));
    q->used = vm_gpa_ptr(q->vm, q->used_gpa, used_bytes(q->size));
    if (!q->desc || !q->avail || !q->used)
        return err_set("a ring of the queue is outside guest RAM");
    q->last_avail = 0;
    q->used_idx = load16(q->used + 2);
    q->signalled_valid = false;
    q->ready = true;
    return 0;
}

static void read_desc(const uint8_t *table, unsigned i, struct desc *d)
{
    /* One copy: the guest may rewrite the entry while we look at it. */
    uint8_t raw[DESC_SIZE];
    memcpy(raw, table + (size_t)i * DESC_SIZE, DESC_SIZE);
    memcpy(&d->addr, raw, 8);
    memcpy(&d->len, raw + 8, 4);
    memcpy(&d->flags, raw + 12, 2);
    memcpy(&d->next, raw + 14, 2);
}

/* The walk through one chain, possibly switching once to an indirect table. */
struct walk {
    const uint8_t *table;
    unsigned table_size;
    unsigned visited;
    bool in_indirect;
    bool seen_writable;
    uint64_t total;
};

static int enter_indirect(struct virtq *q, struct walk *w, const struct desc *d)
{
    if (!q->indirect)
        return err_set("indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC");
    if (w->in_indirect)
        return err_set("indirect descriptor inside an indirect table");
    if (d->flags & VIRTQ_DESC_F_NEXT)
        return err_set("indirect descriptor with the NEXT flag");
    if (d->len == 0 || d->len % DESC_SIZE)
        return err_set("indirect table of %u bytes is not a positive multiple of 16", d->len);
    unsigned n = d->len / DESC_SIZE;
    if (n > VIRTQ_MAX_SIZE)
        return err_set("indirect table of %u entries is longer than %u", n, VIRTQ_MAX_SIZE);
    const uint8_t *t = vm_gpa_ptr(q->vm, d->addr, d->len);
    if (!t)
        return err_set("indirect table at 0x%llx+%u is outside guest RAM",
                       (unsigned long long)d->addr, d->len);
    w->table = t;
    w->table_size = n;
    w->visited = 0;
    w->in_indirect = true;
    return 0;
}

static int add_buffer(struct virtq *q, struct walk *w, const struct desc *d, struct virtq_elem *e)
{
    bool writable = d->flags & VIRTQ_DESC_F_WRITE;
    if (!writable && w->seen_writable)
        return err_set("device-readable buffer after a device-writable one");
    w->seen_writable |= writable;
    w->total += d->len;
    if (w->total > UINT32_MAX)
        return err_set("chain is longer than 4 GiB");
    if (d->len == 0)
        return 0; /* an empty buffer carries nothing: skip it */
    void *p = vm_gpa_ptr(q->vm, d->addr, d->len);
    if (!p)
        return err_set("buffer at 0x%llx+%u is outside guest RAM", (unsigned long long)d->addr,
                       d->len);
    if (e->nout + e->nin >= VIRTQ_MAX_SIZE)
        return err_set("chain has more than %u buffers", VIRTQ_MAX_SIZE);
    struct iovec v = {.iov_base = p, .iov_len = d->len};
    if (writable) {
        e->in[e->nin++] = v;
        e->in_len += d->len;
    } else {
        e->out[e->nout++] = v;
        e->out_len += d->len;
    }
    return 0;
}

static int walk_chain(struct virtq *q, uint16_t head, struct virtq_elem *e)
{
    struct walk w = {.table = q->desc, .table_size = q->size};
    unsigned i = head;
    e->head = head;
    e->nout = e->nin = 0;
    e->out_len = e->in_len = 0;
    for (;;) {
        if (i >= w.table_size)
            return err_set("descriptor index %u out of range (table of %u)", i, w.table_size);
        /* A chain can visit each entry of its table once; more is a loop. */
        if (++w.visited > w.table_size)
            return err_set("descriptor chain loops");
        struct desc d;
        read_desc(w.table, i, &d);
        if (d.flags & VIRTQ_DESC_F_INDIRECT) {
            if (enter_indirect(q, &w, &d) < 0)
                return -1;
            i = 0;
            continue;
        }
        if (add_buffer(q, &w, &d, e) < 0)
            return -1;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return 0;
        i = d.next;
    }
}

int virtq_pop(struct virtq *q, struct virtq_elem *e)
{
    if (!q->ready)
        return 0;
    uint16_t avail_idx = load16(q->avail + 2);
    if (avail_idx == q->last_avail && q->event_idx) {
        /* Ask for a kick at the next entry, then look again: the driver may
         * have added one before it could see avail_event. */
        store16(q->used + 4 + 8 * (size_t)q->size, q->last_avail);
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        avail_idx = load16(q->avail + 2);
    }
    uint16_t pending = avail_idx - q->last_avail;
    if (pending == 0)
        return 0;
    if (pending > q->size)
        return err_set("available index jumped by %u in a queue of %u", pending, q->size);
    uint16_t head = load16(q->avail + 4 + 2 * (size_t)(q->last_avail & (q->size - 1)));
    if (walk_chain(q, head, e) < 0)
        return -1;
    q->last_avail++;
    return 1;
}

void virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t written)
{
    if (!q->ready)
        return;
    if (written > e->in_len)
        written = e->in_len;
    uint8_t *slot = q->used + 4 + 8 * (size_t)(q->used_idx & (q->size - 1));
    uint32_t id = e->head;
    memcpy(slot, &id, 4);
    memcpy(slot + 4, &written, 4);
    q->used_idx++;
    store16(q->used + 2, q->used_idx); /* release: the entry is visible first */
}

bool virtq_should_signal(struct virtq *q)
{
    if (!q->ready)
        return false;
    /* The driver reads used->idx before the flags/used_event we read next. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!q->event_idx)
        return !(load16(q->avail) & VIRTQ_AVAIL_F_NO_INTERRUPT);
    uint16_t old = q->signalled, now = q->used_idx;
    bool valid = q->signalled_valid;
    q->signalled = now;
    q->signalled_valid = true;
    if (!valid)
        return true;
    uint16_t event = load16(q->avail + 4 + 2 * (size_t)q->size);
    /* vring_need_event(): did used->idx pass used_event since the last signal? */
    return (uint16_t)(now - event - 1) < (uint16_t)(now - old);
}

/* ---- scatter/gather ---- */

size_t iov_copy_from(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < n && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t k = iov[i].iov_len - off;
        if (k > len - done)
            k = len - done;
        memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, k);
        done += k;
        off = 0;
    }
    return done;
}

size_t iov_copy_to(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
    size_t done = 0;
    for (unsigned i = 0; i < n && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        size_t k = iov[i].iov_len - off;
        if (k > len - done)
            k = len - done;
        memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done, k);
        done += k;
        off = 0;
    }
    return done;
}

unsigned iov_slice(const struct iovec *src, unsigned n, size_t off, size_t len, struct iovec *dst,
                   unsigned max)
{
    unsigned out = 0;
    for (unsigned i = 0; i < n && len > 0 && out < max; i++) {
        if (off >= src[i].iov_len) {
            off -= src[i].iov_len;
            continue;
        }
        size_t k = src[i].iov_len - off;
        if (k > len)
            k = len;
        dst[out].iov_base = (uint8_t *)src[i].iov_base + off;
        dst[out].iov_len = k;
        out++;
        len -= k;
        off = 0;
    }
    return out;
}

/* ---- saved state ---- */

void virtq_save(const struct virtq *q, struct vsf_out *o)
{
    vsf_put_u16(o, q->size);
    vsf_put_u8(o, q->ready);
    vsf_put_u8(o, q->indirect);
    vsf_put_u8(o, q->event_idx);
    vsf_put_u64(o, q->desc_gpa);
    vsf_put_u64(o, q->avail_gpa);
    vsf_put_u64(o, q->used_gpa);
    vsf_put_u16(o, q->last_avail);
    vsf_put_u16(o, q->used_idx);
    vsf_put_u16(o, q->signalled);
    vsf_put_u8(o, q->signalled_valid);
}

int virtq_load(struct virtq *q, struct vsf_in *in)
{
    struct virtq n = {.vm = q->vm};
    if (vsf_get_u16(in, "queue size", &n.size) < 0 ||
        vsf_get_bool(in, "queue ready", &n.ready) < 0 ||
        vsf_get_bool(in, "queue indirect", &n.indirect) < 0 ||
        vsf_get_bool(in, "queue event_idx", &n.event_idx) < 0 ||
        vsf_get_u64(in, "queue desc", &n.desc_gpa) < 0 ||
        vsf_get_u64(in, "queue avail", &n.avail_gpa) < 0 ||
        vsf_get_u64(in, "queue used", &n.used_gpa) < 0 ||
        vsf_get_u16(in, "queue last_avail", &n.last_avail) < 0 ||
        vsf_get_u16(in, "queue used_idx", &n.used_idx) < 0 ||
        vsf_get_u16(in, "queue signalled", &n.signalled) < 0 ||
        vsf_get_bool(in, "queue signalled_valid", &n.signalled_valid) < 0)
        return -1;
    if (n.size == 0 || (n.size & (n.size - 1)) || n.size > VIRTQ_MAX_SIZE)
        return vsf_bad(in, "queue size", n.size, "a power of two up to 256");
    if (n.ready) {
        /* The same checks as the driver's queue_enable: aligned rings in guest RAM. */
        uint16_t last_avail = n.last_avail, used_idx = n.used_idx;
        if (virtq_enable(&n) < 0)
            return err_prefix("section '%s': ", in->section);
        n.last_avail = last_avail;
        n.used_idx = used_idx;
    }
    *q = n;
    return 0;
}
