/* pool-info POOL: basic facts about one storage pool, in virsh's layout;
 * the sizes of an active pool are measured now (statvfs, vgs). */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

static enum cmd_result pool_info_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct cmd_pool p;
    if (cmd_pool_load(ctx, args->argv[0], &p) < 0) {
        cmd_pool_clear(&p);
        return CMD_ERROR;
    }
    const struct store_object_row r = p.row;
    struct pool_sizes sz;
    cmd_pool_sizes(&p, &sz);
    cmd_pool_clear(&p);
    FILE *o = ctx->out;
    char buf[32];
    fprintf(o, "%-15s %s\n", "Name:", r.name);
    fprintf(o, "%-15s %s\n", "UUID:", r.uuid);
    fprintf(o, "%-15s %s\n", "State:", r.active ? "running" : "inactive");
    fprintf(o, "%-15s %s\n", "Persistent:", "yes");
    fprintf(o, "%-15s %s\n", "Autostart:", r.autostart ? "yes" : "no");
    if (r.active) {
        const char *label[] = {"Capacity:", "Allocation:", "Available:"};
        uint64_t value[] = {sz.capacity, sz.allocation, sz.available};
        for (int i = 0; i < 3; i++) {
            if (cmd_has(args, "bytes"))
                snprintf(buf, sizeof buf, "%llu", (unsigned long long)value[i]);
            else
                cmd_format_size(value[i], buf, sizeof(buf));
            fprintf(o, "%-15s %s\n", label[i], buf);
        }
    }
    fputc('\n', o);
    return CMD_OK;
}

const struct cmd_entry cmd_pool_info_entry = {
    .name = "pool-info",
    .usage = "pool-info POOL [--bytes]",
    .summary = "show basic information about a storage pool",
    .opts = "bytes",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_info_exec,
};
