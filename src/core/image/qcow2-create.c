/* Creating empty qcow2 v3 images.
 *
 * Layout: cluster 0 = header, extensions, backing name; then the refcount
 * table, the refcount blocks covering the metadata, and the L1 table. All of
 * these have refcount 1; the disk itself starts unallocated. */
#include "core/image/qcow2.h"
#include "core/base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CREATE_HEADER_LEN 112 /* v3 header with the compression type byte */

struct create_layout {
    uint64_t l1_size;
    uint64_t reftable_clusters, refblocks, l1_clusters, total;
};

static int plan(struct create_layout *lo, uint64_t size, unsigned cb)
{
    uint64_t cs = 1ull << cb;
    uint64_t l1_span = cs * (cs / 8);
    lo->l1_size = (size + l1_span - 1) / l1_span;
    if (lo->l1_size * 8 > QCOW2_MAX_L1_BYTES)
        return err_set("size %llu too large for %llu-byte clusters", (unsigned long long)size,
                       (unsigned long long)cs);
    lo->l1_clusters = (lo->l1_size * 8 + cs - 1) / cs;
    uint64_t per_rb = cs * 8 / 16; /* refcount_order 4 */
    lo->reftable_clusters = 1;
    lo->refblocks = 1;
    for (;;) {
        lo->total = 1 + lo->reftable_clusters + lo->refblocks + lo->l1_clusters;
        uint64_t rb = (lo->total + per_rb - 1) / per_rb;
        uint64_t rt = (rb * 8 + cs - 1) / cs;
        if (rb == lo->refblocks && rt == lo->reftable_clusters)
            return 0;
        lo->refblocks = rb;
        lo->reftable_clusters = rt;
    }
}

static char *backing_resolved(const char *path, const char *backing)
{
    const char *slash = strrchr(path, '/');
    char *out = NULL;
    if (backing[0] == '/' || !slash)
        return strdup(backing);
    if (asprintf(&out, "%.*s/%s", (int)(slash - path), path, backing) < 0)
        return NULL;
    return out;
}

/* Opens the backing chain once: it must exist, and it gives the format and
 * size. Only its headers are read, so an image a guest is writing may be
 * the backing file (a running disk's snapshot): shared, as qemu-img
 * create opens it (force-share). */
static int check_backing(const char *path, const char *backing, enum image_format *fmt,
                         uint64_t *size)
{
    char *rp = backing_resolved(path, backing);
    if (!rp)
        return err_set("out of memory");
    struct image *b = image_open(rp, *fmt, IMAGE_OPEN_RDONLY | IMAGE_OPEN_FORCE_SHARE);
    free(rp);
    if (!b)
        return err_prefix("%s: backing file: ", path);
    struct image_info info;
    image_get_info(b, &info);
    *fmt = info.format;
    if (*size == 0)
        *size = info.virtual_size;
    image_close(b);
    return 0;
}

static size_t put_ext(uint8_t *h, size_t at, uint32_t type, const void *data, uint32_t len)
{
    be32_put(h + at, type);
    be32_put(h + at + 4, len);
    memcpy(h + at + 8, data, len);
    return at + 8 + ((len + 7u) & ~7u);
}

int image_create_qcow2(const char *path, uint64_t size, unsigned cluster_bits,
                       const char *backing_path, enum image_format backing_fmt)
{
    if (cluster_bits == 0)
        cluster_bits = 16;
    if (cluster_bits < QCOW2_MIN_CLUSTER_BITS || cluster_bits > QCOW2_MAX_CLUSTER_BITS)
        return err_set("%s: cluster_bits %u out of range (%d-%d)", path, cluster_bits,
                       QCOW2_MIN_CLUSTER_BITS, QCOW2_MAX_CLUSTER_BITS);
    /* Probing the backing file here would trust whatever its first bytes
     * say for ever after (a guest's raw disk can hold a qcow2 header). */
    if (backing_path && backing_fmt == IMAGE_FORMAT_AUTO)
        return err_set("%s: backing file '%s' needs a backing format (raw or qcow2); it is "
                       "never probed",
                       path, backing_path);
    if (backing_path && check_backing(path, backing_path, &backing_fmt, &size) < 0)
        return -1;
    if (size > QCOW2_MAX_VIRTUAL_SIZE)
        return err_set("%s: size %llu too large", path, (unsigned long long)size);
    struct create_layout lo = {0};
    if (plan(&lo, size, cluster_bits) < 0)
        return err_prefix("%s: ", path);
    uint64_t cs = 1ull << cluster_bits;
    size_t name_len = backing_path ? strlen(backing_path) : 0;
    if (name_len > QCOW2_MAX_BACKING_NAME)
        return err_set("%s: backing file name longer than %d bytes", path, QCOW2_MAX_BACKING_NAME);
    const char *fmt_name = image_format_name(backing_fmt);
    size_t need = CREATE_HEADER_LEN + (backing_path ? 8 + 8 : 0) + 8 + name_len;
    if (need > cs)
        return err_set("%s: header and backing file name do not fit in a %llu-byte cluster", path,
                       (unsigned long long)cs);

    uint8_t *buf = calloc(lo.total, cs);
    if (!buf)
        return err_set("out of memory");
    uint64_t rt_off = cs, rb_off = rt_off + lo.reftable_clusters * cs;
    uint64_t l1_off = rb_off + lo.refblocks * cs;
    uint8_t *h = buf;
    be32_put(h, QCOW2_MAGIC);
    be32_put(h + 4, 3);
    be32_put(h + 20, cluster_bits);
    be64_put(h + 24, size);
    be32_put(h + 36, (uint32_t)lo.l1_size);
    be64_put(h + 40, lo.l1_size ? l1_off : 0);
    be64_put(h + 48, rt_off);
    be32_put(h + 56, (uint32_t)lo.reftable_clusters);
    be32_put(h + 96, 4);
    be32_put(h + 100, CREATE_HEADER_LEN);
    size_t at = CREATE_HEADER_LEN;
    if (backing_path)
        at = put_ext(h, at, QCOW2_EXT_BACKING_FORMAT, fmt_name, (uint32_t)strlen(fmt_name));
    at += 8; /* end-of-extensions marker: already zero */
    if (backing_path) {
        memcpy(h + at, backing_path, name_len);
        be64_put(h + 8, at);
        be32_put(h + 16, (uint32_t)name_len);
    }
    for (uint64_t i = 0; i < lo.refblocks; i++)
        be64_put(buf + rt_off + 8 * i, rb_off + i * cs);
    for (uint64_t c = 0; c < lo.total; c++)
        be16_put(buf + rb_off + 2 * c, 1);

    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(buf);
        return err_errno("%s", path);
    }
    size_t len = (size_t)(lo.total * cs), done = 0;
    while (done < len) {
        ssize_t n = pwrite(fd, buf + done, len - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            err_errno("%s: write", path);
            goto fail;
        }
        done += (size_t)n;
    }
    if (fsync(fd) < 0) {
        err_errno("%s: sync", path);
        goto fail;
    }
    free(buf);
    if (close(fd) < 0) {
        err_errno("%s: close", path);
        unlink(path);
        return -1;
    }
    return 0;
fail:
    free(buf);
    close(fd);
    unlink(path);
    return -1;
}
