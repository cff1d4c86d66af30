/* pool-define FILE: add a storage pool, or update the one with the same uuid and name. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/model/pool.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static int pool_define_store(struct store *st, const struct pool *p, bool *updated)
{
    struct store_object_row by_uuid, by_name;
    bool have_uuid = store_pool_get_row(st, p->uuid, &by_uuid) == 0;
    bool have_name = store_pool_get_row(st, p->name, &by_name) == 0;
    err_clear();
    if (have_uuid && strcmp(by_uuid.name, p->name) != 0)
        return err_set("pool '%s' is already defined with uuid %s", by_uuid.name, p->uuid);
    if (have_name && strcmp(by_name.uuid, p->uuid) != 0)
        return err_set("pool '%s' already exists with uuid %s", p->name, by_name.uuid);
    *updated = have_uuid;
    return have_uuid ? store_pool_update(st, p) : store_pool_insert(st, p);
}

static enum cmd_result pool_define_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *path = args->argv[0];
    struct store *st = cmd_store(ctx);
    struct pool *p = NULL;
    char *xml;
    size_t len;
    bool updated = false;
    if (!st || cmd_read_input(ctx, path, &xml, &len) < 0)
        return CMD_ERROR;
    int rc = pool_parse(xml, len, cmd_input_origin(path), &p);
    free(xml);
    if (rc == 0)
        rc = pool_define_store(st, p, &updated);
    if (rc == 0)
        rc = store_event_add(st, "pool", p->name, "defined", updated ? "updated" : "added");
    if (rc == 0)
        fprintf(ctx->out, "Pool %s defined from %s\n\n", p->name, path);
    pool_free(p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_pool_define_entry = {
    .name = "pool-define",
    .usage = "pool-define FILE",
    .summary = "define (but don't build or start) a storage pool from an XML file",
    .opts = "validate",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_define_exec,
    .flags = CMD_F_WRITES,
};
