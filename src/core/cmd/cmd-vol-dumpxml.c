/* vol-dumpxml VOL --pool POOL: a volume's recorded definition. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdlib.h>

static enum cmd_result vol_dumpxml_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *pool = cmd_get(args, "pool");
    if (!pool) {
        err_set("vol-dumpxml: --pool is required; usage: vol-dumpxml VOL --pool POOL");
        return CMD_USAGE;
    }
    struct store *st = cmd_store(ctx);
    char *xml;
    if (!st || store_volume_get_xml(st, pool, args->argv[0], &xml) < 0)
        return CMD_ERROR;
    cmd_print_xml(ctx->out, xml);
    free(xml);
    return CMD_OK;
}

const struct cmd_entry cmd_vol_dumpxml_entry = {
    .name = "vol-dumpxml",
    .usage = "vol-dumpxml VOL --pool POOL",
    .summary = "print a volume's XML definition",
    .opts = "pool=",
    .min_args = 1,
    .max_args = 1,
    .exec = vol_dumpxml_exec,
};
