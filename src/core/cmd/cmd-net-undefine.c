/* net-undefine NETWORK: remove an inactive network. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/virt/network-run.h"
#include "store/store.h"

static enum cmd_result net_undefine_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_object_row row;
    if (!st || store_network_get_row(st, args->argv[0], &row) < 0 ||
        network_reconcile(st, &row) < 0)
        return CMD_ERROR;
    if (row.active) {
        err_set("Requested operation is not valid: network '%s' is still active "
                "(tvm net-destroy %s)",
                row.name, row.name);
        return CMD_ERROR;
    }
    if (store_network_delete(st, row.uuid) < 0 ||
        store_event_add(st, "network", row.name, "undefined", "removed") < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "Network %s has been undefined\n\n", row.name);
    return CMD_OK;
}

const struct cmd_entry cmd_net_undefine_entry = {
    .name = "net-undefine",
    .usage = "net-undefine NETWORK",
    .summary = "undefine an inactive network",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = net_undefine_exec,
    .flags = CMD_F_WRITES,
};
