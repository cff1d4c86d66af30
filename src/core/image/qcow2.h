/* qcow2 driver internals (format facts from QEMU's docs/interop/qcow2.txt).
 *
 * Layout reminders: the guest disk is split into clusters; a guest offset
 * goes L1 index → L2 table → L2 entry → host cluster. Every host cluster has
 * a reference count held in refcount blocks found through the refcount table.
 * All on-disk numbers are big-endian; in-memory L1 and refcount tables are
 * kept in host order, L2 tables and refcount blocks are cached as on disk.
 */
#ifndef TVM_CORE_IMAGE_QCOW2_H
#define TVM_CORE_IMAGE_QCOW2_H

#include "core/image/image-priv.h"

#include <zlib.h>

#define QCOW2_MAGIC 0x514649fbu
#define QCOW2_V2_HEADER_LEN 72
#define QCOW2_V3_HEADER_LEN 104
#define QCOW2_MIN_CLUSTER_BITS 9
#define QCOW2_MAX_CLUSTER_BITS 21
#define QCOW2_MAX_L1_BYTES (32u << 20)      /* QEMU's limit */
#define QCOW2_MAX_REFTABLE_BYTES (8u << 20) /* QEMU's limit */
#define QCOW2_MAX_SNAPSHOTS 65536
#define QCOW2_MAX_SNAPSHOT_TABLE (64u << 20)
#define QCOW2_MAX_BACKING_NAME 1023
#define QCOW2_MAX_VIRTUAL_SIZE (1ull << 61)

/* header field offsets */
#define QCOW2_OFF_REFTABLE 48 /* refcount_table_offset (8) + refcount_table_clusters (4) */
#define QCOW2_OFF_INCOMPAT 72
#define QCOW2_OFF_AUTOCLEAR 88

/* incompatible feature bits */
#define QCOW2_INCOMPAT_DIRTY (1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT (1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2 (1ull << 4)

/* header extensions */
#define QCOW2_EXT_END 0
#define QCOW2_EXT_BACKING_FORMAT 0xe2792acau
#define QCOW2_EXT_FEATURE_TABLE 0x6803f857u

/* L1/L2 entry bits */
#define QCOW2_COPIED (1ull << 63)
#define QCOW2_COMPRESSED (1ull << 62)
#define QCOW2_ZERO 1ull
#define QCOW2_OFFSET_MASK 0x00fffffffffffe00ull /* bits 9-55 */

enum qcow2_meta_kind {
    QCOW2_META_HEADER,
    QCOW2_META_L1,
    QCOW2_META_REFTABLE,
    QCOW2_META_REFBLOCK,
    QCOW2_META_L2,
    QCOW2_META_SNAPSHOTS,
    QCOW2_META_SNAPSHOT_L1,
};

struct qcow2_meta {
    uint64_t cluster; /* host cluster index */
    enum qcow2_meta_kind kind;
};

/* A small LRU of cluster-sized tables (L2 tables, refcount blocks). */
struct qcow2_cache_entry {
    uint64_t offset; /* 0 = empty slot */
    uint8_t *data;
    uint64_t last_use;
    uint32_t dirty_lo, dirty_hi; /* byte range to write back; lo >= hi = clean */
};

struct qcow2_cache {
    struct qcow2_cache_entry *slots;
    size_t nslots;
    uint64_t tick;
    bool write_back; /* L2: dirty tables are written at flush/eviction */
};

struct qcow2_free {
    uint64_t offset; /* byte range whose clusters each lose one reference */
    uint64_t len;
};

struct qcow2 {
    struct image *img;
    uint32_t version;
    unsigned cluster_bits;
    uint64_t cluster_size;
    unsigned l2_bits; /* log2 of entries per L2 table */
    uint64_t size;    /* virtual size */
    uint32_t header_length;
    uint64_t incompat, compat, autoclear;
    uint8_t compression_type;

    uint64_t l1_offset;
    uint32_t l1_size;
    uint64_t *l1;

    uint64_t reftable_offset;
    uint32_t reftable_clusters;
    uint64_t reftable_entries;
    uint64_t *reftable;
    unsigned refcount_order;
    unsigned rb_bits; /* log2 of refcounts per refcount block */

    uint64_t snapshots_offset;
    uint32_t nb_snapshots;
    uint64_t snapshots_size; /* bytes of the snapshot table in use */
    struct image_snapshot *snapshots;

    struct qcow2_meta *meta; /* sorted by cluster */
    size_t nmeta, meta_cap;

    struct qcow2_cache l2_cache;
    struct qcow2_cache rb_cache;

    uint64_t file_size;  /* bytes; grows with allocations */
    uint64_t free_hint;  /* cluster index where the search for free clusters starts */
    uint64_t *resv;      /* reserved clusters (refcount already 1, not yet used) */
    uint8_t *resv_fresh; /* 1 = past the old end of file: known to read as zeros */
    size_t resv_head, resv_n, resv_cap;
    size_t resv_batch;
    struct qcow2_free *pending; /* frees waiting for the next flush */
    size_t npending, pending_cap;
    bool l2_barrier; /* refcounts or copied data that dirty L2 entries depend on are
                        not durable yet: fdatasync before writing L2 tables */

    bool opened; /* open() finished: close() may flush */
    bool broken;
    uint8_t *zbuf_in;    /* compressed cluster bytes */
    uint8_t *zbuf_out;   /* last decompressed cluster */
    uint64_t zcached;    /* L2 entry of the cluster in zbuf_out, 0 = none */
    uint64_t zpack;      /* host cluster compressed writes are packed into, 0 = none */
    uint64_t zpack_used; /* bytes of it taken */
    uint8_t *bounce;     /* one cluster for copy-on-write assembly */
    uint8_t *zeros;      /* one cluster of zeros */
};

