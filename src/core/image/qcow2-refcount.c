/* qcow2 reference counts and cluster allocation.
 *
 * Crash safety. A process killed at any instant, or a host losing power
 * between two barriers (fdatasync), must leave an image that `qemu-img check`
 * accepts: a cluster may end up with a reference count higher than its real
 * number of users (a leak), never lower, and no pointer may reach the disk
 * before what it points to. The order of every metadata change is therefore:
 *
 *   allocation   1. refcount of new clusters set to 1 and written, in batches
 *                   ("reservations"); this sets l2_barrier;
 *                2. data written into a reserved cluster (copy-on-write parts
 *                   included; copying sets l2_barrier too);
 *                3. the L2 entry updated in the write-back L2 cache; dirty L2
 *                   tables are written at the next flush or eviction, and
 *                   when l2_barrier is set, only after a barrier — so one
 *                   barrier covers every allocation since the last flush,
 *                   and a stream of writes without flushes needs none;
 *                4. a new L2 table is written and followed by a barrier
 *                   BEFORE the L1 entry naming it is written.
 *   free         1. the pointer is removed (L2 entry written, see above);
 *                2. barrier (the flush's own fdatasync);
 *                3. only then the refcount drops (qcow2_free_pending), and
 *                   only then may the cluster be handed out again.
 *   refblocks    a new refcount block is written (and covers itself) before
 *                its refcount-table entry, with a barrier in between; a new
 *                refcount table is written with its blocks, barrier, then the
 *                header switched to it, barrier, then the old table freed.
 *
 * A crash loses at most the unflushed L2 updates and the unused reservations
 * — both show up as leaks. close() gives unused reservations back so that a
 * cleanly closed image has none.
 */
#include "core/image/qcow2.h"
#include "core/base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define RESV_BATCH_MIN 16
#define RESV_BYTES_MAX (64ull << 20)
#define TRIM_SCAN_MAX (1u << 20)

uint64_t qcow2_refcount_max(const struct qcow2 *q)
{
    unsigned bits = 1u << q->refcount_order;
    return bits == 64 ? UINT64_MAX : (1ull << bits) - 1;
}

static uint64_t rb_get(const struct qcow2 *q, const uint8_t *rb, uint64_t idx)
{
    unsigned order = q->refcount_order;
    switch (order) {
    case 3:
        return rb[idx];
    case 4:
        return be16_get(rb + 2 * idx);
    case 5:
        return be32_get(rb + 4 * idx);
    case 6:
        return be64_get(rb + 8 * idx);
    default: { /* 1, 2 or 4 bits: most significant bits first is not specified;
                  QEMU packs entry 0 in the lowest bits of byte 0 */
        unsigned bits = 1u << order;
        uint64_t bit = idx * bits;
        return (rb[bit / 8] >> (bit % 8)) & ((1u << bits) - 1);
    }
    }
}

/* Stores VALUE; returns the byte range [*lo, *hi) that changed. */
static void rb_set(const struct qcow2 *q, uint8_t *rb, uint64_t idx, uint64_t value, uint32_t *lo,
                   uint32_t *hi)
{
    unsigned order = q->refcount_order;
    switch (order) {
    case 3:
        rb[idx] = (uint8_t)value;
        *lo = (uint32_t)idx;
        *hi = *lo + 1;
        return;
    case 4:
        be16_put(rb + 2 * idx, (uint16_t)value);
        *lo = (uint32_t)(2 * idx);
        *hi = *lo + 2;
        return;
    case 5:
        be32_put(rb + 4 * idx, (uint32_t)value);
        *lo = (uint32_t)(4 * idx);
        *hi = *lo + 4;
        return;
    case 6:
        be64_put(rb + 8 * idx, value);
        *lo = (uint32_t)(8 * idx);
        *hi = *lo + 8;
        return;
    default: {
        unsigned bits = 1u << order;
        uint64_t bit = idx * bits;
        uint8_t mask = (uint8_t)(((1u << bits) - 1) << (bit % 8));
        rb[bit / 8] = (uint8_t)((rb[bit / 8] & ~mask) | ((value << (bit % 8)) & mask));
        *lo = (uint32_t)(bit / 8);
        *hi = *lo + 1;
        return;
    }
    }
}

uint64_t qcow2_rb_get(const struct qcow2 *q, const uint8_t *rb, uint64_t idx)
{
    return rb_get(q, rb, idx);
}

