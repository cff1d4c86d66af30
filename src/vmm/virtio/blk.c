/* virtio-blk (virtio 1.2, 5.2) over the disk-image layer (raw, qcow2 with
 * backing chains). One request queue, handled on the device's worker:
 * IN, OUT, FLUSH, GET_ID, DISCARD and WRITE_ZEROES. A read-only disk
 * offers VIRTIO_BLK_F_RO and still answers any write with IOERR. QMP
 * block_resize grows a disk while the guest runs: the image grows, the
 * config's capacity changes, and the config-change interrupt tells the
 * driver (virtio 1.2, 2.5.1; 4.1.4.5), which reads the new size. A
 * disk-only snapshot (migrate.c's transaction) puts a new qcow2 overlay
 * on top of the image while the queue waits: the old image becomes its
 * read-only backing file and every later write goes to the overlay.
 *
 * Request layout (5.2.6): {le32 type, le32 reserved, le64 sector} in
 * device-readable buffers, then the data (readable for writes, writable for
 * reads), then one device-writable status byte at the very end.
 */
#include <errno.h>
#include <inttypes.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "control.h"
#include "core/base/err.h"
#include "core/image/image.h"
#include "exit-note.h"
#include "virtio/virtio.h"

#define SECTOR 512
/* A request with several segments goes through one buffer this large (a
 * guest's 1 MiB O_DIRECT request arrives as ~256 page-sized segments). */
#define BOUNCE_BYTES (2u << 20)

/* feature bits */
#define BLK_F_SEG_MAX 2
#define BLK_F_RO 5
#define BLK_F_BLK_SIZE 6
#define BLK_F_FLUSH 9
#define BLK_F_DISCARD 13
#define BLK_F_WRITE_ZEROES 14

/* request types and status */
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8
#define BLK_T_DISCARD 11
#define BLK_T_WRITE_ZEROES 13
#define BLK_S_OK 0
#define BLK_S_IOERR 1
#define BLK_S_UNSUPP 2
#define BLK_ID_BYTES 20
#define BLK_MAX_DISCARD_SECTORS (1u << 22)
/* max_discard_seg and max_write_zeroes_seg: what the config says and all
 * that a request may carry. */
#define BLK_MAX_RANGE_SEGS 1u

/* struct virtio_blk_config offsets */
#define CFG_CAPACITY 0
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_DISCARD_SEG 40
#define CFG_DISCARD_ALIGN 44
#define CFG_MAX_WZ_SECTORS 48
#define CFG_MAX_WZ_SEG 52
#define CFG_SIZE 60

struct blk {
    struct virtio_dev vdev; /* first: the core hands us this pointer */
    struct image *img;
    char target[32]; /* <target dev>: how QMP names the disk */
    bool readonly;
    bool direct; /* cache='none': an overlay is opened so too */
    uint64_t sectors;
    char serial[BLK_ID_BYTES];
    uint8_t config[CFG_SIZE];
    struct iovec data[VIRTQ_MAX_SIZE];
    void *bounce; /* BOUNCE_BYTES, page-aligned; allocated at the first use */
    bool error_logged;
};

struct req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector;
};

static struct blk *to_blk(struct virtio_dev *d)
{
    return (struct blk *)d;
}

static uint8_t io_error(struct blk *b, const char *what)
{
    if (!b->error_logged) {
        fprintf(stderr, "tvm-vmm: %s: %s failed: %s\n", b->vdev.id, what, err_msg());
        b->error_logged = true;
    }
    err_clear();
    return BLK_S_IOERR;
}

/* [sector, sector + bytes) inside the disk, in whole sectors. */
static bool in_range(const struct blk *b, uint64_t sector, uint64_t bytes)
{
    return bytes % SECTOR == 0 && sector <= b->sectors && bytes / SECTOR <= b->sectors - sector;
}

/* The bounce buffer, or NULL (then segments go to the image one by one). */
static void *bounce(struct blk *b)
{
    if (!b->bounce && posix_memalign(&b->bounce, 4096, BOUNCE_BYTES) != 0)
        b->bounce = NULL;
    return b->bounce;
}

/* Many segments: one image call per BOUNCE_BYTES and a memcpy, instead of
 * one call (a syscall, a qcow2 lookup) per guest page. The copy costs less
 * than the calls, and the host sees large aligned requests (O_DIRECT). */
