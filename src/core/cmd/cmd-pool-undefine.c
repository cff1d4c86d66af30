/* pool-undefine POOL: remove an inactive pool that holds no volumes. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

static enum cmd_result pool_undefine_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_object_row row;
    if (!st || store_pool_get_row(st, args->argv[0], &row) < 0)
        return CMD_ERROR;
    if (row.active) {
        err_set("Requested operation is not valid: storage pool '%s' is still active", row.name);
        return CMD_ERROR;
    }
    if (store_pool_delete(st, row.uuid) < 0 ||
        store_event_add(st, "pool", row.name, "undefined", "removed") < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "Pool %s has been undefined\n\n", row.name);
    return CMD_OK;
}

const struct cmd_entry cmd_pool_undefine_entry = {
    .name = "pool-undefine",
    .usage = "pool-undefine POOL",
    .summary = "undefine an inactive storage pool that has no volumes",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_undefine_exec,
    .flags = CMD_F_WRITES,
};
