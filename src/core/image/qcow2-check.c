/* qcow2 consistency check, as `qemu-img check` does it: every host cluster's
 * stored refcount must equal the number of references to it counted from
 * the image's own tables (header, L1 and L2 tables of the image and of its
 * snapshots, the refcount structures, the snapshot table). Read-only. */
#include "core/image/qcow2.h"
#include "core/base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct counter {
    struct qcow2 *q;
    uint32_t *refs;   /* expected refcount per host cluster */
    uint8_t *l2_seen; /* an L2 table's entries are counted once, however many L1s point at it */
    uint64_t nclusters;
    struct image_check *res;
    FILE *report;
    uint64_t last_data; /* the previous data cluster in this L2 table (fragmentation, as
                         * qemu-img counts it: per table) */
};

static void add_range(struct counter *c, uint64_t off, uint64_t len, const char *what)
{
    uint64_t first = off >> c->q->cluster_bits, last = (off + len - 1) >> c->q->cluster_bits;
    for (uint64_t k = first; len && k <= last; k++) {
        if (k >= c->nclusters) {
            if (c->report)
                fprintf(c->report, "ERROR %s at offset 0x%llx is past the end of the file\n", what,
                        (unsigned long long)(k << c->q->cluster_bits));
            c->res->corruptions++;
            continue;
        }
        c->refs[k]++;
    }
}

/* The data clusters one L2 table points at. ACTIVE: the image's own L1
 * (counted in the allocation figures). */
static int count_l2(struct counter *c, uint64_t l2off, bool active)
{
    struct qcow2 *q = c->q;
    uint64_t k = l2off >> q->cluster_bits;
    if (k < c->nclusters && c->l2_seen[k])
        return 0;
    if (k < c->nclusters)
        c->l2_seen[k] = 1;
    uint8_t *t = qcow2_cache_get(q, &q->l2_cache, l2off, false);
    if (!t)
        return -1;
    c->last_data = 0;
    unsigned x = 62 - (q->cluster_bits - 8);
    for (uint64_t i = 0; i < (1ull << q->l2_bits); i++) {
        uint64_t e = be64_get(t + 8 * i);
        if (e & QCOW2_COMPRESSED) {
            uint64_t host = e & ((1ull << x) - 1);
            uint64_t nsect = ((e >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
            add_range(c, host, nsect * 512 - (host & 511), "compressed cluster");
            /* QEMU counts every compressed cluster as fragmented: sub-sector
             * placement makes even neighbours re-read shared sectors. */
            if (active)
                c->res->allocated_clusters++, c->res->compressed_clusters++,
                    c->res->fragmented_clusters++;
            continue;
        }
        uint64_t host = e & QCOW2_OFFSET_MASK;
        if (!host)
            continue;
        add_range(c, host, q->cluster_size, "data cluster");
        if (active) {
            c->res->allocated_clusters++;
            if (c->last_data && host != c->last_data + q->cluster_size)
                c->res->fragmented_clusters++;
            c->last_data = host;
        }
    }
    return 0;
}

static int count_l1(struct counter *c, const uint64_t *l1, uint32_t n, bool active)
{
    for (uint32_t i = 0; i < n; i++) {
        uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK;
        if (!l2)
            continue;
        add_range(c, l2, c->q->cluster_size, "L2 table");
        if (count_l2(c, l2, active) < 0)
            return -1;
    }
    return 0;
}

static int count_snapshot(struct counter *c, const struct image_snapshot *s)
{
    if (!s->l1_size)
        return 0;
    add_range(c, s->l1_table_offset, (uint64_t)s->l1_size * 8, "snapshot L1 table");
    uint8_t *raw = malloc((size_t)s->l1_size * 8);
    uint64_t *l1 = calloc(s->l1_size, sizeof(uint64_t));
    int rc = raw && l1 ? 0 : err_set("out of memory");
    if (rc == 0)
        rc = image_pread_full(c->q->img, raw, (size_t)s->l1_size * 8, s->l1_table_offset, false);
    for (uint32_t i = 0; rc == 0 && i < s->l1_size; i++)
        l1[i] = be64_get(raw + 8 * i);
    if (rc == 0)
        rc = count_l1(c, l1, s->l1_size, false);
    free(raw);
    free(l1);
    return rc;
}

static int count_all(struct counter *c)
{
    struct qcow2 *q = c->q;
    add_range(c, 0, q->cluster_size, "header");
    if (q->l1_size)
        add_range(c, q->l1_offset, (uint64_t)q->l1_size * 8, "L1 table");
    add_range(c, q->reftable_offset, (uint64_t)q->reftable_clusters << q->cluster_bits,
              "refcount table");
    for (uint64_t i = 0; i < q->reftable_entries; i++) {
        if (q->reftable[i])
            add_range(c, q->reftable[i], q->cluster_size, "refcount block");
    }
    for (size_t i = 0; i < q->nmeta; i++) {
        if (q->meta[i].kind == QCOW2_META_SNAPSHOTS)
            add_range(c, q->meta[i].cluster << q->cluster_bits, q->cluster_size, "snapshot table");
    }
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        if (count_snapshot(c, &q->snapshots[i]) < 0)
            return -1;
    }
    return count_l1(c, q->l1, q->l1_size, true);
}

/* Stored against counted, cluster by cluster. */
static int compare(struct counter *c)
{
    struct qcow2 *q = c->q;
    for (uint64_t k = 0; k < c->nclusters; k++) {
        uint64_t stored;
        if (qcow2_refcount_get(q, k, &stored) < 0)
            return -1;
        if (stored)
            c->res->image_end_offset = (k + 1) << q->cluster_bits;
        if (stored == c->refs[k])
            continue;
        bool leak = stored > c->refs[k];
        if (c->report)
            fprintf(c->report, "%s cluster %llu refcount=%llu reference=%u\n",
                    leak ? "Leaked" : "ERROR", (unsigned long long)k, (unsigned long long)stored,
                    c->refs[k]);
        if (leak)
            c->res->leaks++;
        else
            c->res->corruptions++;
    }
    return 0;
}

int qcow2_check(struct image *img, FILE *report, struct image_check *res)
{
    struct qcow2 *q = qcow2_of(img);
    struct counter c = {.q = q, .res = res, .report = report};
    c.nclusters = (q->file_size + q->cluster_size - 1) >> q->cluster_bits;
    c.refs = calloc(c.nclusters ? c.nclusters : 1, sizeof(*c.refs));
    c.l2_seen = calloc(c.nclusters ? c.nclusters : 1, 1);
    int rc = c.refs && c.l2_seen ? 0 : err_set("out of memory");
    res->total_clusters = (q->size + q->cluster_size - 1) >> q->cluster_bits;
    if (rc == 0)
        rc = count_all(&c);
    if (rc == 0)
        rc = compare(&c);
    free(c.refs);
    free(c.l2_seen);
    return rc;
}