static int read_gathered(struct blk *b, const struct iovec *iov, unsigned n, uint64_t at,
                         uint32_t len)
{
    void *buf = n > 1 ? bounce(b) : NULL;
    if (!buf)
        return image_readv(b->img, iov, (int)n, at);
    for (uint32_t done = 0; done < len;) {
        uint32_t k = len - done < BOUNCE_BYTES ? len - done : BOUNCE_BYTES;
        if (image_read(b->img, buf, at + done, k) < 0)
            return -1;
        iov_copy_to(iov, n, done, buf, k);
        done += k;
    }
    return 0;
}

static int write_gathered(struct blk *b, const struct iovec *iov, unsigned n, uint64_t at,
                          uint32_t len)
{
    void *buf = n > 1 ? bounce(b) : NULL;
    if (!buf)
        return image_writev(b->img, iov, (int)n, at);
    for (uint32_t done = 0; done < len;) {
        uint32_t k = len - done < BOUNCE_BYTES ? len - done : BOUNCE_BYTES;
        /* The guest pages gathered in order, then one write for all of them. */
        iov_copy_from(iov, n, done, buf, k);
        if (image_write(b->img, buf, at + done, k) < 0)
            return -1;
        done += k;
    }
    return 0;
}

static uint8_t do_read(struct blk *b, const struct virtq_elem *e, uint64_t sector,
                       uint32_t *written)
{
    uint32_t len = e->in_len - 1;
    if (!in_range(b, sector, len))
        return BLK_S_IOERR;
    unsigned n = iov_slice(e->in, e->nin, 0, len, b->data, VIRTQ_MAX_SIZE);
    if (len && read_gathered(b, b->data, n, sector * SECTOR, len) < 0)
        return io_error(b, "read");
    *written = len;
    return BLK_S_OK;
}

static uint8_t do_write(struct blk *b, const struct virtq_elem *e, uint64_t sector)
{
    uint32_t len = e->out_len - sizeof(struct req_hdr);
    if (b->readonly || !in_range(b, sector, len))
        return BLK_S_IOERR;
    unsigned n = iov_slice(e->out, e->nout, sizeof(struct req_hdr), len, b->data, VIRTQ_MAX_SIZE);
    if (len && write_gathered(b, b->data, n, sector * SECTOR, len) < 0)
        return io_error(b, "write");
    return BLK_S_OK;
}

static uint8_t do_get_id(struct blk *b, const struct virtq_elem *e, uint32_t *written)
{
    uint32_t len = e->in_len - 1 < BLK_ID_BYTES ? e->in_len - 1 : BLK_ID_BYTES;
    *written = iov_copy_to(e->in, e->nin, 0, b->serial, len);
    return BLK_S_OK;
}

/* DISCARD and WRITE_ZEROES carry {le64 sector, le32 num_sectors, le32 flags}
 * segments. More than the config advertises is refused whole, as QEMU
 * does: otherwise one request could make the worker discard or zero the
 * whole disk range by range while the queue waits. */
static uint8_t do_ranges(struct blk *b, const struct virtq_elem *e, bool zeroes)
{
    uint32_t len = e->out_len - sizeof(struct req_hdr);
    if (len == 0 || len % 16 || len / 16 > BLK_MAX_RANGE_SEGS)
        return BLK_S_UNSUPP;
    if (b->readonly)
        return BLK_S_IOERR;
    for (uint32_t off = 0; off < len; off += 16) {
        uint8_t seg[16];
        uint64_t sector;
        uint32_t count, flags;
        iov_copy_from(e->out, e->nout, sizeof(struct req_hdr) + off, seg, 16);
        memcpy(&sector, seg, 8);
        memcpy(&count, seg + 8, 4);
        memcpy(&flags, seg + 12, 4);
        if ((flags & ~1u) || (!zeroes && flags))
            return BLK_S_UNSUPP; /* only WRITE_ZEROES knows the unmap flag */
        if (count > BLK_MAX_DISCARD_SECTORS || !in_range(b, sector, (uint64_t)count * SECTOR))
            return BLK_S_IOERR;
        uint64_t at = sector * SECTOR, bytes = (uint64_t)count * SECTOR;
        int rc = zeroes ? image_write_zeroes(b->img, at, bytes) : image_discard(b->img, at, bytes);
        if (rc < 0)
            return io_error(b, zeroes ? "write zeroes" : "discard");
    }
    return BLK_S_OK;
}

