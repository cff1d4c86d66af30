/* snapshot-edit DOMAIN [SNAPSHOT] [--current]: $EDITOR on a snapshot's XML,
 * as virsh does. A snapshot records what was taken, so only its
 * <description> may change; the name (virsh's --rename and --clone) and
 * everything else are refused by name, and a refused edit changes nothing. */
#include "core/cmd/cmd-snapshot.h"
#include "core/base/err.h"

#include <stdlib.h>
#include <string.h>

struct snap_edit {
    const char *uuid;
    const struct snapshot *before;
};

static int apply_edit(struct cmd_ctx *ctx, const char *xml, size_t len, const char *origin,
                      void *opaque)
{
    struct snap_edit *e = opaque;
    struct snapshot *after = NULL;
    if (snapshot_parse(xml, len, origin, &after) < 0)
        return -1;
    int rc = 0;
    if (!after->name || strcmp(after->name, e->before->name) != 0)
        rc = err_set("Cannot rename snapshot %s to %s: tvm does not rename snapshots",
                     e->before->name, after->name ? after->name : "");
    if (rc == 0)
        rc = snapshot_check_edit(e->before, after, origin);
    char *text = rc == 0 ? snapshot_format(after) : NULL;
    if (rc == 0 && !text)
        rc = err_set("%s: out of memory", origin);
    if (rc == 0)
        rc = store_snapshot_set_xml(cmd_store(ctx), e->uuid, e->before->name, text);
    free(text);
    snapshot_free(after);
    return rc;
}

static enum cmd_result snapshot_edit_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    if (cmd_has(args, "rename") || cmd_has(args, "clone")) {
        err_set("snapshot-edit: --%s is not supported by tvm (a snapshot keeps its name)",
                cmd_has(args, "rename") ? "rename" : "clone");
        return CMD_USAGE;
    }
    const char *name = args->argc > 1 ? args->argv[1] : NULL;
    if (!name && !cmd_has(args, "current")) {
        err_set("snapshot-edit: give a snapshot name or --current");
        return CMD_USAGE;
    }
    struct store_domain_row row;
    struct store_snapshot_row *rows;
    size_t n;
    ssize_t idx = -1;
    if (snap_rows_or_current(ctx, args->argv[0], &row, &rows, &n, name, &idx) < 0)
        return CMD_ERROR;
    char snap_name[sizeof rows[0].name];
    snprintf(snap_name, sizeof snap_name, "%s", rows[idx].name);
    free(rows);

    char *xml = NULL;
    struct snapshot *before = NULL;
    struct store *st = cmd_store(ctx);
    if (store_snapshot_get_xml(st, row.uuid, snap_name, &xml) < 0 ||
        snapshot_parse(xml, strlen(xml), snap_name, &before) < 0) {
        free(xml);
        return CMD_ERROR;
    }
    struct snap_edit e = {.uuid = row.uuid, .before = before};
    char what[300];
    snprintf(what, sizeof what, "Snapshot %s", snap_name);
    bool changed = false;
    int rc = cmd_edit_xml(ctx, xml, what, apply_edit, &e, &changed);
    if (rc == 0 && changed) {
        fprintf(ctx->out, "Snapshot %s edited.\n", snap_name);
        rc = store_event_add(st, "snapshot", snap_name, "updated", "description edited");
    }
    snapshot_free(before);
    free(xml);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_snapshot_edit_entry = {
    .name = "snapshot-edit",
    .usage = "snapshot-edit DOMAIN [SNAPSHOTNAME] [--current] [--rename] [--clone]",
    .summary = "edit a snapshot's XML in $EDITOR (its description)",
    .opts = "current,rename,clone",
    .min_args = 1,
    .max_args = 2,
    .exec = snapshot_edit_exec,
    .flags = CMD_F_WRITES,
};
