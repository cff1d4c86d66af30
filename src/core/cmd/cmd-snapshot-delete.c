/* snapshot-delete DOMAIN SNAPSHOT --metadata: forget a snapshot's metadata. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

static enum cmd_result snapshot_delete_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    if (!cmd_has(args, "metadata")) {
        err_set("deleting a snapshot's disk data is not implemented: the image layer cannot "
                "remove a qcow2 internal snapshot yet; use --metadata to forget only the record");
        return CMD_ERROR;
    }
    struct store *st = cmd_store(ctx);
    struct store_domain_row dom;
    if (!st || cmd_domain_load(ctx, args->argv[0], &dom, NULL) < 0 ||
        store_snapshot_delete(st, dom.uuid, args->argv[1]) < 0 ||
        store_event_add(st, "snapshot", args->argv[1], "undefined", dom.name) < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "Domain snapshot %s deleted\n\n", args->argv[1]);
    return CMD_OK;
}

const struct cmd_entry cmd_snapshot_delete_entry = {
    .name = "snapshot-delete",
    .usage = "snapshot-delete DOMAIN SNAPSHOT --metadata",
    .summary = "delete a snapshot's metadata (children move to its parent)",
    .opts = "metadata",
    .min_args = 2,
    .max_args = 2,
    .exec = snapshot_delete_exec,
    .flags = CMD_F_WRITES,
};
