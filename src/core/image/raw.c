/* Raw images: the file is the disk. Holes read as zeros; discard punches them. */
#include "core/image/image-priv.h"
#include "core/base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct raw {
    uint64_t size;
};

static struct raw *raw_of(struct image *img)
{
    return img->priv;
}

static int raw_open(struct image *img)
{
    struct stat st;
    if (fstat(img->fd, &st) < 0)
        return err_errno("%s: stat", img->path);
    struct raw *r = calloc(1, sizeof(*r));
    if (!r)
        return err_set("out of memory");
    r->size = (uint64_t)st.st_size;
    if (S_ISBLK(st.st_mode)) {
        off_t end = lseek(img->fd, 0, SEEK_END);
        if (end < 0) {
            free(r);
            return err_errno("%s: size", img->path);
        }
        r->size = (uint64_t)end;
    }
    img->priv = r;
    return 0;
}

static int raw_close(struct image *img)
{
    int rc = 0;
    if (!img->read_only && fdatasync(img->fd) < 0)
        rc = err_errno("%s: cannot flush the disk on close", img->path);
    free(img->priv);
    img->priv = NULL;
    return rc;
}

static int raw_read(struct image *img, void *buf, uint64_t off, size_t len)
{
    return image_pread_full(img, buf, len, off, true);
}

static int raw_write(struct image *img, const void *buf, uint64_t off, size_t len)
{
    return image_pwrite_full(img, buf, len, off);
}

static int raw_flush(struct image *img)
{
    if (fdatasync(img->fd) < 0)
        return err_errno("%s: flush", img->path);
    return 0;
}

static int raw_discard(struct image *img, uint64_t off, uint64_t len)
{
    /* Advisory: a filesystem without hole punching just keeps the data. */
    if (len &&
        fallocate(img->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) <
            0 &&
        errno != EOPNOTSUPP)
        return err_errno("%s: discard", img->path);
    return 0;
}

static int raw_write_zeroes(struct image *img, uint64_t off, uint64_t len)
{
    if (len == 0)
        return 0;
    if (fallocate(img->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
    if (fallocate(img->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
        return 0;
    /* No fallocate support: write real zeros. */
    static const uint8_t zeros[65536];
    while (len > 0) {
        size_t n = len < sizeof(zeros) ? (size_t)len : sizeof(zeros);
        if (image_pwrite_full(img, zeros, n, off) < 0)
            return -1;
        off += n;
        len -= n;
    }
    return 0;
}

static uint64_t raw_get_size(struct image *img)
{
    return raw_of(img)->size;
}

static int raw_get_info(struct image *img, struct image_info *info)
{
    info->virtual_size = raw_of(img)->size;
    return 0;
}

static int raw_resize(struct image *img, uint64_t size)
{
    struct stat st;
    if (fstat(img->fd, &st) < 0)
        return err_errno("%s: stat", img->path);
    if (!S_ISREG(st.st_mode))
        return errno = ENOTSUP, err_set("%s: only a file can be resized here", img->path);
    if (size > (uint64_t)INT64_MAX)
        return errno = EINVAL,
               err_set("%s: size %llu too large", img->path, (unsigned long long)size);
    if (ftruncate(img->fd, (off_t)size) < 0)
        return err_errno("%s: set size", img->path);
    raw_of(img)->size = size;
    return 0;
}

/* Holes read as zeros (SEEK_DATA/SEEK_HOLE); a file system that cannot say
 * reports everything as data. */
static int raw_block_status(struct image *img, uint64_t off, uint64_t len, uint64_t *pnum,
                            enum image_block_kind *kind)
{
    off_t data = lseek(img->fd, (off_t)off, SEEK_DATA);
    if (data < 0 && errno != ENXIO) {
        *kind = IMAGE_BLOCK_DATA;
        *pnum = len;
        return 0;
    }
    if (data < 0 || (uint64_t)data > off) {
        uint64_t hole_end = data < 0 ? off + len : (uint64_t)data;
        *kind = IMAGE_BLOCK_ZERO;
        *pnum = hole_end - off < len ? hole_end - off : len;
        return 0;
    }
    off_t hole = lseek(img->fd, (off_t)off, SEEK_HOLE);
    uint64_t end = hole < 0 ? off + len : (uint64_t)hole;
    *kind = IMAGE_BLOCK_DATA;
    *pnum = end - off < len ? end - off : len;
    if (*pnum == 0)
        *pnum = len;
    return 0;
}

/* As QEMU's file driver says: data or a hole, at the same offset in the file. */
static int raw_map(struct image *img, uint64_t off, uint64_t len, uint64_t *pnum, unsigned *status,
                   uint64_t *host)
{
    enum image_block_kind kind;
    if (raw_block_status(img, off, len, pnum, &kind) < 0)
        return -1;
    *status = (kind == IMAGE_BLOCK_DATA ? IMAGE_MAP_DATA : IMAGE_MAP_ZERO) | IMAGE_MAP_OFFSET;
    *host = off;
    return 0;
}

const struct image_ops image_raw_ops = {
    .name = "raw",
    .open = raw_open,
    .close = raw_close,
    .read = raw_read,
    .write = raw_write,
    .flush = raw_flush,
    .discard = raw_discard,
    .write_zeroes = raw_write_zeroes,
    .get_size = raw_get_size,
    .get_info = raw_get_info,
    .resize = raw_resize,
    .block_status = raw_block_status,
    .map = raw_map,
};
