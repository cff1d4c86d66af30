/* dumpxml NAME: the stored definition, as the formatter wrote it. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdlib.h>

static enum cmd_result dumpxml_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    char *xml;
    if (!st || store_domain_get_xml(st, args->argv[0], &xml) < 0)
        return CMD_ERROR;
    cmd_print_xml(ctx->out, xml);
    free(xml);
    return CMD_OK;
}

/* The options virsh scripts pass are accepted: the definition has no live
 * part or secrets that they would change yet. */
const struct cmd_entry cmd_dumpxml_entry = {
    .name = "dumpxml",
    .usage = "dumpxml DOMAIN [--inactive] [--security-info] [--migratable]",
    .summary = "print the domain's XML definition",
    .opts = "inactive,security-info,update-cpu,migratable",
    .min_args = 1,
    .max_args = 1,
    .exec = dumpxml_exec,
};
