/* net-destroy NETWORK: take a running network down (dnsmasq, rules,
 * bridge); its definition stays, as with virsh net-destroy. */
#include "core/cmd-util.h"
#include "core/err.h"
#include "core/network-run.h"
#include "store/store.h"

static enum cmd_result net_destroy_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    if (!st)
        return CMD_ERROR;
    struct store_object_row row;
    if (store_network_get_row(st, args->argv[0], &row) < 0)
        return CMD_ERROR;
    if (network_destroy(st, row.uuid) < 0) {
        err_prefix("failed to destroy network '%s': ", row.name);
        return CMD_ERROR;
    }
    fprintf(ctx->out, "Network %s destroyed\n\n", row.name);
    return CMD_OK;
}

const struct cmd_entry cmd_net_destroy_entry = {
    .name = "net-destroy",
    .usage = "net-destroy NETWORK",
    .summary = "stop a running network (the definition stays)",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = net_destroy_exec,
    .flags = CMD_F_WRITES,
};