/* A driver without VIRTIO_BLK_F_FLUSH never sends FLUSH, so the device is
 * write-through for it (virtio 1.2, 5.2.5): a write is stable before it
 * completes. */
static uint8_t written_through(struct blk *b, uint8_t status)
{
    if (status != BLK_S_OK || virtio_dev_has(&b->vdev, BLK_F_FLUSH))
        return status;
    if (image_flush(b->img) < 0)
        return io_error(b, "flush");
    return BLK_S_OK;
}

static uint8_t do_request(struct blk *b, const struct virtq_elem *e, uint32_t *written)
{
    struct req_hdr h;
    iov_copy_from(e->out, e->nout, 0, &h, sizeof h);
    *written = 0;
    switch (h.type) {
    case BLK_T_IN:
        return do_read(b, e, h.sector, written);
    case BLK_T_OUT:
        return written_through(b, do_write(b, e, h.sector));
    case BLK_T_FLUSH:
        if (!b->readonly && image_flush(b->img) < 0)
            return io_error(b, "flush");
        return BLK_S_OK;
    case BLK_T_GET_ID:
        return do_get_id(b, e, written);
    case BLK_T_DISCARD:
        return written_through(b, do_ranges(b, e, false));
    case BLK_T_WRITE_ZEROES:
        return written_through(b, do_ranges(b, e, true));
    default:
        return BLK_S_UNSUPP;
    }
}

static void blk_queue_notify(struct virtio_dev *dev, unsigned q)
{
    struct blk *b = to_blk(dev);
    struct virtq_elem *e = &dev->elem;
    while (virtio_dev_pop(dev, q, e) > 0) {
        if (e->out_len < sizeof(struct req_hdr) || e->in_len < 1) {
            virtio_dev_set_broken(dev, "request without a header or a status byte");
            return;
        }
        uint32_t written;
        uint8_t status = do_request(b, e, &written);
        iov_copy_to(e->in, e->nin, e->in_len - 1, &status, 1);
        virtio_dev_push(dev, q, e, written + 1);
    }
}

/* ---- QMP block_resize ---- */

/* Every disk of this VMM, by target, for block_resize and snapshot-save. */
#define MAX_DISKS 64
static struct blk *disks[MAX_DISKS];
static bool qmp_registered;

static struct blk *find_disk(const char *target)
{
    for (unsigned i = 0; i < MAX_DISKS; i++)
        if (disks[i] && strcmp(disks[i]->target, target) == 0)
            return disks[i];
    err_set("no disk '%s'", target);
    return NULL;
}

/* Grows the image, then the capacity the guest reads. Under the device
 * lock: the worker checks requests against b->sectors. */
static int blk_grow(struct blk *b, uint64_t size)
{
    uint64_t now = b->sectors * SECTOR;
    if (size < now)
        return err_set("disk '%s' has %" PRIu64 " bytes: shrinking it is not supported", b->target,
                       now);
    if (size == now)
        return 0;
    if (image_resize(b->img, size, false) < 0) {
        /* tvm-vmm's sandbox bounds how large its files may grow (RLIMIT_FSIZE, set at start). */
        if (errno == EFBIG)
            return err_set("disk '%s': %" PRIu64 " bytes is past what this tvm-vmm may write "
                           "(its sandbox's file size limit, set at start): resize the disk "
                           "while the domain is stopped",
                           b->target, size);
        return -1;
    }
    b->sectors = size / SECTOR;
    memcpy(b->config + CFG_CAPACITY, &b->sectors, 8);
    b->vdev.config_generation++;
    if ((b->vdev.status & VIRTIO_CONFIG_S_DRIVER_OK) && b->vdev.transport.signal_config)
        b->vdev.transport.signal_config(b->vdev.transport.opaque);
    return 0;
}

int virtio_blk_resize(const char *target, uint64_t size)
{
    struct blk *b = find_disk(target);
    if (!b)
        return -1;
    if (size % SECTOR)
        return err_set("size %" PRIu64 " is not a multiple of 512", size);
    if (b->readonly)
        return err_set("disk '%s' is read-only", target);
    virtio_dev_lock(&b->vdev);
    int rc = blk_grow(b, size);
    virtio_dev_unlock(&b->vdev);
    return rc;
}

