/* Generic half of the image layer: opening a chain, range checks, locking,
 * and dispatch to the format's ops table. */
#include "core/image/image-priv.h"
#include "core/base/err.h"
#include "core/image/qcow2.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t qcow2_magic[4] = {'Q', 'F', 'I', 0xfb};

const char *image_format_name(enum image_format format)
{
    switch (format) {
    case IMAGE_FORMAT_RAW:
        return "raw";
    case IMAGE_FORMAT_QCOW2:
        return "qcow2";
    default:
        return "auto";
    }
}

int image_format_parse(const char *name, enum image_format *format)
{
    if (strcmp(name, "raw") == 0)
        *format = IMAGE_FORMAT_RAW;
    else if (strcmp(name, "qcow2") == 0)
        *format = IMAGE_FORMAT_QCOW2;
    else
        return err_set("unsupported image format '%s' (raw or qcow2)", name);
    return 0;
}

static enum image_format probe_magic(const uint8_t magic[4])
{
    return memcmp(magic, qcow2_magic, 4) == 0 ? IMAGE_FORMAT_QCOW2 : IMAGE_FORMAT_RAW;
}

int image_probe(const char *path, enum image_format *format)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_errno("%s", path);
    uint8_t magic[4] = {0};
    ssize_t n = pread(fd, magic, sizeof(magic), 0);
    if (n < 0)
        err_errno("%s: read", path);
    else
        *format = probe_magic(magic);
    close(fd);
    return n < 0 ? -1 : 0;
}

/* Probes through the image's own read path (which knows O_DIRECT). A file
 * shorter than the magic reads zeros there and so probes as raw. */
static int probe_image(struct image *img, enum image_format *format)
{
    uint8_t magic[4];
    if (image_pread_full(img, magic, sizeof(magic), 0, true) < 0)
        return -1;
    *format = probe_magic(magic);
    return 0;
}

