/* A whole image file copied as the host holds it (tvm clone's full
 * copies): the format's own bytes, so a qcow2 stays the same qcow2 with its
 * clusters, snapshots and backing reference. The file system shares the
 * extents when it can (FICLONE: btrfs, XFS with reflink); otherwise only
 * the data extents are read and written (SEEK_DATA/SEEK_HOLE), so holes
 * stay holes and a sparse 10 GiB image with 1 GiB written costs 1 GiB. */
#include "core/image/image.h"
#include "core/base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK (1u << 20)

struct copy_job {
    int in, out;
    uint8_t *buf;
    off_t size;
    const char *src, *dst;
    image_progress_fn progress;
    void *opaque;
};

/* Copies [off, off+len) of the source into the copy at the same offset. */
static int copy_range(const struct copy_job *j, off_t off, off_t len)
{
    int in = j->in, out = j->out;
    uint8_t *buf = j->buf;
    const char *src = j->src, *dst = j->dst;
    while (len > 0) {
        size_t n = len > COPY_CHUNK ? COPY_CHUNK : (size_t)len;
        ssize_t r = pread(in, buf, n, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return err_set("%s: read at %lld: %s", src, (long long)off,
                           r < 0 ? strerror(errno) : "unexpected end of file");
        for (ssize_t done = 0; done < r;) {
            ssize_t w = pwrite(out, buf + done, (size_t)(r - done), off + done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return err_set("%s: write at %lld: %s", dst, (long long)(off + done),
                               w < 0 ? strerror(errno) : "no progress");
            done += w;
        }
        off += r;
        len -= r;
        if (j->progress)
            j->progress((uint64_t)off, (uint64_t)j->size, j->opaque);
    }
    return 0;
}

/* The data extents of the source, one after the other; a file system
 * without SEEK_DATA answers EINVAL and is copied whole. */
static int copy_data_extents(struct copy_job *j)
{
    j->buf = malloc(COPY_CHUNK);
    if (!j->buf)
        return err_set("out of memory");
    int rc = 0;
    for (off_t pos = 0; pos < j->size && rc == 0;) {
        off_t data = lseek(j->in, pos, SEEK_DATA);
        if (data < 0 && errno == ENXIO)
            break; /* only a hole is left */
        off_t hole = data < 0 ? j->size : lseek(j->in, data, SEEK_HOLE);
        if (data < 0 && errno == EINVAL)
            data = pos;
        else if (data < 0 || hole < 0) {
            rc = err_set("%s: looking for data: %s", j->src, strerror(errno));
            break;
        }
        if (hole > j->size)
            hole = j->size;
        rc = copy_range(j, data, hole - data);
        pos = hole;
    }
    free(j->buf);
    return rc;
}

static int fill_file(int in, int out, off_t size, unsigned flags, const char *src, const char *dst,
                     image_progress_fn progress, void *opaque)
{
    if ((flags & IMAGE_CLONE_REFLINK) && ioctl(out, FICLONE, in) == 0) {
        if (progress)
            progress((uint64_t)size, (uint64_t)size, opaque);
    } else {
        if (flags & IMAGE_CLONE_REFLINK_ONLY)
            return err_set("%s: the file system cannot share extents with %s (FICLONE: %s)", dst,
                           src, strerror(errno));
        /* the holes are made by the length, the data is written into it */
        if (ftruncate(out, size) < 0)
            return err_set("%s: %s", dst, strerror(errno));
        struct copy_job j = {in, out, NULL, size, src, dst, progress, opaque};
        if (copy_data_extents(&j) < 0)
            return -1;
        if (progress)
            progress((uint64_t)size, (uint64_t)size, opaque);
    }
    if ((flags & IMAGE_CLONE_NONSPARSE) && size > 0 && (errno = posix_fallocate(out, 0, size)))
        return err_set("%s: allocating %lld bytes: %s", dst, (long long)size, strerror(errno));
    if (fdatasync(out) < 0)
        return err_set("%s: %s", dst, strerror(errno));
    return 0;
}

int image_clone_file(const char *src, const char *dst, unsigned flags, image_progress_fn progress,
                     void *opaque)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return err_set("%s: %s", src, strerror(errno));
    struct stat st;
    if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
        int e = errno;
        close(in);
        return err_set("%s: %s", src, S_ISREG(st.st_mode) ? strerror(e) : "not a regular file");
    }
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0666);
    if (out < 0) {
        int e = errno;
        close(in);
        return err_set("%s: %s", dst, strerror(e));
    }
    int rc = fill_file(in, out, st.st_size, flags, src, dst, progress, opaque);
    if (close(out) < 0 && rc == 0)
        rc = err_set("%s: %s", dst, strerror(errno));
    close(in);
    if (rc < 0)
        unlink(dst); /* never a half-written image */
    return rc;
}