int virtio_blk_snapshot_create(const char *target, const char *tag, uint64_t vm_clock_nsec)
{
    struct blk *b = find_disk(target);
    if (!b)
        return -1;
    if (b->readonly)
        return err_set("disk '%s' is read-only", target);
    if (image_has_snapshot(b->img, tag))
        return err_set("disk '%s': the image already has an internal snapshot '%s'", target, tag);
    return image_snapshot_create(b->img, tag, vm_clock_nsec) < 0 ? err_prefix("disk '%s': ", target)
                                                                 : 0;
}

int virtio_blk_snapshot_delete(const char *target, const char *tag)
{
    struct blk *b = find_disk(target);
    if (!b)
        return -1;
    return image_snapshot_delete(b->img, tag) < 0 ? err_prefix("disk '%s': ", target) : 0;
}

int virtio_blk_overlay_open(const char *target, const char *path, int fd, struct image **ov)
{
    *ov = NULL;
    struct blk *b = find_disk(target);
    if (!b || b->readonly) {
        close(fd);
        return b ? err_set("disk '%s' is read-only", target) : -1;
    }
    /* Only the main loop changes b->img (here and in virtio_blk_overlay_switch),
     * so reading it without the device lock is safe on this thread. */
    *ov = image_open_overlay(path, fd, b->img, b->direct ? IMAGE_OPEN_DIRECT : 0);
    if (!*ov)
        return err_prefix("disk '%s': ", target);
    uint64_t size = image_get_size(*ov);
    if (size != b->sectors * SECTOR) {
        image_close_top(*ov);
        *ov = NULL;
        return err_set("disk '%s': overlay %s has %" PRIu64 " bytes, the disk %" PRIu64, target,
                       path, size, b->sectors * SECTOR);
    }
    return 0;
}

int virtio_blk_quiesce(const char *target)
{
    struct blk *b = find_disk(target);
    if (!b)
        return -1;
    virtio_dev_lock(&b->vdev);
    int rc = image_quiesce(b->img);
    if (rc < 0)
        virtio_dev_unlock(&b->vdev);
    return rc < 0 ? err_prefix("disk '%s': ", target) : 0;
}

void virtio_blk_overlay_switch(const char *target, struct image *ov)
{
    struct blk *b = find_disk(target);
    if (!b)
        return;
    if (ov) {
        image_set_read_only(b->img); /* ov owns it now, as its backing file */
        b->img = ov;
        b->error_logged = false;
    }
    virtio_dev_unlock(&b->vdev);
}

/* block_resize {"device": TARGET-DEV, "size": BYTES}, as QEMU's (which
 * also takes "node-name"; here the disk's target names it). */
static int qmp_block_resize(struct json_object *args, struct json_object **ret)
{
    (void)ret;
    struct json_object *dev, *size;
    if (!json_object_object_get_ex(args, "device", &dev) ||
        !json_object_is_type(dev, json_type_string))
        return err_set("Parameter 'device' (the disk's target dev, e.g. vdb) is missing");
    if (!json_object_object_get_ex(args, "size", &size) ||
        !json_object_is_type(size, json_type_int))
        return err_set("Parameter 'size' (bytes, an integer) is missing");
    int64_t bytes = json_object_get_int64(size);
    if (bytes < 0)
        return err_set("Parameter 'size' must be non-negative");
    return virtio_blk_resize(json_object_get_string(dev), (uint64_t)bytes);
}

static int register_disk(struct blk *b)
{
    if (!b->target[0])
        return 0; /* no name QMP could give */
    unsigned i = 0;
    while (i < MAX_DISKS && disks[i])
        i++;
    if (i == MAX_DISKS)
        return err_set("more than %d virtio-blk disks", MAX_DISKS);
    if (!qmp_registered && control_register("block_resize", qmp_block_resize) < 0)
        return -1;
    qmp_registered = true;
    disks[i] = b;
    return 0;
}

static void unregister_disk(struct blk *b)
{
    for (unsigned i = 0; i < MAX_DISKS; i++)
        if (disks[i] == b)
            disks[i] = NULL;
}

