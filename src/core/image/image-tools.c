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

/* ---- qemu-img map ---- */

static int map_one(struct image *img, uint64_t off, uint64_t len, uint64_t *pnum, unsigned *status,
                   uint64_t *host)
{
    pthread_mutex_lock(&img->lock);
    int rc = img->ops->map(img, off, len, pnum, status, host);
    pthread_mutex_unlock(&img->lock);
    if (rc == 0 && (*pnum == 0 || *pnum > len))
        *pnum = len;
    return rc;
}

/* As qemu-img map looks: down the chain until an image holds the run. */
int image_map(struct image *img, uint64_t off, uint64_t len, struct image_map_entry *e)
{
    uint64_t size = img->ops->get_size(img);
    if (off >= size || len == 0) {
        errno = EINVAL;
        return err_set("%s: map past the end of the disk", img->path);
    }
    if (len > size - off)
        len = size - off;
    struct image *cur = img;
    unsigned depth = 0, status;
    uint64_t host = 0;
    bool present = true;
    for (;;) {
        if (map_one(cur, off, len, &len, &status, &host) < 0)
            return -1;
        if (status & (IMAGE_MAP_DATA | IMAGE_MAP_ZERO))
            break;
        struct image *b = cur->backing;
        if (!b || off >= b->ops->get_size(b)) {
            status = IMAGE_MAP_ZERO; /* nothing below: zeros, held by nobody */
            present = false;
            break;
        }
        if (len > b->ops->get_size(b) - off)
            len = b->ops->get_size(b) - off;
        cur = b;
        depth++;
    }
    *e = (struct image_map_entry){
        .start = off,
        .length = len,
        .depth = depth,
        .present = present,
        .zero = status & IMAGE_MAP_ZERO,
        .data = status & IMAGE_MAP_DATA,
        .has_offset = present && (status & IMAGE_MAP_OFFSET),
        .offset = host,
        .file = cur->path,
    };
    return 0;
}

/* ---- compressed writes (qemu-img convert -c) ---- */

int image_write_compressed(struct image *img, const void *buf, uint64_t off)
{
    if (img->read_only) {
        errno = EROFS;
        return err_set("%s: image is open read-only", img->path);
    }
    if (!img->ops->write_compressed) {
        errno = ENOTSUP;
        return err_set("%s: a %s image cannot hold compressed clusters", img->path, img->ops->name);
    }
    struct image_info info;
    if (image_get_info(img, &info) < 0)
        return -1;
    if (off >= img->ops->get_size(img) || (off & (info.cluster_size - 1))) {
        errno = EINVAL;
        return err_set("%s: compressed write at %llu: not a cluster of the disk", img->path,
                       (unsigned long long)off);
    }
    pthread_mutex_lock(&img->lock);
    int rc = img->ops->write_compressed(img, buf, off);
    pthread_mutex_unlock(&img->lock);
    return rc;
}

/* True when the whole range reads as zeros through SRC's chain. */
static int chain_all_zero(struct image *src, uint64_t off, uint64_t len, bool *zero)
{
    *zero = true;
    while (len > 0) {
        uint64_t n;
        enum image_block_kind kind;
        if (image_block_status_chain(src, off, len, &n, &kind) < 0)
            return -1;
        if (kind != IMAGE_BLOCK_ZERO) {
            *zero = false;
            return 0;
        }
        off += n;
        len -= n;
    }
    return 0;
}

