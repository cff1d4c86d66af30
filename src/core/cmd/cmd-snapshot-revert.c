/* snapshot-revert DOMAIN SNAPSHOT [--running|--paused] [--force]: the
 * disks go back to the snapshot's internal qcow2 snapshots offline (a
 * running domain is stopped first, with --force); the snapshot becomes
 * current. A checkpoint (a running guest's snapshot) then starts a fresh
 * tvm-vmm from the saved state the snapshot owns, as restore does: the
 * guest runs (or is paused) from that instant.
 *
 * Changes since the current snapshot are not discarded silently: unless
 * --force, every disk of the current (internal) snapshot is compared with
 * it by its qcow2 mapping (image_snapshot_differs: the L2 entries the
 * active table and the snapshot's use — metadata only, never data; any
 * guest write since allocates a new cluster, so it shows). A disk that
 * changed refuses the revert. */
#include "core/cmd/cmd-snapshot.h"
#include "core/base/err.h"
#include "core/image/image.h"
#include "core/virt/vm.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The path of the snapshot's disk DEV in the domain's definition D. */
static const char *disk_path(const struct domain *d, const char *dev)
{
    for (size_t k = 0; k < d->ndisks; k++)
        if (d->disks[k].target_dev && !strcmp(d->disks[k].target_dev, dev))
            return d->disks[k].source;
    return NULL;
}

static int load_snap(struct store *st, const char *uuid, const char *name, struct snapshot **s)
{
    char *xml;
    if (store_snapshot_get_xml(st, uuid, name, &xml) < 0)
        return -1;
    int rc = snapshot_parse(xml, strlen(xml), name, s);
    free(xml);
    return rc;
}

/* Refuses what tvm cannot revert to, before any disk changes. A
 * checkpoint (memory 'internal') needs the saved state its record owns:
 * *STATE its path, NULL for a snapshot of disks only. */
static int check_revertible(struct cmd_ctx *ctx, const char *uuid, const struct snapshot *s,
                            const struct domain *d, char **state)
{
    *state = NULL;
    if (s->memory && !strcmp(s->memory, "external"))
        return err_set("unsupported configuration: revert to external snapshot not supported "
                       "yet");
    if (s->memory && !strcmp(s->memory, "internal")) {
        if (snap_state_file(ctx, uuid, s->name, state) < 0)
            return -1;
        if (!**state)
            return err_set("snapshot '%s' holds a running guest's memory, but tvm has no saved "
                           "state for it (a record redefined from XML carries none)",
                           s->name);
        if (access(*state, R_OK) < 0)
            return err_errno("snapshot '%s': its saved state %s", s->name, *state);
    }
    size_t internal = 0;
    for (size_t i = 0; i < s->ndisks; i++) {
        const struct snapshot_disk *sd = &s->disks[i];
        if (sd->snapshot && !strcmp(sd->snapshot, "external"))
            return err_set("unsupported configuration: revert to external snapshot not supported "
                           "yet");
        if (sd->snapshot && strcmp(sd->snapshot, "internal") != 0)
            continue;
        if (!disk_path(d, sd->name))
            return err_set("snapshot '%s': the domain has no disk '%s' any more", s->name,
                           sd->name);
        internal++;
    }
    if (!internal)
        return err_set("snapshot '%s' records no disk data to revert to (its metadata only)",
                       s->name);
    return 0;
}

/* Fails with the reason when a disk changed since snapshot CUR. */
static int check_unchanged(const struct snapshot *cur, const struct domain *d, const char *dom)
{
    for (size_t i = 0; i < cur->ndisks; i++) {
        const struct snapshot_disk *sd = &cur->disks[i];
        const char *path = disk_path(d, sd->name);
        if ((sd->snapshot && strcmp(sd->snapshot, "internal") != 0) || !path)
            continue;
        struct image *img = image_open(path, IMAGE_FORMAT_QCOW2, IMAGE_OPEN_RDONLY);
        bool differs = true;
        int rc = img ? image_snapshot_differs(img, cur->name, &differs) : -1;
        image_close(img);
        if (rc < 0)
            return -1;
        if (differs)
            return err_set("domain '%s': disk %s changed since the current snapshot '%s'; "
                           "revert with --force to discard the changes (or take a snapshot "
                           "first)",
                           dom, sd->name, cur->name);
    }
    return 0;
}

static int apply_disks(const struct snapshot *s, const struct domain *d)
{
    for (size_t i = 0; i < s->ndisks; i++) {
        const struct snapshot_disk *sd = &s->disks[i];
        if (sd->snapshot && strcmp(sd->snapshot, "internal") != 0)
            continue;
        struct image *img = image_open(disk_path(d, sd->name), IMAGE_FORMAT_QCOW2, 0);
        int rc = img ? image_snapshot_apply(img, s->name) : -1;
        if (img && image_close(img) < 0)
            rc = -1;
        if (rc < 0)
            return err_prefix("disk %s: ", sd->name);
    }
    return 0;
}

