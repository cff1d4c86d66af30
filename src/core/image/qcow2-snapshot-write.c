/* Creating, applying and deleting qcow2 internal snapshots.
 *
 * Crash safety. Each operation is one transaction that never changes a byte
 * the current header reaches. Everything it needs — the new active L1
 * table, copies of the L2 tables whose COPIED flags must change, the new
 * snapshot table, a new refcount table with new copies of every refcount
 * block whose counts change — is written to clusters past the end of the
 * file, then fdatasync, then ONE write of header bytes 24..71 (size, L1 size
 * and offset, refcount table offset and size, snapshot count and offset:
 * one sector, so it lands whole or not at all), then fdatasync again.
 * Killed before the header write, the image is the old one with some
 * unreferenced bytes at its end; after it, the new one. `qemu-img check`
 * finds neither corruptions nor leaks in either.
 *
 * Why not update in place as QEMU does: a data cluster going from one user
 * to two needs its refcount raised and the COPIED flag of its active L2
 * entry cleared; those are two writes, and `qemu-img check` calls the state
 * between them a corruption (COPIED must be set exactly when the refcount
 * is 1). Only switching whole tables through the header avoids that state.
 *
 * Reference counting follows the format: a data cluster counts one
 * reference per (L1 table, L2 table) path reaching it, so an L2 table
 * shared by two L1 tables gives each of its data clusters two references.
 * Active entries carry COPIED exactly when the final refcount is 1; snapshot
 * tables are never checked for it and are left as they are.
 */
#include "core/image/qcow2.h"
#include "core/base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SNAP_FIXED 40
#define SNAP_EXTRA 24 /* vm_state_size, disk_size, icount: what QEMU writes */
#define SNAP_MAX_NAME 65535
#define HDR_SWITCH_OFF 24
#define HDR_SWITCH_LEN 48

/* A change to one cluster's refcount: ADD references, or FRESH (a cluster
 * this transaction allocated: its count becomes 1 whatever it was). */
struct delta {
    uint64_t cluster;
    int64_t add;
    bool fresh;
};

struct txn {
    struct qcow2 *q;
    uint64_t next; /* first cluster past everything: new clusters go here */
    struct delta *d;
    size_t nd, cap;
    size_t nsorted; /* d[0, nsorted) is sorted with one entry per cluster */
    uint8_t *buf;   /* one cluster */
};

/* What the header will say once the transaction commits. */
struct new_header {
    uint64_t size;
    uint32_t l1_size;
    uint64_t l1_offset;
    uint32_t nb_snapshots;
    uint64_t snapshots_offset;
};

static int txn_push(struct txn *t, uint64_t cluster, int64_t add, bool fresh)
{
    if (t->nd == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        struct delta *d = realloc(t->d, cap * sizeof(*d));
        if (!d)
            return err_set("out of memory");
        t->d = d;
        t->cap = cap;
    }
    t->d[t->nd++] = (struct delta){.cluster = cluster, .add = add, .fresh = fresh};
    return 0;
}

/* Adds ADD references to every cluster of the byte range [off, off+len). */
static int txn_range(struct txn *t, uint64_t off, uint64_t len, int64_t add)
{
    if (len == 0)
        return 0;
    uint64_t last = (off + len - 1) >> t->q->cluster_bits;
    for (uint64_t c = off >> t->q->cluster_bits; c <= last; c++)
        if (txn_push(t, c, add, false) < 0)
            return -1;
    return 0;
}

/* N new clusters at the end; returns the byte offset of the first. */
static int txn_alloc(struct txn *t, uint64_t n, uint64_t *off)
{
    *off = t->next << t->q->cluster_bits;
    for (uint64_t i = 0; i < n; i++)
        if (txn_push(t, t->next++, 0, true) < 0)
            return -1;
    return 0;
}

static int delta_cmp(const void *a, const void *b)
{
    const struct delta *x = a, *y = b;
    return x->cluster < y->cluster ? -1 : x->cluster > y->cluster;
}

static void txn_merge(struct txn *t)
{
    qsort(t->d, t->nd, sizeof(*t->d), delta_cmp);
    size_t out = 0;
    for (size_t i = 0; i < t->nd; i++) {
        if (out && t->d[out - 1].cluster == t->d[i].cluster) {
            t->d[out - 1].add += t->d[i].add;
            t->d[out - 1].fresh |= t->d[i].fresh;
        } else {
            t->d[out++] = t->d[i];
        }
    }
    t->nd = t->nsorted = out;
}

