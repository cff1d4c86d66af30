/* pool-info POOL: basic facts about one storage pool, in virsh's layout. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

static enum cmd_result pool_info_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_object_row r;
    if (!st || store_pool_get_row(st, args->argv[0], &r) < 0)
        return CMD_ERROR;
    FILE *o = ctx->out;
    char buf[32];
    fprintf(o, "%-15s %s\n", "Name:", r.name);
    fprintf(o, "%-15s %s\n", "UUID:", r.uuid);
    fprintf(o, "%-15s %s\n", "State:", r.active ? "running" : "inactive");
    fprintf(o, "%-15s %s\n", "Persistent:", "yes");
    fprintf(o, "%-15s %s\n", "Autostart:", r.autostart ? "yes" : "no");
    if (r.active) {
        uint64_t avail =
            r.capacity_bytes > r.allocation_bytes ? r.capacity_bytes - r.allocation_bytes : 0;
        fprintf(o, "%-15s %s\n", "Capacity:", cmd_format_size(r.capacity_bytes, buf, sizeof(buf)));
        fprintf(o, "%-15s %s\n",
                "Allocation:", cmd_format_size(r.allocation_bytes, buf, sizeof(buf)));
        fprintf(o, "%-15s %s\n", "Available:", cmd_format_size(avail, buf, sizeof(buf)));
    }
    fputc('\n', o);
    return CMD_OK;
}

const struct cmd_entry cmd_pool_info_entry = {
    .name = "pool-info",
    .usage = "pool-info POOL",
    .summary = "show basic information about a storage pool",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_info_exec,
};
