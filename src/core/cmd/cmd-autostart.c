/* autostart, net-autostart, pool-autostart: set or clear the autostart
 * mark, with virsh's messages. The mark is inventory; starting marked
 * objects when the host comes up is the supervisor's job. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

static void autostart_report(struct cmd_ctx *ctx, const char *what, const char *name, bool on)
{
    fprintf(ctx->out, "%s %s %s as autostarted\n\n", what, name, on ? "marked" : "unmarked");
}

static enum cmd_result autostart_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool on = !cmd_has(args, "disable");
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    if (!st || cmd_domain_load(ctx, args->argv[0], &row, NULL) < 0)
        return CMD_ERROR;
    if (!row.persistent) { /* libvirt's refusal: it is gone once it stops */
        err_set("Requested operation is not valid: cannot set autostart for transient domain");
        return CMD_ERROR;
    }
    if (store_domain_set_autostart(st, row.uuid, on) < 0 ||
        store_event_add(st, "domain", row.name, "updated", on ? "autostart on" : "autostart off") <
            0)
        return CMD_ERROR;
    char quoted[300];
    snprintf(quoted, sizeof(quoted), "'%s'", row.name);
    autostart_report(ctx, "Domain", quoted, on);
    return CMD_OK;
}

const struct cmd_entry cmd_autostart_entry = {
    .name = "autostart",
    .usage = "autostart DOMAIN [--disable]",
    .summary = "mark a domain to start with the host (--disable: unmark)",
    .opts = "disable",
    .min_args = 1,
    .max_args = 1,
    .exec = autostart_exec,
    .flags = CMD_F_WRITES,
};

/* Networks and pools share the row shape; only their store calls differ. */
static enum cmd_result object_autostart(struct cmd_ctx *ctx, struct cmd_args *args,
                                        const char *kind, const char *label,
                                        int (*get_row)(struct store *, const char *,
                                                       struct store_object_row *),
                                        int (*set_autostart)(struct store *, const char *, bool))
{
    bool on = !cmd_has(args, "disable");
    struct store *st = cmd_store(ctx);
    struct store_object_row row;
    if (!st || get_row(st, args->argv[0], &row) < 0 || set_autostart(st, row.uuid, on) < 0 ||
        store_event_add(st, kind, row.name, "updated", on ? "autostart on" : "autostart off") < 0)
        return CMD_ERROR;
    autostart_report(ctx, label, row.name, on);
    return CMD_OK;
}

static enum cmd_result net_autostart_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return object_autostart(ctx, args, "network", "Network", store_network_get_row,
                            store_network_set_autostart);
}

const struct cmd_entry cmd_net_autostart_entry = {
    .name = "net-autostart",
    .usage = "net-autostart NETWORK [--disable]",
    .summary = "mark a network to start with the host (--disable: unmark)",
    .opts = "disable",
    .min_args = 1,
    .max_args = 1,
    .exec = net_autostart_exec,
    .flags = CMD_F_WRITES,
};

static enum cmd_result pool_autostart_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return object_autostart(ctx, args, "pool", "Pool", store_pool_get_row,
                            store_pool_set_autostart);
}

const struct cmd_entry cmd_pool_autostart_entry = {
    .name = "pool-autostart",
    .usage = "pool-autostart POOL [--disable]",
    .summary = "mark a storage pool to start with the host (--disable: unmark)",
    .opts = "disable",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_autostart_exec,
    .flags = CMD_F_WRITES,
};