static void blk_destroy(struct virtio_dev *dev)
{
    struct blk *b = to_blk(dev);
    unregister_disk(b);
    if (image_close(b->img) < 0) /* flushes: a failure ends the run in error */
        vmm_exit_note("%s", err_msg());
    free(b->bounce);
    free(b);
}

static const struct virtio_dev_ops blk_ops = {
    .name = "virtio-blk",
    .device_id = VIRTIO_ID_BLOCK,
    .pci_class = 0x0100, /* mass storage, SCSI, as QEMU presents it */
    .queue_notify = blk_queue_notify,
    .destroy = blk_destroy,
    .save = virtio_state_none_save,
    .load = virtio_state_none_load,
};

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void fill_config(struct blk *b, const struct image_info *info)
{
    memcpy(b->config + CFG_CAPACITY, &b->sectors, 8);
    put32(b->config + CFG_SEG_MAX, VIRTQ_MAX_SIZE - 2);
    put32(b->config + CFG_BLK_SIZE, SECTOR);
    put32(b->config + CFG_MAX_DISCARD_SECTORS, BLK_MAX_DISCARD_SECTORS);
    put32(b->config + CFG_MAX_DISCARD_SEG, BLK_MAX_RANGE_SEGS);
    /* qcow2 frees whole clusters only: tell the guest their size */
    put32(b->config + CFG_DISCARD_ALIGN, info->cluster_size ? info->cluster_size / SECTOR : 1);
    put32(b->config + CFG_MAX_WZ_SECTORS, BLK_MAX_DISCARD_SECTORS);
    put32(b->config + CFG_MAX_WZ_SEG, BLK_MAX_RANGE_SEGS);
}

static int open_image(struct blk *b, const struct virtio_blk_config_in *c)
{
    /* libvirt's default for a file without <driver type>: raw, never probed
     * (a guest could write a qcow2 header into a raw disk). */
    enum image_format fmt = IMAGE_FORMAT_RAW;
    if (c->format && image_format_parse(c->format, &fmt) < 0)
        return -1;
    unsigned flags = (c->readonly ? IMAGE_OPEN_RDONLY : 0) | (c->direct ? IMAGE_OPEN_DIRECT : 0);
    b->img = image_open_with(c->path, fmt, flags, c->opener);
    if (!b->img)
        return -1;
    struct image_info info;
    if (image_get_info(b->img, &info) < 0)
        return -1;
    if (c->direct && !info.direct)
        fprintf(stderr,
                "tvm-vmm: %s: the filesystem of %s refuses O_DIRECT; cache='none' falls back "
                "to the host page cache\n",
                b->vdev.id, c->path);
    b->sectors = image_get_size(b->img) / SECTOR;
    fill_config(b, &info);
    return 0;
}

struct virtio_dev *virtio_blk_new(struct vm *vm, const struct virtio_blk_config_in *c)
{
    struct blk *b = calloc(1, sizeof *b);
    if (!b) {
        err_set("out of memory");
        return NULL;
    }
    snprintf(b->vdev.id, sizeof b->vdev.id, "virtio-blk %s", c->target ? c->target : "?");
    snprintf(b->target, sizeof b->target, "%s", c->target ? c->target : "");
    b->readonly = c->readonly;
    b->direct = c->direct;
    if (c->serial) {
        /* GET_ID: up to 20 bytes, NUL-padded, no terminator when 20 long */
        size_t n = strlen(c->serial);
        memcpy(b->serial, c->serial, n < sizeof b->serial ? n : sizeof b->serial);
    }
    uint64_t features = (1ULL << BLK_F_SEG_MAX) | (1ULL << BLK_F_BLK_SIZE) | (1ULL << BLK_F_FLUSH) |
                        (1ULL << BLK_F_DISCARD) | (1ULL << BLK_F_WRITE_ZEROES) |
                        (c->readonly ? 1ULL << BLK_F_RO : 0);
    if (virtio_dev_init(&b->vdev, vm, &blk_ops, 1, features, b->config, CFG_SIZE) < 0 ||
        open_image(b, c) < 0 || register_disk(b) < 0) {
        err_prefix("disk %s (%s): ", c->target ? c->target : "?", c->path);
        virtio_dev_free(&b->vdev);
        return NULL;
    }
    return &b->vdev;
}