static inline struct qcow2 *qcow2_of(struct image *img)
{
    return img->priv;
}

static inline uint64_t be64_get(const void *p)
{
    const uint8_t *b = p;
    return ((uint64_t)b[0] << 56) | ((uint64_t)b[1] << 48) | ((uint64_t)b[2] << 40) |
           ((uint64_t)b[3] << 32) | ((uint64_t)b[4] << 24) | ((uint64_t)b[5] << 16) |
           ((uint64_t)b[6] << 8) | b[7];
}

static inline uint32_t be32_get(const void *p)
{
    const uint8_t *b = p;
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}

static inline uint16_t be16_get(const void *p)
{
    const uint8_t *b = p;
    return (uint16_t)((b[0] << 8) | b[1]);
}

static inline void be64_put(void *p, uint64_t v)
{
    uint8_t *b = p;
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
}

static inline void be32_put(void *p, uint32_t v)
{
    uint8_t *b = p;
    for (int i = 3; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
}

static inline void be16_put(void *p, uint16_t v)
{
    uint8_t *b = p;
    b[0] = (uint8_t)(v >> 8);
    b[1] = (uint8_t)v;
}

/* qcow2.c */
/* Marks the image broken after finding bad metadata during I/O: sets errno
 * EIO, the message, and (if writable) the on-disk corrupt bit. Returns -1. */
int qcow2_signal_corruption(struct qcow2 *q, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int qcow2_sync(struct qcow2 *q);
/* Flushes, gives back reservations, and checks the image may be written:
 * afterwards the refcounts on disk are exactly what the tables use. */
int qcow2_quiesce(struct qcow2 *q);
/* Drops the in-memory state and reads the header and tables again (after
 * a snapshot operation switched the header to new tables). */
int qcow2_reload(struct image *img);

/* qcow2-cache.c */
/* A cluster-sized buffer aligned for O_DIRECT (see direct.c), freed with free(). */
void *qcow2_alloc_cluster_buf(uint64_t cluster_size);
int qcow2_cache_init(struct qcow2_cache *c, size_t nslots, uint64_t cluster_size, bool write_back);
void qcow2_cache_destroy(struct qcow2_cache *c);
/* Returns the cached table at OFFSET, reading it unless NEW (then zero-filled). */
uint8_t *qcow2_cache_get(struct qcow2 *q, struct qcow2_cache *c, uint64_t offset, bool is_new);
/* Notes bytes [lo, hi) of a write-back table as changed. */
void qcow2_cache_mark_dirty(struct qcow2_cache *c, const uint8_t *table, uint32_t lo, uint32_t hi);
/* Writes every dirty table (after a barrier if q->l2_barrier). */
int qcow2_cache_writeback(struct qcow2 *q, struct qcow2_cache *c);
bool qcow2_cache_dirty(const struct qcow2_cache *c);
void qcow2_cache_forget(struct qcow2_cache *c, uint64_t offset);

/* qcow2-meta.c: the set of host clusters holding metadata */
int qcow2_meta_add(struct qcow2 *q, uint64_t offset, uint64_t len, enum qcow2_meta_kind kind);
void qcow2_meta_remove(struct qcow2 *q, uint64_t offset, uint64_t len);
/* Returns the kind of metadata in cluster at OFFSET, or -1 for none. */
int qcow2_meta_find(const struct qcow2 *q, uint64_t offset);

/* qcow2-refcount.c */
int qcow2_refcount_load(struct qcow2 *q);
int qcow2_refcount_get(struct qcow2 *q, uint64_t cluster, uint64_t *refcount);
/* Takes one reserved cluster (refcount 1, durable). *fresh says it reads as zeros. */
int qcow2_alloc_cluster(struct qcow2 *q, uint64_t *offset, bool *fresh);
/* Queues one reference of every cluster in [offset, offset+len) to be dropped
 * after the next barrier; see the ordering comment in qcow2-refcount.c. */
int qcow2_free_later(struct qcow2 *q, uint64_t offset, uint64_t len);
/* Drops the queued references (call only after the pointers are durable). */
int qcow2_free_pending(struct qcow2 *q);
/* Gives back unused reservations and trims free clusters at the end of file. */
int qcow2_release_reservations(struct qcow2 *q);
/* One more reference to CLUSTER (an index), written at once. */
int qcow2_refcount_ref(struct qcow2 *q, uint64_t cluster);
/* Entry IDX of a refcount block held as on disk. */
uint64_t qcow2_rb_get(const struct qcow2 *q, const uint8_t *rb, uint64_t idx);
void qcow2_rb_set(const struct qcow2 *q, uint8_t *rb, uint64_t idx, uint64_t value);
/* Max refcount for this image's refcount_order. */
uint64_t qcow2_refcount_max(const struct qcow2 *q);

/* qcow2-snapshot.c */
int qcow2_snapshots_load(struct qcow2 *q);
void qcow2_snapshots_free(struct qcow2 *q);
/* Bytes of the table entry at P (already validated by qcow2_snapshots_load). */
uint64_t qcow2_snapshot_entry_len(const uint8_t *p);

/* qcow2-backing.c: image_ops.set_backing for qcow2. */
int qcow2_set_backing(struct image *img, const char *name, enum image_format fmt);

/* qcow2-create.c */

/* qcow2-check.c: image_check for qcow2. */
int qcow2_check(struct image *img, FILE *report, struct image_check *res);

#endif