int image_copy_compressed(struct image *src, struct image *dst, image_progress_fn progress,
                          void *opaque)
{
    uint64_t size = image_get_size(src);
    struct image_info info;
    if (image_get_info(dst, &info) < 0)
        return -1;
    if (image_get_size(dst) < size || !info.cluster_size) {
        errno = EINVAL;
        return err_set("%s: cannot hold %s compressed", image_path(dst), image_path(src));
    }
    uint64_t cs = info.cluster_size;
    uint64_t chunk = cs > COPY_CHUNK ? cs : COPY_CHUNK; /* a whole number of clusters */
    uint8_t *buf = malloc(chunk);
    if (!buf)
        return err_set("out of memory");
    for (struct image *i = src; i; i = i->backing)
        posix_fadvise(i->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    int rc = 0;
    for (uint64_t off = 0; rc == 0 && off < size; off += chunk) {
        size_t n = size - off < chunk ? (size_t)(size - off) : (size_t)chunk;
        bool zero;
        rc = chain_all_zero(src, off, n, &zero);
        if (rc == 0 && !zero)
            rc = image_read(src, buf, off, n);
        for (size_t at = 0; rc == 0 && !zero && at < n; at += cs) {
            size_t piece = n - at < cs ? n - at : (size_t)cs;
            if (!all_zero(buf + at, piece))
                rc = image_write_compressed(dst, buf + at, off + at);
        }
        if (rc == 0 && progress)
            progress(off + n, size, opaque);
    }
    free(buf);
    if (rc == 0)
        rc = image_flush(dst);
    return rc;
}

/* ---- qemu-img rebase and commit ---- */

/* LEN bytes at OFF as image B reads them: zeros past its end or without B. */
static int read_or_zeros(struct image *b, uint8_t *buf, uint64_t off, size_t len)
{
    uint64_t bsize = b ? image_get_size(b) : 0;
    size_t inside = off >= bsize ? 0 : (bsize - off < len ? (size_t)(bsize - off) : len);
    if (inside && image_read(b, buf, off, inside) < 0)
        return -1;
    memset(buf + inside, 0, len - inside);
    return 0;
}

/* Copies into IMG every cluster it does not hold itself (it reads through
 * to the backing chain, or zeros without one) that NEW_BACKING (may be
 * NULL: zeros) would read differently. */
static int keep_backing_content(struct image *img, struct image *new_backing, uint64_t cs)
{
    uint64_t size = image_get_size(img);
    uint8_t *old = malloc(cs), *now = malloc(cs);
    int rc = old && now ? 0 : err_set("out of memory");
    for (uint64_t off = 0; rc == 0 && off < size;) {
        uint64_t n, host;
        unsigned status;
        rc = map_one(img, off, size - off < COPY_CHUNK ? size - off : COPY_CHUNK, &n, &status,
                     &host);
        bool through = !(status & (IMAGE_MAP_DATA | IMAGE_MAP_ZERO));
        for (uint64_t at = off; rc == 0 && through && at < off + n;) {
            size_t piece = (size_t)(cs - (at & (cs - 1)));
            if (piece > off + n - at)
                piece = (size_t)(off + n - at);
            rc = image_read_backing(img, old, at, piece);
            if (rc == 0)
                rc = read_or_zeros(new_backing, now, at, piece);
            if (rc == 0 && memcmp(old, now, piece) != 0)
                rc = all_zero(old, piece) ? image_write_zeroes(img, at, piece)
                                          : image_write(img, old, at, piece);
            at += piece;
        }
        off += n;
    }
    free(old);
    free(now);
    return rc == 0 ? image_flush(img) : -1;
}

int image_rebase(struct image *img, const char *backing, enum image_format fmt, bool unsafe)
{
    if (img->read_only) {
        errno = EROFS;
        return err_set("%s: image is open read-only", img->path);
    }
    if (!img->ops->set_backing) {
        errno = ENOTSUP;
        return err_set("Operation not supported");
    }
    if (backing && fmt != IMAGE_FORMAT_RAW && fmt != IMAGE_FORMAT_QCOW2) {
        errno = EINVAL;
        return err_set("%s: the new backing file's format must be given (raw or qcow2; it is "
                       "never probed)",
                       img->path);
    }
    struct image *nb = NULL;
    if (backing) {
        char *path = image_resolve_backing(img->path, backing);
        if (!path)
            return err_set("out of memory");
        nb = image_open(path, fmt, IMAGE_OPEN_RDONLY);
        free(path);
        if (!nb && !unsafe)
            return err_prefix("Could not open new backing file '%s': ", backing);
    }
    struct image_info info;
    int rc = image_get_info(img, &info);
    if (rc == 0 && !unsafe)
        rc = keep_backing_content(img, nb, info.cluster_size);
    if (rc == 0) {
        pthread_mutex_lock(&img->lock);
        rc = img->ops->set_backing(img, backing, fmt);
        pthread_mutex_unlock(&img->lock);
    }
    if (rc < 0) {
        image_close(nb);
        return -1;
    }
    image_close(img->backing);
    img->backing = nb;
    return 0;
}

/* The backing image of IMG opened again, read-write (its own chain stays
 * read-only); on failure the read-only one is put back. */
static int backing_writable(struct image *img)
{
    struct image *b = img->backing;
    char *path = strdup(b->path);
    if (!path)
        return err_set("out of memory");
    enum image_format fmt = b->format;
    image_close(b);
    img->backing = image_open(path, fmt, 0);
    if (!img->backing) {
        char msg[ERR_MSG_MAX];
        snprintf(msg, sizeof(msg), "%s", err_msg());
        img->backing = image_open(path, fmt, IMAGE_OPEN_RDONLY);
        err_set("%s", msg);
    }
    free(path);
    return img->backing && !img->backing->read_only ? 0 : -1;
}

int image_commit(struct image *img, bool keep)
{
    if (img->read_only) {
        errno = EROFS;
        return err_set("%s: image is open read-only", img->path);
    }
    if (!img->backing) {
        errno = EINVAL;
        return err_set("Image does not have a backing file");
    }
    if (!img->ops->make_empty) {
        errno = ENOTSUP;
        return err_set("%s: a %s image cannot be committed", img->path, img->ops->name);
    }
    if (backing_writable(img) < 0)
        return -1;
    struct image *b = img->backing;
    uint64_t size = image_get_size(img);
    int rc = image_get_size(b) < size ? image_resize(b, size, false) : 0;
    uint8_t *buf = malloc(COPY_CHUNK);
    if (!buf)
        rc = err_set("out of memory");
    for (uint64_t off = 0; rc == 0 && off < size;) {
        uint64_t n;
        enum image_block_kind kind;
        rc = image_block_status(img, off, COPY_CHUNK, &n, &kind);
        if (rc == 0 && kind == IMAGE_BLOCK_DATA) {
            rc = image_read(img, buf, off, (size_t)n);
            if (rc == 0)
                rc = image_write(b, buf, off, (size_t)n);
        } else if (rc == 0 && kind == IMAGE_BLOCK_ZERO) {
            rc = image_write_zeroes(b, off, n);
        }
        off += n;
    }
    free(buf);
    if (rc == 0)
        rc = image_flush(b);
    if (rc == 0 && !keep) {
        pthread_mutex_lock(&img->lock);
        rc = img->ops->make_empty(img);
        pthread_mutex_unlock(&img->lock);
    }
    return rc;
}
