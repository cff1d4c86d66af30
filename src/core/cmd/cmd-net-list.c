/* net-list: networks as virsh lists them (active ones unless --all/--inactive). */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/virt/network-run.h"
#include "store/store.h"

#include <stdlib.h>

static enum cmd_result net_list_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_object_row *rows;
    size_t n;
    if (!st || store_network_list(st, &rows, &n) < 0)
        return CMD_ERROR;
    bool name = cmd_has(args, "name"), uuid = cmd_has(args, "uuid");
    struct cmd_tbl *t = NULL;
    if (!name && !uuid)
        t = cmd_tbl_new(4, "Name", "State", "Autostart", "Persistent");
    for (size_t i = 0; i < n; i++) {
        struct store_object_row *r = &rows[i];
        if (network_reconcile(st, r) < 0) {
            free(rows);
            cmd_tbl_free(t);
            return CMD_ERROR;
        }
        if (!cmd_object_wanted(args, r))
            continue;
        if (t)
            cmd_tbl_add(t, r->name, r->active ? "active" : "inactive", r->autostart ? "yes" : "no",
                        "yes");
        else if (name && uuid)
            fprintf(ctx->out, "%s %s\n", r->uuid, r->name);
        else
            fprintf(ctx->out, "%s\n", uuid ? r->uuid : r->name);
    }
    if (t)
        cmd_tbl_print(t, ctx->out);
    else
        fputc('\n', ctx->out);
    cmd_tbl_free(t);
    free(rows);
    return CMD_OK;
}

const struct cmd_entry cmd_net_list_entry = {
    .name = "net-list",
    .usage = "net-list [--all] [--inactive] [--name] [--uuid] [--table] [--persistent] "
             "[--transient] [--autostart] [--no-autostart]",
    .summary = "list networks (active ones unless --all or --inactive)",
    .opts = "all,inactive,name,uuid,table,persistent,transient,autostart,no-autostart",
    .min_args = 0,
    .max_args = 0,
    .exec = net_list_exec,
};
