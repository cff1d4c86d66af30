/* vol-upload VOL FILE and vol-download VOL FILE [--pool P] [--offset N]
 * [--length N] [--sparse], as virsh spells them: the bytes of the volume's
 * file (or block device) from or into a local file, streamed in chunks
 * with a progress bar on a terminal. As libvirt does, a qcow2 volume
 * moves as its file's bytes: upload a qcow2 image into it, download the
 * image itself.
 *
 * The volume is opened through the image layer as a raw file, so an
 * upload takes the image lock a running guest's disk holds (a disk in use
 * is refused, not corrupted) and writes stay inside the volume: a raw
 * volume's size is its capacity, which an upload never changes. With
 * --sparse the holes of the source (SEEK_HOLE) become holes of the
 * destination instead of written zeros. */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/image/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK (1u << 20)

struct transfer {
    struct cmd_ctx *ctx;
    const char *file;
    struct image *img;
    int fd;       /* the local file */
    uint64_t off; /* in the volume */
    uint64_t len; /* bytes to move */
    bool sparse;
    char what[300]; /* for the progress bar */
    char *buf;
};

static const char *vol_path(const struct volume *v)
{
    return v->target_path ? v->target_path : v->key;
}

static int parse_u64_opt(const struct cmd_args *a, const char *opt, uint64_t *out)
{
    const char *text = cmd_get(a, opt);
    *out = 0;
    if (!text)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(text, &end, 10);
    if (errno || end == text || *end || *text == '-')
        return err_set("%s: --%s '%s' is not a number of bytes", a->entry->name, opt, text);
    *out = n;
    return 0;
}

/* The extent of the run at OFF in a local file: data (true) or a hole,
 * and where it ends (at most END). Files without SEEK_HOLE are all data. */
static bool file_run(int fd, uint64_t off, uint64_t end, uint64_t *run_end)
{
    off_t hole = lseek(fd, (off_t)off, SEEK_HOLE);
    if (hole < 0) {
        *run_end = end;
        return true;
    }
    if ((uint64_t)hole > off) {
        *run_end = (uint64_t)hole < end ? (uint64_t)hole : end;
        return true;
    }
    off_t data = lseek(fd, (off_t)off, SEEK_DATA);
    *run_end = data < 0 || (uint64_t)data > end ? end : (uint64_t)data;
    return false;
}

/* A run of the volume at OFF: data, or zeros it already reads as. */
static bool volume_run(struct image *img, uint64_t off, uint64_t end, uint64_t *run_end)
{
    uint64_t n = 0;
    enum image_block_kind kind = IMAGE_BLOCK_DATA;
    if (image_block_status(img, off, end - off, &n, &kind) < 0 || !n) {
        err_clear();
        *run_end = end;
        return true;
    }
    *run_end = off + n;
    return kind != IMAGE_BLOCK_ZERO;
}

static int read_full(int fd, char *buf, size_t len, uint64_t at, const char *file)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(at + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_errno("%s: read", file);
        if (n == 0)
            return err_set("%s: ended after %llu bytes, before the length asked for", file,
                           (unsigned long long)(at + got));
        got += (size_t)n;
    }
    return 0;
}

static int write_full(int fd, const char *buf, size_t len, uint64_t at, const char *file)
{
    size_t put = 0;
    while (put < len) {
        ssize_t n = pwrite(fd, buf + put, len - put, (off_t)(at + put));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return err_errno("%s: write", file);
        put += (size_t)n;
    }
    return 0;
}

/* ---- upload ---- */

/* A hole of the source: punched where the volume can (a file), else zeros written. */
static int upload_hole(struct transfer *t, uint64_t at, uint64_t len)
{
    if (image_discard(t->img, at, len) < 0)
        err_clear();
    uint64_t n = 0;
    enum image_block_kind kind = IMAGE_BLOCK_DATA;
    if (image_block_status(t->img, at, len, &n, &kind) == 0 && kind == IMAGE_BLOCK_ZERO &&
        n == len)
        return 0;
    err_clear();
    return image_write_zeroes(t->img, at, len);
}

static int upload_stream(struct transfer *t)
{
    int rc = 0;
    for (uint64_t pos = 0; rc == 0 && pos < t->len;) {
        uint64_t run_end = t->len;
        bool data = !t->sparse || file_run(t->fd, pos, t->len, &run_end);
        if (data && run_end - pos > CHUNK)
            run_end = pos + CHUNK;
        size_t n = (size_t)(run_end - pos);
        if (!data)
            rc = upload_hole(t, t->off + pos, n);
        else if (read_full(t->fd, t->buf, n, pos, t->file) < 0 ||
                 image_write(t->img, t->buf, t->off + pos, n) < 0)
            rc = -1;
        pos = run_end;
        cmd_progress(t->ctx, t->what, pos, t->len);
    }
    cmd_progress_end(t->ctx);
    return rc;
}

/* How much to upload, and room for it: a raw volume keeps its size; a
 * qcow2 volume's file becomes the uploaded image (grown or cut to it
 * when the whole file is replaced). */
static int upload_prepare(struct transfer *t, const struct volume *v, const struct cmd_args *a,
                          uint64_t file_size)
{
    uint64_t length;
    if (parse_u64_opt(a, "length", &length) < 0)
        return -1;
    t->len = length && length < file_size ? length : file_size;
    uint64_t size = image_get_size(t->img);
    bool qcow2 = v->format && !strcmp(v->format, "qcow2");
    if (qcow2 && t->off == 0 && !length)
        return image_resize(t->img, t->len, true);
    if (qcow2 && t->off + t->len > size)
        return image_resize(t->img, t->off + t->len, false);
    if (t->off > size || t->len > size - t->off)
        return err_set("cannot upload %llu bytes at offset %llu into volume '%s' of %llu bytes",
                       (unsigned long long)t->len, (unsigned long long)t->off, v->name,
                       (unsigned long long)size);
    return 0;
}

