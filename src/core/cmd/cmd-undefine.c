/* undefine NAME: remove an inactive domain and its snapshot metadata.
 * net-undefine and pool-undefine remove an inactive network or pool (a
 * pool only while it holds no volumes) through the kind table (cmd-kind.c). */
#include "core/cmd/cmd-kind.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdlib.h>

static enum cmd_result undefine_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    if (!st || cmd_domain_load(ctx, args->argv[0], &row, NULL) < 0)
        return CMD_ERROR;
    if (cmd_domain_is_active(&row)) {
        err_set("Requested operation is not valid: domain '%s' is %s; shut it down first", row.name,
                domain_state_name(row.state));
        return CMD_ERROR;
    }
    if (cmd_has(args, "remove-all-storage") || cmd_has(args, "storage")) {
        err_set("--remove-all-storage is not implemented: undefine does not delete disk "
                "images yet; nothing was removed");
        return CMD_ERROR;
    }

    struct store_snapshot_row *snaps = NULL;
    size_t nsnaps = 0;
    if (store_snapshot_list(st, row.uuid, &snaps, &nsnaps) < 0)
        return CMD_ERROR;
    free(snaps);
    if (nsnaps > 0 && !cmd_has(args, "snapshots-metadata")) {
        err_set("Requested operation is not valid: cannot delete inactive domain with %zu "
                "snapshots (use --snapshots-metadata)",
                nsnaps);
        return CMD_ERROR;
    }
    /* The store drops the snapshot rows with the domain (ON DELETE CASCADE). */
    if (store_domain_delete(st, row.uuid) < 0 ||
        store_event_add(st, "domain", row.name, "undefined", "removed") < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "Domain '%s' has been undefined\n\n", row.name);
    return CMD_OK;
}

const struct cmd_entry cmd_undefine_entry = {
    .name = "undefine",
    .usage = "undefine DOMAIN [--snapshots-metadata] [--remove-all-storage]",
    .summary = "undefine an inactive domain",
    .opts = "snapshots-metadata,remove-all-storage,storage=,nvram,keep-nvram,managed-save",
    .min_args = 1,
    .max_args = 1,
    .exec = undefine_exec,
    .flags = CMD_F_WRITES,
};

const struct cmd_entry cmd_net_undefine_entry = {
    .name = "net-undefine",
    .usage = "net-undefine NETWORK",
    .summary = "undefine an inactive network",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_undefine_exec,
    .flags = CMD_F_WRITES,
    .data = &cmd_kind_network,
};

const struct cmd_entry cmd_pool_undefine_entry = {
    .name = "pool-undefine",
    .usage = "pool-undefine POOL",
    .summary = "undefine an inactive storage pool that has no volumes",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_undefine_exec,
    .flags = CMD_F_WRITES,
    .data = &cmd_kind_pool,
};
