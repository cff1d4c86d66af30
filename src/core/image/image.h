/* The disk-image layer: raw files and qcow2 (v2/v3) with backing chains.
 *
 * Used at run time by tvm-vmm's virtio-blk and offline by the storage verbs.
 * An image is opened with its whole backing chain (each backing file
 * read-only); reads and writes take guest byte offsets. Every call returns 0
 * on success or -1 with a message in err.h and errno set: EINVAL for a bad
 * request, EIO when the image's metadata is found to be broken (the image is
 * then refused for further I/O), EROFS for a write to a read-only or corrupt
 * image, ENOSPC/ENOMEM from the host.
 *
 * Thread safety: each image has one mutex; calls on one image from several
 * threads serialise.
 */
#ifndef TVM_CORE_IMAGE_IMAGE_H
#define TVM_CORE_IMAGE_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/uio.h>

enum image_format {
    /* Probe the top image: qcow2 magic, else raw. Only for an image that no
     * guest has written (a raw disk can hold a qcow2 header); a backing file
     * is never probed: its format must be recorded in the overlay. */
    IMAGE_FORMAT_AUTO = 0,
    IMAGE_FORMAT_RAW,
    IMAGE_FORMAT_QCOW2,
};

/* image_open() flags */
#define IMAGE_OPEN_RDONLY 0x1u
/* With RDONLY: look at a disk that is in use (like qemu-img -U): no lock
 * check, and the data may be changing underneath. For info/inspection only. */
#define IMAGE_OPEN_FORCE_SHARE 0x2u
/* Bypass the host page cache (O_DIRECT), for cache='none'/'directsync'. The
 * whole chain is opened so. Callers may pass any buffer, offset and length:
 * requests not aligned to the file's block size go through an aligned bounce
 * buffer. A filesystem that refuses O_DIRECT (tmpfs) gets buffered I/O
 * instead; image_get_info() says which one is in use. */
#define IMAGE_OPEN_DIRECT 0x4u

/* Backing chains deeper than this are refused (also catches loops early). */
#define IMAGE_MAX_CHAIN_DEPTH 16

struct image;

struct image_info {
    enum image_format format;
    uint64_t virtual_size;
    uint64_t allocation;   /* bytes the image file occupies on the host */
    uint32_t cluster_size; /* 0 for raw */
    uint32_t version;      /* qcow2 version, 0 for raw */
    uint32_t refcount_bits;
    uint32_t nb_snapshots;
    bool read_only;
    bool direct;              /* opened with O_DIRECT (asked for and accepted) */
    bool dirty;               /* qcow2 incompatible bit 0 */
    bool corrupt;             /* qcow2 incompatible bit 1, or broken metadata found during I/O */
    const char *backing_file; /* as written in the header; NULL if none */
    enum image_format backing_format; /* from the header extension (AUTO: none opened) */
    const char *backing_path;         /* resolved path of the opened backing image */
};

struct image_snapshot {
    char *id;
    char *name;
    uint64_t vm_state_size;
    uint64_t disk_size; /* 0 when the entry has no such extra data */
    uint32_t date_sec;
    uint32_t date_nsec;
    uint64_t vm_clock_nsec;
    uint64_t icount; /* UINT64_MAX when the entry has none */
    uint64_t l1_table_offset;
    uint32_t l1_size;
};

/* How a range of a disk reads (image_block_status). */
enum image_block_kind {
    IMAGE_BLOCK_DATA,    /* stored in this image */
    IMAGE_BLOCK_ZERO,    /* reads as zeros: a hole, a zero cluster, nothing below */
    IMAGE_BLOCK_BACKING, /* not in this image: the backing file's data shows */
};

/* A run's status for qemu-img map (image_ops.map), QEMU's block status bits. */
#define IMAGE_MAP_DATA 0x1u   /* stored here */
#define IMAGE_MAP_ZERO 0x2u   /* reads as zeros, said by this image */
#define IMAGE_MAP_OFFSET 0x4u /* at a known offset in the file */

/* What image_check found (qemu-img check's figures). */
struct image_check {
    uint64_t corruptions; /* clusters whose refcount is lower than their references */
    uint64_t leaks;       /* clusters with a refcount and fewer (or no) references */
    uint64_t total_clusters, allocated_clusters, fragmented_clusters, compressed_clusters;
    uint64_t image_end_offset;
};

