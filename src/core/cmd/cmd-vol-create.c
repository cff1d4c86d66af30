/* vol-create POOL FILE: record a volume definition in a pool. Metadata
 * only for now: the image layer can create raw and qcow2 files
 * (image_create_raw, image_create_qcow2) but vol-create does not call it yet. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/model/pool.h"
#include "store/store.h"

#include <stdlib.h>

static enum cmd_result vol_create_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *pool = args->argv[0], *path = args->argv[1];
    struct store *st = cmd_store(ctx);
    struct store_object_row prow;
    struct volume *v = NULL;
    char *xml;
    size_t len;
    if (!st || store_pool_get_row(st, pool, &prow) < 0 || cmd_read_input(ctx, path, &xml, &len) < 0)
        return CMD_ERROR;
    int rc = volume_parse(xml, len, cmd_input_origin(path), &v);
    free(xml);
    if (rc == 0)
        rc = store_volume_insert(st, prow.name, v);
    if (rc == 0) {
        char detail[600];
        snprintf(detail, sizeof(detail), "recorded in pool %s (metadata only)", prow.name);
        rc = store_event_add(st, "volume", v->name, "defined", detail);
    }
    if (rc == 0)
        fprintf(ctx->out, "Vol %s created from %s\n\n", v->name, path);
    volume_free(v);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_vol_create_entry = {
    .name = "vol-create",
    .usage = "vol-create POOL FILE",
    .summary =
        "record a volume from XML (metadata only: vol-create does not create the image file yet)",
    .opts = "",
    .min_args = 2,
    .max_args = 2,
    .exec = vol_create_exec,
    .flags = CMD_F_WRITES,
};
