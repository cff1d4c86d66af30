/* snapshot-current DOMAIN [--name]: the current snapshot's XML or name;
 * snapshot-current DOMAIN SNAPSHOTNAME makes that snapshot the current one. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdlib.h>

static enum cmd_result snapshot_set_current(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row dom;
    const char *name = args->argv[1];
    if (cmd_has(args, "name")) {
        err_set("Options --name and snapshotname are mutually exclusive");
        return CMD_USAGE;
    }
    if (!st || cmd_domain_load(ctx, args->argv[0], &dom, NULL) < 0 ||
        store_snapshot_set_current(st, dom.uuid, name) < 0 ||
        store_event_add(st, "snapshot", name, "current", dom.name) < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "Snapshot %s set as current\n", name);
    return CMD_OK;
}

static enum cmd_result snapshot_current_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    if (args->argc > 1)
        return snapshot_set_current(ctx, args);
    struct store *st = cmd_store(ctx);
    struct store_domain_row dom;
    struct store_snapshot_row *rows;
    size_t n;
    if (!st || cmd_domain_load(ctx, args->argv[0], &dom, NULL) < 0 ||
        store_snapshot_list(st, dom.uuid, &rows, &n) < 0)
        return CMD_ERROR;
    const struct store_snapshot_row *cur = NULL;
    for (size_t i = 0; i < n; i++)
        if (rows[i].current)
            cur = &rows[i];
    enum cmd_result r = CMD_OK;
    char *xml;
    if (!cur) {
        err_set("domain '%s' has no current snapshot", dom.name);
        r = CMD_ERROR;
    } else if (cmd_has(args, "name")) {
        fprintf(ctx->out, "%s\n", cur->name);
    } else if (store_snapshot_get_xml(st, dom.uuid, cur->name, &xml) == 0) {
        cmd_print_xml(ctx->out, xml);
        free(xml);
    } else {
        r = CMD_ERROR;
    }
    free(rows);
    return r;
}

const struct cmd_entry cmd_snapshot_current_entry = {
    .name = "snapshot-current",
    .usage = "snapshot-current DOMAIN [--name | SNAPSHOTNAME]",
    .summary = "show the domain's current snapshot",
    .opts = "name,security-info",
    .min_args = 1,
    .max_args = 2,
    .exec = snapshot_current_exec,
};
