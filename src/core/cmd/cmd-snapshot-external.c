/* External disk snapshots (snapshot-create-as / snapshot-create
 * --disk-only), as libvirt makes them: every included disk gets a new
 * qcow2 overlay whose backing file is the disk's image (its format named,
 * never probed), beside it with the snapshot's name as its suffix
 * (vda.qcow2 -> vda.SNAP) unless the snapshot's XML names the file; the
 * definition moves onto the overlays, so the guest writes there from now
 * on and the images below stay as they were at the snapshot. The record's
 * state is 'disk-snapshot'. A running or paused guest is switched onto
 * the overlays by its tvm-vmm, all disks or none (vm_disk_snapshot), and
 * its live XML shows each overlay with its <backingStore>. Reverting to
 * such a snapshot and deleting its data are refused by name, as Debian's
 * libvirt refuses them (snapshot-revert, snapshot-delete without
 * --metadata). */
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

/* The overlay the snapshot's XML names for disk DEV (*FILE NULL: libvirt's
 * default name); anything but an external snapshot of a disk is refused,
 * as libvirt refuses it with --disk-only. */
static int disk_named(const struct snapshot *tmpl, const char *dev, const char **file)
{
    *file = NULL;
    for (size_t i = 0; i < tmpl->ndisks; i++) {
        const struct snapshot_disk *sd = &tmpl->disks[i];
        if (strcmp(sd->name, dev) != 0)
            continue;
        if (sd->snapshot && strcmp(sd->snapshot, "external") != 0)
            return err_set("unsupported configuration: disk '%s' must use snapshot mode "
                           "'external' in a disk-only snapshot (it asks for '%s')",
                           dev, sd->snapshot);
        if (sd->source && sd->source[0] != '/')
            return err_set("disk '%s': external snapshot file '%s' must be an absolute path", dev,
                           sd->source);
        *file = sd->source;
    }
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
        const char *named = NULL;
        if (disk_named(tmpl, dev, &named) < 0)
            return -1;
        if (named)
            snprintf(path, sizeof path, "%s", named);
        else if (overlay_path(disk->source, tmpl->name, path, sizeof path) < 0)
            return -1;
        if (stat(path, &st) == 0)
            return err_set("external snapshot file for disk %s already exists and is not a "
                           "block device: %s",
                           dev, path);
        if (!(overlays[k] = strdup(path)))
            return err_set("out of memory");
        taken++;
    }
    if (snap_check_disk_names(d, tmpl) < 0)
        return -1;
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

static void remove_overlays(const struct domain *d, char *const *overlays)
{
    for (size_t k = 0; k < d->ndisks; k++)
        if (overlays[k])
            unlink(overlays[k]);
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
        remove_overlays(d, overlays);
        return CMD_ERROR;
    }
    char detail[600];
    snprintf(detail, sizeof detail, "%s: created (external, disk-only)", row->name);
    snap_created(ctx, st, tmpl->name, o->from, detail);
    return CMD_OK;
}

/* LIVE's disks moved onto their overlays, each with its old image as
 * its <backingStore>: the running guest's XML from now on. */
static int live_onto_overlays(struct domain *live, char *const *overlays)
{
    for (size_t k = 0; k < live->ndisks; k++) {
        const struct domain_disk *disk = &live->disks[k];
        if (overlays[k] &&
            domain_push_disk_backing(live, k, disk->source,
                                     disk->driver_type ? disk->driver_type : "raw") < 0)
            return -1;
    }
    return move_onto_overlays(live, overlays);
}

/* The stored definition D follows the guest: each disk with the target and
 * the image of a disk that went onto an overlay goes onto it too (a disk
 * changed in the definition since the start keeps its change). */
static int stored_onto_overlays(struct domain *d, const struct domain *live, char *const *overlays)
{
    for (size_t k = 0; k < live->ndisks; k++) {
        const struct domain_disk *ld = &live->disks[k];
        for (size_t j = 0; overlays[k] && j < d->ndisks; j++) {
            const struct domain_disk *sd = &d->disks[j];
            if (!sd->target_dev || strcmp(sd->target_dev, ld->target_dev) != 0 || !sd->source ||
                strcmp(sd->source, ld->source) != 0)
                continue;
            if (domain_set_disk_path(d, j, overlays[k], false) < 0 ||
                domain_set_disk_format(d, j, "qcow2") < 0)
                return -1;
        }
    }
    return 0;
}

