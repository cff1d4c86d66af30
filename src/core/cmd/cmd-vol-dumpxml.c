/* vol-dumpxml VOL [POOL | --pool POOL]: a volume's definition as recorded
 * from the host. */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"

#include <stdlib.h>

static enum cmd_result vol_dumpxml_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool bad;
    const char *pool = cmd_vol_pool_arg(args, 1, &bad);
    if (bad)
        return CMD_USAGE;
    struct cmd_pool p;
    struct volume *v = NULL;
    int rc = cmd_vol_lookup(ctx, args->argv[0], pool, &p, &v);
    char *xml = rc == 0 ? volume_format(v) : NULL;
    if (rc == 0 && !xml)
        rc = -1;
    if (rc == 0)
        rc = cmd_print_xml_selected(ctx->out, args, xml);
    free(xml);
    volume_free(v);
    cmd_pool_clear(&p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_vol_dumpxml_entry = {
    .name = "vol-dumpxml",
    .usage = "vol-dumpxml VOL [POOL | --pool POOL] [--xpath EXPR] [--wrap]",
    .summary = "print a volume's XML definition",
    .opts = "pool=,xpath=,wrap",
    .min_args = 1,
    .max_args = 2,
    .exec = vol_dumpxml_exec,
};