int image_pread_full(struct image *img, void *buf, size_t len, uint64_t off, bool zero_past_eof)
{
    if (img->direct)
        return image_direct_pread(img, buf, len, off, zero_past_eof);
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(img->fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return err_errno("%s: read at %llu", img->path, (unsigned long long)off);
        }
        if (n == 0) {
            if (zero_past_eof) {
                memset(p, 0, len);
                return 0;
            }
            errno = EIO;
            return err_set("%s: read at %llu: unexpected end of file", img->path,
                           (unsigned long long)off);
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

int image_pwrite_full(struct image *img, const void *buf, size_t len, uint64_t off)
{
    if (img->direct)
        return image_direct_pwrite(img, buf, len, off);
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(img->fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return err_errno("%s: write at %llu", img->path, (unsigned long long)off);
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* A relative backing name is relative to the directory of the image naming it. */
char *image_resolve_backing(const char *image_path, const char *name)
{
    if (name[0] == '/')
        return strdup(name);
    const char *slash = strrchr(image_path, '/');
    if (!slash)
        return strdup(name);
    char *out = NULL;
    if (asprintf(&out, "%.*s/%s", (int)(slash - image_path), image_path, name) < 0)
        return NULL;
    return out;
}

struct chain_seen {
    dev_t dev[IMAGE_MAX_CHAIN_DEPTH + 1];
    ino_t ino[IMAGE_MAX_CHAIN_DEPTH + 1];
    int n;
    const struct image_opener *opener; /* NULL: open(2) */
    struct image *attach;              /* image_open_overlay: the top's backing, already open */
};

static int image_free_one(struct image *img)
{
    int rc = 0;
    if (img->ops && img->priv)
        rc = img->ops->close(img);
    /* close() can report a write-back error too (NFS, some FUSE file
     * systems); a read-only image has nothing to lose. */
    if (img->fd >= 0 && close(img->fd) < 0 && !img->read_only && rc == 0)
        rc = err_errno("%s: cannot close the disk", img->path);
    pthread_mutex_destroy(&img->lock);
    free(img->dio_buf);
    free(img->backing_name);
    free(img->path);
    free(img);
    return rc;
}

/* Image locking follows QEMU's byte-range scheme, so that tvm and QEMU tools
 * see each other: byte 100+P (read-locked) says "I use permission P", byte
 * 200+P says "nobody else may have P". P: 0 consistent read, 1 write,
 * 2 write-unchanged, 3 resize. A writer takes 0-3 and forbids write and
 * resize; a reader (also every backing file) takes read and forbids the
 * same, so a disk in use is never written elsewhere, while `qemu-img -U`
 * readers stay possible. Open file description locks make two opens in one
 * process conflict as well. */
enum {
    LOCK_PERM = 100,
    LOCK_UNSHARE = 200,
    PERM_READ = 0,
    PERM_WRITE,
    PERM_WRITE_UNCHANGED,
    PERM_RESIZE
};

static int lock_byte(int fd, int cmd, struct flock *fl, short type, off_t byte)
{
    *fl = (struct flock){.l_type = type, .l_whence = SEEK_SET, .l_start = byte, .l_len = 1};
    return fcntl(fd, cmd, fl);
}

/* 1 if another open file holds BYTE, 0 if not, -1 when locks are unsupported. */
static int held_elsewhere(int fd, off_t byte)
{
    struct flock fl;
    if (lock_byte(fd, F_OFD_GETLK, &fl, F_WRLCK, byte) < 0)
        return -1;
    return fl.l_type != F_UNLCK;
}

static int lock_image(struct image *img)
{
    static const int unshared[] = {PERM_WRITE, PERM_RESIZE};
    static const int writer[] = {PERM_READ, PERM_WRITE, PERM_WRITE_UNCHANGED, PERM_RESIZE};
    const int *perms = writer;
    int nperms = img->read_only ? 1 : 4;
    struct flock fl;
    if (img->force_share) {
        /* Say we read, forbid nothing, check nothing. */
        if (lock_byte(img->fd, F_OFD_SETLK, &fl, F_RDLCK, LOCK_PERM + PERM_READ) < 0 &&
            errno != EINVAL && errno != ENOLCK && errno != EOPNOTSUPP)
            return err_errno("%s: lock", img->path);
        return 0;
    }
    /* Ours first, then theirs, as QEMU does: two openers that checked
     * first could both find nothing and both win. Locked first, each sees
     * the other (at worst both refuse). A refused image's locks go with
     * its fd when the open is undone. */
    for (int i = 0; i < nperms; i++) {
        if (lock_byte(img->fd, F_OFD_SETLK, &fl, F_RDLCK, LOCK_PERM + perms[i]) < 0) {
            if (errno == EINVAL || errno == ENOLCK || errno == EOPNOTSUPP)
                return 0; /* filesystem without locks: nothing to enforce */
            return err_errno("%s: lock", img->path);
        }
    }
    for (int i = 0; i < 2; i++)
        if (lock_byte(img->fd, F_OFD_SETLK, &fl, F_RDLCK, LOCK_UNSHARE + unshared[i]) < 0)
            return err_errno("%s: lock", img->path);
    /* Only shared locks are ever taken, so a failed one above is no
     * conflict; this is where conflicts show. */
    for (int i = 0; i < nperms; i++) {
        if (held_elsewhere(img->fd, LOCK_UNSHARE + perms[i]) > 0) {
            errno = EBUSY;
            return err_set("%s: image is in use (open elsewhere, which forbids %s)", img->path,
                           perms[i] == PERM_READ ? "reading" : "writing");
        }
    }
    for (int i = 0; i < 2; i++) {
        if (held_elsewhere(img->fd, LOCK_PERM + unshared[i]) > 0) {
            errno = EBUSY;
            return err_set("%s: image is in use (open for writing elsewhere)", img->path);
        }
    }
    return 0;
}

/* Opens img->path, with O_DIRECT when asked and the filesystem allows it
 * (tmpfs refuses it with EINVAL: buffered I/O then, see image_info.direct). */
static int open_path(const struct image_opener *o, const char *path, int oflags)
{
    if (o)
        return o->open(o->opaque, path, oflags);
    int fd = open(path, oflags);
    return fd >= 0 ? fd : err_errno("%s", path);
}

static int open_fd(struct image *img, unsigned flags, const struct image_opener *o)
{
    int mode = (img->read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC;
    if (flags & IMAGE_OPEN_DIRECT) {
        img->fd = open_path(o, img->path, mode | O_DIRECT);
        if (img->fd >= 0)
            return image_direct_setup(img);
        if (errno != EINVAL)
            return -1;
    }
    img->fd = open_path(o, img->path, mode);
    return img->fd < 0 ? -1 : 0;
}

static int chain_depth(const struct image *img)
{
    int n = 0;
    for (; img; img = img->backing)
        n++;
    return n;
}

/* The overlay IMG gets B, already open, as its backing image: only the
 * one its header names, by path and format (never probed), so the disk
 * reads as it did below the new top. */
static int attach_backing(struct image *img, struct image *b)
{
    errno = EINVAL;
    if (!img->backing_name)
        return err_set("%s: names no backing file; its backing must be %s", img->path, b->path);
    char *bpath = image_resolve_backing(img->path, img->backing_name);
    if (!bpath)
        return err_set("out of memory");
    int rc = 0;
    if (strcmp(bpath, b->path) != 0)
        rc = err_set("%s: its backing file is '%s', not the disk's image '%s'", img->path, bpath,
                     b->path);
    else if (img->backing_format != b->format)
        rc = err_set("%s: its backing format is %s, the disk's image %s is %s", img->path,
                     image_format_name(img->backing_format), b->path, image_format_name(b->format));
    else if (chain_depth(b) > IMAGE_MAX_CHAIN_DEPTH)
        rc = err_set("%s: backing chain deeper than %d images", img->path, IMAGE_MAX_CHAIN_DEPTH);
    free(bpath);
    if (rc == 0)
        img->backing = b;
    return rc;
}

static struct image *open_chain(const char *path, enum image_format format, unsigned flags,
                                struct chain_seen *seen, const char *top)
{
    if (seen->n > IMAGE_MAX_CHAIN_DEPTH) {
        errno = ELOOP;
        err_set("%s: backing chain deeper than %d images", top, IMAGE_MAX_CHAIN_DEPTH);
        return NULL;
    }
    struct image *img = calloc(1, sizeof(*img));
    if (!img || !(img->path = strdup(path))) {
        free(img);
        err_set("out of memory");
        return NULL;
    }
    img->fd = -1;
    img->read_only = flags & IMAGE_OPEN_RDONLY;
    img->force_share = img->read_only && (flags & IMAGE_OPEN_FORCE_SHARE);
    pthread_mutex_init(&img->lock, NULL);
    if (open_fd(img, flags, seen->opener) < 0)
        goto fail;
    struct stat st;
    if (fstat(img->fd, &st) < 0) {
        err_errno("%s: stat", path);
        goto fail;
    }
    for (int i = 0; i < seen->n; i++) {
        if (seen->dev[i] == st.st_dev && seen->ino[i] == st.st_ino) {
            errno = ELOOP;
            err_set("%s: backing chain loop: '%s' is already in the chain", top, path);
            goto fail;
        }
    }
    seen->dev[seen->n] = st.st_dev;
    seen->ino[seen->n] = st.st_ino;
    seen->n++;
    if (lock_image(img) < 0)
        goto fail;
    if (format == IMAGE_FORMAT_AUTO && probe_image(img, &format) < 0)
        goto fail;
    img->format = format;
    img->ops = format == IMAGE_FORMAT_QCOW2 ? &image_qcow2_ops : &image_raw_ops;
    if (img->ops->open(img) < 0)
        goto fail;
    if (img->backing_name && img->backing_format == IMAGE_FORMAT_AUTO) {
        /* Never probed, as libvirt: a probe would take a guest's raw disk
         * holding a qcow2 header for qcow2 and open whatever file that
         * header names, for the guest to read. */
        errno = EINVAL;
        err_set("%s: backing file '%s' has no backing format recorded, and it is never probed; "
                "record it with 'qemu-img rebase -u -b %s -F raw|qcow2 %s' (a volume: give its "
                "<backingStore><format>)",
                path, img->backing_name, img->backing_name, path);
        goto fail;
    }
    if (seen->attach) {
        if (attach_backing(img, seen->attach) < 0)
            goto fail;
    } else if (img->backing_name) {
        char *bpath = image_resolve_backing(path, img->backing_name);
        if (!bpath) {
            err_set("out of memory");
            goto fail;
        }
        img->backing = open_chain(
            bpath, img->backing_format,
            IMAGE_OPEN_RDONLY | (flags & (IMAGE_OPEN_FORCE_SHARE | IMAGE_OPEN_DIRECT)), seen, top);
        if (!img->backing) {
            /* Chain errors (ELOOP) already name the top image and the culprit. */
            if (errno != ELOOP)
                err_prefix("%s: backing file: ", path);
            free(bpath);
            goto fail;
        }
        free(bpath);
    }
    return img;
fail:;
    int saved = errno;
    char msg[ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err_msg());
    image_free_one(img); /* the open's failure is the one to report */
    err_set("%s", msg);
    errno = saved ? saved : EINVAL;
    return NULL;
}

struct image *image_open(const char *path, enum image_format format, unsigned flags)
{
    return image_open_with(path, format, flags, NULL);
}

struct image *image_open_with(const char *path, enum image_format format, unsigned flags,
                              const struct image_opener *opener)
{
    struct chain_seen seen = {.n = 0, .opener = opener};
    errno = 0;
    return open_chain(path, format, flags, &seen, path);
}

/* The one descriptor image_open_overlay() was given, O_DIRECT switched
 * as asked; an EINVAL leaves it for the retry without. */
struct overlay_fd {
    int fd;
    bool taken;
};

static int overlay_fd_open(void *opaque, const char *path, int oflags)
{
    struct overlay_fd *o = opaque;
    if (o->taken)
        return err_set("%s: opened twice", path);
    int fl = fcntl(o->fd, F_GETFL);
    if (fl < 0)
        return err_errno("%s", path);
    if ((fl & O_ACCMODE) != O_RDWR)
        return errno = EACCES, err_set("%s: the descriptor is not open for writing", path);
    int want = (fl & ~O_DIRECT) | (oflags & O_DIRECT);
    if (want != fl && fcntl(o->fd, F_SETFL, want) < 0)
        return err_errno("%s", path);
    o->taken = true;
    return o->fd;
}

struct image *image_open_overlay(const char *path, int fd, struct image *backing, unsigned flags)
{
    struct overlay_fd ofd = {.fd = fd};
    struct image_opener opener = {.open = overlay_fd_open, .opaque = &ofd};
    struct chain_seen seen = {.n = 0, .opener = &opener, .attach = backing};
    /* The backing chain's files count for the loop check: the overlay must
     * be none of them. */
    for (struct image *b = backing; b && seen.n < IMAGE_MAX_CHAIN_DEPTH; b = b->backing) {
        struct stat st;
        if (fstat(b->fd, &st) == 0) {
            seen.dev[seen.n] = st.st_dev;
            seen.ino[seen.n++] = st.st_ino;
        }
    }
    errno = 0;
    struct image *img =
        open_chain(path, IMAGE_FORMAT_QCOW2, flags & IMAGE_OPEN_DIRECT, &seen, path);
    if (!img && !ofd.taken)
        close(fd);
    return img;
}

int image_close_top(struct image *img)
{
    if (!img)
        return 0;
    img->backing = NULL;
    return image_free_one(img);
}

int image_quiesce(struct image *img)
{
    if (img->read_only)
        return 0;
    pthread_mutex_lock(&img->lock);
    int rc =
        img->format == IMAGE_FORMAT_QCOW2 ? qcow2_quiesce(qcow2_of(img)) : img->ops->flush(img);
    pthread_mutex_unlock(&img->lock);
    return rc;
}

void image_set_read_only(struct image *img)
{
    if (img->read_only || img->force_share)
        return;
    pthread_mutex_lock(&img->lock);
    img->read_only = true;
    pthread_mutex_unlock(&img->lock);
    /* A reader's locks from now on, as a backing file holds them: writing
     * and resizing stay forbidden to others, reading is allowed. */
    static const int dropped[] = {PERM_WRITE, PERM_WRITE_UNCHANGED, PERM_RESIZE};
    for (size_t i = 0; i < sizeof dropped / sizeof *dropped; i++) {
        struct flock fl;
        lock_byte(img->fd, F_OFD_SETLK, &fl, F_UNLCK, LOCK_PERM + dropped[i]);
    }
}

void image_files_close(struct image_file *files, int n)
{
    for (int i = 0; i < n; i++) {
        if (files[i].fd >= 0)
            close(files[i].fd);
        free(files[i].path);
        files[i] = (struct image_file){.fd = -1};
    }
}

/* One file of the chain, opened as open_chain() would and locked. */
static int open_locked(const char *path, bool read_only, struct image_file *f)
{
    struct image tmp = {.fd = -1, .read_only = read_only};
    tmp.path = strdup(path);
    f->path = tmp.path;
    f->fd = -1;
    if (!tmp.path)
        return err_set("out of memory");
    tmp.fd = open(path, (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (tmp.fd < 0)
        return err_errno("%s", path);
    f->fd = tmp.fd;
    return lock_image(&tmp);
}

int image_open_files(const char *path, enum image_format format, unsigned flags,
                     struct image_file *files, int max, int *n)
{
    *n = 0;
    /* The chain as its headers name it, read without a lock and without
     * writing anything; then each file opened for real and locked. */
    struct image *walk = image_open(path, format, IMAGE_OPEN_RDONLY | IMAGE_OPEN_FORCE_SHARE);
    if (!walk)
        return -1;
    int rc = 0;
    for (struct image *img = walk; img && rc == 0; img = img->backing) {
        if (*n == max) {
            rc = err_set("%s: backing chain longer than %d images", path, max);
            break;
        }
        bool ro = img != walk || (flags & IMAGE_OPEN_RDONLY);
        rc = open_locked(img->path, ro, &files[*n]);
        (*n)++;
    }
    image_close(walk);
    if (rc < 0) {
        image_files_close(files, *n);
        *n = 0;
    }
    return rc;
}

int image_close(struct image *img)
{
    /* The first failure is the one reported; the rest of the chain is
     * read-only backing files, freed all the same. */
    int rc = 0;
    char msg[ERR_MSG_MAX] = "";
    while (img) {
        struct image *next = img->backing;
        if (image_free_one(img) < 0 && rc == 0) {
            rc = -1;
            snprintf(msg, sizeof msg, "%s", err_msg());
        }
        img = next;
    }
    return rc < 0 ? err_set("%s", msg) : 0;
}

static int check_range(struct image *img, uint64_t off, uint64_t len, const char *what)
{
    uint64_t size = img->ops->get_size(img);
    if (off > size || len > size - off) {
        errno = EINVAL;
        return err_set("%s: %s of %llu bytes at %llu is past the end of the disk (%llu bytes)",
                       img->path, what, (unsigned long long)len, (unsigned long long)off,
                       (unsigned long long)size);
    }
    return 0;
}

static int check_writable(struct image *img)
{
    if (img->read_only) {
        errno = EROFS;
        return err_set("%s: image is open read-only", img->path);
    }
    return 0;
}

int image_read(struct image *img, void *buf, uint64_t off, size_t len)
{
    if (check_range(img, off, len, "read") < 0)
        return -1;
    if (len == 0)
        return 0;
    pthread_mutex_lock(&img->lock);
    int rc = img->ops->read(img, buf, off, len);
    pthread_mutex_unlock(&img->lock);
    return rc;
}

int image_write(struct image *img, const void *buf, uint64_t off, size_t len)
{
    if (check_writable(img) < 0 || check_range(img, off, len, "write") < 0)
        return -1;
    if (len == 0)
        return 0;
    pthread_mutex_lock(&img->lock);
    int rc = img->ops->write(img, buf, off, len);
    pthread_mutex_unlock(&img->lock);
    return rc;
}

static size_t iov_total(const struct iovec *iov, int iovcnt)
{
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++)
        total += iov[i].iov_len;
    return total;
}

int image_readv(struct image *img, const struct iovec *iov, int iovcnt, uint64_t off)
{
    if (check_range(img, off, iov_total(iov, iovcnt), "read") < 0)
        return -1;
    int rc = 0;
    pthread_mutex_lock(&img->lock);
    for (int i = 0; i < iovcnt && rc == 0; i++) {
        if (iov[i].iov_len)
            rc = img->ops->read(img, iov[i].iov_base, off, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    pthread_mutex_unlock(&img->lock);
    return rc;
}

int image_writev(struct image *img, const struct iovec *iov, int iovcnt, uint64_t off)
{
    if (check_writable(img) < 0 || check_range(img, off, iov_total(iov, iovcnt), "write") < 0)
        return -1;
    int rc = 0;
    pthread_mutex_lock(&img->lock);
    for (int i = 0; i < iovcnt && rc == 0; i++) {
        if (iov[i].iov_len)
            rc = img->ops->write(img, iov[i].iov_base, off, iov[i].iov_len);
        off += iov[i].iov_len;
    }
    pthread_mutex_unlock(&img->lock);
    return rc;
}

int image_flush(struct image *img)
{
    if (img->read_only)
        return 0;
    pthread_mutex_lock(&img->lock);
    int rc = img->ops->flush(img);
    pthread_mutex_unlock(&img->lock);
    return rc;
}

int image_discard(struct image *img, uint64_t off, uint64_t len)
{
    if (check_writable(img) < 0 || check_range(img, off, len, "discard") < 0)
        return -1;
    pthread_mutex_lock(&img->lock);
    int rc = img->ops->discard(img, off, len);
    pthread_mutex_unlock(&img->lock);
    return rc;
}

int image_write_zeroes(struct image *img, uint64_t off, uint64_t len)
{
    if (check_writable(img) < 0 || check_range(img, off, len, "write-zeroes") < 0)
        return -1;
    pthread_mutex_lock(&img->lock);
    int rc = img->ops->write_zeroes(img, off, len);
    pthread_mutex_unlock(&img->lock);
    return rc;
}

uint64_t image_get_size(const struct image *img)
{
    return img->ops->get_size((struct image *)img);
}

int image_get_info(struct image *img, struct image_info *info)
{
    memset(info, 0, sizeof(*info));
    pthread_mutex_lock(&img->lock);
    int rc = img->ops->get_info(img, info);
    pthread_mutex_unlock(&img->lock);
    struct stat st;
    if (rc == 0 && fstat(img->fd, &st) == 0)
        info->allocation = (uint64_t)st.st_blocks * 512;
    info->format = img->format;
    info->read_only = img->read_only;
    info->direct = img->direct;
    info->backing_file = img->backing_name;
    info->backing_format = img->backing ? img->backing->format : img->backing_format;
    info->backing_path = img->backing ? img->backing->path : NULL;
    return rc;
}

const char *image_path(const struct image *img)
{
    return img->path;
}

struct image *image_backing(const struct image *img)
{
    return img->backing;
}

int image_read_backing(struct image *img, void *buf, uint64_t off, size_t len)
{
    struct image *b = img->backing;
    if (!b) {
        memset(buf, 0, len);
        return 0;
    }
    uint64_t bsize = image_get_size(b);
    size_t inside = off >= bsize ? 0 : (bsize - off < len ? (size_t)(bsize - off) : len);
    if (inside && image_read(b, buf, off, inside) < 0)
        return -1;
    memset((uint8_t *)buf + inside, 0, len - inside);
    return 0;
}

void image_snapshots_free(struct image_snapshot *snaps, size_t count)
{
    for (size_t i = 0; i < count; i++) {
        free(snaps[i].id);
        free(snaps[i].name);
    }
    free(snaps);
}

int image_create_raw(const char *path, uint64_t size)
{
    if (size > (uint64_t)INT64_MAX)
        return err_set("%s: size %llu too large", path, (unsigned long long)size);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return err_errno("%s", path);
    if (ftruncate(fd, (off_t)size) < 0) {
        err_errno("%s: set size", path);
        close(fd);
        unlink(path);
        return -1;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        err_errno("%s: sync", path);
        unlink(path);
        return -1;
    }
    return 0;
}