/* Per-format operations; raw.c and qcow2.c each provide one table. The
 * generic functions below check ranges and take the lock, so the ops see
 * only in-range requests. */
struct image_ops {
    const char *name;
    int (*open)(struct image *img);
    int (*close)(struct image *img); /* frees always; -1 when a flush failed */
    int (*read)(struct image *img, void *buf, uint64_t off, size_t len);
    int (*write)(struct image *img, const void *buf, uint64_t off, size_t len);
    int (*flush)(struct image *img);
    int (*discard)(struct image *img, uint64_t off, uint64_t len);
    int (*write_zeroes)(struct image *img, uint64_t off, uint64_t len);
    uint64_t (*get_size)(struct image *img);
    int (*get_info)(struct image *img, struct image_info *info);
    int (*resize)(struct image *img, uint64_t size); /* NULL: not possible */
    /* The kind of the run starting at OFF and its length *pnum (1..LEN). */
    int (*block_status)(struct image *img, uint64_t off, uint64_t len, uint64_t *pnum,
                        enum image_block_kind *kind);
    /* NULL: the format has nothing to check */
    int (*check)(struct image *img, FILE *report, struct image_check *res);
    /* The IMAGE_MAP_* status of the run at OFF in this image alone, its
     * length in *pnum (1..LEN) and, with IMAGE_MAP_OFFSET, where it starts
     * in the file (*host). */
    int (*map)(struct image *img, uint64_t off, uint64_t len, uint64_t *pnum, unsigned *status,
               uint64_t *host);
    /* NULL for formats without these (raw). */
    int (*make_empty)(struct image *img);
    int (*write_compressed)(struct image *img, const void *buf, uint64_t off);
    int (*set_backing)(struct image *img, const char *name, enum image_format fmt);
};

/* Opens PATH and its backing chain. FORMAT may be IMAGE_FORMAT_AUTO. */
struct image *image_open(const char *path, enum image_format format, unsigned flags);
/* Where image_open_with() gets each file of the chain instead of open(2):
 * OPEN returns a descriptor opened with OFLAGS (O_RDONLY or O_RDWR,
 * O_CLOEXEC, maybe O_DIRECT: EINVAL then means "not with O_DIRECT", and
 * it is asked again without), or -1 with a message. tvm-vmm answers from
 * the descriptors tvm handed it. */
struct image_opener {
    int (*open)(void *opaque, const char *path, int oflags);
    void *opaque;
};
struct image *image_open_with(const char *path, enum image_format format, unsigned flags,
                              const struct image_opener *opener);

/* A running disk's external snapshot (QEMU's blockdev-snapshot-sync with
 * mode 'existing'): the qcow2 overlay PATH, open read-write as FD (taken
 * over, closed on failure too), opened on top of BACKING, an image
 * already open, which must be what the overlay's header names (its path
 * resolved as image_open() resolves it, and its format): nothing is
 * opened by path. FLAGS: IMAGE_OPEN_DIRECT or 0. The result owns BACKING
 * from then on (image_close() closes the whole chain); image_close_top()
 * closes only the overlay, leaving BACKING open and as it was. */
struct image *image_open_overlay(const char *path, int fd, struct image *backing, unsigned flags);
int image_close_top(struct image *img);
/* Turning a writable image into a backing file: image_quiesce() makes
 * all it holds durable (qcow2: tables written, clusters reserved for
 * later writes given back, so qemu-img check finds no leak), and may
 * fail; image_set_read_only(), which cannot fail, refuses writes from
 * then on and keeps only a reader's locks, so qemu-img may read it. No
 * write may come between the two. */
int image_quiesce(struct image *img);
void image_set_read_only(struct image *img);

/* tvm's half of handing a disk to tvm-vmm: the files of PATH's chain
 * (the top first; paths as image_open() resolves them), each opened as
 * image_open(FLAGS) would (the top read-write unless IMAGE_OPEN_RDONLY,
 * backing files read-only; close-on-exec; O_DIRECT left to the opener)
 * and locked the same way, ours first and then the check (the locks
 * belong to the open file description, so they go with the descriptor to
 * whoever inherits it). Nothing is written. At most MAX files; *N says
 * how many. On error nothing stays open. */
struct image_file {
    char *path;
    int fd;
};
int image_open_files(const char *path, enum image_format format, unsigned flags,
                     struct image_file *files, int max, int *n);
