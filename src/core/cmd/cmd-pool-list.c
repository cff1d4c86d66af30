/* pool-list: storage pools as virsh lists them; --details adds sizes,
 * measured now for the active ones. */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* Whether TYPE is one of the comma-separated TYPES (--type dir,fs). */
static bool type_listed(const char *types, const char *type)
{
    size_t n = strlen(type);
    for (const char *p = types; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, type, n) == 0)
            return true;
        p += len + (p[len] == ',');
    }
    return false;
}

/* --type, then the filters every pool and network list shares. */
static bool pool_list_wanted(const struct cmd_args *args, const struct store_object_row *r)
{
    const char *types = cmd_get(args, "type");
    return (!types || type_listed(types, r->kind)) && cmd_object_wanted(args, r);
}

static void pool_list_detail_row(struct cmd_ctx *ctx, struct cmd_tbl *t,
                                 const struct store_object_row *r)
{
    char cap[32] = "-", alloc[32] = "-", avail[32] = "-";
    struct cmd_pool p;
    struct pool_sizes sz;
    if (r->active && cmd_pool_load(ctx, r->uuid, &p) == 0 && cmd_pool_sizes(&p, &sz) == 0) {
        cmd_format_size(sz.capacity, cap, sizeof(cap));
        cmd_format_size(sz.allocation, alloc, sizeof(alloc));
        cmd_format_size(sz.available, avail, sizeof(avail));
    }
    if (r->active)
        cmd_pool_clear(&p);
    err_clear();
    cmd_tbl_add(t, r->name, r->active ? "running" : "inactive", r->autostart ? "yes" : "no", "yes",
                cap, alloc, avail);
}

static enum cmd_result pool_list_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_object_row *rows;
    size_t n;
    if (!st || store_pool_list(st, &rows, &n) < 0)
        return CMD_ERROR;
    bool name = cmd_has(args, "name"), uuid = cmd_has(args, "uuid");
    bool details = cmd_has(args, "details");
    struct cmd_tbl *t = NULL;
    if (details && !name && !uuid)
        t = cmd_tbl_new(7, "Name", "State", "Autostart", "Persistent", "Capacity", "Allocation",
                        "Available");
    else if (!name && !uuid)
        t = cmd_tbl_new(3, "Name", "State", "Autostart");
    for (size_t i = 0; i < n; i++) {
        const struct store_object_row *r = &rows[i];
        if (!pool_list_wanted(args, r))
            continue;
        if (t && details)
            pool_list_detail_row(ctx, t, r);
        else if (t)
            cmd_tbl_add(t, r->name, r->active ? "active" : "inactive", r->autostart ? "yes" : "no");
        else if (name && uuid)
            fprintf(ctx->out, "%s %s\n", r->uuid, r->name);
        else if (uuid)
            fprintf(ctx->out, "%s\n", r->uuid);
        else /* virsh pads the names to 20 columns here, and scripts see it */
            fprintf(ctx->out, "%-20s\n", r->name);
    }
    if (t)
        cmd_tbl_print(t, ctx->out);
    else
        fputc('\n', ctx->out);
    cmd_tbl_free(t);
    free(rows);
    return CMD_OK;
}

const struct cmd_entry cmd_pool_list_entry = {
    .name = "pool-list",
    .usage = "pool-list [--all] [--inactive] [--name] [--uuid] [--details] [--type TYPES] "
             "[--persistent] [--transient] [--autostart] [--no-autostart]",
    .summary = "list storage pools (active ones unless --all or --inactive)",
    .opts = "all,inactive,name,uuid,details,type=,persistent,transient,autostart,no-autostart",
    .min_args = 0,
    .max_args = 0,
    .exec = pool_list_exec,
};
