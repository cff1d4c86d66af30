/* list: the domain table, or plain names/uuids, like virsh list. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/model/domain.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static bool list_has_state_filter(const struct cmd_args *args)
{
    return cmd_has(args, "state-running") || cmd_has(args, "state-paused") ||
           cmd_has(args, "state-shutoff") || cmd_has(args, "state-other");
}

static unsigned list_flags(const struct cmd_args *args)
{
    if (cmd_has(args, "all") || list_has_state_filter(args))
        return STORE_LIST_ALL;
    if (cmd_has(args, "inactive"))
        return STORE_LIST_INACTIVE;
    return STORE_LIST_ACTIVE;
}

/* virsh's filters: the --state-* ones are or'ed, the others and'ed. */
static bool list_wanted(const struct cmd_args *args, const struct store_domain_row *r)
{
    if (list_has_state_filter(args)) {
        bool running = r->state == DOMAIN_RUNNING, paused = r->state == DOMAIN_PAUSED;
        bool shutoff = r->state == DOMAIN_SHUTOFF;
        bool other = !running && !paused && !shutoff;
        if (!((cmd_has(args, "state-running") && running) ||
              (cmd_has(args, "state-paused") && paused) ||
              (cmd_has(args, "state-shutoff") && shutoff) ||
              (cmd_has(args, "state-other") && other)))
            return false;
    }
    if (cmd_has(args, "autostart") && !r->autostart)
        return false;
    if (cmd_has(args, "no-autostart") && r->autostart)
        return false;
    if (cmd_has(args, "persistent") && !r->persistent)
        return false;
    if (cmd_has(args, "transient") && r->persistent)
        return false;
    return true;
}

/* --with-snapshot / --without-snapshot: 1 keep, 0 drop, -1 error. */
static int list_snapshot_wanted(struct store *st, const struct cmd_args *args,
                                const struct store_domain_row *r)
{
    bool with = cmd_has(args, "with-snapshot"), without = cmd_has(args, "without-snapshot");
    if (!with && !without)
        return 1;
    struct store_snapshot_row *snaps;
    size_t n;
    if (store_snapshot_list(st, r->uuid, &snaps, &n) < 0)
        return -1;
    free(snaps);
    return (with && n > 0) || (without && n == 0);
}

/* --with-managed-save / --without-managed-save: whether a managed save image
 * (tvm managedsave) waits for the domain's next start. */
static bool list_managed_save_wanted(struct cmd_ctx *ctx, const struct cmd_args *args,
                                     const struct store_domain_row *r)
{
    bool with = cmd_has(args, "with-managed-save");
    if (!with && !cmd_has(args, "without-managed-save"))
        return true;
    char path[4096];
    bool has = vm_managed_save_path(ctx->db_path, r->uuid, path, sizeof path) == 0 &&
               access(path, F_OK) == 0;
    err_clear();
    return has == with;
}

static bool list_row_active(const struct store_domain_row *r)
{
    return r->state != DOMAIN_SHUTOFF && r->state != DOMAIN_CRASHED &&
           r->state != DOMAIN_NOSTATE;
}

/* virsh's order: active domains first by Id, then the others by name. */
static int list_order(const void *pa, const void *pb)
{
    const struct store_domain_row *a = pa, *b = pb;
    bool aa = list_row_active(a), ba = list_row_active(b);
    if (aa != ba)
        return aa ? -1 : 1;
    if (aa && a->id != b->id)
        return a->id < b->id ? -1 : 1;
    return strcmp(a->name, b->name);
}

/* tvm's own filters, --template and --no-template: the mark is in the
 * definition (tvm template), not in the listed columns. */
static bool list_template_wanted(struct cmd_ctx *ctx, const struct cmd_args *args,
                                 const struct store_domain_row *r)
{
    bool want = cmd_has(args, "template");
    if (!want && !cmd_has(args, "no-template"))
        return true;
    struct domain *d = NULL;
    bool is = cmd_domain_load(ctx, r->uuid, NULL, &d) == 0 && d->is_template;
    err_clear();
    domain_free(d);
    return is == want;
}

