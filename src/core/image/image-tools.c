/* Offline work on whole images: resize, allocation maps, copies. tvm's
 * storage verbs and `tvm img` use these; tvm-vmm does not. */
#include "core/image/image-priv.h"
#include "core/base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

int image_resize(struct image *img, uint64_t size, bool shrink)
{
    if (img->read_only) {
        errno = EROFS;
        return err_set("%s: image is open read-only", img->path);
    }
    pthread_mutex_lock(&img->lock);
    uint64_t now = img->ops->get_size(img);
    int rc = 0;
    if (size < now && !shrink) {
        errno = EINVAL;
        rc = err_set("%s: %llu bytes is smaller than the disk (%llu bytes); shrinking needs "
                     "--shrink",
                     img->path, (unsigned long long)size, (unsigned long long)now);
    } else if (size != now && !img->ops->resize) {
        errno = ENOTSUP;
        rc = err_set("%s: a %s image cannot be resized", img->path, img->ops->name);
    } else if (size != now) {
        rc = img->ops->resize(img, size);
    }
    pthread_mutex_unlock(&img->lock);
    return rc;
}

int image_block_status(struct image *img, uint64_t off, uint64_t len, uint64_t *pnum,
                       enum image_block_kind *kind)
{
    uint64_t size = img->ops->get_size(img);
    if (off >= size || len == 0) {
        errno = EINVAL;
        return err_set("%s: block status past the end of the disk", img->path);
    }
    if (len > size - off)
        len = size - off;
    if (!img->ops->block_status) {
        *pnum = len;
        *kind = IMAGE_BLOCK_DATA;
        return 0;
    }
    pthread_mutex_lock(&img->lock);
    int rc = img->ops->block_status(img, off, len, pnum, kind);
    pthread_mutex_unlock(&img->lock);
    if (rc == 0 && (*pnum == 0 || *pnum > len))
        *pnum = len;
    return rc;
}

int image_block_status_chain(struct image *img, uint64_t off, uint64_t len, uint64_t *pnum,
                             enum image_block_kind *kind)
{
    if (image_block_status(img, off, len, pnum, kind) < 0)
        return -1;
    if (*kind != IMAGE_BLOCK_BACKING)
        return 0;
    struct image *b = img->backing;
    if (!b || off >= b->ops->get_size(b)) {
        *kind = IMAGE_BLOCK_ZERO;
        return 0;
    }
    uint64_t n;
    if (image_block_status_chain(b, off, *pnum, &n, kind) < 0)
        return -1;
    *pnum = n;
    return 0;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i])
            return false;
    }
    return true;
}

#define COPY_CHUNK (1u << 20)
#define ZERO_GRAIN 4096u /* as qemu-img convert's default -S 4k */

/* Writes BUF (LEN bytes at OFF) to DST, skipping 4 KiB runs that are all
 * zeros: a fresh destination already reads them as zeros (else they are
 * written as zeros through write_zeroes). */
static int write_sparse(struct image *dst, const uint8_t *buf, uint64_t off, size_t len,
                        bool dst_zeroed)
{
    size_t i = 0;
    while (i < len) {
        size_t n = len - i < ZERO_GRAIN ? len - i : ZERO_GRAIN;
        if (all_zero(buf + i, n)) {
            if (!dst_zeroed && image_write_zeroes(dst, off + i, n) < 0)
                return -1;
            i += n;
            continue;
        }
        size_t start = i;
        while (i < len) {
            n = len - i < ZERO_GRAIN ? len - i : ZERO_GRAIN;
            if (all_zero(buf + i, n))
                break;
            i += n;
        }
        if (image_write(dst, buf + start, off + start, i - start) < 0)
            return -1;
    }
    return 0;
}

int image_copy(struct image *src, struct image *dst, bool dst_zeroed, image_progress_fn progress,
               void *opaque)
{
    uint64_t size = image_get_size(src);
    if (image_get_size(dst) < size) {
        errno = EINVAL;
        return err_set("%s: %llu bytes cannot hold %s (%llu bytes)", image_path(dst),
                       (unsigned long long)image_get_size(dst), image_path(src),
                       (unsigned long long)size);
    }
    uint8_t *buf = malloc(COPY_CHUNK);
    if (!buf)
        return err_set("out of memory");
    /* read once, front to back: let the kernel read ahead, and not keep it */
    for (struct image *i = src; i; i = i->backing)
        posix_fadvise(i->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    uint64_t off = 0;
    int rc = 0;
    while (rc == 0 && off < size) {
        uint64_t want = size - off < COPY_CHUNK ? size - off : COPY_CHUNK, n;
        enum image_block_kind kind;
        rc = image_block_status_chain(src, off, want, &n, &kind);
        if (rc == 0 && kind == IMAGE_BLOCK_DATA)
            rc = image_read(src, buf, off, (size_t)n);
        if (rc == 0 && kind == IMAGE_BLOCK_DATA)
            rc = write_sparse(dst, buf, off, (size_t)n, dst_zeroed);
        else if (rc == 0 && !dst_zeroed)
            rc = image_write_zeroes(dst, off, n);
        off += n;
        if (rc == 0 && progress)
            progress(off, size, opaque);
    }
    free(buf);
    if (rc == 0)
        rc = image_flush(dst);
    return rc;
}

int image_check(struct image *img, FILE *report, struct image_check *res)
{
    memset(res, 0, sizeof(*res));
    if (!img->ops->check) {
        errno = ENOTSUP;
        return err_set("%s: this image format (%s) does not support checks", img->path,
                       img->ops->name);
    }
    pthread_mutex_lock(&img->lock);
    int rc = img->ops->check(img, report, res);
    pthread_mutex_unlock(&img->lock);
    return rc;
}

enum image_format image_get_format(const struct image *img)
{
    return img->format;
}
