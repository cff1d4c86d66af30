/* list: the domain table, or plain names/uuids, like virsh list. */
#include "core/cmd-util.h"
#include "core/err.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdlib.h>

static unsigned list_flags(const struct cmd_args *args)
{
    if (cmd_has(args, "all"))
        return STORE_LIST_ALL;
    if (cmd_has(args, "inactive"))
        return STORE_LIST_INACTIVE;
    return STORE_LIST_ACTIVE;
}

/* --name, --uuid or both ("UUID NAME"): one domain per line. */
static void list_plain(FILE *out, const struct store_domain_row *rows, size_t n, bool name,
                       bool uuid)
{
    for (size_t i = 0; i < n; i++) {
        if (uuid && name)
            fprintf(out, "%s %s\n", rows[i].uuid, rows[i].name);
        else
            fprintf(out, "%s\n", uuid ? rows[i].uuid : rows[i].name);
    }
    fputc('\n', out);
}

static void list_table(FILE *out, const struct store_domain_row *rows, size_t n, bool title)
{
    struct cmd_tbl *t = title ? cmd_tbl_new(4, "Id", "Name", "State", "Title")
                              : cmd_tbl_new(3, "Id", "Name", "State");
    for (size_t i = 0; i < n; i++) {
        char id[24] = "-";
        if (rows[i].id >= 0)
            snprintf(id, sizeof(id), "%" PRId64, rows[i].id);
        cmd_tbl_add(t, id, rows[i].name, domain_state_name(rows[i].state), rows[i].title);
    }
    cmd_tbl_print(t, out);
    cmd_tbl_free(t);
}

static enum cmd_result list_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row *rows;
    size_t n;
    cmd_reconcile(ctx);
    if (!st || store_domain_list(st, list_flags(args), &rows, &n) < 0)
        return CMD_ERROR;
    bool name = cmd_has(args, "name"), uuid = cmd_has(args, "uuid");
    if (name || uuid)
        list_plain(ctx->out, rows, n, name, uuid);
    else
        list_table(ctx->out, rows, n, cmd_has(args, "title"));
    free(rows);
    return CMD_OK;
}

const struct cmd_entry cmd_list_entry = {
    .name = "list",
    .usage = "list [--all] [--inactive] [--name] [--uuid] [--title]",
    .summary = "list domains (running ones unless --all or --inactive)",
    .opts = "all,inactive,name,uuid,title,table",
    .min_args = 0,
    .max_args = 0,
    .exec = list_exec,
};
