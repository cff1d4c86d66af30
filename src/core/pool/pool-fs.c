/* fs pools: a block device's file system mounted on the target directory,
 * holding image files as a dir pool does. Build makes the directory and,
 * with --overwrite or --no-overwrite, the file system (mkfs); start mounts
 * it and stop unmounts it, through util-linux's mount and umount as
 * libvirt does. */
#include "core/pool/pool-priv.h"
#include "core/base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* <source><format type=...>: the file system; "auto" lets mount probe. */
static const char *fs_format(const struct pool *p)
{
    return p->source_format && *p->source_format ? p->source_format : "auto";
}

static int fs_check_source(const struct pool *p)
{
    struct stat st;
    if (!p->source_device || p->source_device[0] != '/')
        return err_set("pool '%s': the source device must be an absolute path", p->name);
    if (stat(p->source_device, &st) < 0)
        return err_errno("pool '%s': source device '%s'", p->name, p->source_device);
    if (!S_ISBLK(st.st_mode))
        return err_set("pool '%s': source device '%s' is not a block device", p->name,
                       p->source_device);
    const char *f = fs_format(p);
    for (const char *c = f; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
            return err_set("pool '%s': file system type '%s' is not one mount knows", p->name, f);
    }
    return 0;
}

/* The file system blkid finds on the device ("" when none). */
static int fs_probe(const char *dev, char *type, size_t len)
{
    char *out = NULL;
    const char *argv[] = {"blkid", "-p", "-o", "value", "-s", "TYPE", dev, NULL};
    type[0] = 0;
    if (pool_run(argv, &out) < 0) {
        err_clear(); /* blkid exits 2 when it finds nothing */
        return 0;
    }
    snprintf(type, len, "%s", out);
    type[strcspn(type, "\n")] = 0;
    free(out);
    return 0;
}

static int fs_build(const struct pool *p, unsigned flags)
{
    if (filevol_make_dir(p->target_path) < 0)
        return -1;
    if (!(flags & (POOL_BUILD_OVERWRITE | POOL_BUILD_NO_OVERWRITE)))
        return 0;
    if (fs_check_source(p) < 0)
        return -1;
    const char *f = fs_format(p);
    if (!strcmp(f, "auto"))
        return err_set("pool '%s': give <source><format type=...> to make a file system", p->name);
    char found[64];
    if ((flags & POOL_BUILD_NO_OVERWRITE) && fs_probe(p->source_device, found, sizeof found) == 0 &&
        found[0])
        return err_set("pool '%s': device '%s' already holds a %s file system (--overwrite "
                       "replaces it)",
                       p->name, p->source_device, found);
    char prog[80];
    snprintf(prog, sizeof prog, "mkfs.%s", f);
    const char *argv_ext[] = {prog, "-F", "-q", p->source_device, NULL};
    const char *argv_other[] = {prog, p->source_device, NULL};
    bool ext = !strncmp(f, "ext", 3);
    return pool_run(ext ? argv_ext : argv_other, NULL);
}

static bool fs_is_up(const struct pool *p)
{
    return pool_is_mounted(p->target_path);
}

static int fs_start(const struct pool *p)
{
    if (fs_check_source(p) < 0)
        return -1;
    if (!filevol_dir_exists(p->target_path))
        return err_set("cannot mount on '%s': it does not exist (tvm pool-build %s makes it)",
                       p->target_path, p->name);
    if (fs_is_up(p))
        return err_set("pool '%s': something is already mounted on '%s'", p->name, p->target_path);
    const char *f = fs_format(p);
    const char *with_type[] = {"mount", "-t", f, p->source_device, p->target_path, NULL};
    const char *probe[] = {"mount", p->source_device, p->target_path, NULL};
    return pool_run(strcmp(f, "auto") ? with_type : probe, NULL);
}

static int fs_stop(const struct pool *p)
{
    return pool_unmount(p->target_path);
}

const struct pool_backend pool_backend_fs = {
    .type = "fs",
    .build = fs_build,
    .start = fs_start,
    .stop = fs_stop,
    .is_up = fs_is_up,
    FILEVOL_POOL_OPS,
};
