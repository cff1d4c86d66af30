/* O_DIRECT I/O for cache='none': the kernel then wants the buffer, the file
 * offset and the length all aligned to the device's logical block size.
 * Aligned requests (guest pages, qcow2 clusters) go straight through; the
 * rest is staged in one aligned bounce buffer per image: reads fetch the
 * enclosing blocks, writes read-modify-write the partial first and last block.
 * Every caller holds the image lock (or is opening/closing it alone), so the
 * one buffer per image is never shared between threads.
 */
#include "core/image/image-priv.h"
#include "core/base/err.h"

#include <errno.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

/* What a regular file on any common filesystem accepts (4 KiB sector disks
 * included); smaller alignments would work on many, larger on none we use. */
#define FILE_DIO_ALIGN 4096u

int image_direct_setup(struct image *img)
{
    struct stat st;
    if (fstat(img->fd, &st) < 0)
        return err_errno("%s: stat", img->path);
    unsigned align = FILE_DIO_ALIGN;
    int ssz = 0;
    if (S_ISBLK(st.st_mode) && ioctl(img->fd, BLKSSZGET, &ssz) == 0 && ssz >= 512 &&
        (ssz & (ssz - 1)) == 0)
        align = (unsigned)ssz;
    void *buf = NULL;
    int rc = posix_memalign(&buf, align, IMAGE_DIO_BOUNCE);
    if (rc != 0) {
        errno = rc;
        return err_errno("%s: bounce buffer", img->path);
    }
    img->dio_align = align;
    img->dio_buf = buf;
    img->direct = true;
    return 0;
}

static bool is_aligned(const struct image *img, const void *buf, size_t len, uint64_t off)
{
    uint64_t mask = img->dio_align - 1;
    return (((uintptr_t)buf | len | off) & mask) == 0;
}

static uint64_t align_down(const struct image *img, uint64_t v)
{
    return v & ~(uint64_t)(img->dio_align - 1);
}

static uint64_t align_up(const struct image *img, uint64_t v)
{
    return align_down(img, v + img->dio_align - 1);
}

/* One pread retried on EINTR; returns bytes read (short only at EOF) or -1. */
static ssize_t pread_once(struct image *img, void *buf, size_t len, uint64_t off)
{
    for (;;) {
        ssize_t n = pread(img->fd, buf, len, (off_t)off);
        if (n >= 0 || errno != EINTR)
            return n;
    }
}

static int read_error(struct image *img, uint64_t off)
{
    return err_errno("%s: read at %llu", img->path, (unsigned long long)off);
}

static int past_eof(struct image *img, uint8_t *p, size_t len, uint64_t off, bool zero_past_eof)
{
    if (zero_past_eof) {
        memset(p, 0, len);
        return 0;
    }
    errno = EIO;
    return err_set("%s: read at %llu: unexpected end of file", img->path, (unsigned long long)off);
}

int image_direct_pread(struct image *img, void *buf, size_t len, uint64_t off, bool zero_past_eof)
{
    uint8_t *p = buf;
    while (len > 0) {
        if (is_aligned(img, p, len, off)) {
            ssize_t n = pread_once(img, p, len, off);
            if (n < 0)
                return read_error(img, off);
            if (n == 0)
                return past_eof(img, p, len, off, zero_past_eof);
            /* A short read stops at EOF; the rest comes round again (and
             * through the bounce path when EOF is mid-block). */
            p += n, len -= (size_t)n, off += (uint64_t)n;
            continue;
        }
        uint64_t start = align_down(img, off);
        size_t head = (size_t)(off - start);
        size_t want = len < IMAGE_DIO_BOUNCE - head ? len : IMAGE_DIO_BOUNCE - head;
        size_t span = (size_t)align_up(img, head + want);
        ssize_t n = pread_once(img, img->dio_buf, span, start);
        if (n < 0)
            return read_error(img, off);
        size_t got = (size_t)n > head ? (size_t)n - head : 0;
        if (got == 0)
            return past_eof(img, p, len, off, zero_past_eof);
        if (got > want)
            got = want;
        memcpy(p, img->dio_buf + head, got);
        p += got, len -= got, off += got;
    }
    return 0;
}

/* Writes all of the aligned BUF. O_DIRECT writes come back short only when
 * the disk is full, and what is left may then not be aligned: say ENOSPC. */
static int pwrite_aligned(struct image *img, const uint8_t *buf, size_t len, uint64_t off)
{
    while (len > 0) {
        ssize_t n = pwrite(img->fd, buf, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (n > 0 && (size_t)n < len && (n & (img->dio_align - 1))))
            errno = ENOSPC, n = -1;
        if (n < 0)
            return err_errno("%s: write at %llu", img->path, (unsigned long long)off);
        buf += n, len -= (size_t)n, off += (uint64_t)n;
    }
    return 0;
}

/* Fills one block of the bounce buffer at BLOCK (offset in the buffer) with
 * the file's current bytes, zeros past EOF. */
static int fetch_block(struct image *img, size_t block, uint64_t file_off)
{
    ssize_t n = pread_once(img, img->dio_buf + block, img->dio_align, file_off);
    if (n < 0)
        return read_error(img, file_off);
    memset(img->dio_buf + block + n, 0, img->dio_align - (size_t)n);
    return 0;
}

/* One bounce-buffer round: [off, off+want) inside one buffer's worth. */
static int pwrite_staged(struct image *img, const uint8_t *p, size_t want, uint64_t off)
{
    uint64_t start = align_down(img, off);
    size_t head = (size_t)(off - start);
    size_t span = (size_t)align_up(img, head + want);
    size_t last = span - img->dio_align;
    bool tail_partial = head + want < span;
    if (head && fetch_block(img, 0, start) < 0)
        return -1;
    if (tail_partial && (last != 0 || !head) && fetch_block(img, last, start + last) < 0)
        return -1;
    /* The padding after the data must not grow the file: note its size now
     * and cut it back below. */
    struct stat st = {.st_size = 0};
    if (tail_partial && fstat(img->fd, &st) < 0)
        return err_errno("%s: stat", img->path);
    memcpy(img->dio_buf + head, p, want);
    if (pwrite_aligned(img, img->dio_buf, span, start) < 0)
        return -1;
    uint64_t end = off + want, old = (uint64_t)st.st_size;
    if (tail_partial && start + span > old &&
        ftruncate(img->fd, (off_t)(end > old ? end : old)) < 0)
        return err_errno("%s: set size", img->path);
    return 0;
}

int image_direct_pwrite(struct image *img, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    if (is_aligned(img, p, len, off))
        return pwrite_aligned(img, p, len, off);
    while (len > 0) {
        size_t head = (size_t)(off - align_down(img, off));
        size_t want = len < IMAGE_DIO_BOUNCE - head ? len : IMAGE_DIO_BOUNCE - head;
        if (pwrite_staged(img, p, want, off) < 0)
            return -1;
        p += want, len -= want, off += want;
    }
    return 0;
}
