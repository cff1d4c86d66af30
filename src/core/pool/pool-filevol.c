/* Volumes that are image files in one directory: dir and fs pools. They
 * are made, measured and resized through tvm's image layer. */
#include "core/pool/pool-priv.h"
#include "core/base/err.h"
#include "core/image/image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

int filevol_sizes(const char *dir, struct pool_sizes *out)
{
    struct statvfs sv;
    if (statvfs(dir, &sv) < 0)
        return err_errno("%s", dir);
    uint64_t frsize = sv.f_frsize ? sv.f_frsize : sv.f_bsize;
    out->capacity = (uint64_t)sv.f_blocks * frsize;
    /* libvirt's dir backend: allocation is what is used, available what an
     * unprivileged writer may still take */
    out->allocation = ((uint64_t)sv.f_blocks - sv.f_bfree) * frsize;
    out->available = (uint64_t)sv.f_bavail * frsize;
    return 0;
}

bool filevol_dir_exists(const char *dir)
{
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

int filevol_make_dir(const char *dir)
{
    if (filevol_dir_exists(dir))
        return 0;
    if (mkdir(dir, 0711) < 0)
        return err_errno("cannot create directory '%s'", dir);
    return 0;
}

int filevol_remove_dir(const char *dir)
{
    if (rmdir(dir) < 0 && errno != ENOENT)
        return err_errno("cannot remove directory '%s'", dir);
    return 0;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int filevol_stat(const char *path, struct pool_vol *out)
{
    memset(out, 0, sizeof(*out));
    struct stat st;
    if (stat(path, &st) < 0)
        return err_errno("%s", path);
    const char *slash = strrchr(path, '/');
    out->name = strdup(slash ? slash + 1 : path);
    out->path = strdup(path);
    out->type = strdup(S_ISBLK(st.st_mode) ? "block" : "file");
    out->capacity = (uint64_t)st.st_size;
    out->allocation = (uint64_t)st.st_blocks * 512;
    enum image_format fmt = IMAGE_FORMAT_RAW;
    /* Looking is all a refresh does, so a file a guest uses is fine to read
     * (qemu-img -U); the format is reported as found, never relied on. */
    struct image *img =
        image_open(path, IMAGE_FORMAT_AUTO, IMAGE_OPEN_RDONLY | IMAGE_OPEN_FORCE_SHARE);
    if (img) {
        struct image_info info;
        if (image_get_info(img, &info) == 0) {
            fmt = info.format;
            out->capacity = info.virtual_size;
            out->backing_path = dup_or_null(info.backing_file);
            if (info.backing_file && info.backing_format != IMAGE_FORMAT_AUTO)
                out->backing_format = strdup(image_format_name(info.backing_format));
        }
        image_close(img);
    } else if (image_probe(path, &fmt) < 0) {
        fmt = IMAGE_FORMAT_RAW;
    }
    err_clear();
    out->format = strdup(image_format_name(fmt));
    if (!out->name || !out->path || !out->type || !out->format) {
        pool_vol_clear(out);
        return err_set("out of memory");
    }
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const struct pool_vol *)a)->name, ((const struct pool_vol *)b)->name);
}

int filevol_list(const char *dir, struct pool_vol **vols, size_t *n)
{
    *vols = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return err_errno("cannot read pool directory '%s'", dir);
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d))) {
        if (e->d_name[0] == '.' || pool_check_vol_name(e->d_name) < 0) {
            err_clear(); /* names tvm could not hand to a command are not volumes */
            continue;
        }
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (stat(path, &st) < 0 || !(S_ISREG(st.st_mode) || S_ISBLK(st.st_mode)))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 16;
            struct pool_vol *nv = realloc(*vols, cap * sizeof(**vols));
            if (!nv) {
                rc = err_set("out of memory");
                break;
            }
            *vols = nv;
        }
        if (filevol_stat(path, &(*vols)[*n]) == 0)
            (*n)++;
        else
            err_clear(); /* gone meanwhile */
    }
    closedir(d);
    if (rc < 0) {
        pool_vols_free(*vols, *n);
        *vols = NULL;
        *n = 0;
        return -1;
    }
    if (*n)
        qsort(*vols, *n, sizeof(**vols), by_name);
    return 0;
}

