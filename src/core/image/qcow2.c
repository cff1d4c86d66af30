/* qcow2 driver: header validation at open, and the read/write paths.
 * Allocation and its crash-safe ordering live in qcow2-refcount.c. */
#include "core/image/qcow2.h"
#include "core/base/err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define L2_CACHE_TABLES 32
#define RB_CACHE_BLOCKS 4
#define PENDING_FREE_FLUSH 4096

int qcow2_sync(struct qcow2 *q)
{
    if (fdatasync(q->img->fd) < 0)
        return err_errno("%s: sync", q->img->path);
    return 0;
}

int qcow2_signal_corruption(struct qcow2 *q, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (!q->broken && !q->img->read_only && q->version >= 3) {
        /* Like QEMU: record it on disk so nobody writes before a repair. */
        uint8_t be[8];
        be64_put(be, q->incompat | QCOW2_INCOMPAT_CORRUPT);
        if (image_pwrite_full(q->img, be, 8, QCOW2_OFF_INCOMPAT) == 0)
            fdatasync(q->img->fd);
    }
    q->broken = true;
    errno = EIO;
    return err_set("%s: qcow2 image is corrupt: %s", q->img->path, what);
}

static int refuse_broken(struct qcow2 *q)
{
    errno = EIO;
    return err_set("%s: image was marked corrupt after a metadata error; check it with "
                   "'qemu-img check'",
                   q->img->path);
}

/* ---- open ---- */

#define HDR_ERR(q, ...)                                                                            \
    (errno = EINVAL, err_set(__VA_ARGS__), err_prefix("%s: qcow2 header: ", (q)->img->path))
#define L1_ERR(q, ...)                                                                             \
    (errno = EINVAL, err_set(__VA_ARGS__), err_prefix("%s: qcow2 L1 table: ", (q)->img->path))

static int parse_extensions(struct qcow2 *q, const uint8_t *h, uint64_t start, uint64_t end)
{
    uint64_t off = start;
    while (off + 8 <= end) {
        uint32_t type = be32_get(h + off);
        uint32_t len = be32_get(h + off + 4);
        if (type == QCOW2_EXT_END)
            return 0;
        if (len > end - off - 8)
            return HDR_ERR(q, "extension 0x%08x at offset %llu: length %u runs past the header",
                           type, (unsigned long long)off, len);
        if (type == QCOW2_EXT_BACKING_FORMAT) {
            char name[32];
            if (len >= sizeof(name))
                return HDR_ERR(q, "backing format name too long (%u bytes)", len);
            memcpy(name, h + off + 8, len);
            name[len] = '\0';
            if (image_format_parse(name, &q->img->backing_format) < 0)
                return HDR_ERR(q, "unsupported backing format '%s'", name);
        }
        off += 8 + (((uint64_t)len + 7) & ~7ull);
    }
    return 0;
}

static int check_features(struct qcow2 *q)
{
    const uint64_t known = QCOW2_INCOMPAT_DIRTY | QCOW2_INCOMPAT_CORRUPT |
                           QCOW2_INCOMPAT_DATA_FILE | QCOW2_INCOMPAT_COMPRESSION |
                           QCOW2_INCOMPAT_EXTL2;
    if (q->incompat & ~known)
        return HDR_ERR(q, "unsupported feature: unknown incompatible feature bits 0x%llx",
                       (unsigned long long)(q->incompat & ~known));
    if (q->incompat & QCOW2_INCOMPAT_EXTL2)
        return HDR_ERR(q, "unsupported feature: extended L2 entries (subclusters)");
    if (q->incompat & QCOW2_INCOMPAT_DATA_FILE)
        return HDR_ERR(q, "unsupported feature: external data file");
    if (q->compression_type != 0)
        return HDR_ERR(q, "unsupported feature: compression type %u (only zlib)",
                       q->compression_type);
    if (q->img->read_only)
        return 0;
    if (q->incompat & QCOW2_INCOMPAT_CORRUPT)
        return HDR_ERR(q, "image is marked corrupt; refusing to write (repair with 'qemu-img "
                          "check -r all' or open read-only)");
    if (q->incompat & QCOW2_INCOMPAT_DIRTY)
        return HDR_ERR(q, "image is dirty (lazy refcounts not written back); repair with "
                          "'qemu-img check -r all' or open read-only");
    return 0;
}