void qcow2_rb_set(const struct qcow2 *q, uint8_t *rb, uint64_t idx, uint64_t value)
{
    uint32_t lo, hi;
    rb_set(q, rb, idx, value, &lo, &hi);
}

static int check_refblock_offset(struct qcow2 *q, uint64_t i, uint64_t off)
{
    if (off & (q->cluster_size - 1))
        return err_set("%s: qcow2 refcount table: entry %llu: offset 0x%llx not cluster aligned",
                       q->img->path, (unsigned long long)i, (unsigned long long)off);
    if (off == 0 || off + q->cluster_size > q->file_size)
        return err_set("%s: qcow2 refcount table: entry %llu: block at 0x%llx is %s", q->img->path,
                       (unsigned long long)i, (unsigned long long)off,
                       off == 0 ? "the header" : "past the end of the file");
    int kind = qcow2_meta_find(q, off);
    if (kind >= 0 && kind != QCOW2_META_REFBLOCK)
        return err_set(
            "%s: qcow2 refcount table: entry %llu: block at 0x%llx overlaps other metadata",
            q->img->path, (unsigned long long)i, (unsigned long long)off);
    return 0;
}

int qcow2_refcount_load(struct qcow2 *q)
{
    size_t bytes = (size_t)q->reftable_clusters << q->cluster_bits;
    uint8_t *raw = malloc(bytes);
    q->reftable_entries = bytes / 8;
    q->reftable = calloc(q->reftable_entries, sizeof(uint64_t));
    if (!raw || !q->reftable) {
        free(raw);
        return err_set("out of memory");
    }
    if (image_pread_full(q->img, raw, bytes, q->reftable_offset, false) < 0)
        goto fail;
    for (uint64_t i = 0; i < q->reftable_entries; i++) {
        uint64_t e = be64_get(raw + 8 * i);
        if (e == 0)
            continue;
        if (check_refblock_offset(q, i, e) < 0)
            goto fail;
        q->reftable[i] = e;
        if (qcow2_meta_add(q, e, q->cluster_size, QCOW2_META_REFBLOCK) < 0)
            goto fail;
    }
    free(raw);
    return 0;
fail:
    free(raw);
    return -1;
}

int qcow2_refcount_get(struct qcow2 *q, uint64_t cluster, uint64_t *refcount)
{
    uint64_t bi = cluster >> q->rb_bits;
    *refcount = 0;
    if (bi >= q->reftable_entries || q->reftable[bi] == 0)
        return 0;
    uint8_t *rb = qcow2_cache_get(q, &q->rb_cache, q->reftable[bi], false);
    if (!rb)
        return -1;
    *refcount = rb_get(q, rb, cluster & ((1ull << q->rb_bits) - 1));
    return 0;
}

/* Adds DELTA to one refcount and writes the changed bytes at once. */
static int refcount_add(struct qcow2 *q, uint64_t cluster, int delta)
{
    uint64_t bi = cluster >> q->rb_bits;
    if (bi >= q->reftable_entries || q->reftable[bi] == 0)
        return qcow2_signal_corruption(q, "refcount of cluster 0x%llx: no refcount block",
                                       (unsigned long long)(cluster << q->cluster_bits));
    uint8_t *rb = qcow2_cache_get(q, &q->rb_cache, q->reftable[bi], false);
    if (!rb)
        return -1;
    uint64_t idx = cluster & ((1ull << q->rb_bits) - 1);
    uint64_t rc = rb_get(q, rb, idx);
    if ((delta < 0 && rc == 0) || (delta > 0 && rc == qcow2_refcount_max(q)))
        return qcow2_signal_corruption(q, "refcount of cluster 0x%llx would %s",
                                       (unsigned long long)(cluster << q->cluster_bits),
                                       delta < 0 ? "drop below 0" : "overflow");
    uint32_t lo, hi;
    rb_set(q, rb, idx, delta < 0 ? rc - 1 : rc + 1, &lo, &hi);
    return image_pwrite_full(q->img, rb + lo, hi - lo, q->reftable[bi] + lo);
}

int qcow2_refcount_ref(struct qcow2 *q, uint64_t cluster)
{
    return refcount_add(q, cluster, 1);
}

