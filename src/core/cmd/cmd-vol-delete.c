/* vol-delete VOL [POOL | --pool POOL]: removes the volume's storage (the
 * file, the logical volume) and its record. */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum cmd_result vol_delete_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool bad;
    const char *pool = cmd_vol_pool_arg(args, 1, &bad);
    if (bad)
        return CMD_USAGE;
    struct cmd_pool p;
    struct volume *v = NULL;
    int rc = cmd_vol_lookup(ctx, args->argv[0], pool, &p, &v);
    char *name = rc == 0 ? strdup(v->name) : NULL;
    if (rc == 0 && !name)
        rc = err_set("out of memory");
    if (rc == 0)
        rc = cmd_pool_backend(&p);
    /* the record first: a failure to delete the storage rolls it back */
    if (rc == 0)
        rc = store_volume_delete(ctx->store, p.row.name, v->name);
    if (rc == 0)
        rc = p.be->vol_delete(p.def, v->target_path ? v->target_path : v->key);
    if (rc == 0)
        rc = store_event_add(ctx->store, "volume", name, "deleted", p.row.name);
    if (rc == 0)
        fprintf(ctx->out, "Vol %s deleted\n\n", name);
    free(name);
    volume_free(v);
    cmd_pool_clear(&p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_vol_delete_entry = {
    .name = "vol-delete",
    .usage = "vol-delete VOL [POOL | --pool POOL]",
    .summary = "delete a volume: its file or logical volume, and its record",
    .opts = "pool=",
    .min_args = 1,
    .max_args = 2,
    .exec = vol_delete_exec,
    .flags = CMD_F_WRITES,
};
