/* vol-list POOL: the volumes of an active pool, as last recorded from the
 * host (pool-start, pool-refresh and the volume verbs record them). */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/model/pool.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* --details needs the volume type, which only the XML has. */
static void vol_list_detail_row(struct store *st, const char *pool, struct cmd_tbl *t,
                                const struct store_object_row *r)
{
    char cap[32], alloc[32], *xml = NULL;
    struct volume *v = NULL;
    if (store_volume_get_xml(st, pool, r->name, &xml) == 0)
        volume_parse(xml, strlen(xml), r->name, &v);
    err_clear();
    cmd_tbl_add(t, r->name, r->detail, v && v->type ? v->type : "file",
                cmd_format_size(r->capacity_bytes, cap, sizeof(cap)),
                cmd_format_size(r->allocation_bytes, alloc, sizeof(alloc)));
    volume_free(v);
    free(xml);
}

static enum cmd_result vol_list_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *pool = cmd_get(args, "pool") ? cmd_get(args, "pool") : args->argv[0];
    if (!pool || (cmd_get(args, "pool") && args->argc > 0)) {
        err_set("vol-list: give the pool once; usage: vol-list POOL [--details]");
        return CMD_USAGE;
    }
    struct store *st = cmd_store(ctx);
    struct store_object_row *rows;
    size_t n;
    struct cmd_pool p;
    int rc = cmd_pool_load(ctx, pool, &p);
    if (rc == 0)
        rc = cmd_pool_require_active(&p);
    cmd_pool_clear(&p);
    if (rc < 0 || store_volume_list(st, pool, &rows, &n) < 0)
        return CMD_ERROR;
    bool details = cmd_has(args, "details");
    struct cmd_tbl *t = details ? cmd_tbl_new(5, "Name", "Path", "Type", "Capacity", "Allocation")
                                : cmd_tbl_new(2, "Name", "Path");
    for (size_t i = 0; i < n; i++) {
        if (details)
            vol_list_detail_row(st, pool, t, &rows[i]);
        else
            cmd_tbl_add(t, rows[i].name, rows[i].detail);
    }
    cmd_tbl_print(t, ctx->out);
    cmd_tbl_free(t);
    free(rows);
    return CMD_OK;
}

const struct cmd_entry cmd_vol_list_entry = {
    .name = "vol-list",
    .usage = "vol-list POOL [--details]",
    .summary = "list the volumes of an active storage pool",
    .opts = "pool=,details",
    .min_args = 0,
    .max_args = 1,
    .exec = vol_list_exec,
};
