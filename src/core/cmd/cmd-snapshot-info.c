/* snapshot-info DOMAIN [SNAPSHOT|--current] and snapshot-parent DOMAIN
 * [SNAPSHOT|--current]: where a snapshot sits in the tree, as virsh
 * prints it. */
#include "core/cmd/cmd-snapshot.h"
#include "core/base/err.h"

#include <stdlib.h>
#include <string.h>

/* The named snapshot, or the current one with --current (or no name). */
static int pick(struct cmd_ctx *ctx, struct cmd_args *args, struct store_domain_row *row,
                struct store_snapshot_row **rows, size_t *n, ssize_t *idx)
{
    const char *name = args->argc > 1 ? args->argv[1] : NULL;
    *idx = -1;
    if (snap_rows(ctx, args->argv[0], row, rows, n, name, idx) < 0)
        return -1;
    for (size_t i = 0; !name && i < *n; i++)
        if ((*rows)[i].current)
            *idx = (ssize_t)i;
    if (*idx < 0) {
        free(*rows);
        return err_set("Domain snapshot not found: the domain does not have a current snapshot");
    }
    return 0;
}

static const char *location(struct cmd_ctx *ctx, const char *uuid, const char *name)
{
    char *xml;
    struct snapshot *s = NULL;
    const char *where = "internal";
    if (store_snapshot_get_xml(cmd_store(ctx), uuid, name, &xml) < 0)
        return where;
    if (snapshot_parse(xml, strlen(xml), name, &s) == 0) {
        bool ext = s->memory && !strcmp(s->memory, "external");
        for (size_t i = 0; i < s->ndisks; i++)
            ext = ext || (s->disks[i].snapshot && !strcmp(s->disks[i].snapshot, "external"));
        if (ext)
            where = "external";
    }
    snapshot_free(s);
    free(xml);
    return where;
}

static enum cmd_result snapshot_info_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store_domain_row row;
    struct store_snapshot_row *rows;
    size_t n;
    ssize_t i;
    if (pick(ctx, args, &row, &rows, &n, &i) < 0)
        return CMD_ERROR;
    const struct store_snapshot_row *s = &rows[i];
    fprintf(ctx->out,
            "%-15s %s\n%-15s %s\n%-15s %s\n%-15s %s\n%-15s %s\n%-15s %s\n%-15s %zu\n%-15s "
            "%zu\n%-15s %s\n\n",
            "Name:", s->name, "Domain:", row.name, "Current:", s->current ? "yes" : "no",
            "State:", s->state, "Location:", location(ctx, row.uuid, s->name),
            "Parent:", s->parent[0] ? s->parent : "-",
            "Children:", snap_children(rows, n, (size_t)i),
            "Descendants:", snap_descendants(rows, n, (size_t)i), "Metadata:", "yes");
    free(rows);
    return CMD_OK;
}

static enum cmd_result snapshot_parent_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store_domain_row row;
    struct store_snapshot_row *rows;
    size_t n;
    ssize_t i;
    if (pick(ctx, args, &row, &rows, &n, &i) < 0)
        return CMD_ERROR;
    enum cmd_result r = CMD_OK;
    if (rows[i].parent[0]) {
        fprintf(ctx->out, "%s\n", rows[i].parent);
    } else {
        err_set("snapshot '%s' has no parent", rows[i].name);
        r = CMD_ERROR;
    }
    free(rows);
    return r;
}

const struct cmd_entry cmd_snapshot_info_entry = {
    .name = "snapshot-info",
    .usage = "snapshot-info DOMAIN [SNAPSHOTNAME] [--current]",
    .summary = "a snapshot's place in the tree: state, location, parent, children",
    .opts = "current",
    .min_args = 1,
    .max_args = 2,
    .exec = snapshot_info_exec,
};

const struct cmd_entry cmd_snapshot_parent_entry = {
    .name = "snapshot-parent",
    .usage = "snapshot-parent DOMAIN [SNAPSHOTNAME] [--current]",
    .summary = "the name of a snapshot's parent",
    .opts = "current",
    .min_args = 1,
    .max_args = 2,
    .exec = snapshot_parent_exec,
};