/* The refcount CLUSTER will have (looks only at the merged deltas). */
static int txn_final_rc(struct txn *t, uint64_t cluster, uint64_t *rc)
{
    size_t lo = 0, hi = t->nsorted;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->d[mid].cluster < cluster)
            lo = mid + 1;
        else
            hi = mid;
    }
    const struct delta *d = lo < t->nsorted && t->d[lo].cluster == cluster ? &t->d[lo] : NULL;
    if (d && d->fresh) {
        *rc = 1;
        return 0;
    }
    uint64_t cur;
    if (qcow2_refcount_get(t->q, cluster, &cur) < 0)
        return -1;
    int64_t v = (int64_t)cur + (d ? d->add : 0);
    *rc = v < 0 ? 0 : (uint64_t)v;
    return 0;
}

static int bad_table(struct qcow2 *q, const char *what, uint64_t off)
{
    errno = EINVAL;
    return err_set("%s: qcow2 %s at 0x%llx is outside the file or not cluster aligned; run "
                   "'qemu-img check'",
                   q->img->path, what, (unsigned long long)off);
}

static int check_cluster(struct qcow2 *q, const char *what, uint64_t off)
{
    if ((off & (q->cluster_size - 1)) || off < q->cluster_size ||
        off + q->cluster_size > q->file_size)
        return bad_table(q, what, off);
    return 0;
}

static int read_cluster(struct qcow2 *q, uint64_t off, uint8_t *buf)
{
    return image_pread_full(q->img, buf, q->cluster_size, off, false);
}

/* The data clusters one L2 entry holds a reference to, as a byte range. */
static int entry_range(struct qcow2 *q, uint64_t e, uint64_t *off, uint64_t *len)
{
    *off = *len = 0;
    if (e & QCOW2_COMPRESSED) {
        unsigned x = 62 - (q->cluster_bits - 8);
        uint64_t host = e & ((1ull << x) - 1);
        uint64_t nsect = ((e >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
        uint64_t bytes = nsect * 512 - (host & 511);
        if (host < q->cluster_size || host >= q->file_size)
            return bad_table(q, "compressed cluster", host);
        *off = host;
        *len = host + bytes > q->file_size ? q->file_size - host : bytes;
        return 0;
    }
    uint64_t host = e & QCOW2_OFFSET_MASK;
    if (!host)
        return 0;
    if (check_cluster(q, "data cluster", host) < 0)
        return -1;
    *off = host;
    *len = q->cluster_size;
    return 0;
}

/* ADD references to the L2 tables of L1 and to every data cluster they map. */
static int l1_refs(struct txn *t, const uint64_t *l1, uint32_t n, int64_t add)
{
    struct qcow2 *q = t->q;
    uint64_t per = q->cluster_size / 8;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK;
        if (!l2)
            continue;
        if (check_cluster(q, "L2 table", l2) < 0 || read_cluster(q, l2, t->buf) < 0 ||
            txn_push(t, l2 >> q->cluster_bits, add, false) < 0)
            return -1;
        for (uint64_t j = 0; j < per; j++) {
            uint64_t off, len;
            if (entry_range(q, be64_get(t->buf + 8 * j), &off, &len) < 0 ||
                txn_range(t, off, len, add) < 0)
                return -1;
        }
    }
    return 0;
}

static int read_l1(struct qcow2 *q, uint64_t off, uint32_t n, uint32_t room, uint64_t **out)
{
    uint64_t *l1 = calloc(room ? room : 1, sizeof(uint64_t));
    uint8_t *raw = malloc(n ? (size_t)n * 8 : 1);
    int rc = l1 && raw ? 0 : err_set("out of memory");
    if (rc == 0 && n)
        rc = image_pread_full(q->img, raw, (size_t)n * 8, off, false);
    for (uint32_t i = 0; rc == 0 && i < n; i++)
        l1[i] = be64_get(raw + 8 * i);
    free(raw);
    if (rc < 0) {
        free(l1);
        return -1;
    }
    *out = l1;
    return 0;
}

/* Gives the active table L1 the COPIED flags its final refcounts call for.
 * An L2 table whose data entries need a flag changed is copied (the old
 * one may still be reachable from the current header, so it is never
 * written in place). */
static int fix_active_flags(struct txn *t, uint64_t *l1, uint32_t n)
{
    struct qcow2 *q = t->q;
    uint64_t per = q->cluster_size / 8;
    txn_merge(t);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t l2 = l1[i] & QCOW2_OFFSET_MASK;
        if (!l2) {
            l1[i] = 0;
            continue;
        }
        if (read_cluster(q, l2, t->buf) < 0)
            return -1;
        bool changed = false;
        for (uint64_t j = 0; j < per; j++) {
            uint64_t e = be64_get(t->buf + 8 * j);
            uint64_t host = e & QCOW2_OFFSET_MASK;
            if ((e & QCOW2_COMPRESSED) || !host)
                continue;
            uint64_t rc;
            if (txn_final_rc(t, host >> q->cluster_bits, &rc) < 0)
                return -1;
            uint64_t want = rc == 1 ? e | QCOW2_COPIED : e & ~QCOW2_COPIED;
            if (want != e) {
                be64_put(t->buf + 8 * j, want);
                changed = true;
            }
        }
        if (changed) {
            uint64_t copy;
            if (txn_alloc(t, 1, &copy) < 0 ||
                image_pwrite_full(q->img, t->buf, q->cluster_size, copy) < 0 ||
                txn_push(t, l2 >> q->cluster_bits, -1, false) < 0)
                return -1;
            l1[i] = copy | QCOW2_COPIED;
        } else {
            uint64_t rc;
            if (txn_final_rc(t, l2 >> q->cluster_bits, &rc) < 0)
                return -1;
            l1[i] = rc == 1 ? l2 | QCOW2_COPIED : l2;
        }
    }
    return 0;
}