/* Makes cluster C, which has no refcount block, into its own refcount block. */
static int create_refblock(struct qcow2 *q, uint64_t c)
{
    uint64_t bi = c >> q->rb_bits;
    uint64_t off = c << q->cluster_bits;
    uint8_t *rb = qcow2_cache_get(q, &q->rb_cache, off, true);
    if (!rb)
        return -1;
    uint32_t lo, hi;
    rb_set(q, rb, c & ((1ull << q->rb_bits) - 1), 1, &lo, &hi);
    if (image_pwrite_full(q->img, rb, q->cluster_size, off) < 0 || qcow2_sync(q) < 0)
        goto fail;
    uint8_t be[8];
    be64_put(be, off);
    if (image_pwrite_full(q->img, be, 8, q->reftable_offset + 8 * bi) < 0)
        goto fail;
    q->reftable[bi] = off;
    if (off + q->cluster_size > q->file_size)
        q->file_size = off + q->cluster_size;
    return qcow2_meta_add(q, off, q->cluster_size, QCOW2_META_REFBLOCK);
fail:
    qcow2_cache_forget(&q->rb_cache, off);
    return -1;
}

/* The refcount table is full: build a bigger one at cluster S (everything
 * from S on is uncovered, hence free), together with the refcount blocks that
 * cover it, switch the header to it and free the old table. On return *next
 * is the first cluster after the new structures. */
static int grow_reftable(struct qcow2 *q, uint64_t s, uint64_t *next)
{
    uint64_t per_cluster = q->cluster_size / 8;
    uint64_t rb_span = 1ull << q->rb_bits;
    /* t table clusters and r refcount blocks at [s, s+t+r); the blocks must
     * cover that range and the table must index them: iterate to a fixed point. */
    uint64_t t = 0, r = 0, prev_t, prev_r;
    do {
        prev_t = t;
        prev_r = r;
        uint64_t last = s + (t + r ? t + r - 1 : 0);
        uint64_t want = q->reftable_entries * 2;
        if (want < (last >> q->rb_bits) + 1)
            want = (last >> q->rb_bits) + 1;
        t = (want + per_cluster - 1) / per_cluster;
        r = ((s + t + r - 1) >> q->rb_bits) - (s >> q->rb_bits) + 1;
    } while (t != prev_t || r != prev_r);
    if ((t << q->cluster_bits) > QCOW2_MAX_REFTABLE_BYTES) {
        errno = ENOSPC;
        return err_set("%s: refcount table would exceed %u MiB", q->img->path,
                       QCOW2_MAX_REFTABLE_BYTES >> 20);
    }
    uint64_t entries = t * per_cluster;
    uint64_t *table = calloc(entries, sizeof(uint64_t));
    uint8_t *disk = calloc(t, q->cluster_size);
    uint8_t *blocks = calloc(r, q->cluster_size);
    int rc = -1;
    if (!table || !disk || !blocks) {
        err_set("out of memory");
        goto out;
    }
    memcpy(table, q->reftable, q->reftable_entries * sizeof(uint64_t));
    uint64_t first_bi = s >> q->rb_bits;
    for (uint64_t k = 0; k < r; k++)
        table[first_bi + k] = (s + t + k) << q->cluster_bits;
    for (uint64_t c = s; c < s + t + r; c++) {
        uint64_t k = (c >> q->rb_bits) - first_bi;
        uint32_t lo, hi;
        rb_set(q, blocks + (k << q->cluster_bits), c & (rb_span - 1), 1, &lo, &hi);
    }
    for (uint64_t i = 0; i < entries; i++)
        be64_put(disk + 8 * i, table[i]);
    uint64_t new_off = s << q->cluster_bits;
    if (image_pwrite_full(q->img, disk, t << q->cluster_bits, new_off) < 0 ||
        image_pwrite_full(q->img, blocks, r << q->cluster_bits, new_off + (t << q->cluster_bits)) <
            0 ||
        qcow2_sync(q) < 0)
        goto out;
    uint8_t hdr[12];
    be64_put(hdr, new_off);
    be32_put(hdr + 8, (uint32_t)t);
    if (image_pwrite_full(q->img, hdr, sizeof(hdr), QCOW2_OFF_REFTABLE) < 0 || qcow2_sync(q) < 0)
        goto out;

    uint64_t old_off = q->reftable_offset, old_clusters = q->reftable_clusters;
    free(q->reftable);
    q->reftable = table;
    table = NULL;
    q->reftable_entries = entries;
    q->reftable_offset = new_off;
    q->reftable_clusters = (uint32_t)t;
    uint64_t end = (s + t + r) << q->cluster_bits;
    if (end > q->file_size)
        q->file_size = end;
    qcow2_meta_remove(q, old_off, old_clusters << q->cluster_bits);
    if (qcow2_meta_add(q, new_off, t << q->cluster_bits, QCOW2_META_REFTABLE) < 0 ||
        qcow2_meta_add(q, new_off + (t << q->cluster_bits), r << q->cluster_bits,
                       QCOW2_META_REFBLOCK) < 0)
        goto out;
    /* The header no longer names the old table: its clusters can go now. */
    for (uint64_t c = 0; c < old_clusters; c++)
        if (refcount_add(q, (old_off >> q->cluster_bits) + c, -1) < 0)
            goto out;
    if ((old_off >> q->cluster_bits) < q->free_hint)
        q->free_hint = old_off >> q->cluster_bits;
    *next = s + t + r;
    rc = 0;
out:
    free(table);
    free(disk);
    free(blocks);
    return rc;
}

