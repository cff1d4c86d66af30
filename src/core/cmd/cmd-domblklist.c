/* domblklist, domiflist: a domain's disks and network interfaces as virsh
 * tables: a running domain's live definition (its taps in the Interface
 * column), or with --inactive (or shut off) the stored one. */
#include "core/cmd/cmd-util.h"
#include "core/model/domain.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdio.h>

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* A disk's source as virsh shows it: the path, or POOL/VOLUME. */
static const char *disk_source(const struct domain_disk *k, char *buf, size_t len)
{
    if (k->source && *k->source)
        return k->source;
    if (k->source_pool && k->source_volume) {
        snprintf(buf, len, "%s/%s", k->source_pool, k->source_volume);
        return buf;
    }
    return "-";
}

static enum cmd_result domblklist_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct domain *d;
    if (cmd_domain_load_view(ctx, args->argv[0], cmd_has(args, "inactive"), NULL, &d) < 0)
        return CMD_ERROR;
    bool details = cmd_has(args, "details");
    struct cmd_tbl *t = details ? cmd_tbl_new(4, "Type", "Device", "Target", "Source")
                                : cmd_tbl_new(2, "Target", "Source");
    for (size_t i = 0; i < d->ndisks; i++) {
        const struct domain_disk *k = &d->disks[i];
        char buf[1024];
        const char *src = disk_source(k, buf, sizeof(buf));
        if (details)
            cmd_tbl_add(t, or_dash(k->type), or_dash(k->device), or_dash(k->target_dev), src);
        else
            cmd_tbl_add(t, or_dash(k->target_dev), src);
    }
    cmd_tbl_print(t, ctx->out);
    cmd_tbl_free(t);
    domain_free(d);
    return CMD_OK;
}

const struct cmd_entry cmd_domblklist_entry = {
    .name = "domblklist",
    .usage = "domblklist DOMAIN [--details] [--inactive]",
    .summary = "list a domain's disks",
    .opts = "details,inactive",
    .min_args = 1,
    .max_args = 1,
    .exec = domblklist_exec,
};

static enum cmd_result domiflist_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct domain *d;
    if (cmd_domain_load_view(ctx, args->argv[0], cmd_has(args, "inactive"), NULL, &d) < 0)
        return CMD_ERROR;
    struct cmd_tbl *t = cmd_tbl_new(5, "Interface", "Type", "Source", "Model", "MAC");
    for (size_t i = 0; i < d->nnics; i++) {
        const struct domain_nic *n = &d->nics[i];
        cmd_tbl_add(t, or_dash(n->target_dev), or_dash(n->type), or_dash(n->source),
                    or_dash(n->model), or_dash(n->mac));
    }
    cmd_tbl_print(t, ctx->out);
    cmd_tbl_free(t);
    domain_free(d);
    return CMD_OK;
}

const struct cmd_entry cmd_domiflist_entry = {
    .name = "domiflist",
    .usage = "domiflist DOMAIN [--inactive]",
    .summary = "list a domain's network interfaces",
    .opts = "inactive",
    .min_args = 1,
    .max_args = 1,
    .exec = domiflist_exec,
};