static char *join(const char *dir, const char *name)
{
    char *p;
    if (asprintf(&p, "%s/%s", dir, name) < 0)
        return NULL;
    return p;
}

static int create_qcow2(const char *path, const struct pool_vol_spec *s)
{
    enum image_format bfmt = IMAGE_FORMAT_AUTO;
    if (s->backing_path) {
        if (!s->backing_format)
            return err_set("a backing volume needs its format (--backing-vol-format raw|qcow2)");
        if (image_format_parse(s->backing_format, &bfmt) < 0)
            return -1;
    }
    return image_create_qcow2(path, s->capacity, 0, s->backing_path, bfmt);
}

/* Blocks for the first LEN bytes, as libvirt allocates a raw volume. */
static int reserve(const char *path, uint64_t len)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return err_errno("%s", path);
    int e = posix_fallocate(fd, 0, (off_t)len);
    close(fd);
    if (e) {
        unlink(path);
        errno = e;
        return err_errno("%s: cannot allocate %llu bytes", path, (unsigned long long)len);
    }
    return 0;
}

int filevol_create(const char *dir, const struct pool_vol_spec *s, char **path_out)
{
    enum image_format fmt = IMAGE_FORMAT_RAW;
    if (pool_check_vol_name(s->name) < 0 || (s->format && image_format_parse(s->format, &fmt) < 0))
        return -1;
    if (fmt == IMAGE_FORMAT_RAW && s->backing_path)
        return err_set("volume '%s': a raw volume cannot have a backing volume (use qcow2)",
                       s->name);
    if (fmt == IMAGE_FORMAT_RAW && s->prealloc_metadata)
        return err_set("volume '%s': --prealloc-metadata is for qcow2 volumes", s->name);
    if (fmt == IMAGE_FORMAT_QCOW2 && s->prealloc_metadata)
        return err_set("volume '%s': --prealloc-metadata is not supported by tvm's qcow2 "
                       "writer yet; nothing was created",
                       s->name);
    char *path = join(dir, s->name);
    if (!path)
        return err_set("out of memory");
    int rc =
        fmt == IMAGE_FORMAT_QCOW2 ? create_qcow2(path, s) : image_create_raw(path, s->capacity);
    if (rc == 0 && fmt == IMAGE_FORMAT_RAW && s->allocation)
        rc = reserve(path, s->allocation < s->capacity ? s->allocation : s->capacity);
    if (rc < 0) {
        free(path);
        return err_prefix("volume '%s': ", s->name);
    }
    *path_out = path;
    return 0;
}

int filevol_delete(const char *path)
{
    if (unlink(path) < 0)
        return err_errno("cannot delete volume '%s'", path);
    return 0;
}

int filevol_resize(const char *path, const char *format, uint64_t size, bool shrink)
{
    enum image_format fmt;
    if (image_format_parse(format, &fmt) < 0)
        return -1;
    struct image *img = image_open(path, fmt, 0);
    if (!img)
        return -1;
    int rc = image_resize(img, size, shrink);
    if (image_close(img) < 0)
        rc = -1;
    return rc;
}

/* Table entries for the backends whose volumes are image files in the
 * pool's target directory (dir, fs, netfs). */
int filevol_pool_remove(const struct pool *p)
{
    return filevol_remove_dir(p->target_path);
}

int filevol_pool_sizes(const struct pool *p, struct pool_sizes *out)
{
    return filevol_sizes(p->target_path, out);
}

int filevol_pool_list(const struct pool *p, struct pool_vol **vols, size_t *n)
{
    return filevol_list(p->target_path, vols, n);
}

int filevol_pool_vol_create(const struct pool *p, const struct pool_vol_spec *spec, char **path)
{
    return filevol_create(p->target_path, spec, path);
}

int filevol_pool_vol_delete(const struct pool *p, const char *path)
{
    (void)p;
    return filevol_delete(path);
}

int filevol_pool_vol_resize(const struct pool *p, const char *path, const char *format,
                            uint64_t size, bool shrink)
{
    (void)p;
    return filevol_resize(path, format, size, shrink);
}

int filevol_pool_vol_stat(const struct pool *p, const char *path, struct pool_vol *out)
{
    (void)p;
    return filevol_stat(path, out);
}