static uint64_t clusters_for(const struct qcow2 *q, uint64_t bytes)
{
    return (bytes + q->cluster_size - 1) >> q->cluster_bits;
}

/* Writes L1 (N entries) to new clusters; *off = 0 when N is 0. */
static int write_l1(struct txn *t, const uint64_t *l1, uint32_t n, uint64_t *off)
{
    struct qcow2 *q = t->q;
    *off = 0;
    if (n == 0)
        return 0;
    uint64_t nc = clusters_for(q, (uint64_t)n * 8);
    uint8_t *raw = calloc(nc, q->cluster_size);
    if (!raw)
        return err_set("out of memory");
    for (uint32_t i = 0; i < n; i++)
        be64_put(raw + 8 * i, l1[i]);
    int rc = txn_alloc(t, nc, off);
    if (rc == 0)
        rc = image_pwrite_full(q->img, raw, nc << q->cluster_bits, *off);
    free(raw);
    return rc;
}

/* Writes a snapshot table of LEN bytes to new clusters and drops the old. */
static int write_snapshot_table(struct txn *t, const uint8_t *table, uint64_t len, uint64_t *off)
{
    struct qcow2 *q = t->q;
    *off = 0;
    if (q->nb_snapshots && txn_range(t, q->snapshots_offset, q->snapshots_size, -1) < 0)
        return -1;
    if (len == 0)
        return 0;
    uint64_t nc = clusters_for(q, len);
    uint8_t *raw = calloc(nc, q->cluster_size);
    if (!raw)
        return err_set("out of memory");
    memcpy(raw, table, len);
    int rc = txn_alloc(t, nc, off);
    if (rc == 0)
        rc = image_pwrite_full(q->img, raw, nc << q->cluster_bits, *off);
    free(raw);
    return rc;
}

