/* net-info NETWORK: basic facts about one network, in virsh's layout. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/virt/network-run.h"
#include "store/store.h"

static enum cmd_result net_info_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_object_row r;
    if (!st || store_network_get_row(st, args->argv[0], &r) < 0 || network_reconcile(st, &r) < 0)
        return CMD_ERROR;
    FILE *o = ctx->out;
    fprintf(o, "%-15s %s\n", "Name:", r.name);
    fprintf(o, "%-15s %s\n", "UUID:", r.uuid);
    fprintf(o, "%-15s %s\n", "Active:", r.active ? "yes" : "no");
    fprintf(o, "%-15s %s\n", "Persistent:", "yes");
    fprintf(o, "%-15s %s\n", "Autostart:", r.autostart ? "yes" : "no");
    if (r.detail[0])
        fprintf(o, "%-15s %s\n", "Bridge:", r.detail);
    fputc('\n', o);
    return CMD_OK;
}

const struct cmd_entry cmd_net_info_entry = {
    .name = "net-info",
    .usage = "net-info NETWORK",
    .summary = "show basic information about a network",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = net_info_exec,
};