static enum cmd_result revert_claimed(struct cmd_ctx *ctx, struct cmd_args *args,
                                      const struct store_domain_row *row, const struct domain *d,
                                      const struct snapshot *s, const char *current)
{
    struct store *st = cmd_store(ctx);
    struct snapshot *cur = NULL;
    int rc = 0;
    if (!cmd_has(args, "force") && current) {
        rc = load_snap(st, row->uuid, current, &cur);
        if (rc == 0)
            rc = check_unchanged(cur, d, row->name);
    }
    snapshot_free(cur);
    if (rc == 0)
        rc = apply_disks(s, d);
    if (rc == 0)
        rc = store_snapshot_set_current(st, row->uuid, s->name);
    if (rc == 0) {
        char detail[600];
        snprintf(detail, sizeof(detail), "%s: reverted", row->name);
        store_event_add(st, "snapshot", s->name, "reverted", detail);
    }
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

/* A running or paused domain is stopped first: what it did since is
 * lost, so only with --force (the TUI asks). */
static int stop_running(struct store *st, const struct store_domain_row *row, const char *name,
                        bool force)
{
    if (!cmd_domain_is_active(row))
        return 0;
    if (!force)
        return err_set("domain '%s' is running: reverting to '%s' stops it and loses its state "
                       "since; revert with --force",
                       row->name, name);
    return vm_destroy(st, row->uuid);
}

static enum cmd_result snapshot_revert_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store_domain_row row;
    struct store_snapshot_row *rows;
    size_t n;
    ssize_t idx = -1;
    const char *name = args->argc > 1 ? args->argv[1] : NULL;
    bool running = cmd_has(args, "running"), paused = cmd_has(args, "paused");
    if (running && paused) {
        err_set("--running and --paused are mutually exclusive");
        return CMD_USAGE;
    }
    if (!name && !cmd_has(args, "current")) {
        err_set("snapshot-revert: give a snapshot name or --current");
        return CMD_USAGE;
    }
    if (snap_rows(ctx, args->argv[0], &row, &rows, &n, name, &idx) < 0)
        return CMD_ERROR;
    const char *current = NULL;
    for (size_t i = 0; i < n; i++)
        if (rows[i].current)
            current = rows[i].name;
    if (!name && !current) {
        free(rows);
        err_set("Domain snapshot not found: the domain does not have a current snapshot");
        return CMD_ERROR;
    }
    if (!name)
        name = current;
    struct store *st = cmd_store(ctx);
    struct domain *d = NULL;
    struct snapshot *s = NULL;
    char *state = NULL;
    enum cmd_result r = CMD_ERROR;
    bool changed = false;
    if (cmd_domain_load(ctx, row.uuid, NULL, &d) == 0 &&
        vm_resolve_volumes(st, d, true, &changed) == 0 && load_snap(st, row.uuid, name, &s) == 0 &&
        check_revertible(ctx, row.uuid, s, d, &state) == 0 &&
        stop_running(st, &row, name, cmd_has(args, "force")) == 0) {
        bool active;
        int claim = vm_dir_claim(st, &row, VM_CLAIM_WAIT_MS, &active);
        if (claim >= 0) {
            r = revert_claimed(ctx, args, &row, d, s, current);
            vm_dir_release(row.uuid, claim);
        } else if (active) {
            err_set("domain '%s' started meanwhile: revert again", row.name);
        }
    }
    if (r == CMD_OK && state) {
        /* The checkpoint's guest comes back as it was (running or
         * paused), or as --running/--paused say. */
        int run = running ? 1 : paused ? -1 : 0;
        struct vm_start_opts o = {.db_path = ctx->db_path, .restore = state, .restore_run = run};
        if (vm_start(st, row.uuid, &o) < 0)
            r = CMD_ERROR;
    } else if (r == CMD_OK && (running || paused)) {
        struct vm_start_opts o = {.paused = paused, .db_path = ctx->db_path};
        if (vm_start(st, row.uuid, &o) < 0)
            r = CMD_ERROR;
    }
    free(state);
    if (r == CMD_OK)
        fprintf(ctx->out, "Domain snapshot %s reverted\n\n", name);
    snapshot_free(s);
    domain_free(d);
    free(rows);
    return r;
}

const struct cmd_entry cmd_snapshot_revert_entry = {
    .name = "snapshot-revert",
    .usage = "snapshot-revert DOMAIN [SNAPSHOTNAME] [--current] [--running | --paused] "
             "[--force]",
    .summary = "revert a domain to a snapshot: its disks, and a running guest's memory when "
               "the snapshot has it (refused when changed since the current snapshot, unless "
               "--force)",
    .opts = "current,running,paused,force,reset-nvram",
    .min_args = 1,
    .max_args = 2,
    .exec = snapshot_revert_exec,
    .flags = CMD_F_WRITES,
};