/* A running or paused guest: the overlays made, then its tvm-vmm switches
 * every disk at one instant (a failure leaves the guest on its images and
 * takes the overlays away); then its live XML, the record and the stored
 * definition say so. */
static enum cmd_result take_running(struct cmd_ctx *ctx, struct store *st,
                                    const struct store_domain_row *row, struct domain *d,
                                    struct domain *live, struct snapshot *tmpl,
                                    const struct snap_take_opts *o, char **overlays)
{
    struct snapshot *s = NULL;
    const char **devs = calloc(live->ndisks ? live->ndisks : 1, sizeof *devs);
    const char **files = calloc(live->ndisks ? live->ndisks : 1, sizeof *files);
    int rc = devs && files ? check_external(live, tmpl, overlays) : err_set("out of memory");
    if (rc == 0)
        rc = snap_new_record(st, row, live, tmpl, "disk-snapshot", (const char *const *)overlays,
                             &s);
    if (rc == 0)
        rc = make_overlays(live, overlays);
    size_t n = 0;
    for (size_t k = 0; rc == 0 && k < live->ndisks; k++)
        if (overlays[k]) {
            devs[n] = live->disks[k].target_dev;
            files[n++] = overlays[k];
        }
    struct vm_disk_snapshot_result res;
    if (rc == 0 && vm_disk_snapshot(st, row->uuid, devs, files, n, &res) < 0) {
        remove_overlays(live, overlays);
        rc = -1;
    }
    free(devs);
    free(files);
    if (rc < 0) {
        snapshot_free(s);
        return CMD_ERROR;
    }
    /* The guest writes to the overlays now: nothing below can take that
     * back, so a failure says where things stand. */
    rc = stored_onto_overlays(d, live, overlays); /* matched on LIVE's old sources */
    if (rc == 0)
        rc = live_onto_overlays(live, overlays);
    if (rc == 0)
        rc = vm_live_domain_save(row->uuid, live);
    if (rc == 0 && !o->no_metadata)
        rc = store_snapshot_insert(st, row->uuid, s, true);
    if (rc == 0)
        rc = store_domain_update(st, d);
    snapshot_free(s);
    if (rc < 0) {
        err_prefix("guest '%s' writes to its overlays now, but: ", row->name);
        return CMD_ERROR;
    }
    char detail[600];
    snprintf(detail, sizeof detail, "%s: created (external, disk-only) while %s, paused %lld ms",
             row->name, res.was_running ? "running" : "paused", (long long)res.paused_ms);
    snap_created(ctx, st, tmpl->name, o->from, detail);
    return o->halt && vm_destroy(st, row->uuid) < 0 ? CMD_ERROR : CMD_OK;
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
    bool changed = false, running = cmd_domain_is_active(&row);
    struct domain *live = NULL;
    if (snap_check_offline(tmpl) < 0 || vm_resolve_volumes(st, d, true, &changed) < 0 ||
        (running && vm_live_domain(row.uuid, &live) < 0)) {
        domain_free(d);
        return CMD_ERROR;
    }
    const struct domain *on = live ? live : d; /* whose disks get the overlays */
    char **overlays = calloc(on->ndisks ? on->ndisks : 1, sizeof *overlays);
    if (!overlays) {
        err_set("out of memory");
    } else if (live) {
        r = take_running(ctx, st, &row, d, live, tmpl, o, overlays);
    } else {
        int claim = snap_claim(st, &row);
        if (claim >= 0) {
            r = take_external(ctx, st, &row, d, tmpl, o, overlays);
            vm_dir_release(row.uuid, claim);
        }
    }
    for (size_t k = 0; overlays && k < on->ndisks; k++)
        free(overlays[k]);
    free(overlays);
    domain_free(live);
    domain_free(d);
    return r;
}
