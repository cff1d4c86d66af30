/* pool-edit POOL: change a storage pool definition in $EDITOR, as virsh pool-edit. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/model/pool.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* The uuid is the key and stays; a new name must be free. Own transaction:
 * the store is not held while the editor runs. */
static int pool_edit_apply(struct cmd_ctx *ctx, const char *xml, size_t len, const char *origin,
                           void *opaque)
{
    const struct store_object_row *old = opaque;
    struct store *st = cmd_store(ctx);
    struct store_object_row other;
    struct pool *n;
    if (!st || pool_parse(xml, len, origin, &n) < 0)
        return -1;
    int rc = 0;
    if (strcmp(n->uuid, old->uuid) != 0)
        rc = err_set("%s: the uuid cannot be changed by edit (was %s)", origin, old->uuid);
    else if (strcmp(n->name, old->name) != 0 && store_pool_get_row(st, n->name, &other) == 0)
        rc = err_set("%s: pool '%s' already exists with uuid %s", origin, n->name, other.uuid);
    else if (store_begin(st) < 0)
        rc = -1;
    else if (store_pool_update(st, n) < 0 ||
             store_event_add(st, "pool", n->name, "updated", "edited") < 0) {
        store_rollback(st);
        rc = -1;
    } else {
        rc = store_commit(st);
    }
    if (rc == 0)
        fprintf(ctx->out, "Pool %s XML configuration edited.\n\n", n->name);
    pool_free(n);
    return rc;
}

static enum cmd_result pool_edit_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_object_row row;
    char *xml;
    if (!st || store_pool_get_row(st, args->argv[0], &row) < 0 ||
        store_pool_get_xml(st, row.uuid, &xml) < 0)
        return CMD_ERROR;
    char what[300];
    snprintf(what, sizeof(what), "Pool %s", row.name);
    bool changed;
    int rc = cmd_edit_xml(ctx, xml, what, pool_edit_apply, &row, &changed);
    free(xml);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_pool_edit_entry = {
    .name = "pool-edit",
    .usage = "pool-edit POOL",
    .summary = "edit a storage pool's XML in $VISUAL/$EDITOR and apply it",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_edit_exec,
};
