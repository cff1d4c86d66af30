/* pool-dumpxml POOL: the stored pool definition. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdlib.h>

static enum cmd_result pool_dumpxml_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    char *xml;
    if (!st || store_pool_get_xml(st, args->argv[0], &xml) < 0)
        return CMD_ERROR;
    cmd_print_xml(ctx->out, xml);
    free(xml);
    return CMD_OK;
}

const struct cmd_entry cmd_pool_dumpxml_entry = {
    .name = "pool-dumpxml",
    .usage = "pool-dumpxml POOL [--inactive]",
    .summary = "print a storage pool's XML definition",
    .opts = "inactive",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_dumpxml_exec,
};
