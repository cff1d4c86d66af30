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

static bool dir_is_up(const struct pool *p)
{
    return filevol_dir_exists(p->target_path);
}

const struct pool_backend pool_backend_dir = {
    .type = "dir",
    .build = dir_build,
    .start = dir_start,
    .stop = dir_stop,
    .is_up = dir_is_up,
    FILEVOL_POOL_OPS,
};