void image_files_close(struct image_file *files, int n);

/* Flushes (for writable images) and frees the whole chain. NULL is fine.
 * -1 with a message naming the image when what was written could not be
 * made durable (fdatasync or close failed: a full or failing disk): the
 * writes the guest saw complete may be lost, and whoever closes must say
 * so. The chain is freed either way. */
int image_close(struct image *img);

int image_read(struct image *img, void *buf, uint64_t off, size_t len);
int image_write(struct image *img, const void *buf, uint64_t off, size_t len);
/* Scatter/gather forms for virtio-blk: one request, contiguous on the disk. */
int image_readv(struct image *img, const struct iovec *iov, int iovcnt, uint64_t off);
int image_writev(struct image *img, const struct iovec *iov, int iovcnt, uint64_t off);
/* Makes every completed write durable (fdatasync at most twice). */
int image_flush(struct image *img);
/* Advisory: whole clusters are given back (qcow2) or holes punched (raw).
 * Afterwards they read as zeros, except in a qcow2 v2 image with a backing
 * file, where the backing file's data shows again (v2 has no zero flag). */
int image_discard(struct image *img, uint64_t off, uint64_t len);
/* The range reads as zeros afterwards. */
int image_write_zeroes(struct image *img, uint64_t off, uint64_t len);
uint64_t image_get_size(const struct image *img);
int image_get_info(struct image *img, struct image_info *info);
const char *image_path(const struct image *img);
/* The next image in the chain, or NULL. */
struct image *image_backing(const struct image *img);

/* Changes the virtual size (a writable image). Shrinking only with SHRINK,
 * and only raw files: data past the new end is lost. qcow2 grows in place
 * (its L1 table is not moved). */
int image_resize(struct image *img, uint64_t size, bool shrink);
/* The kind of the run at OFF in this image alone (BACKING where the
 * backing file shows), its length in *pnum (1..LEN). Formats that cannot
 * tell say DATA. */
int image_block_status(struct image *img, uint64_t off, uint64_t len, uint64_t *pnum,
                       enum image_block_kind *kind);
/* As image_block_status, with the chain resolved: DATA or ZERO only. */
int image_block_status_chain(struct image *img, uint64_t off, uint64_t len, uint64_t *pnum,
                             enum image_block_kind *kind);

/* Checks the image's metadata (qcow2: every refcount against the
 * references counted from its tables), read-only. A line per problem goes
 * to REPORT (may be NULL). -1 only when the check itself could not run (a
 * raw image: "this image format does not support checks"). */
int image_check(struct image *img, FILE *report, struct image_check *res);
enum image_format image_get_format(const struct image *img);

/* Copies what SRC's whole chain reads into DST (at least as large),
 * writing only what is not zeros, so the copy is as sparse as the data
 * allows. DST_ZEROED: DST reads as zeros already (freshly created); else
 * the zero runs are zeroed (write_zeroes) too. PROGRESS (may be NULL)
 * hears of each step. */
typedef void (*image_progress_fn)(uint64_t done, uint64_t total, void *opaque);
int image_copy(struct image *src, struct image *dst, bool dst_zeroed, image_progress_fn progress,
               void *opaque);

/* As image_copy into a fresh qcow2 DST with the same cluster grid: every
 * cluster that is not all zeros is written compressed (qemu-img convert
 * -c), or plainly when deflate does not make it smaller. */
int image_copy_compressed(struct image *src, struct image *dst, image_progress_fn progress,
                          void *opaque);
/* One guest cluster of a qcow2 image written compressed: OFF cluster
 * aligned, BUF a whole cluster (the last one may be short of the end). */
int image_write_compressed(struct image *img, const void *buf, uint64_t off);

/* One run of qemu-img map: how [start, start+length) reads, and from
 * which image of the chain (DEPTH, 0 the top; when nothing in the chain
 * holds it, DEPTH is the deepest looked at, PRESENT false, ZERO true). */
struct image_map_entry {
    uint64_t start, length;
    unsigned depth;
    bool present, zero, data, has_offset;
    uint64_t offset;  /* with HAS_OFFSET: where the run starts in FILE */
    const char *file; /* the path of the image at DEPTH */
};
/* The run at OFF, at most LEN bytes (OFF inside the disk). */
int image_map(struct image *img, uint64_t off, uint64_t len, struct image_map_entry *e);