static int read_snapshot_table(struct qcow2 *q, uint8_t **out)
{
    *out = malloc(q->snapshots_size + 1);
    if (!*out)
        return err_set("out of memory");
    if (q->snapshots_size &&
        image_pread_full(q->img, *out, q->snapshots_size, q->snapshots_offset, false) < 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* ---- the new refcount structures ---- */

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Adds the refcount block index of every delta to the sorted set BLOCKS. */
static int blocks_of(const struct txn *t, const struct delta *d, size_t nd, uint64_t **blocks,
                     size_t *nb)
{
    uint64_t *b = realloc(*blocks, (*nb + nd + 1) * sizeof(uint64_t));
    if (!b)
        return err_set("out of memory");
    for (size_t i = 0; i < nd; i++)
        b[(*nb)++] = d[i].cluster >> t->q->rb_bits;
    qsort(b, *nb, sizeof(uint64_t), u64_cmp);
    size_t out = 0;
    for (size_t i = 0; i < *nb; i++)
        if (!out || b[out - 1] != b[i])
            b[out++] = b[i];
    *nb = out;
    *blocks = b;
    return 0;
}

/* The deltas that placing NB new refcount blocks and a new refcount table
 * of *RT_CLUSTERS at cluster START brings: the new clusters, and the old
 * blocks and table going away. */
static int layout_deltas(struct txn *t, uint64_t start, const uint64_t *blocks, size_t nb,
                         uint64_t *rt_entries, uint64_t *rt_clusters, struct delta **out,
                         size_t *nout)
{
    struct qcow2 *q = t->q;
    uint64_t per = q->cluster_size / 8;
    uint64_t entries = q->reftable_entries;
    if (nb && blocks[nb - 1] + 1 > entries)
        entries = blocks[nb - 1] + 1;
    uint64_t rtc;
    for (;;) {
        rtc = (entries + per - 1) / per;
        uint64_t last = start + nb + rtc - 1;
        if ((last >> q->rb_bits) + 1 <= entries)
            break;
        entries = (last >> q->rb_bits) + 1;
    }
    if ((rtc << q->cluster_bits) > QCOW2_MAX_REFTABLE_BYTES) {
        errno = ENOSPC;
        return err_set("%s: refcount table would exceed %u MiB", q->img->path,
                       QCOW2_MAX_REFTABLE_BYTES >> 20);
    }
    size_t n = 0, cap = nb + rtc + nb + q->reftable_clusters;
    struct delta *d = calloc(cap ? cap : 1, sizeof(*d));
    if (!d)
        return err_set("out of memory");
    for (uint64_t c = start; c < start + nb + rtc; c++)
        d[n++] = (struct delta){.cluster = c, .fresh = true};
    for (size_t k = 0; k < nb; k++)
        if (blocks[k] < q->reftable_entries && q->reftable[blocks[k]])
            d[n++] =
                (struct delta){.cluster = q->reftable[blocks[k]] >> q->cluster_bits, .add = -1};
    for (uint64_t c = 0; c < q->reftable_clusters; c++)
        d[n++] = (struct delta){.cluster = (q->reftable_offset >> q->cluster_bits) + c, .add = -1};
    *out = d;
    *nout = n;
    *rt_entries = entries;
    *rt_clusters = rtc;
    return 0;
}

/* Applies the merged deltas for the clusters of block BI to the block RB. */
static int apply_block(struct txn *t, uint64_t bi, uint8_t *rb, size_t *di, uint64_t *punch,
                       size_t *npunch)
{
    struct qcow2 *q = t->q;
    uint64_t span = 1ull << q->rb_bits;
    for (; *di < t->nd && (t->d[*di].cluster >> q->rb_bits) == bi; (*di)++) {
        const struct delta *d = &t->d[*di];
        uint64_t idx = d->cluster & (span - 1);
        uint64_t old = qcow2_rb_get(q, rb, idx);
        int64_t v = d->fresh ? 1 : (int64_t)old + d->add;
        if (v < 0) {
            errno = EIO;
            return err_set("%s: refcount of cluster 0x%llx would drop below zero: the image's "
                           "refcounts are wrong; repair with 'qemu-img check -r all'",
                           q->img->path, (unsigned long long)(d->cluster << q->cluster_bits));
        }
        if ((uint64_t)v > qcow2_refcount_max(q)) {
            errno = EOVERFLOW;
            return err_set("%s: cluster 0x%llx would be shared more than %llu times (refcount "
                           "bits %u)",
                           q->img->path, (unsigned long long)(d->cluster << q->cluster_bits),
                           (unsigned long long)qcow2_refcount_max(q), 1u << q->refcount_order);
        }
        qcow2_rb_set(q, rb, idx, (uint64_t)v);
        if (v == 0 && old > 0 && !d->fresh)
            punch[(*npunch)++] = d->cluster;
    }
    return 0;
}

/* Writes new copies of every refcount block the deltas touch and a new
 * refcount table naming them. *PUNCH (freed by the caller) lists the
 * clusters whose count drops to zero. */
static int write_refcounts(struct txn *t, uint64_t *rt_off, uint32_t *rt_clusters, uint64_t **punch,
                           size_t *npunch)
{
    struct qcow2 *q = t->q;
    txn_merge(t);
    uint64_t *blocks = NULL, entries = 0, rtc = 0;
    size_t nb = 0, nextra = 0;
    struct delta *extra = NULL;
    uint64_t start = t->next;
    int rc = blocks_of(t, t->d, t->nd, &blocks, &nb);
    /* New blocks and their table add deltas that may touch more blocks:
     * grow the set until it covers them all (it only grows, so this ends). */
    while (rc == 0) {
        free(extra);
        extra = NULL;
        size_t before = nb;
        rc = layout_deltas(t, start, blocks, nb, &entries, &rtc, &extra, &nextra);
        if (rc == 0)
            rc = blocks_of(t, extra, nextra, &blocks, &nb);
        if (rc < 0 || nb == before)
            break;
    }
    for (size_t i = 0; rc == 0 && i < nextra; i++)
        rc = txn_push(t, extra[i].cluster, extra[i].add, extra[i].fresh);
    free(extra);
    uint64_t *table = NULL;
    uint8_t *raw = NULL;
    *punch = NULL;
    *npunch = 0;
    if (rc == 0) {
        t->next = start + nb + rtc;
        txn_merge(t);
        table = calloc(entries, sizeof(uint64_t));
        raw = calloc(rtc, q->cluster_size);
        *punch = malloc((t->nd + 1) * sizeof(uint64_t));
        if (!table || !raw || !*punch)
            rc = err_set("out of memory");
    }
    if (rc == 0)
        memcpy(table, q->reftable, q->reftable_entries * sizeof(uint64_t));
    size_t di = 0;
    for (size_t k = 0; rc == 0 && k < nb; k++) {
        uint64_t bi = blocks[k];
        uint64_t old = bi < q->reftable_entries ? q->reftable[bi] : 0;
        if (old)
            rc = read_cluster(q, old, t->buf);
        else
            memset(t->buf, 0, q->cluster_size);
        while (rc == 0 && di < t->nd && (t->d[di].cluster >> q->rb_bits) < bi)
            di++; /* cannot happen: every delta's block is in the set */
        if (rc == 0)
            rc = apply_block(t, bi, t->buf, &di, *punch, npunch);
        uint64_t at = (start + k) << q->cluster_bits;
        if (rc == 0)
            rc = image_pwrite_full(q->img, t->buf, q->cluster_size, at);
        table[bi] = at;
    }
    if (rc == 0) {
        for (uint64_t i = 0; i < entries; i++)
            be64_put(raw + 8 * i, table[i]);
        *rt_off = (start + nb) << q->cluster_bits;
        *rt_clusters = (uint32_t)rtc;
        rc = image_pwrite_full(q->img, raw, rtc << q->cluster_bits, *rt_off);
    }
    free(blocks);
    free(table);
    free(raw);
    return rc;
}

/* Writes the refcounts, makes everything durable and switches the header. */
static int txn_commit(struct txn *t, const struct new_header *h)
{
    struct qcow2 *q = t->q;
    uint64_t rt_off = 0, *punch = NULL;
    uint32_t rt_clusters = 0;
    size_t npunch = 0;
    uint64_t old_end = q->file_size;
    if (write_refcounts(t, &rt_off, &rt_clusters, &punch, &npunch) < 0)
        goto fail;
    uint64_t end = t->next << q->cluster_bits;
    if (end > q->file_size && ftruncate(q->img->fd, (off_t)end) < 0) {
        err_errno("%s: grow file", q->img->path);
        goto fail;
    }
    if (qcow2_sync(q) < 0)
        goto fail;
    uint8_t hdr[HDR_SWITCH_LEN] = {0};
    be64_put(hdr + 0, h->size);
    be32_put(hdr + 8, 0); /* crypt_method */
    be32_put(hdr + 12, h->l1_size);
    be64_put(hdr + 16, h->l1_offset);
    be64_put(hdr + 24, rt_off);
    be32_put(hdr + 32, rt_clusters);
    be32_put(hdr + 36, h->nb_snapshots);
    be64_put(hdr + 40, h->snapshots_offset);
    if (image_pwrite_full(q->img, hdr, sizeof(hdr), HDR_SWITCH_OFF) < 0 || qcow2_sync(q) < 0)
        goto fail;
    /* Advisory: give freed space back to the host. */
    for (size_t i = 0; i < npunch; i++)
        if ((punch[i] << q->cluster_bits) < old_end)
            fallocate(q->img->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                      (off_t)(punch[i] << q->cluster_bits), (off_t)q->cluster_size);
    free(punch);
    return qcow2_reload(q->img);
fail:
    free(punch);
    return -1;
}

static int txn_begin(struct qcow2 *q, struct txn *t)
{
    memset(t, 0, sizeof(*t));
    t->q = q;
    if (q->broken) {
        errno = EIO;
        return err_set("%s: image was marked corrupt; check it with 'qemu-img check'",
                       q->img->path);
    }
    if (qcow2_quiesce(q) < 0)
        return -1;
    t->next = clusters_for(q, q->file_size);
    t->buf = qcow2_alloc_cluster_buf(q->cluster_size);
    return t->buf ? 0 : err_set("out of memory");
}

static void txn_end(struct txn *t)
{
    free(t->d);
    free(t->buf);
}

/* ---- the operations ---- */

static int find_snapshot(struct qcow2 *q, const char *id_or_name)
{
    for (uint32_t i = 0; i < q->nb_snapshots; i++)
        if (!strcmp(q->snapshots[i].id, id_or_name))
            return (int)i;
    for (uint32_t i = 0; i < q->nb_snapshots; i++)
        if (!strcmp(q->snapshots[i].name, id_or_name))
            return (int)i;
    return -1;
}

static struct qcow2 *writable_qcow2(struct image *img, const char *what)
{
    if (img->format != IMAGE_FORMAT_QCOW2) {
        errno = ENOTSUP;
        err_set("%s: %s: internal snapshots need a qcow2 image (this one is %s)", img->path, what,
                image_format_name(img->format));
        return NULL;
    }
    return qcow2_of(img);
}

static char *new_snapshot_id(const struct qcow2 *q)
{
    unsigned long long max = 0;
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        char *end;
        unsigned long long v = strtoull(q->snapshots[i].id, &end, 10);
        if (*end == '\0' && v > max)
            max = v;
    }
    char buf[24];
    snprintf(buf, sizeof(buf), "%llu", max + 1);
    return strdup(buf);
}

/* Appends one table entry for the snapshot of the current state to TABLE. */
static int append_entry(struct qcow2 *q, uint8_t **table, uint64_t *len, const char *id,
                        const char *name, uint64_t vm_clock_nsec)
{
    size_t id_len = strlen(id), name_len = strlen(name);
    uint64_t entry = (SNAP_FIXED + SNAP_EXTRA + id_len + name_len + 7) & ~7ull;
    uint8_t *t = realloc(*table, *len + entry);
    if (!t)
        return err_set("out of memory");
    *table = t;
    uint8_t *p = t + *len;
    memset(p, 0, entry);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    be64_put(p, q->l1_offset);
    be32_put(p + 8, q->l1_size);
    be16_put(p + 12, (uint16_t)id_len);
    be16_put(p + 14, (uint16_t)name_len);
    be32_put(p + 16, (uint32_t)now.tv_sec);
    be32_put(p + 20, (uint32_t)now.tv_nsec);
    be64_put(p + 24, vm_clock_nsec);
    be32_put(p + 36, SNAP_EXTRA);
    be64_put(p + 40 + 8, q->size); /* extra: vm_state_size 0, disk size, icount 0 */
    memcpy(p + SNAP_FIXED + SNAP_EXTRA, id, id_len);
    memcpy(p + SNAP_FIXED + SNAP_EXTRA + id_len, name, name_len);
    *len += entry;
    return 0;
}

static int do_create(struct qcow2 *q, const char *name, uint64_t vm_clock_nsec)
{
    struct txn t;
    uint64_t *l1 = NULL;
    uint8_t *table = NULL;
    char *id = NULL;
    int rc = txn_begin(q, &t);
    /* The snapshot keeps the current L1 table (its clusters change owner,
     * not count); the active state gets a copy. Every L2 table and data
     * cluster it reaches gains the snapshot's path. */
    if (rc == 0)
        rc = read_l1(q, q->l1_offset, q->l1_size, q->l1_size, &l1);
    if (rc == 0)
        rc = l1_refs(&t, l1, q->l1_size, 1);
    if (rc == 0)
        rc = fix_active_flags(&t, l1, q->l1_size);
    uint64_t l1_off = 0, table_off = 0, len = q->snapshots_size;
    if (rc == 0)
        rc = write_l1(&t, l1, q->l1_size, &l1_off);
    if (rc == 0)
        rc = read_snapshot_table(q, &table);
    if (rc == 0 && !(id = new_snapshot_id(q)))
        rc = err_set("out of memory");
    if (rc == 0)
        rc = append_entry(q, &table, &len, id, name, vm_clock_nsec);
    if (rc == 0)
        rc = write_snapshot_table(&t, table, len, &table_off);
    if (rc == 0) {
        struct new_header h = {q->size, q->l1_size, l1_off, q->nb_snapshots + 1, table_off};
        rc = txn_commit(&t, &h);
    }
    free(id);
    free(table);
    free(l1);
    txn_end(&t);
    return rc;
}

/* The table without entry SKIP. */
static int table_without(struct qcow2 *q, uint32_t skip, uint8_t **out, uint64_t *len)
{
    uint8_t *table;
    if (read_snapshot_table(q, &table) < 0)
        return -1;
    uint64_t pos = 0, out_len = 0;
    for (uint32_t i = 0; i < q->nb_snapshots; i++) {
        uint64_t n = qcow2_snapshot_entry_len(table + pos);
        if (i != skip) {
            memmove(table + out_len, table + pos, n);
            out_len += n;
        }
        pos += n;
    }
    *out = table;
    *len = out_len;
    return 0;
}

static int do_delete(struct qcow2 *q, uint32_t idx)
{
    struct txn t;
    const struct image_snapshot *sn = &q->snapshots[idx];
    uint64_t *snl1 = NULL, *l1 = NULL;
    uint8_t *table = NULL;
    uint64_t len = 0, l1_off = 0, table_off = 0;
    int rc = txn_begin(q, &t);
    if (rc == 0)
        rc = read_l1(q, sn->l1_table_offset, sn->l1_size, sn->l1_size, &snl1);
    if (rc == 0)
        rc = l1_refs(&t, snl1, sn->l1_size, -1);
    if (rc == 0)
        rc = txn_range(&t, sn->l1_table_offset, (uint64_t)sn->l1_size * 8, -1);
    if (rc == 0)
        rc = table_without(q, idx, &table, &len);
    if (rc == 0)
        rc = write_snapshot_table(&t, table, len, &table_off);
    /* What only the snapshot shared is the active state's alone now. */
    if (rc == 0)
        rc = read_l1(q, q->l1_offset, q->l1_size, q->l1_size, &l1);
    if (rc == 0)
        rc = txn_range(&t, q->l1_offset, (uint64_t)q->l1_size * 8, -1);
    if (rc == 0)
        rc = fix_active_flags(&t, l1, q->l1_size);
    if (rc == 0)
        rc = write_l1(&t, l1, q->l1_size, &l1_off);
    if (rc == 0) {
        struct new_header h = {q->size, q->l1_size, l1_off, q->nb_snapshots - 1, table_off};
        rc = txn_commit(&t, &h);
    }
    free(table);
    free(snl1);
    free(l1);
    txn_end(&t);
    return rc;
}

static int do_apply(struct qcow2 *q, uint32_t idx)
{
    struct txn t;
    const struct image_snapshot *sn = &q->snapshots[idx];
    uint64_t size = sn->disk_size ? sn->disk_size : q->size;
    uint64_t span_bits = q->cluster_bits + q->l2_bits;
    uint64_t need = (size + (1ull << span_bits) - 1) >> span_bits;
    uint32_t n = sn->l1_size > need ? sn->l1_size : (uint32_t)need;
    uint64_t *old = NULL, *l1 = NULL, l1_off = 0;
    int rc = txn_begin(q, &t);
    if (rc == 0 && need * 8 > QCOW2_MAX_L1_BYTES)
        rc = bad_table(q, "snapshot disk size", size);
    if (rc == 0)
        rc = read_l1(q, q->l1_offset, q->l1_size, q->l1_size, &old);
    if (rc == 0)
        rc = l1_refs(&t, old, q->l1_size, -1);
    if (rc == 0)
        rc = txn_range(&t, q->l1_offset, (uint64_t)q->l1_size * 8, -1);
    if (rc == 0)
        rc = read_l1(q, sn->l1_table_offset, sn->l1_size, n, &l1);
    if (rc == 0)
        rc = l1_refs(&t, l1, sn->l1_size, 1);
    if (rc == 0)
        rc = fix_active_flags(&t, l1, n);
    if (rc == 0)
        rc = write_l1(&t, l1, n, &l1_off);
    if (rc == 0) {
        struct new_header h = {size, n, l1_off, q->nb_snapshots, q->snapshots_offset};
        rc = txn_commit(&t, &h);
    }
    free(old);
    free(l1);
    txn_end(&t);
    return rc;
}

int image_snapshot_create(struct image *img, const char *name, uint64_t vm_clock_nsec)
{
    struct qcow2 *q = writable_qcow2(img, "create snapshot");
    if (!q)
        return -1;
    if (!name[0] || strlen(name) > SNAP_MAX_NAME)
        return errno = EINVAL,
               err_set("%s: snapshot name must have 1 to %d bytes", img->path, SNAP_MAX_NAME);
    if (q->nb_snapshots >= QCOW2_MAX_SNAPSHOTS)
        return errno = ENOSPC, err_set("%s: already %d snapshots", img->path, QCOW2_MAX_SNAPSHOTS);
    pthread_mutex_lock(&img->lock);
    int rc = do_create(q, name, vm_clock_nsec);
    pthread_mutex_unlock(&img->lock);
    return rc;
}

static int by_name(struct image *img, const char *id_or_name, const char *what,
                   int (*op)(struct qcow2 *, uint32_t))
{
    struct qcow2 *q = writable_qcow2(img, what);
    if (!q)
        return -1;
    pthread_mutex_lock(&img->lock);
    int i = find_snapshot(q, id_or_name);
    int rc = i < 0 ? (errno = ENOENT, err_set("%s: no snapshot '%s'", img->path, id_or_name))
                   : op(q, (uint32_t)i);
    pthread_mutex_unlock(&img->lock);
    return rc;
}

int image_snapshot_apply(struct image *img, const char *id_or_name)
{
    return by_name(img, id_or_name, "apply snapshot", do_apply);
}

int image_snapshot_delete(struct image *img, const char *id_or_name)
{
    return by_name(img, id_or_name, "delete snapshot", do_delete);
}

/* Compares the mapping of the active L1 table with snapshot SN's: the same
 * L2 entries (COPIED aside) mean no write reached the disk since. Reads
 * only metadata: at most two L2 tables per L1 entry. */
static int mapping_differs(struct qcow2 *q, const struct image_snapshot *sn, bool *differs)
{
    uint64_t *snl1 = NULL, *l1 = NULL;
    uint8_t *a = qcow2_alloc_cluster_buf(q->cluster_size),
            *b = qcow2_alloc_cluster_buf(q->cluster_size);
    uint32_t n = sn->l1_size > q->l1_size ? sn->l1_size : q->l1_size;
    int rc = a && b ? 0 : err_set("out of memory");
    *differs = sn->disk_size && sn->disk_size != q->size;
    if (rc == 0)
        rc = read_l1(q, sn->l1_table_offset, sn->l1_size, n, &snl1);
    if (rc == 0)
        rc = read_l1(q, q->l1_offset, q->l1_size, n, &l1);
    for (uint32_t i = 0; rc == 0 && !*differs && i < n; i++) {
        uint64_t x = snl1[i] & QCOW2_OFFSET_MASK, y = l1[i] & QCOW2_OFFSET_MASK;
        if (x == y)
            continue;
        if (!x || !y) {
            *differs = true;
            break;
        }
        if (check_cluster(q, "L2 table", x) < 0 || check_cluster(q, "L2 table", y) < 0 ||
            read_cluster(q, x, a) < 0 || read_cluster(q, y, b) < 0) {
            rc = -1;
            break;
        }
        for (uint64_t j = 0; j < q->cluster_size / 8; j++)
            if ((be64_get(a + 8 * j) & ~QCOW2_COPIED) != (be64_get(b + 8 * j) & ~QCOW2_COPIED)) {
                *differs = true;
                break;
            }
    }
    free(snl1);
    free(l1);
    free(a);
    free(b);
    return rc;
}

int image_snapshot_differs(struct image *img, const char *id_or_name, bool *differs)
{
    *differs = true;
    if (img->format != IMAGE_FORMAT_QCOW2)
        return 0;
    struct qcow2 *q = qcow2_of(img);
    pthread_mutex_lock(&img->lock);
    int i = find_snapshot(q, id_or_name);
    int rc = 0;
    if (i >= 0 && !qcow2_cache_dirty(&q->l2_cache))
        rc = mapping_differs(q, &q->snapshots[i], differs);
    pthread_mutex_unlock(&img->lock);
    return rc;
}

bool image_has_snapshot(struct image *img, const char *id_or_name)
{
    if (img->format != IMAGE_FORMAT_QCOW2)
        return false;
    pthread_mutex_lock(&img->lock);
    bool found = find_snapshot(qcow2_of(img), id_or_name) >= 0;
    pthread_mutex_unlock(&img->lock);
    return found;
}
