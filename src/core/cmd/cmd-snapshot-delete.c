/* snapshot-delete DOMAIN SNAPSHOT [--children|--children-only] [--metadata]:
 * removes the internal qcow2 snapshots of a shut-off domain's disks and the
 * record. Children move to the deleted node's parent; their own internal
 * snapshots hold their data (each qcow2 snapshot has its own tables and the
 * refcounts keep every cluster one of them uses), so they stay revertible.
 * A checkpoint's saved state goes with its record. --metadata forgets the
 * record (and that file) only, leaving the disks' snapshots. */
#include "core/cmd/cmd-snapshot.h"
#include "core/base/err.h"
#include "core/image/image.h"
#include "core/virt/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *disk_path(const struct domain *d, const char *dev)
{
    for (size_t k = 0; k < d->ndisks; k++)
        if (d->disks[k].target_dev && !strcmp(d->disks[k].target_dev, dev))
            return d->disks[k].source;
    return NULL;
}

/* Removes snapshot NAME's internal snapshots from the disks. A disk that
 * no longer has it (removed by hand) is no reason to keep the record. */
static int delete_disk_data(struct store *st, const char *uuid, const char *name,
                            const struct domain *d)
{
    char *xml;
    struct snapshot *s = NULL;
    if (store_snapshot_get_xml(st, uuid, name, &xml) < 0)
        return -1;
    int rc = snapshot_parse(xml, strlen(xml), name, &s);
    free(xml);
    for (size_t i = 0; rc == 0 && i < s->ndisks; i++) {
        const struct snapshot_disk *sd = &s->disks[i];
        if (sd->snapshot && !strcmp(sd->snapshot, "external"))
            rc = err_set("unsupported configuration: deletion of external disk snapshot '%s' is "
                         "not supported by tvm; use --metadata to forget only the record",
                         name);
        if (rc < 0 || (sd->snapshot && strcmp(sd->snapshot, "internal") != 0))
            continue;
        const char *path = disk_path(d, sd->name);
        if (!path)
            continue;
        struct image *img = image_open(path, IMAGE_FORMAT_QCOW2, 0);
        if (!img)
            rc = -1;
        else if (image_has_snapshot(img, name))
            rc = image_snapshot_delete(img, name);
        if (img && image_close(img) < 0)
            rc = -1;
        if (rc < 0)
            err_prefix("disk %s: ", sd->name);
    }
    snapshot_free(s);
    return rc;
}

/* Deletes rows[i]'s descendants, deepest first, then (unless
 * CHILDREN_ONLY) rows[i] itself. */
static int delete_tree(struct cmd_ctx *ctx, const struct store_domain_row *row,
                       const struct store_snapshot_row *rows, size_t n, size_t i, bool children,
                       bool self, bool metadata, const struct domain *d)
{
    struct store *st = cmd_store(ctx);
    for (size_t k = 0; children && k < n; k++)
        if (!strcmp(rows[k].parent, rows[i].name) &&
            delete_tree(ctx, row, rows, n, k, true, true, metadata, d) < 0)
            return -1;
    if (!self)
        return 0;
    if (!metadata && delete_disk_data(st, row->uuid, rows[i].name, d) < 0) {
        char *why = strdup(err_msg());
        err_set("%s (--metadata forgets only the record)", why ? why : "");
        free(why);
        return -1;
    }
    /* The saved state goes after the record: a kill in between leaves a
     * file no record names, never a record without its file. */
    char *state = NULL;
    if (store_snapshot_state_file(st, row->uuid, rows[i].name, &state) < 0 ||
        store_snapshot_delete(st, row->uuid, rows[i].name) < 0) {
        free(state);
        return -1;
    }
    if (*state && unlink(state) < 0 && errno != ENOENT)
        fprintf(stderr, "tvm: warning: snapshot '%s' deleted, its saved state %s stays: %s\n",
                rows[i].name, state, strerror(errno));
    free(state);
    return store_event_add(st, "snapshot", rows[i].name, "undefined", row->name);
}

static enum cmd_result snapshot_delete_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store_domain_row row;
    struct store_snapshot_row *rows;
    size_t n;
    ssize_t idx = -1;
    bool children = cmd_has(args, "children"), only = cmd_has(args, "children-only");
    bool metadata = cmd_has(args, "metadata");
    if (children && only) {
        err_set("--children and --children-only are mutually exclusive");
        return CMD_USAGE;
    }
    const char *name = args->argc > 1 ? args->argv[1] : NULL;
    if (!name && !cmd_has(args, "current")) {
        err_set("--snapshotname or --current is required");
        return CMD_USAGE;
    }
    if (snap_rows_or_current(ctx, args->argv[0], &row, &rows, &n, name, &idx) < 0)
        return CMD_ERROR;
    char deleted[sizeof(rows[0].name)];
    snprintf(deleted, sizeof deleted, "%s", rows[idx].name);
    struct store *st = cmd_store(ctx);
    struct domain *d = NULL;
    enum cmd_result r = CMD_ERROR;
    bool changed = false;
    if (!metadata && cmd_domain_is_active(&row)) {
        err_set("domain '%s' is running: deleting a snapshot's disk data needs it shut off "
                "(--metadata forgets only the record)",
                row.name);
    } else if (cmd_domain_load(ctx, row.uuid, NULL, &d) == 0 &&
               (metadata || vm_resolve_volumes(st, d, true, &changed) == 0)) {
        bool active = false;
        int claim = metadata ? -1 : vm_dir_claim(st, &row, VM_CLAIM_WAIT_MS, &active);
        if (metadata || claim >= 0) {
            if (delete_tree(ctx, &row, rows, n, (size_t)idx, children || only, !only, metadata,
                            d) == 0)
                r = CMD_OK;
            if (claim >= 0)
                vm_dir_release(row.uuid, claim);
        } else if (active) {
            err_set("domain '%s' is running: shut it down first", row.name);
        }
    }
    if (r == CMD_OK)
        fprintf(ctx->out,
                only ? "Domain snapshot %s children deleted\n\n" : "Domain snapshot %s deleted\n\n",
                deleted);
    domain_free(d);
    free(rows);
    return r;
}

const struct cmd_entry cmd_snapshot_delete_entry = {
    .name = "snapshot-delete",
    .usage = "snapshot-delete DOMAIN {SNAPSHOTNAME | --current} [--children | --children-only] "
             "[--metadata]",
    .summary = "delete a snapshot: its internal disk snapshots and record (children move to "
               "its parent and keep their data)",
    .opts = "children,children-only,metadata,current",
    .min_args = 1,
    .max_args = 2,
    .exec = snapshot_delete_exec,
    .flags = CMD_F_WRITES,
};
