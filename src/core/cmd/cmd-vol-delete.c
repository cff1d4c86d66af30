/* vol-delete VOL --pool POOL: forget a recorded volume (metadata only for now). */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

static enum cmd_result vol_delete_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *pool = cmd_get(args, "pool");
    if (!pool) {
        err_set("vol-delete: --pool is required; usage: vol-delete VOL --pool POOL");
        return CMD_USAGE;
    }
    struct store *st = cmd_store(ctx);
    if (!st || store_volume_delete(st, pool, args->argv[0]) < 0 ||
        store_event_add(st, "volume", args->argv[0], "undefined", "removed (metadata only)") < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "Vol %s deleted\n\n", args->argv[0]);
    return CMD_OK;
}

const struct cmd_entry cmd_vol_delete_entry = {
    .name = "vol-delete",
    .usage = "vol-delete VOL --pool POOL",
    .summary = "forget a volume's record (metadata only; the file is kept)",
    .opts = "pool=",
    .min_args = 1,
    .max_args = 1,
    .exec = vol_delete_exec,
    .flags = CMD_F_WRITES,
};