/* qemu-img rebase on a writable qcow2 image: its backing file becomes
 * BACKING (NULL: none, the image stands alone) of format FMT (RAW or
 * QCOW2; never probed). Unless UNSAFE, every cluster that reads through
 * to the backing chain and would read differently from the new one is
 * first copied into the image, so the disk reads the same afterwards.
 * The header is switched by one sector write (crash-safe: the old or the
 * new backing file, never a mix). Reads through IMG afterwards see the
 * new chain (after UNSAFE, none if the new file cannot be opened). */
int image_rebase(struct image *img, const char *backing, enum image_format fmt, bool unsafe);
/* qemu-img commit: what the writable qcow2 IMG holds (data and zero
 * clusters) is written into its backing file, reopened read-write for it
 * (grown when smaller). Unless KEEP, IMG is emptied afterwards: every
 * cluster unallocated, reading through to the backing file. */
int image_commit(struct image *img, bool keep);

/* Copies the image file SRC, as the host holds it (its format's bytes),
 * into a new file DST (refused when it exists; made with SRC's mode):
 * the extents shared when REFLINK and the file system can (FICLONE), else
 * only SRC's data extents written (SEEK_DATA/SEEK_HOLE), so DST is as
 * sparse as SRC. NONSPARSE allocates all of DST afterwards. On a failure
 * DST is removed. PROGRESS (may be NULL) hears of each extent. */
#define IMAGE_CLONE_REFLINK 0x1u
#define IMAGE_CLONE_REFLINK_ONLY 0x2u /* fail rather than copy when FICLONE cannot */
#define IMAGE_CLONE_NONSPARSE 0x4u
int image_clone_file(const char *src, const char *dst, unsigned flags, image_progress_fn progress,
                     void *opaque);

/* Internal snapshots (qcow2 only; raw has none). *out is an array of *count
 * entries, freed with image_snapshots_free(). */
int image_list_snapshots(struct image *img, struct image_snapshot **out, size_t *count);
void image_snapshots_free(struct image_snapshot *snaps, size_t count);
/* Internal snapshots of a writable qcow2 image, as `qemu-img snapshot
 * -c|-a|-d` makes them: create NAME of the current state (VM_CLOCK_NSEC
 * is the guest's running time, 0 for a disk-only snapshot), apply (the
 * disk reads as it did then; later writes copy shared clusters) or delete
 * the snapshot whose ID or, failing that, name is ID_OR_NAME. No data
 * cluster is copied. Each switches the image in one header write, so a
 * crash leaves either the old or the new state (see qcow2-snapshot-write.c). */
int image_snapshot_create(struct image *img, const char *name, uint64_t vm_clock_nsec);
int image_snapshot_apply(struct image *img, const char *id_or_name);
int image_snapshot_delete(struct image *img, const char *id_or_name);
bool image_has_snapshot(struct image *img, const char *id_or_name);
/* *DIFFERS: the disk may read differently from snapshot ID_OR_NAME — its
 * mapping (L2 entries, size) is not the snapshot's, or there is no such
 * snapshot. Cheap: compares metadata, never data. */
int image_snapshot_differs(struct image *img, const char *id_or_name, bool *differs);

/* Reads the first bytes of PATH: qcow2 magic → QCOW2, else RAW. */
int image_probe(const char *path, enum image_format *format);
const char *image_format_name(enum image_format format);
/* "raw"/"qcow2" → format; -1 with a message otherwise. */
int image_format_parse(const char *name, enum image_format *format);

/* Creates a sparse raw file of SIZE bytes; refuses to overwrite. */
int image_create_raw(const char *path, uint64_t size);
/* Creates a qcow2 v3 image (refcount_bits 16). CLUSTER_BITS 9..21 (0 = 16,
 * i.e. 64 KiB). BACKING_PATH may be NULL; it is stored as given (a relative
 * path is resolved against PATH's directory when opened), and BACKING_FMT
 * (required with a backing file: it is never probed) goes into the
 * backing-format header extension. SIZE 0
 * with a backing file takes the backing file's size. Refuses to overwrite. */
int image_create_qcow2(const char *path, uint64_t size, unsigned cluster_bits,
                       const char *backing_path, enum image_format backing_fmt);

#endif
