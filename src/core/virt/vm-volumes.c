/* <disk type='volume'>: a disk named by pool and volume is found in the
 * inventory at start and given to tvm-vmm as the path it is, in the live
 * XML only (the stored definition keeps the pool and volume). */
#include "core/virt/vm-priv.h"
#include "core/base/err.h"

#include <string.h>
#include <sys/stat.h>

static int resolve_one(struct store *st, struct domain *d, size_t i, bool apply)
{
    const struct domain_disk *disk = &d->disks[i];
    const char *dev = disk->target_dev ? disk->target_dev : "?";
    struct store_object_row pool, vol;
    if (store_pool_get_row(st, disk->source_pool, &pool) < 0)
        return err_prefix("disk %s: ", dev);
    if (!pool.active)
        return err_set("disk %s: storage pool '%s' is not active (tvm pool-start %s)", dev,
                       pool.name, pool.name);
    if (store_volume_get_row(st, pool.name, disk->source_volume, &vol) < 0)
        return err_prefix("disk %s: ", dev);
    struct stat sb;
    if (stat(vol.detail, &sb) < 0)
        return err_errno("disk %s: volume '%s' of pool '%s' (%s)", dev, vol.name, pool.name,
                         vol.detail);
    return apply ? domain_set_disk_path(d, i, vol.detail, S_ISBLK(sb.st_mode)) : 0;
}

int vm_resolve_volumes(struct store *st, struct domain *d, bool apply, bool *changed)
{
    for (size_t i = 0; i < d->ndisks; i++) {
        if (!d->disks[i].type || strcmp(d->disks[i].type, "volume") != 0)
            continue;
        if (resolve_one(st, d, i, apply) < 0)
            return -1;
        *changed = *changed || apply;
    }
    return 0;
}
