/* External disk snapshots (snapshot-create-as --disk-only) of a shut-off
 * domain, as libvirt makes them: every included disk gets a new qcow2
 * overlay whose backing file is the disk's image (its format named, never
 * probed), beside it with the snapshot's name as its suffix (vda.qcow2 ->
 * vda.SNAP); the definition moves onto the overlays, so the guest writes
 * there from now on and the images below stay as they were at the
 * snapshot. The record's state is 'disk-snapshot'. Reverting to such a
 * snapshot and deleting its data are refused by name, as Debian's libvirt
 * refuses them (snapshot-revert, snapshot-delete without --metadata). */
#include "core/cmd/cmd-snapshot.h"
#include "core/base/err.h"
#include "core/image/image.h"
#include "core/virt/vm.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libvirt's default name: the source's file name with its last suffix
 * replaced by the snapshot's name, or that name appended when it has none. */
static int overlay_path(const char *src, const char *snap, char *buf, size_t len)
{
    const char *base = strrchr(src, '/');
    const char *dot = strrchr(base ? base : src, '.');
    int keep = dot && dot != (base ? base + 1 : src) ? (int)(dot - src) : (int)strlen(src);
    if ((size_t)snprintf(buf, len, "%.*s.%s", keep, src, snap) >= len)
        return err_set("external snapshot file name for '%s' is too long", src);
    return 0;
}

/* Every included disk is a file tvm can put an overlay on; refused before
 * anything is made. */
static int check_external(const struct domain *d, const struct snapshot *tmpl, char **overlays)
{
    size_t taken = 0;
    for (size_t k = 0; k < d->ndisks; k++) {
        const struct domain_disk *disk = &d->disks[k];
        if (!snap_disk_included(disk, tmpl))
            continue;
        const char *dev = disk->target_dev ? disk->target_dev : "?";
        const char *fmt = disk->driver_type ? disk->driver_type : "raw";
        enum image_format f;
        if (!disk->source || (disk->type && strcmp(disk->type, "file") != 0))
            return err_set("unsupported configuration: external snapshot of disk '%s' needs a "
                           "file",
                           dev);
        if (image_format_parse(fmt, &f) < 0)
            return err_prefix("disk '%s': ", dev);
        char path[PATH_MAX];
        struct stat st;
        if (overlay_path(disk->source, tmpl->name, path, sizeof path) < 0)
            return -1;
        if (stat(path, &st) == 0)
            return err_set("external snapshot file for disk %s already exists and is not a "
                           "block device: %s",
                           dev, path);
        if (!(overlays[k] = strdup(path)))
            return err_set("out of memory");
        taken++;
    }
    return taken ? 0 : err_set("unsupported configuration: domain has no disk to snapshot");
}

/* The overlays, all or none. */
static int make_overlays(const struct domain *d, char *const *overlays)
{
    size_t k;
    for (k = 0; k < d->ndisks; k++) {
        const struct domain_disk *disk = &d->disks[k];
        enum image_format f = IMAGE_FORMAT_RAW;
        if (!overlays[k])
            continue;
        if ((disk->driver_type && image_format_parse(disk->driver_type, &f) < 0) ||
            image_create_qcow2(overlays[k], 0, 0, disk->source, f) < 0) {
            err_prefix("disk %s: ", disk->target_dev ? disk->target_dev : "?");
            break;
        }
    }
    if (k == d->ndisks)
        return 0;
    for (size_t i = 0; i < k; i++)
        if (overlays[i])
            unlink(overlays[i]);
    return -1;
}

/* D moved onto its overlays: what the stored definition becomes. */
static int move_onto_overlays(struct domain *d, char *const *overlays)
{
    for (size_t k = 0; k < d->ndisks; k++)
        if (overlays[k] && (domain_set_disk_path(d, k, overlays[k], false) < 0 ||
                            domain_set_disk_format(d, k, "qcow2") < 0))
            return -1;
    return 0;
}

static enum cmd_result take_external(struct cmd_ctx *ctx, struct store *st,
                                     const struct store_domain_row *row, struct domain *d,
                                     struct snapshot *tmpl, const struct snap_take_opts *o,
                                     char **overlays)
{
    struct snapshot *s = NULL;
    int rc = check_external(d, tmpl, overlays);
    if (rc == 0)
        rc = snap_new_record(st, row, d, tmpl, "disk-snapshot", (const char *const *)overlays, &s);
    if (rc == 0)
        rc = make_overlays(d, overlays);
    if (rc < 0) {
        snapshot_free(s);
        return CMD_ERROR;
    }
    /* The record and the new definition go in one transaction (the
     * command's): a failure takes both back, and the overlays go. */
    if (!o->no_metadata)
        rc = store_snapshot_insert(st, row->uuid, s, true);
    if (rc == 0)
        rc = move_onto_overlays(d, overlays);
    if (rc == 0)
        rc = store_domain_update(st, d);
    snapshot_free(s);
    if (rc < 0) {
        for (size_t k = 0; k < d->ndisks; k++)
            if (overlays[k])
                unlink(overlays[k]);
        return CMD_ERROR;
    }
    char detail[600];
    snprintf(detail, sizeof detail, "%s: created (external, disk-only)", row->name);
    snap_created(ctx, st, tmpl->name, o->from, detail);
    return CMD_OK;
}

enum cmd_result snap_take_external(struct cmd_ctx *ctx, const char *dom, struct snapshot *tmpl,
                                   const struct snap_take_opts *o)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    struct domain *d = NULL;
    if (!st || cmd_domain_load(ctx, dom, &row, &d) < 0)
        return CMD_ERROR;
    enum cmd_result r = CMD_ERROR;
    bool changed = false, active = false;
    char **overlays = calloc(d->ndisks ? d->ndisks : 1, sizeof *overlays);
    if (!overlays)
        err_set("out of memory");
    else if (cmd_domain_is_active(&row))
        err_set("domain '%s' is running: tvm takes disk-only (external) snapshots of a shut-off "
                "domain; a running guest's snapshot is a checkpoint (drop --disk-only)",
                row.name);
    else if (snap_check_offline(tmpl) == 0 && vm_resolve_volumes(st, d, true, &changed) == 0) {
        /* Claimed as a start claims it: no guest starts on these disks meanwhile. */
        int claim = vm_dir_claim(st, &row, VM_CLAIM_WAIT_MS, &active);
        if (claim >= 0) {
            r = take_external(ctx, st, &row, d, tmpl, o, overlays);
            vm_dir_release(row.uuid, claim);
        } else if (active) {
            err_set("domain '%s' started meanwhile: take the snapshot again", row.name);
        }
    }
    for (size_t k = 0; overlays && k < d->ndisks; k++)
        free(overlays[k]);
    free(overlays);
    domain_free(d);
    return r;
}