/* Keeps the rows that pass the filters, in order; returns how many, or -1. */
static ssize_t list_filter(struct cmd_ctx *ctx, const struct cmd_args *args,
                           struct store_domain_row *rows, size_t n)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        int snap = list_snapshot_wanted(ctx->store, args, &rows[i]);
        if (snap < 0)
            return -1;
        if (snap && list_wanted(args, &rows[i]) && list_template_wanted(ctx, args, &rows[i]) &&
            list_managed_save_wanted(ctx, args, &rows[i])) {
            if (kept != i)
                rows[kept] = rows[i];
            kept++;
        }
    }
    return (ssize_t)kept;
}

/* --uuid, --id, --name in any mix: "UUID ID NAME" per line, each field
 * only if asked, as virsh. --id alone lists only domains that have one. */
static void list_plain(FILE *out, const struct store_domain_row *rows, size_t n, bool name,
                       bool uuid, bool id)
{
    for (size_t i = 0; i < n; i++) {
        if (id && !name && !uuid && rows[i].id < 0)
            continue;
        const char *sep = "";
        if (uuid) {
            fprintf(out, "%s", rows[i].uuid);
            sep = " ";
        }
        if (id && rows[i].id >= 0)
            fprintf(out, "%s%" PRId64, sep, rows[i].id);
        else if (id)
            fprintf(out, "%s-", sep);
        if (id)
            sep = " ";
        if (name)
            fprintf(out, "%s%s", sep, rows[i].name);
        fputc('\n', out);
    }
    fputc('\n', out);
}

/* virsh refuses --table beside the plain forms. */
static enum cmd_result list_check_table(const struct cmd_args *args)
{
    if (!cmd_has(args, "table"))
        return CMD_OK;
    const char *plain[] = {"name", "uuid", "id"};
    for (size_t i = 0; i < 3; i++)
        if (cmd_has(args, plain[i])) {
            err_set("Options --table and --%s are mutually exclusive", plain[i]);
            return CMD_USAGE;
        }
    return CMD_OK;
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
    if (list_check_table(args) != CMD_OK)
        return CMD_USAGE;
    struct store *st = cmd_store(ctx);
    struct store_domain_row *rows;
    size_t n;
    cmd_reconcile(ctx);
    if (!st || store_domain_list(st, list_flags(args), &rows, &n) < 0)
        return CMD_ERROR;
    ssize_t kept = list_filter(ctx, args, rows, n);
    if (kept < 0) {
        free(rows);
        return CMD_ERROR;
    }
    n = (size_t)kept;
    if (n > 1)
        qsort(rows, n, sizeof(*rows), list_order);
    bool name = cmd_has(args, "name"), uuid = cmd_has(args, "uuid"), id = cmd_has(args, "id");
    if (name || uuid || id)
        list_plain(ctx->out, rows, n, name, uuid, id);
    else
        list_table(ctx->out, rows, n, cmd_has(args, "title"));
    free(rows);
    return CMD_OK;
}

const struct cmd_entry cmd_list_entry = {
    .name = "list",
    .usage = "list [--all] [--inactive] [--name] [--uuid] [--id] [--table] [--title] "
             "[--state-running] [--state-paused] [--state-shutoff] [--state-other] [--autostart] "
             "[--no-autostart] [--persistent] [--transient] [--with-snapshot] "
             "[--without-snapshot] [--with-managed-save] [--without-managed-save] [--template] "
             "[--no-template]",
    .summary = "list domains (running ones unless --all or --inactive)",
    .opts = "all,inactive,name,uuid,id,title,table,state-running,state-paused,state-shutoff,"
            "state-other,autostart,no-autostart,persistent,transient,with-snapshot,"
            "without-snapshot,with-managed-save,without-managed-save,template,no-template",
    .min_args = 0,
    .max_args = 0,
    .exec = list_exec,
};
