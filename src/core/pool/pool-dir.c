/* dir pools: a directory of image files. Build makes the directory, start
 * checks it is there, delete removes it (empty). */
#include "core/pool/pool-priv.h"
#include "core/base/err.h"

static int dir_build(const struct pool *p, unsigned flags)
{
    (void)flags; /* nothing is formatted: there is nothing to overwrite */
    return filevol_make_dir(p->target_path);
}

static int dir_start(const struct pool *p)
{
    if (!filevol_dir_exists(p->target_path))
        return err_set("cannot open directory '%s': it does not exist (tvm pool-build %s makes it)",
                       p->target_path, p->name);
    return 0;
}

static int dir_stop(const struct pool *p)
{
    (void)p;
    return 0;
}

static int dir_remove(const struct pool *p)
{
    return filevol_remove_dir(p->target_path);
}

static bool dir_is_up(const struct pool *p)
{
    return filevol_dir_exists(p->target_path);
}

static int dir_sizes(const struct pool *p, struct pool_sizes *out)
{
    return filevol_sizes(p->target_path, out);
}

static int dir_list(const struct pool *p, struct pool_vol **vols, size_t *n)
{
    return filevol_list(p->target_path, vols, n);
}

static int dir_vol_create(const struct pool *p, const struct pool_vol_spec *spec, char **path)
{
    return filevol_create(p->target_path, spec, path);
}

static int dir_vol_delete(const struct pool *p, const char *path)
{
    (void)p;
    return filevol_delete(path);
}

static int dir_vol_resize(const struct pool *p, const char *path, const char *format, uint64_t size,
                          bool shrink)
{
    (void)p;
    return filevol_resize(path, format, size, shrink);
}

static int dir_vol_stat(const struct pool *p, const char *path, struct pool_vol *out)
{
    (void)p;
    return filevol_stat(path, out);
}

const struct pool_backend pool_backend_dir = {
    .type = "dir",
    .build = dir_build,
    .start = dir_start,
    .stop = dir_stop,
    .remove = dir_remove,
    .is_up = dir_is_up,
    .sizes = dir_sizes,
    .list = dir_list,
    .vol_create = dir_vol_create,
    .vol_delete = dir_vol_delete,
    .vol_resize = dir_vol_resize,
    .vol_stat = dir_vol_stat,
};