static int parse_header(struct qcow2 *q, const uint8_t *h, size_t have)
{
    if (have < QCOW2_V2_HEADER_LEN)
        return HDR_ERR(q, "too short (%zu bytes, need %d)", have, QCOW2_V2_HEADER_LEN);
    if (be32_get(h) != QCOW2_MAGIC)
        return HDR_ERR(q, "bad magic 0x%08x", be32_get(h));
    q->version = be32_get(h + 4);
    if (q->version != 2 && q->version != 3)
        return HDR_ERR(q, "version %u unsupported (2 or 3)", q->version);
    q->cluster_bits = be32_get(h + 20);
    if (q->cluster_bits < QCOW2_MIN_CLUSTER_BITS || q->cluster_bits > QCOW2_MAX_CLUSTER_BITS)
        return HDR_ERR(q, "cluster_bits %u out of range (%d-%d)", q->cluster_bits,
                       QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
    q->cluster_size = 1ull << q->cluster_bits;
    q->l2_bits = q->cluster_bits - 3;
    q->size = be64_get(h + 24);
    if (be32_get(h + 32) != 0)
        return HDR_ERR(q, "unsupported feature: encryption (crypt_method %u)", be32_get(h + 32));
    q->l1_size = be32_get(h + 36);
    q->l1_offset = be64_get(h + 40);
    q->reftable_offset = be64_get(h + 48);
    q->reftable_clusters = be32_get(h + 56);
    q->nb_snapshots = be32_get(h + 60);
    q->snapshots_offset = be64_get(h + 64);
    if (q->version == 2) {
        q->header_length = QCOW2_V2_HEADER_LEN;
        q->refcount_order = 4;
    } else {
        if (have < QCOW2_V3_HEADER_LEN)
            return HDR_ERR(q, "too short for version 3 (%zu bytes, need %d)", have,
                           QCOW2_V3_HEADER_LEN);
        q->incompat = be64_get(h + 72);
        q->compat = be64_get(h + 80);
        q->autoclear = be64_get(h + 88);
        q->refcount_order = be32_get(h + 96);
        q->header_length = be32_get(h + 100);
        if (q->header_length < QCOW2_V3_HEADER_LEN)
            return HDR_ERR(q, "header_length %u too short (need %d)", q->header_length,
                           QCOW2_V3_HEADER_LEN);
        if (q->header_length > q->cluster_size || q->header_length > have)
            return HDR_ERR(q, "header_length %u past the header cluster or the file",
                           q->header_length);
        if (q->header_length > 104)
            q->compression_type = h[104];
        if (q->compression_type && !(q->incompat & QCOW2_INCOMPAT_COMPRESSION))
            return HDR_ERR(q, "compression type %u without its feature bit", q->compression_type);
    }
    if (q->refcount_order > 6)
        return HDR_ERR(q, "refcount_order %u out of range (0-6)", q->refcount_order);
    q->rb_bits = q->cluster_bits + 3 - q->refcount_order;
    return check_features(q);
}

static int check_layout(struct qcow2 *q)
{
    uint64_t cs = q->cluster_size;
    if (q->size > QCOW2_MAX_VIRTUAL_SIZE)
        return HDR_ERR(q, "size %llu too large (max %llu)", (unsigned long long)q->size,
                       (unsigned long long)QCOW2_MAX_VIRTUAL_SIZE);
    uint64_t l1_span_bits = q->cluster_bits + q->l2_bits;
    uint64_t need = (q->size + (1ull << l1_span_bits) - 1) >> l1_span_bits;
    if ((uint64_t)q->l1_size * 8 > QCOW2_MAX_L1_BYTES)
        return HDR_ERR(q, "l1_size %u too large (max %u)", q->l1_size, QCOW2_MAX_L1_BYTES / 8);
    if (q->l1_size < need)
        return HDR_ERR(q, "l1_size %u too small for size %llu (needs %llu)", q->l1_size,
                       (unsigned long long)q->size, (unsigned long long)need);
    if (q->l1_size) {
        if (q->l1_offset & (cs - 1))
            return HDR_ERR(q, "l1_table_offset 0x%llx not cluster aligned",
                           (unsigned long long)q->l1_offset);
        if (q->l1_offset == 0)
            return HDR_ERR(q, "L1 table overlaps the header");
        if (q->l1_offset > q->file_size || (uint64_t)q->l1_size * 8 > q->file_size - q->l1_offset)
            return HDR_ERR(q, "L1 table at 0x%llx (%u entries) past the end of the file",
                           (unsigned long long)q->l1_offset, q->l1_size);
    }
    uint64_t rt_bytes = (uint64_t)q->reftable_clusters << q->cluster_bits;
    if (q->reftable_clusters == 0)
        return HDR_ERR(q, "no refcount table (refcount_table_clusters 0)");
    if (rt_bytes > QCOW2_MAX_REFTABLE_BYTES)
        return HDR_ERR(q, "refcount table of %u clusters too large", q->reftable_clusters);
    if (q->reftable_offset & (cs - 1))
        return HDR_ERR(q, "refcount_table_offset 0x%llx not cluster aligned",
                       (unsigned long long)q->reftable_offset);
    if (q->reftable_offset == 0)
        return HDR_ERR(q, "refcount table overlaps the header");
    if (q->reftable_offset > q->file_size || rt_bytes > q->file_size - q->reftable_offset)
        return HDR_ERR(q, "refcount table at 0x%llx past the end of the file",
                       (unsigned long long)q->reftable_offset);
    uint64_t l1_end = q->l1_offset + (((uint64_t)q->l1_size * 8 + cs - 1) & ~(cs - 1));
    if (q->l1_size && q->reftable_offset < l1_end && q->l1_offset < q->reftable_offset + rt_bytes)
        return HDR_ERR(q, "refcount table overlaps the L1 table");
    if (q->nb_snapshots > QCOW2_MAX_SNAPSHOTS)
        return HDR_ERR(q, "nb_snapshots %u too large (max %d)", q->nb_snapshots,
                       QCOW2_MAX_SNAPSHOTS);
    if (q->nb_snapshots && (q->snapshots_offset & (cs - 1)))
        return HDR_ERR(q, "snapshots_offset 0x%llx not cluster aligned",
                       (unsigned long long)q->snapshots_offset);
    if (q->nb_snapshots && (q->snapshots_offset == 0 || q->snapshots_offset >= q->file_size))
        return HDR_ERR(q, "snapshot table at 0x%llx outside the file",
                       (unsigned long long)q->snapshots_offset);
    return 0;
}

static int parse_backing_name(struct qcow2 *q, const uint8_t *h, size_t have)
{
    uint64_t off = be64_get(h + 8);
    uint32_t len = be32_get(h + 16);
    if (off == 0)
        return 0;
    if (len == 0 || len > QCOW2_MAX_BACKING_NAME)
        return HDR_ERR(q, "backing file name length %u out of range (1-%d)", len,
                       QCOW2_MAX_BACKING_NAME);
    if (off > have || len > have - off)
        return HDR_ERR(q, "backing file name at offset %llu (%u bytes) outside the header cluster",
                       (unsigned long long)off, len);
    if (memchr(h + off, '\0', len))
        return HDR_ERR(q, "backing file name contains a NUL byte");
    q->img->backing_name = strndup((const char *)h + off, len);
    if (!q->img->backing_name)
        return err_set("out of memory");
    return 0;
}

static int load_l1(struct qcow2 *q)
{
    q->l1 = calloc(q->l1_size ? q->l1_size : 1, sizeof(uint64_t));
    if (!q->l1)
        return err_set("out of memory");
    if (!q->l1_size)
        return 0;
    uint8_t *raw = malloc((size_t)q->l1_size * 8);
    if (!raw)
        return err_set("out of memory");
    if (image_pread_full(q->img, raw, (size_t)q->l1_size * 8, q->l1_offset, false) < 0) {
        free(raw);
        return -1;
    }
    int rc = 0;
    for (uint32_t i = 0; i < q->l1_size && rc == 0; i++) {
        uint64_t e = be64_get(raw + 8 * i);
        uint64_t l2 = e & QCOW2_OFFSET_MASK;
        q->l1[i] = e;
        if (!l2)
            continue;
        if (l2 & (q->cluster_size - 1))
            rc = L1_ERR(q, "entry %u: L2 table offset 0x%llx not cluster aligned", i,
                        (unsigned long long)l2);
        else if (l2 + q->cluster_size > q->file_size)
            rc = L1_ERR(q, "entry %u: L2 table at 0x%llx past the end of the file", i,
                        (unsigned long long)l2);
        else if (qcow2_meta_find(q, l2) >= 0 && qcow2_meta_find(q, l2) != QCOW2_META_L2)
            rc = L1_ERR(q, "entry %u: L2 table at 0x%llx overlaps other metadata", i,
                        (unsigned long long)l2);
        else
            rc = qcow2_meta_add(q, l2, q->cluster_size, QCOW2_META_L2);
    }
    free(raw);
    return rc;
}

static void qcow2_free_state(struct qcow2 *q)
{
    qcow2_cache_destroy(&q->l2_cache);
    qcow2_cache_destroy(&q->rb_cache);
    qcow2_snapshots_free(q);
    free(q->l1);
    free(q->reftable);
    free(q->meta);
    free(q->resv);
    free(q->resv_fresh);
    free(q->pending);
    free(q->zbuf_in);
    free(q->zbuf_out);
    free(q->bounce);
    free(q->zeros);
    free(q);
}

static int qcow2_open(struct image *img)
{
    struct qcow2 *q = calloc(1, sizeof(*q));
    if (!q)
        return err_set("out of memory");
    q->img = img;
    img->priv = q;
    struct stat st;
    if (fstat(img->fd, &st) < 0)
        return err_errno("%s: stat", img->path);
    q->file_size = (uint64_t)st.st_size;

    /* First the fixed header, then the whole header cluster (extensions, backing name). */
    uint8_t fixed[112] = {0};
    size_t have = q->file_size < sizeof(fixed) ? (size_t)q->file_size : sizeof(fixed);
    if (image_pread_full(img, fixed, have, 0, false) < 0 || parse_header(q, fixed, have) < 0 ||
        check_layout(q) < 0)
        return -1;
    size_t hc = q->file_size < q->cluster_size ? (size_t)q->file_size : (size_t)q->cluster_size;
    uint8_t *h = malloc(hc);
    if (!h)
        return err_set("out of memory");
    int rc = image_pread_full(img, h, hc, 0, false);
    if (rc == 0) {
        uint64_t boff = be64_get(h + 8);
        uint64_t ext_end = boff && boff < hc ? boff : hc;
        rc = parse_extensions(q, h, q->header_length, ext_end);
    }
    if (rc == 0)
        rc = parse_backing_name(q, h, hc);
    free(h);
    if (rc < 0)
        return -1;

    if (qcow2_meta_add(q, 0, q->cluster_size, QCOW2_META_HEADER) < 0 ||
        (q->l1_size &&
         qcow2_meta_add(q, q->l1_offset, (uint64_t)q->l1_size * 8, QCOW2_META_L1) < 0) ||
        qcow2_meta_add(q, q->reftable_offset, (uint64_t)q->reftable_clusters << q->cluster_bits,
                       QCOW2_META_REFTABLE) < 0)
        return -1;
    if (qcow2_cache_init(&q->l2_cache, L2_CACHE_TABLES, q->cluster_size, true) < 0 ||
        qcow2_cache_init(&q->rb_cache, RB_CACHE_BLOCKS, q->cluster_size, false) < 0)
        return -1;
    if (qcow2_refcount_load(q) < 0 || qcow2_snapshots_load(q) < 0 || load_l1(q) < 0)
        return -1;
    q->zbuf_in = malloc(2 * q->cluster_size);
    q->zbuf_out = malloc(q->cluster_size);
    q->bounce = qcow2_alloc_cluster_buf(q->cluster_size);
    q->zeros = qcow2_alloc_cluster_buf(q->cluster_size);
    if (q->zeros)
        memset(q->zeros, 0, q->cluster_size);
    if (!q->zbuf_in || !q->zbuf_out || !q->bounce || !q->zeros)
        return err_set("out of memory");
    q->opened = true;
    if (!img->read_only && q->autoclear) {
        /* We do not maintain what those features describe (e.g. bitmaps): clear them. */
        uint8_t zero[8] = {0};
        if (image_pwrite_full(img, zero, 8, QCOW2_OFF_AUTOCLEAR) < 0 || qcow2_sync(q) < 0)
            return -1;
        q->autoclear = 0;
    }
    return 0;
}

static int qcow2_flush_locked(struct qcow2 *q)
{
    if (q->broken)
        return refuse_broken(q);
    if (qcow2_cache_writeback(q, &q->l2_cache) < 0 || qcow2_sync(q) < 0)
        return -1;
    /* The pointers to the clusters queued for freeing are durable now. */
    return qcow2_free_pending(q);
}

int qcow2_quiesce(struct qcow2 *q)
{
    if (q->img->read_only)
        return errno = EROFS, err_set("%s: image is open read-only", q->img->path);
    if (qcow2_flush_locked(q) < 0 || qcow2_release_reservations(q) < 0)
        return -1;
    return qcow2_sync(q);
}

int qcow2_reload(struct image *img)
{
    qcow2_free_state(qcow2_of(img));
    img->priv = NULL;
    free(img->backing_name);
    img->backing_name = NULL;
    return qcow2_open(img);
}

static int qcow2_close(struct image *img)
{
    struct qcow2 *q = qcow2_of(img);
    if (!q)
        return 0;
    int rc = 0;
    if (!img->read_only && !q->broken && q->opened) {
        if (qcow2_flush_locked(q) < 0 || qcow2_release_reservations(q) < 0 || qcow2_sync(q) < 0)
            rc = err_prefix("cannot flush the disk on close: ");
    }
    qcow2_free_state(q);
    img->priv = NULL;
    return rc;
}

/* ---- mapping ---- */

enum cluster_type { CL_UNALLOCATED, CL_ZERO, CL_NORMAL, CL_COMPRESSED };

struct mapping {
    enum cluster_type type;
    uint64_t l2e;   /* raw entry */
    uint64_t host;  /* CL_NORMAL: host cluster offset; CL_COMPRESSED: byte offset */
    uint64_t csize; /* CL_COMPRESSED: bytes reserved for the compressed data */
};

static uint64_t compressed_offset_mask(const struct qcow2 *q)
{
    return (1ull << (62 - (q->cluster_bits - 8))) - 1;
}

/* Classifies and validates one L2 entry; GUEST is for messages only. */
static int classify(struct qcow2 *q, uint64_t l2e, uint64_t guest, struct mapping *m)
{
    /* Every field is set before any refusal, so a caller never reads an unset type. */
    *m = (struct mapping){.type = CL_UNALLOCATED, .l2e = l2e};
    if (l2e & QCOW2_COMPRESSED) {
        unsigned x = 62 - (q->cluster_bits - 8);
        m->type = CL_COMPRESSED;
        m->host = l2e & compressed_offset_mask(q);
        uint64_t nsect = ((l2e >> x) & ((1ull << (q->cluster_bits - 8)) - 1)) + 1;
        m->csize = nsect * 512 - (m->host & 511);
        if (m->host >= q->file_size || m->host < q->cluster_size)
            return qcow2_signal_corruption(
                q, "compressed cluster for guest offset 0x%llx at 0x%llx is outside the data area",
                (unsigned long long)guest, (unsigned long long)m->host);
        return 0;
    }
    uint64_t host = l2e & QCOW2_OFFSET_MASK;
    if (l2e & QCOW2_ZERO) {
        if (q->version < 3)
            return qcow2_signal_corruption(q,
                                           "zero cluster flag for guest offset 0x%llx in a "
                                           "version 2 image",
                                           (unsigned long long)guest);
        m->type = CL_ZERO;
        m->host = host; /* "zero allocated" keeps its cluster */
    } else {
        m->type = host ? CL_NORMAL : CL_UNALLOCATED;
        m->host = host;
    }
    if (!host)
        return 0;
    if (host & (q->cluster_size - 1))
        return qcow2_signal_corruption(q,
                                       "L2 entry for guest offset 0x%llx: host offset 0x%llx "
                                       "not cluster aligned",
                                       (unsigned long long)guest, (unsigned long long)host);
    if (host >= q->file_size)
        return qcow2_signal_corruption(q,
                                       "L2 entry for guest offset 0x%llx: host offset 0x%llx "
                                       "past the end of the file",
                                       (unsigned long long)guest, (unsigned long long)host);
    if (qcow2_meta_find(q, host) >= 0)
        return qcow2_signal_corruption(q,
                                       "L2 entry for guest offset 0x%llx: host offset 0x%llx "
                                       "points into metadata",
                                       (unsigned long long)guest, (unsigned long long)host);
    return 0;
}

static uint64_t l1_index(const struct qcow2 *q, uint64_t guest)
{
    return guest >> (q->cluster_bits + q->l2_bits);
}

static uint64_t l2_index(const struct qcow2 *q, uint64_t guest)
{
    return (guest >> q->cluster_bits) & ((1ull << q->l2_bits) - 1);
}

static int lookup(struct qcow2 *q, uint64_t guest, struct mapping *m)
{
    uint64_t l2off = q->l1[l1_index(q, guest)] & QCOW2_OFFSET_MASK;
    if (!l2off)
        return classify(q, 0, guest, m);
    uint8_t *t = qcow2_cache_get(q, &q->l2_cache, l2off, false);
    if (!t)
        return -1;
    return classify(q, be64_get(t + 8 * l2_index(q, guest)), guest, m);
}

static int decompress(struct qcow2 *q, const struct mapping *m)
{
    if (q->zcached == m->l2e)
        return 0;
    uint64_t len = m->csize;
    if (len > q->file_size - m->host)
        len = q->file_size - m->host;
    if (image_pread_full(q->img, q->zbuf_in, len, m->host, false) < 0)
        return -1;
    z_stream zs = {0};
    if (inflateInit2(&zs, -15) != Z_OK)
        return err_set("%s: zlib init failed", q->img->path);
    zs.next_in = q->zbuf_in;
    zs.avail_in = (uInt)len;
    zs.next_out = q->zbuf_out;
    zs.avail_out = (uInt)q->cluster_size;
    int ret = inflate(&zs, Z_FINISH);
    bool ok = (ret == Z_STREAM_END || ret == Z_BUF_ERROR || ret == Z_OK) && zs.avail_out == 0;
    inflateEnd(&zs);
    if (!ok)
        return qcow2_signal_corruption(q,
                                       "compressed cluster at 0x%llx does not inflate to one "
                                       "cluster",
                                       (unsigned long long)m->host);
    q->zcached = m->l2e;
    return 0;
}

/* Fills BUF with what the guest sees in [guest, guest+len) of one cluster. */
static int read_mapped(struct qcow2 *q, const struct mapping *m, uint8_t *buf, uint64_t guest,
                       size_t len)
{
    uint64_t in = guest & (q->cluster_size - 1);
    switch (m->type) {
    case CL_NORMAL:
        return image_pread_full(q->img, buf, len, m->host + in, true);
    case CL_ZERO:
        memset(buf, 0, len);
        return 0;
    case CL_COMPRESSED:
        if (decompress(q, m) < 0)
            return -1;
        memcpy(buf, q->zbuf_out + in, len);
        return 0;
    case CL_UNALLOCATED:
    default:
        return image_read_backing(q->img, buf, guest, len);
    }
}

static int qcow2_read(struct image *img, void *buf, uint64_t off, size_t len)
{
    struct qcow2 *q = qcow2_of(img);
    if (q->broken)
        return refuse_broken(q);
    uint8_t *p = buf;
    /* Clusters adjacent in the file too are read with one pread. */
    uint8_t *run_buf = NULL;
    uint64_t run_host = 0;
    size_t run_len = 0;
    while (len > 0) {
        uint64_t in = off & (q->cluster_size - 1);
        size_t n = q->cluster_size - in < len ? (size_t)(q->cluster_size - in) : len;
        struct mapping m;
        if (lookup(q, off, &m) < 0)
            return -1;
        if (m.type == CL_NORMAL && run_len && run_host + run_len == m.host + in) {
            run_len += n;
        } else {
            if (run_len && image_pread_full(img, run_buf, run_len, run_host, true) < 0)
                return -1;
            run_len = 0;
            if (m.type == CL_NORMAL) {
                run_buf = p;
                run_host = m.host + in;
                run_len = n;
            } else if (read_mapped(q, &m, p, off, n) < 0) {
                return -1;
            }
        }
        p += n;
        off += n;
        len -= n;
    }
    if (run_len && image_pread_full(img, run_buf, run_len, run_host, true) < 0)
        return -1;
    return 0;
}

/* ---- writing ---- */

/* Returns the writable (refcount 1) L2 table for GUEST, allocating it or
 * copying a snapshot-shared one first. */
static uint8_t *l2_for_write(struct qcow2 *q, uint64_t guest, uint64_t *l2off_out)
{
    uint64_t i = l1_index(q, guest);
    uint64_t e = q->l1[i];
    uint64_t old = e & QCOW2_OFFSET_MASK;
    if (old && (e & QCOW2_COPIED)) {
        *l2off_out = old;
        return qcow2_cache_get(q, &q->l2_cache, old, false);
    }
    if (old) {
        uint8_t *t = qcow2_cache_get(q, &q->l2_cache, old, false);
        if (!t)
            return NULL;
        memcpy(q->bounce, t, q->cluster_size);
    } else {
        memset(q->bounce, 0, q->cluster_size);
    }
    uint64_t nl2;
    bool fresh;
    if (qcow2_alloc_cluster(q, &nl2, &fresh) < 0)
        return NULL;
    /* The table must be on disk before the L1 entry that names it. */
    if (image_pwrite_full(q->img, q->bounce, q->cluster_size, nl2) < 0 || qcow2_sync(q) < 0)
        return NULL;
    q->l2_barrier = false;
    uint8_t be[8];
    be64_put(be, nl2 | QCOW2_COPIED);
    if (image_pwrite_full(q->img, be, 8, q->l1_offset + 8 * i) < 0)
        return NULL;
    q->l1[i] = nl2 | QCOW2_COPIED;
    if (qcow2_meta_add(q, nl2, q->cluster_size, QCOW2_META_L2) < 0)
        return NULL;
    if (old && qcow2_free_later(q, old, q->cluster_size) < 0)
        return NULL; /* the snapshot keeps the old table; it loses our reference */
    uint8_t *t = qcow2_cache_get(q, &q->l2_cache, nl2, true);
    if (t)
        memcpy(t, q->bounce, q->cluster_size);
    *l2off_out = nl2;
    return t;
}

/* Drops our reference to what an L2 entry pointed to (after the next barrier). */
static int release_mapping(struct qcow2 *q, const struct mapping *m)
{
    if (m->type == CL_COMPRESSED)
        return qcow2_free_later(q, m->host & ~511ull, m->csize + (m->host & 511));
    if (m->host)
        return qcow2_free_later(q, m->host, q->cluster_size);
    return 0;
}

static int set_l2_entry(struct qcow2 *q, uint64_t l2off, uint64_t guest, uint64_t entry)
{
    uint8_t *t = qcow2_cache_get(q, &q->l2_cache, l2off, false);
    if (!t)
        return -1;
    uint32_t at = (uint32_t)(8 * l2_index(q, guest));
    be64_put(t + at, entry);
    qcow2_cache_mark_dirty(&q->l2_cache, t, at, at + 8);
    return 0;
}

static bool reads_as_zero(struct qcow2 *q, const struct mapping *m, uint64_t guest)
{
    if (m->type == CL_ZERO)
        return true;
    if (m->type != CL_UNALLOCATED)
        return false;
    return !q->img->backing || (guest & ~(q->cluster_size - 1)) >= image_get_size(q->img->backing);
}

static int maybe_flush_frees(struct qcow2 *q)
{
    if (q->npending < PENDING_FREE_FLUSH)
        return 0;
    return qcow2_flush_locked(q);
}

/* Writes one piece that lies inside a single cluster. */
static int write_in_cluster(struct qcow2 *q, const uint8_t *data, uint64_t guest, size_t len)
{
    uint64_t in = guest & (q->cluster_size - 1);
    struct mapping m;
    if (lookup(q, guest, &m) < 0)
        return -1;
    if (m.type == CL_NORMAL && (m.l2e & QCOW2_COPIED))
        return image_pwrite_full(q->img, data, len, m.host + in);

    uint64_t l2off;
    if (!l2_for_write(q, guest, &l2off))
        return -1;
    uint64_t host;
    bool fresh;
    if (qcow2_alloc_cluster(q, &host, &fresh) < 0)
        return -1;
    if (len == q->cluster_size) {
        if (image_pwrite_full(q->img, data, len, host) < 0)
            return -1;
    } else if (fresh && reads_as_zero(q, &m, guest)) {
        /* The rest of a fresh cluster is a hole: nothing to copy. */
        if (image_pwrite_full(q->img, data, len, host + in) < 0)
            return -1;
    } else {
        uint64_t base = guest & ~(q->cluster_size - 1);
        if (read_mapped(q, &m, q->bounce, base, q->cluster_size) < 0)
            return -1;
        memcpy(q->bounce + in, data, len);
        if (image_pwrite_full(q->img, q->bounce, q->cluster_size, host) < 0)
            return -1;
        q->l2_barrier = true;
    }
    if (set_l2_entry(q, l2off, guest, host | QCOW2_COPIED) < 0 || release_mapping(q, &m) < 0)
        return -1;
    return maybe_flush_frees(q);
}

static int qcow2_write(struct image *img, const void *buf, uint64_t off, size_t len)
{
    struct qcow2 *q = qcow2_of(img);
    if (q->broken)
        return refuse_broken(q);
    const uint8_t *p = buf;
    while (len > 0) {
        uint64_t in = off & (q->cluster_size - 1);
        size_t n = q->cluster_size - in < len ? (size_t)(q->cluster_size - in) : len;
        if (write_in_cluster(q, p, off, n) < 0)
            return -1;
        p += n;
        off += n;
        len -= n;
    }
    return 0;
}

static int qcow2_flush(struct image *img)
{
    return qcow2_flush_locked(qcow2_of(img));
}

/* Sets the entry of one whole cluster to NEW (0 or QCOW2_ZERO), dropping what it had. */
static int replace_cluster(struct qcow2 *q, uint64_t guest, uint64_t new_entry)
{
    struct mapping m;
    if (lookup(q, guest, &m) < 0)
        return -1;
    if (m.type == CL_UNALLOCATED && new_entry == 0)
        return 0;
    if (m.type == CL_ZERO && !m.host && new_entry == QCOW2_ZERO)
        return 0;
    uint64_t l2off;
    if (!l2_for_write(q, guest, &l2off))
        return -1;
    if (set_l2_entry(q, l2off, guest, new_entry) < 0 || release_mapping(q, &m) < 0)
        return -1;
    return maybe_flush_frees(q);
}

static int qcow2_discard(struct image *img, uint64_t off, uint64_t len)
{
    struct qcow2 *q = qcow2_of(img);
    if (q->broken)
        return refuse_broken(q);
    uint64_t cs = q->cluster_size;
    uint64_t start = (off + cs - 1) & ~(cs - 1);
    uint64_t end = (off + len) & ~(cs - 1);
    if (off + len == q->size)
        end = off + len; /* a partial last cluster counts as whole */
    /* With a backing file, an unallocated cluster would show the backing data,
     * so v3 images keep discarded clusters reading as zeros. */
    uint64_t entry = (img->backing && q->version >= 3) ? QCOW2_ZERO : 0;
    for (uint64_t g = start; g < end; g += cs)
        if (replace_cluster(q, g, entry) < 0)
            return -1;
    return 0;
}

static int qcow2_write_zeroes(struct image *img, uint64_t off, uint64_t len)
{
    struct qcow2 *q = qcow2_of(img);
    if (q->broken)
        return refuse_broken(q);
    uint64_t cs = q->cluster_size;
    while (len > 0) {
        uint64_t in = off & (cs - 1);
        uint64_t n = cs - in < len ? cs - in : len;
        bool whole = n == cs || (in == 0 && off + n == q->size);
        struct mapping m;
        if (lookup(q, off, &m) < 0)
            return -1;
        if (reads_as_zero(q, &m, off)) {
            /* already zeros */
        } else if (whole && q->version >= 3) {
            if (replace_cluster(q, off, QCOW2_ZERO) < 0)
                return -1;
        } else if (write_in_cluster(q, q->zeros, off, (size_t)n) < 0) {
            return -1;
        }
        off += n;
        len -= n;
    }
    return 0;
}

static uint64_t qcow2_get_size(struct image *img)
{
    return qcow2_of(img)->size;
}

static int qcow2_get_info(struct image *img, struct image_info *info)
{
    struct qcow2 *q = qcow2_of(img);
    info->virtual_size = q->size;
    info->cluster_size = (uint32_t)q->cluster_size;
    info->version = q->version;
    info->refcount_bits = 1u << q->refcount_order;
    info->nb_snapshots = q->nb_snapshots;
    info->dirty = q->incompat & QCOW2_INCOMPAT_DIRTY;
    info->corrupt = (q->incompat & QCOW2_INCOMPAT_CORRUPT) || q->broken;
    return 0;
}

/* Grows the disk. The L1 table keeps its place: it may grow into the rest
 * of the clusters it already occupies (one 64 KiB cluster maps 4 TiB), and
 * moving it is not done here. */
static int qcow2_resize(struct image *img, uint64_t size)
{
    struct qcow2 *q = qcow2_of(img);
    if (size < q->size)
        return errno = ENOTSUP, err_set("%s: shrinking a qcow2 image is not supported", img->path);
    if (size > QCOW2_MAX_VIRTUAL_SIZE)
        return errno = EINVAL,
               err_set("%s: size %llu too large", img->path, (unsigned long long)size);
    uint64_t span_bits = q->cluster_bits + q->l2_bits;
    uint64_t need = (size + (1ull << span_bits) - 1) >> span_bits;
    if (need > q->l1_size) {
        uint64_t room = ((uint64_t)q->l1_size * 8 + q->cluster_size - 1) & ~(q->cluster_size - 1);
        if (need * 8 > room || !q->l1_size)
            return errno = ENOTSUP,
                   err_set("%s: growing to %llu bytes needs a larger L1 table than the image "
                           "has room for (at most %llu bytes without moving it)",
                           img->path, (unsigned long long)size,
                           (unsigned long long)((room / 8) << span_bits));
        uint64_t *l1 = realloc(q->l1, need * sizeof(uint64_t));
        if (!l1)
            return err_set("out of memory");
        q->l1 = l1;
        memset(l1 + q->l1_size, 0, (need - q->l1_size) * 8);
        /* The new entries on disk are written as zeros, whatever was there. */
        if (image_pwrite_full(img, q->zeros, (size_t)(need - q->l1_size) * 8,
                              q->l1_offset + (uint64_t)q->l1_size * 8) < 0)
            return -1;
        uint8_t b4[4];
        be32_put(b4, (uint32_t)need);
        if (qcow2_sync(q) < 0 || image_pwrite_full(img, b4, 4, 36) < 0)
            return -1;
        q->l1_size = (uint32_t)need;
    }
    uint8_t b8[8];
    be64_put(b8, size);
    if (image_pwrite_full(img, b8, 8, 24) < 0 || qcow2_sync(q) < 0)
        return -1;
    q->size = size;
    return 0;
}

/* How the run of clusters from OFF reads: the first cluster's kind, for as
 * many following clusters as share it (at most LEN bytes). */
static int qcow2_block_status(struct image *img, uint64_t off, uint64_t len, uint64_t *pnum,
                              enum image_block_kind *kind)
{
    struct qcow2 *q = qcow2_of(img);
    uint64_t cs = q->cluster_size, done = 0;
    while (done < len) {
        uint64_t at = off + done;
        struct mapping m;
        if (lookup(q, at, &m) < 0)
            return -1;
        enum image_block_kind k = m.type == CL_ZERO          ? IMAGE_BLOCK_ZERO
                                  : m.type != CL_UNALLOCATED ? IMAGE_BLOCK_DATA
                                  : q->img->backing          ? IMAGE_BLOCK_BACKING
                                                             : IMAGE_BLOCK_ZERO;
        if (done == 0)
            *kind = k;
        else if (k != *kind)
            break;
        uint64_t n = cs - (at & (cs - 1));
        done += n < len - done ? n : len - done;
    }
    *pnum = done;
    return 0;
}

/* One run for qemu-img map: the first cluster's status, for as many
 * following clusters as share it (and, with an offset, continue it in the
 * file). Statuses as QEMU's qcow2 driver gives them: a compressed cluster
 * is data without an offset, a zero cluster keeping its host cluster has
 * one. */
static int qcow2_map(struct image *img, uint64_t off, uint64_t len, uint64_t *pnum,
                     unsigned *status, uint64_t *host)
{
    struct qcow2 *q = qcow2_of(img);
    uint64_t cs = q->cluster_size, done = 0;
    while (done < len) {
        uint64_t at = off + done, in = at & (cs - 1);
        struct mapping m;
        if (lookup(q, at, &m) < 0)
            return -1;
        unsigned s = m.type == CL_ZERO          ? IMAGE_MAP_ZERO
                     : m.type == CL_UNALLOCATED ? 0
                                                : IMAGE_MAP_DATA;
        if ((m.type == CL_NORMAL || m.type == CL_ZERO) && m.host)
            s |= IMAGE_MAP_OFFSET;
        if (done == 0) {
            *status = s;
            *host = m.host + in;
        } else if (s != *status || ((s & IMAGE_MAP_OFFSET) && m.host + in != *host + done)) {
            break;
        }
        uint64_t n = cs - in;
        done += n < len - done ? n : len - done;
    }
    *pnum = done;
    return 0;
}

/* Every cluster unallocated again (qemu-img commit's emptying): the
 * backing file shows through. Snapshots keep what they reference. */
static int qcow2_make_empty(struct image *img)
{
    struct qcow2 *q = qcow2_of(img);
    if (q->broken)
        return refuse_broken(q);
    for (uint64_t g = 0; g < q->size; g += q->cluster_size) {
        if (!q->l1[l1_index(q, g)]) {
            g |= (q->cluster_size << q->l2_bits) - 1; /* a whole L2 table's span is empty */
            g -= q->cluster_size - 1;
            continue;
        }
        if (replace_cluster(q, g, 0) < 0)
            return -1;
    }
    return qcow2_flush_locked(q);
}

/* The deflate stream of one cluster (raw deflate, as qcow2 specifies;
 * QEMU's 4 KiB window) into OUT; its length, or 0 when it would not be
 * smaller than the cluster (then the cluster is stored plainly). */
static size_t compress_cluster(const uint8_t *in, size_t len, uint8_t *out, size_t cap)
{
    z_stream zs = {0};
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    int ret = deflate(&zs, Z_FINISH);
    size_t n = cap - zs.avail_out;
    deflateEnd(&zs);
    return ret == Z_STREAM_END ? n : 0;
}

/* Where N (< one cluster) compressed bytes go: right after the previous
 * stream, as QEMU packs them. The stream takes one reference to each
 * cluster it touches: the pack cluster (one more), and a new cluster when
 * it does not fit (its first reference). It spills into the new cluster
 * only when that one follows the pack cluster in the file; else it starts
 * there and the pack cluster's tail stays unused. */
static int place_compressed(struct qcow2 *q, uint64_t n, uint64_t *at)
{
    uint64_t cs = q->cluster_size;
    bool packing = q->zpack && q->zpack_used < cs;
    if (packing && q->zpack_used + n <= cs) {
        *at = q->zpack + q->zpack_used;
        q->zpack_used += n;
        return qcow2_refcount_ref(q, q->zpack >> q->cluster_bits);
    }
    uint64_t next;
    bool fresh;
    if (qcow2_alloc_cluster(q, &next, &fresh) < 0)
        return -1;
    if (packing && next == q->zpack + cs) {
        *at = q->zpack + q->zpack_used;
        q->zpack_used = q->zpack_used + n - cs;
        uint64_t prev = q->zpack;
        q->zpack = next;
        return qcow2_refcount_ref(q, prev >> q->cluster_bits);
    }
    *at = next;
    q->zpack = next;
    q->zpack_used = n;
    return 0;
}

/* Writes one whole guest cluster at OFF (cluster aligned) compressed,
 * or plainly when it does not compress. */
static int qcow2_write_compressed(struct image *img, const void *buf, uint64_t off)
{
    struct qcow2 *q = qcow2_of(img);
    if (q->broken)
        return refuse_broken(q);
    size_t len = q->size - off < q->cluster_size ? (size_t)(q->size - off) : q->cluster_size;
    const uint8_t *data = buf;
    if (len < q->cluster_size) { /* the last, partial cluster: zeros after the end */
        memset(q->bounce, 0, q->cluster_size);
        memcpy(q->bounce, buf, len);
        data = q->bounce;
    }
    size_t n = compress_cluster(data, q->cluster_size, q->zbuf_in, q->cluster_size - 1);
    if (n == 0)
        return qcow2_write(img, buf, off, len);
    struct mapping m;
    uint64_t l2off, host;
    if (lookup(q, off, &m) < 0 || !l2_for_write(q, off, &l2off) ||
        place_compressed(q, n, &host) < 0 || image_pwrite_full(q->img, q->zbuf_in, n, host) < 0)
        return -1;
    /* The stream and its references must be durable before the L2 entry. */
    q->l2_barrier = true;
    unsigned x = 62 - (q->cluster_bits - 8);
    uint64_t nsect = ((host + n - 1) >> 9) - (host >> 9); /* extra sectors, as QEMU counts */
    uint64_t entry = QCOW2_COMPRESSED | (nsect << x) | host;
    if (set_l2_entry(q, l2off, off, entry) < 0 || release_mapping(q, &m) < 0)
        return -1;
    q->zcached = 0;
    return maybe_flush_frees(q);
}

const struct image_ops image_qcow2_ops = {
    .name = "qcow2",
    .open = qcow2_open,
    .close = qcow2_close,
    .read = qcow2_read,
    .write = qcow2_write,
    .flush = qcow2_flush,
    .discard = qcow2_discard,
    .write_zeroes = qcow2_write_zeroes,
    .get_size = qcow2_get_size,
    .get_info = qcow2_get_info,
    .resize = qcow2_resize,
    .block_status = qcow2_block_status,
    .map = qcow2_map,
    .make_empty = qcow2_make_empty,
    .write_compressed = qcow2_write_compressed,
    .set_backing = qcow2_set_backing,
    .check = qcow2_check,
};
