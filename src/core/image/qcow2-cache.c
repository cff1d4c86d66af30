/* LRU cache of cluster-sized metadata tables.
 *
 * Refcount blocks are write-through (the refcount code writes what it
 * changes at once, because refcounts must reach the disk before pointers).
 * L2 tables are write-back: an allocating write updates the cached table and
 * the table reaches the file at the next flush or eviction, after the
 * refcounts it depends on (already durable, see qcow2-refcount.c) and, when a
 * copy-on-write filled part of a new cluster, after a barrier for that data.
 */
#include "core/image/qcow2.h"
#include "core/base/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *qcow2_alloc_cluster_buf(uint64_t cluster_size)
{
    /* Page alignment suits every O_DIRECT device; aligned tables then reach
     * the disk without a trip through the bounce buffer. */
    void *p = NULL;
    return posix_memalign(&p, 4096, cluster_size) == 0 ? p : NULL;
}

int qcow2_cache_init(struct qcow2_cache *c, size_t nslots, uint64_t cluster_size, bool write_back)
{
    c->slots = calloc(nslots, sizeof(*c->slots));
    if (!c->slots)
        return err_set("out of memory");
    c->nslots = nslots;
    c->write_back = write_back;
    for (size_t i = 0; i < nslots; i++) {
        c->slots[i].data = qcow2_alloc_cluster_buf(cluster_size);
        if (!c->slots[i].data)
            return err_set("out of memory");
    }
    return 0;
}

void qcow2_cache_destroy(struct qcow2_cache *c)
{
    for (size_t i = 0; c->slots && i < c->nslots; i++)
        free(c->slots[i].data);
    free(c->slots);
    c->slots = NULL;
}

static bool entry_dirty(const struct qcow2_cache_entry *e)
{
    return e->dirty_lo < e->dirty_hi;
}

static int entry_writeback(struct qcow2 *q, struct qcow2_cache_entry *e)
{
    if (!entry_dirty(e))
        return 0;
    if (q->l2_barrier) {
        if (qcow2_sync(q) < 0)
            return -1;
        q->l2_barrier = false;
    }
    if (image_pwrite_full(q->img, e->data + e->dirty_lo, e->dirty_hi - e->dirty_lo,
                          e->offset + e->dirty_lo) < 0)
        return -1;
    e->dirty_lo = e->dirty_hi = 0;
    return 0;
}

uint8_t *qcow2_cache_get(struct qcow2 *q, struct qcow2_cache *c, uint64_t offset, bool is_new)
{
    struct qcow2_cache_entry *victim = NULL;
    c->tick++;
    for (size_t i = 0; i < c->nslots; i++) {
        struct qcow2_cache_entry *e = &c->slots[i];
        if (e->offset == offset) {
            e->last_use = c->tick;
            if (is_new)
                memset(e->data, 0, q->cluster_size);
            return e->data;
        }
        /* An empty slot wins; otherwise the least recently used one. */
        if (!victim || (victim->offset && (!e->offset || e->last_use < victim->last_use)))
            victim = e;
    }
    if (entry_writeback(q, victim) < 0)
        return NULL;
    victim->offset = 0;
    if (is_new) {
        memset(victim->data, 0, q->cluster_size);
    } else if (image_pread_full(q->img, victim->data, q->cluster_size, offset, false) < 0) {
        return NULL;
    }
    victim->offset = offset;
    victim->last_use = c->tick;
    return victim->data;
}

void qcow2_cache_mark_dirty(struct qcow2_cache *c, const uint8_t *table, uint32_t lo, uint32_t hi)
{
    for (size_t i = 0; i < c->nslots; i++) {
        struct qcow2_cache_entry *e = &c->slots[i];
        if (e->data != table)
            continue;
        if (!entry_dirty(e)) {
            e->dirty_lo = lo;
            e->dirty_hi = hi;
        } else {
            if (lo < e->dirty_lo)
                e->dirty_lo = lo;
            if (hi > e->dirty_hi)
                e->dirty_hi = hi;
        }
        return;
    }
}

int qcow2_cache_writeback(struct qcow2 *q, struct qcow2_cache *c)
{
    for (size_t i = 0; i < c->nslots; i++)
        if (entry_writeback(q, &c->slots[i]) < 0)
            return -1;
    return 0;
}

bool qcow2_cache_dirty(const struct qcow2_cache *c)
{
    for (size_t i = 0; i < c->nslots; i++)
        if (entry_dirty(&c->slots[i]))
            return true;
    return false;
}

void qcow2_cache_forget(struct qcow2_cache *c, uint64_t offset)
{
    for (size_t i = 0; i < c->nslots; i++) {
        if (c->slots[i].offset == offset) {
            c->slots[i].offset = 0;
            c->slots[i].dirty_lo = c->slots[i].dirty_hi = 0;
        }
    }
}