/* Writes the dirty byte range of the refcount block being filled by refill(). */
struct rb_dirty {
    uint64_t offset;
    uint8_t *data;
    uint32_t lo, hi;
};

static int span_flush(struct qcow2 *q, struct rb_dirty *sp)
{
    int rc = 0;
    if (sp->data && sp->lo < sp->hi)
        rc = image_pwrite_full(q->img, sp->data + sp->lo, sp->hi - sp->lo, sp->offset + sp->lo);
    sp->data = NULL;
    sp->lo = sp->hi = 0;
    return rc;
}

/* Reserves the next batch of free clusters: their refcounts become 1. They
 * reach the disk before any L2 entry pointing at them (l2_barrier). */
static int refill(struct qcow2 *q)
{
    size_t want = q->resv_batch;
    if (want > q->resv_cap) {
        uint64_t *r = realloc(q->resv, want * sizeof(*r));
        if (r)
            q->resv = r;
        uint8_t *f = realloc(q->resv_fresh, want);
        if (f)
            q->resv_fresh = f;
        if (!r || !f)
            return err_set("out of memory");
        q->resv_cap = want;
    }
    q->resv_head = q->resv_n = 0;
    uint64_t old_size = q->file_size;
    uint64_t c = q->free_hint;
    struct rb_dirty sp = {0};
    while (q->resv_n < want) {
        uint64_t bi = c >> q->rb_bits;
        if (bi >= q->reftable_entries) {
            if (span_flush(q, &sp) < 0 || grow_reftable(q, c, &c) < 0)
                return -1;
            continue;
        }
        if (q->reftable[bi] == 0) {
            if (span_flush(q, &sp) < 0 || create_refblock(q, c) < 0)
                return -1;
            c++;
            continue;
        }
        if (sp.offset != q->reftable[bi] || !sp.data) {
            if (span_flush(q, &sp) < 0)
                return -1;
            sp.offset = q->reftable[bi];
            sp.data = qcow2_cache_get(q, &q->rb_cache, sp.offset, false);
            if (!sp.data)
                return -1;
        }
        uint64_t idx = c & ((1ull << q->rb_bits) - 1);
        if (rb_get(q, sp.data, idx) == 0) {
            /* A free metadata cluster means broken refcounts: never hand it out. */
            if (qcow2_meta_find(q, c << q->cluster_bits) >= 0) {
                span_flush(q, &sp);
                return qcow2_signal_corruption(q, "metadata cluster 0x%llx has refcount 0",
                                               (unsigned long long)(c << q->cluster_bits));
            }
            uint32_t lo, hi;
            rb_set(q, sp.data, idx, 1, &lo, &hi);
            if (sp.lo >= sp.hi) {
                sp.lo = lo;
                sp.hi = hi;
            } else {
                sp.lo = lo < sp.lo ? lo : sp.lo;
                sp.hi = hi > sp.hi ? hi : sp.hi;
            }
            q->resv[q->resv_n] = c << q->cluster_bits;
            q->resv_fresh[q->resv_n] = (c << q->cluster_bits) >= old_size;
            q->resv_n++;
        }
        c++;
    }
    if (span_flush(q, &sp) < 0)
        return -1;
    q->free_hint = c;
    uint64_t end = c << q->cluster_bits;
    if (end > q->file_size) {
        /* Reserved clusters past the old end read as zeros (a hole). */
        if (ftruncate(q->img->fd, (off_t)end) < 0)
            return err_errno("%s: grow file", q->img->path);
        q->file_size = end;
    }
    q->l2_barrier = true; /* these refcounts must be durable before any L2 entry */
    /* Grow batches while the guest keeps allocating, up to RESV_BYTES_MAX. */
    size_t max = (size_t)(RESV_BYTES_MAX >> q->cluster_bits);
    if (q->resv_batch < max)
        q->resv_batch = q->resv_batch * 2 > max ? max : q->resv_batch * 2;
    return 0;
}

