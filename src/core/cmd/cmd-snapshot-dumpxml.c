/* snapshot-dumpxml DOMAIN SNAPSHOT: a snapshot's stored XML. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdlib.h>

static enum cmd_result snapshot_dumpxml_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row dom;
    char *xml;
    if (!st || cmd_domain_load(ctx, args->argv[0], &dom, NULL) < 0 ||
        store_snapshot_get_xml(st, dom.uuid, args->argv[1], &xml) < 0)
        return CMD_ERROR;
    cmd_print_xml(ctx->out, xml);
    free(xml);
    return CMD_OK;
}

const struct cmd_entry cmd_snapshot_dumpxml_entry = {
    .name = "snapshot-dumpxml",
    .usage = "snapshot-dumpxml DOMAIN SNAPSHOT",
    .summary = "print a snapshot's XML",
    .opts = "security-info",
    .min_args = 2,
    .max_args = 2,
    .exec = snapshot_dumpxml_exec,
};