static int upload(struct transfer *t, const struct volume *v, const struct cmd_args *a)
{
    struct stat st;
    t->fd = open(t->file, O_RDONLY | O_CLOEXEC);
    if (t->fd < 0)
        return err_errno("cannot open '%s'", t->file);
    if (fstat(t->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(t->fd);
        return err_set("'%s' is not a regular file", t->file);
    }
    int rc = -1;
    t->img = image_open(vol_path(v), IMAGE_FORMAT_RAW, 0);
    if (t->img && upload_prepare(t, v, a, (uint64_t)st.st_size) == 0) {
        snprintf(t->what, sizeof(t->what), "uploading %s", v->name);
        rc = upload_stream(t);
    }
    if (image_close(t->img) < 0)
        rc = -1;
    close(t->fd);
    return rc;
}

/* ---- download ---- */

static int download_stream(struct transfer *t)
{
    int rc = 0;
    for (uint64_t pos = 0; rc == 0 && pos < t->len;) {
        uint64_t run_end = t->off + t->len;
        bool data = !t->sparse || volume_run(t->img, t->off + pos, t->off + t->len, &run_end);
        run_end -= t->off;
        if (data && run_end - pos > CHUNK)
            run_end = pos + CHUNK;
        size_t n = (size_t)(run_end - pos);
        if (data && (image_read(t->img, t->buf, t->off + pos, n) < 0 ||
                     write_full(t->fd, t->buf, n, pos, t->file) < 0))
            rc = -1;
        pos = run_end;
        cmd_progress(t->ctx, t->what, pos, t->len);
    }
    /* A hole at the end still counts: the file is as long as what was asked. */
    if (rc == 0 && ftruncate(t->fd, (off_t)t->len) < 0)
        rc = err_errno("%s: truncate", t->file);
    cmd_progress_end(t->ctx);
    return rc;
}

static int download(struct transfer *t, const struct volume *v, const struct cmd_args *a)
{
    uint64_t length;
    if (parse_u64_opt(a, "length", &length) < 0)
        return -1;
    /* As `qemu-img -U`: a disk in use can still be read. */
    t->img = image_open(vol_path(v), IMAGE_FORMAT_RAW, IMAGE_OPEN_RDONLY | IMAGE_OPEN_FORCE_SHARE);
    if (!t->img)
        return -1;
    uint64_t size = image_get_size(t->img);
    int rc = -1;
    if (t->off > size)
        err_set("offset %llu is past the end of volume '%s' (%llu bytes)",
                (unsigned long long)t->off, v->name, (unsigned long long)size);
    else if ((t->fd = open(t->file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0)
        err_errno("cannot open '%s'", t->file);
    else {
        t->len = length && length < size - t->off ? length : size - t->off;
        snprintf(t->what, sizeof(t->what), "downloading %s", v->name);
        rc = download_stream(t);
        if (close(t->fd) < 0 && rc == 0)
            rc = err_errno("%s: close", t->file);
    }
    image_close(t->img);
    return rc;
}

static enum cmd_result vol_transfer_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool bad, is_upload = args->entry->data != NULL;
    const char *pool = cmd_vol_pool_arg(args, 2, &bad);
    if (bad)
        return CMD_USAGE;
    struct transfer t = {
        .ctx = ctx, .file = args->argv[1], .fd = -1, .sparse = cmd_has(args, "sparse")};
    if (parse_u64_opt(args, "offset", &t.off) < 0)
        return CMD_USAGE;
    if (!(t.buf = malloc(CHUNK))) {
        err_set("out of memory");
        return CMD_ERROR;
    }
    struct cmd_pool p;
    struct volume *v = NULL;
    int rc = cmd_vol_lookup(ctx, args->argv[0], pool, &p, &v);
    if (rc == 0)
        rc = is_upload ? upload(&t, v, args) : download(&t, v, args);
    if (rc == 0 && is_upload)
        rc = cmd_pool_record_volume(ctx, &p, vol_path(v));
    if (rc == 0 && is_upload)
        rc = store_event_add(ctx->store, "volume", v->name, "uploaded", t.file);
    free(t.buf);
    volume_free(v);
    cmd_pool_clear(&p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_vol_upload_entry = {
    .name = "vol-upload",
    .usage = "vol-upload VOL FILE [POOL | --pool POOL] [--offset BYTES] [--length BYTES] "
             "[--sparse]",
    .summary = "write a local file's bytes into a volume (a qcow2 volume takes a qcow2 image; "
               "--sparse keeps the file's holes)",
    .opts = "pool=,offset=,length=,sparse",
    .min_args = 2,
    .max_args = 3,
    .exec = vol_transfer_exec,
    .flags = CMD_F_WRITES,
    .data = "upload",
};

const struct cmd_entry cmd_vol_download_entry = {
    .name = "vol-download",
    .usage = "vol-download VOL FILE [POOL | --pool POOL] [--offset BYTES] [--length BYTES] "
             "[--sparse]",
    .summary = "copy a volume's bytes into a local file (a qcow2 volume gives its image; "
               "--sparse keeps the volume's holes)",
    .opts = "pool=,offset=,length=,sparse",
    .min_args = 2,
    .max_args = 3,
    .exec = vol_transfer_exec,
};