int qcow2_alloc_cluster(struct qcow2 *q, uint64_t *offset, bool *fresh)
{
    if (q->resv_batch < RESV_BATCH_MIN)
        q->resv_batch = RESV_BATCH_MIN;
    if (q->resv_head == q->resv_n && refill(q) < 0)
        return -1;
    *offset = q->resv[q->resv_head];
    *fresh = q->resv_fresh[q->resv_head];
    q->resv_head++;
    return 0;
}

int qcow2_free_later(struct qcow2 *q, uint64_t offset, uint64_t len)
{
    if (q->npending == q->pending_cap) {
        size_t cap = q->pending_cap ? q->pending_cap * 2 : 64;
        struct qcow2_free *p = realloc(q->pending, cap * sizeof(*p));
        if (!p)
            return err_set("out of memory");
        q->pending = p;
        q->pending_cap = cap;
    }
    q->pending[q->npending].offset = offset;
    q->pending[q->npending].len = len;
    q->npending++;
    return 0;
}

static int drop_cluster(struct qcow2 *q, uint64_t c)
{
    if (refcount_add(q, c, -1) < 0)
        return -1;
    uint64_t rc;
    if (qcow2_refcount_get(q, c, &rc) < 0)
        return -1;
    if (rc == 0) {
        if (c < q->free_hint)
            q->free_hint = c;
        /* Give the space back to the host; advisory. */
        fallocate(q->img->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                  (off_t)(c << q->cluster_bits), (off_t)q->cluster_size);
    }
    return 0;
}

int qcow2_free_pending(struct qcow2 *q)
{
    size_t i;
    for (i = 0; i < q->npending; i++) {
        struct qcow2_free *f = &q->pending[i];
        uint64_t first = f->offset >> q->cluster_bits;
        uint64_t last = (f->offset + f->len - 1) >> q->cluster_bits;
        for (uint64_t c = first; c <= last; c++)
            if (drop_cluster(q, c) < 0)
                goto fail;
    }
    q->npending = 0;
    q->zcached = 0;
    q->zpack = 0; /* it may have been freed: compressed writes start a new one */
    return 0;
fail:
    memmove(q->pending, q->pending + i + 1, (q->npending - i - 1) * sizeof(*q->pending));
    q->npending -= i + 1;
    return -1;
}

int qcow2_release_reservations(struct qcow2 *q)
{
    for (; q->resv_head < q->resv_n; q->resv_head++) {
        uint64_t c = q->resv[q->resv_head] >> q->cluster_bits;
        if (refcount_add(q, c, -1) < 0)
            return -1;
        if (c < q->free_hint)
            q->free_hint = c;
    }
    q->resv_head = q->resv_n = 0;
    /* Drop free clusters at the end of the file (left by reservations). */
    uint64_t end = q->file_size >> q->cluster_bits;
    uint64_t keep = end;
    for (unsigned n = 0; keep > 1 && n < TRIM_SCAN_MAX; n++) {
        uint64_t rc;
        if (qcow2_meta_find(q, (keep - 1) << q->cluster_bits) >= 0)
            break;
        if (qcow2_refcount_get(q, keep - 1, &rc) < 0)
            return -1;
        if (rc != 0)
            break;
        keep--;
    }
    if (keep < end && (q->file_size & (q->cluster_size - 1)) == 0) {
        if (ftruncate(q->img->fd, (off_t)(keep << q->cluster_bits)) < 0)
            return err_errno("%s: trim file", q->img->path);
        q->file_size = keep << q->cluster_bits;
        if (q->free_hint > keep)
            q->free_hint = keep;
    }
    return 0;
}
