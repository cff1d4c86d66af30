/* Taking a snapshot: of a shut-off domain an internal qcow2 snapshot on
 * every writable disk (tvm's image layer,
 * src/core/image/qcow2-snapshot-write.c); of a running or paused one a
 * checkpoint (tvm-vmm snapshots the disks it has open and saves the
 * guest's state at the same instant, vm_checkpoint); and the
 * <domainsnapshot> record libvirt would keep for it. Also the
 * snapshot-tree lookups the snapshot verbs share. */
#include "core/cmd/cmd-snapshot.h"
#include "core/base/err.h"
#include "core/image/image.h"
#include "core/model/domain.h"
#include "core/virt/vm.h"
#include "core/xml/xml-util.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int snap_rows(struct cmd_ctx *ctx, const char *dom, struct store_domain_row *row,
              struct store_snapshot_row **rows, size_t *n, const char *name, ssize_t *idx)
{
    struct store *st = cmd_store(ctx);
    *rows = NULL;
    *n = 0;
    if (!st || cmd_domain_load(ctx, dom, row, NULL) < 0 ||
        store_snapshot_list(st, row->uuid, rows, n) < 0)
        return -1;
    if (!name)
        return 0;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp((*rows)[i].name, name)) {
            *idx = (ssize_t)i;
            return 0;
        }
    free(*rows);
    *rows = NULL;
    return err_set("Domain snapshot not found: no domain snapshot with matching name '%s'", name);
}

int snap_rows_or_current(struct cmd_ctx *ctx, const char *dom, struct store_domain_row *row,
                         struct store_snapshot_row **rows, size_t *n, const char *name,
                         ssize_t *idx)
{
    *idx = -1;
    if (snap_rows(ctx, dom, row, rows, n, name, idx) < 0)
        return -1;
    for (size_t i = 0; !name && i < *n; i++)
        if ((*rows)[i].current)
            *idx = (ssize_t)i;
    if (*idx >= 0)
        return 0;
    free(*rows);
    *rows = NULL;
    return err_set("Domain snapshot not found: the domain does not have a current snapshot");
}

int snap_check_disk_names(const struct domain *d, const struct snapshot *tmpl)
{
    for (size_t i = 0; i < tmpl->ndisks; i++) {
        bool found = false;
        for (size_t k = 0; k < d->ndisks; k++)
            found = found || (d->disks[k].target_dev &&
                              !strcmp(d->disks[k].target_dev, tmpl->disks[i].name));
        if (!found)
            return err_set("no disk named '%s'", tmpl->disks[i].name);
    }
    return 0;
}

size_t snap_children(const struct store_snapshot_row *rows, size_t n, size_t i)
{
    size_t c = 0;
    for (size_t k = 0; k < n; k++)
        c += !strcmp(rows[k].parent, rows[i].name);
    return c;
}

size_t snap_descendants(const struct store_snapshot_row *rows, size_t n, size_t i)
{
    size_t c = 0;
    for (size_t k = 0; k < n; k++)
        if (!strcmp(rows[k].parent, rows[i].name))
            c += 1 + snap_descendants(rows, n, k);
    return c;
}

/* What the user's <disks> says for disk DEV: NULL when it does not name it. */
static const char *disk_choice(const struct snapshot *tmpl, const char *dev)
{
    for (size_t i = 0; i < tmpl->ndisks; i++)
        if (dev && !strcmp(tmpl->disks[i].name, dev))
            return tmpl->disks[i].snapshot ? tmpl->disks[i].snapshot : "internal";
    return NULL;
}

/* Whether disk K takes part, as libvirt decides by default: CD-ROMs and
 * read-only disks do not. */
bool snap_disk_included(const struct domain_disk *k, const struct snapshot *tmpl)
{
    const char *c = disk_choice(tmpl, k->target_dev);
    if (c)
        return strcmp(c, "no") != 0;
    return !k->readonly && (!k->device || !strcmp(k->device, "disk"));
}

/* Refuses what a shut-off internal snapshot cannot cover, before any disk
 * is touched (libvirt's messages). */
static int check_disks(const struct domain *d, const struct snapshot *tmpl)
{
    if (snap_check_disk_names(d, tmpl) < 0)
        return -1;
    for (size_t i = 0; i < tmpl->ndisks; i++) {
        const char *c = tmpl->disks[i].snapshot;
        if (c && (!strcmp(c, "external") || !strcmp(c, "manual")))
            return err_set("unsupported configuration: %s snapshot of disk '%s' is not supported "
                           "by tvm (only internal snapshots)",
                           c, tmpl->disks[i].name);
    }
    size_t taken = 0;
    for (size_t k = 0; k < d->ndisks; k++) {
        const struct domain_disk *disk = &d->disks[k];
        if (!snap_disk_included(disk, tmpl))
            continue;
        taken++;
        if (!disk->source)
            return err_set("disk '%s' has no source", disk->target_dev ? disk->target_dev : "?");
        const char *fmt = disk->driver_type ? disk->driver_type : "raw";
        if (strcmp(fmt, "qcow2") != 0)
            return err_set("unsupported configuration: internal snapshot for disk %s unsupported "
                           "for storage type %s",
                           disk->source, fmt);
    }
    if (taken == 0)
        return err_set("unsupported configuration: domain has no disk to snapshot");
    return 0;
}

/* Removes snapshot NAME from the included disks [0, upto) of D; best
 * effort (the error that led here is the one to report). */
static void remove_from_disks(const struct domain *d, const struct snapshot *tmpl, const char *name,
                              size_t upto)
{
    char *keep = strdup(err_msg());
    for (size_t k = 0; k < upto; k++) {
        if (!snap_disk_included(&d->disks[k], tmpl))
            continue;
        struct image *img = image_open(d->disks[k].source, IMAGE_FORMAT_QCOW2, 0);
        if (img)
            image_snapshot_delete(img, name);
        image_close(img);
    }
    if (keep)
        err_set("%s", keep);
    free(keep);
}

/* Takes NAME on every included disk of D: on all or, failing, on none. */
static int snapshot_disks(const struct domain *d, const struct snapshot *tmpl, const char *name)
{
    size_t k;
    for (k = 0; k < d->ndisks; k++) {
        const struct domain_disk *disk = &d->disks[k];
        if (!snap_disk_included(disk, tmpl))
            continue;
        struct image *img = image_open(disk->source, IMAGE_FORMAT_QCOW2, 0);
        int rc = img ? 0 : -1;
        if (rc == 0 && image_has_snapshot(img, name))
            rc = err_set("%s: the image already has an internal snapshot '%s'", disk->source, name);
        if (rc == 0)
            rc = image_snapshot_create(img, name, 0);
        if (img && image_close(img) < 0)
            rc = -1;
        if (rc < 0)
            break;
    }
    if (k == d->ndisks)
        return 0;
    err_prefix("disk %s: ", d->disks[k].target_dev ? d->disks[k].target_dev : "?");
    remove_from_disks(d, tmpl, name, k); /* all or none, as --atomic asks */
    return -1;
}

/* The record libvirt keeps for a snapshot: STATE "shutoff" with memory
 * 'no' (disks only), the guest's "running"/"paused" with its memory
 * 'internal' (a checkpoint), or "disk-snapshot" with memory 'no' and each
 * included disk's external overlay (OVERLAYS[k], NULL for internal). */
static char *snapshot_xml(const struct domain *d, const struct snapshot *tmpl, const char *parent,
                          int64_t when, const char *state, const char *const *overlays)
{
    bool shutoff = !strcmp(state, "shutoff") || !strcmp(state, "disk-snapshot");
    char *buf = NULL, *dom = domain_format_public(d);
    size_t len = 0;
    FILE *f = dom ? open_memstream(&buf, &len) : NULL;
    if (!f) {
        free(dom);
        return NULL;
    }
    fputs("<domainsnapshot>\n  <name>", f);
    xml_put_escaped(f, tmpl->name, false);
    fputs("</name>\n", f);
    if (tmpl->description) {
        fputs("  <description>", f);
        xml_put_escaped(f, tmpl->description, false);
        fputs("</description>\n", f);
    }
    fprintf(f, "  <state>%s</state>\n", state);
    if (parent) {
        fputs("  <parent>\n    <name>", f);
        xml_put_escaped(f, parent, false);
        fputs("</name>\n  </parent>\n", f);
    }
    fprintf(f, "  <creationTime>%lld</creationTime>\n  <memory snapshot='%s'/>\n  <disks>\n",
            (long long)when, shutoff ? "no" : "internal");
    for (size_t k = 0; k < d->ndisks; k++) {
        const struct domain_disk *disk = &d->disks[k];
        if (!disk->target_dev)
            continue;
        fputs("    <disk name='", f);
        xml_put_escaped(f, disk->target_dev, true);
        if (overlays && overlays[k]) {
            fputs("' snapshot='external' type='file'>\n      <driver type='qcow2'/>\n"
                  "      <source file='",
                  f);
            xml_put_escaped(f, overlays[k], true);
            fputs("'/>\n    </disk>\n", f);
            continue;
        }
        fprintf(f, "' snapshot='%s'/>\n",
                !overlays && snap_disk_included(disk, tmpl) ? "internal" : "no");
    }
    fprintf(f, "  </disks>\n%s</domainsnapshot>\n", dom);
    fclose(f);
    free(dom);
    return buf;
}

static const char *current_name(const struct store_snapshot_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].current)
            return rows[i].name;
    return NULL;
}

/* The record of snapshot TMPL of D in STATE, its parent the current
 * snapshot; refused when the name is taken. */
int snap_new_record(struct store *st, const struct store_domain_row *row, const struct domain *d,
                    const struct snapshot *tmpl, const char *state, const char *const *overlays,
                    struct snapshot **s)
{
    struct store_snapshot_row *rows = NULL;
    size_t n = 0;
    *s = NULL;
    if (store_snapshot_list(st, row->uuid, &rows, &n) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (!strcmp(rows[i].name, tmpl->name))
            rc = err_set("operation failed: domain snapshot '%s' already exists", tmpl->name);
    int64_t when = (int64_t)time(NULL);
    char *xml =
        rc == 0 ? snapshot_xml(d, tmpl, current_name(rows, n), when, state, overlays) : NULL;
    if (rc == 0 && !xml)
        rc = err_set("out of memory");
    if (rc == 0)
        rc = snapshot_parse(xml, strlen(xml), "<domainsnapshot>", s);
    free(rows);
    free(xml);
    return rc;
}

void snap_created(struct cmd_ctx *ctx, struct store *st, const char *name, const char *from,
                  const char *detail)
{
    store_event_add(st, "snapshot", name, "defined", detail);
    if (from)
        fprintf(ctx->out, "Domain snapshot %s created from '%s'\n", name, from);
    else
        fprintf(ctx->out, "Domain snapshot %s created\n", name);
}

static enum cmd_result take_claimed(struct cmd_ctx *ctx, struct store *st,
                                    const struct store_domain_row *row, const struct domain *d,
                                    struct snapshot *tmpl, bool no_metadata, const char *from)
{
    struct snapshot *s = NULL;
    int rc = snap_new_record(st, row, d, tmpl, "shutoff", NULL, &s);
    if (rc == 0)
        rc = snapshot_disks(d, tmpl, tmpl->name);
    if (rc == 0 && !no_metadata) {
        rc = store_snapshot_insert(st, row->uuid, s, true);
        if (rc < 0) /* the disks must not keep a snapshot nobody can name */
            remove_from_disks(d, tmpl, tmpl->name, d->ndisks);
    }
    if (rc == 0) {
        char detail[600];
        snprintf(detail, sizeof(detail), "%s: created", row->name);
        snap_created(ctx, st, tmpl->name, from, detail);
    }
    snapshot_free(s);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

/* What a checkpoint cannot be, before the guest is touched (libvirt's
 * messages). */
static int check_checkpoint(const struct store_domain_row *row, const struct snapshot *tmpl,
                            const struct snap_take_opts *o)
{
    if (o->no_metadata)
        return err_set("domain '%s' is running: a snapshot of its memory needs its metadata "
                       "(the record owns the saved state); drop --no-metadata",
                       row->name);
    if (tmpl->memory && !strcmp(tmpl->memory, "no"))
        return err_set("unsupported configuration: internal snapshot of a running VM must "
                       "include the memory state");
    if (tmpl->memory && strcmp(tmpl->memory, "internal") != 0)
        return err_set("unsupported configuration: %s memory snapshot is not supported by tvm "
                       "(only internal ones)",
                       tmpl->memory);
    return 0;
}

int snap_check_offline(const struct snapshot *tmpl)
{
    if (tmpl->memory && strcmp(tmpl->memory, "no") != 0)
        return err_set("memory state cannot be saved with offline or disk-only snapshot");
    return 0;
}

/* The target devs of the disks the checkpoint includes. */
static size_t checkpoint_devices(const struct domain *d, const struct snapshot *tmpl,
                                 const char **devs)
{
    size_t n = 0;
    for (size_t k = 0; k < d->ndisks; k++)
        if (snap_disk_included(&d->disks[k], tmpl) && d->disks[k].target_dev)
            devs[n++] = d->disks[k].target_dev;
    return n;
}

/* A running or paused guest: tvm-vmm takes the disks' snapshots and its
 * state at one instant; the file is whole and synced before the record
 * names it, so a kill at any moment leaves the previous tree. */
static enum cmd_result take_checkpoint(struct cmd_ctx *ctx, struct store *st,
                                       const struct store_domain_row *row, const struct domain *d,
                                       struct snapshot *tmpl, const struct snap_take_opts *o)
{
    struct snapshot *s = NULL;
    char path[PATH_MAX];
    const char **devs = calloc(d->ndisks ? d->ndisks : 1, sizeof *devs);
    struct vm_checkpoint_result res;
    int rc =
        devs ? snap_new_record(st, row, d, tmpl, "running", NULL, &s) : err_set("out of memory");
    snapshot_free(s);
    s = NULL;
    if (rc == 0)
        rc = vm_snapshot_state_path(ctx->db_path, row->uuid, tmpl->name, path, sizeof path);
    if (rc == 0)
        rc = vm_checkpoint(st, row->uuid, tmpl->name, devs, checkpoint_devices(d, tmpl, devs), path,
                           &res);
    free(devs);
    if (rc < 0)
        return CMD_ERROR;
    rc = snap_new_record(st, row, d, tmpl, res.was_running ? "running" : "paused", NULL, &s);
    if (rc == 0)
        rc = store_snapshot_insert_with_state(st, row->uuid, s, true, path);
    snapshot_free(s);
    if (rc < 0) {
        unlink(path);
        err_prefix("the disks keep internal snapshot '%s' (remove it with qemu-img snapshot -d "
                   "once the guest is off): ",
                   tmpl->name);
        return CMD_ERROR;
    }
    char detail[600];
    snprintf(detail, sizeof detail, "%s: created while %s, paused %lld ms, state %llu bytes",
             row->name, res.was_running ? "running" : "paused", (long long)res.paused_ms,
             (unsigned long long)res.state_bytes);
    snap_created(ctx, st, tmpl->name, o->from, detail);
    if (o->halt && vm_destroy(st, row->uuid) < 0)
        return CMD_ERROR;
    return CMD_OK;
}

/* A checkpoint is of the machine that runs: its disks and its record's
 * <domain> come from the live definition (what tvm-vmm was started with,
 * media changed since included), not from a stored one edited since. */
static int running_definition(const struct store_domain_row *row, struct domain **d)
{
    struct domain *live;
    if (vm_live_domain(row->uuid, &live) < 0)
        return err_prefix("live definition of domain '%s': ", row->name);
    domain_free(*d);
    *d = live;
    return 0;
}

enum cmd_result snap_take(struct cmd_ctx *ctx, const char *dom, struct snapshot *tmpl,
                          const struct snap_take_opts *o)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    struct domain *d = NULL;
    if (!st || cmd_domain_load(ctx, dom, &row, &d) < 0)
        return CMD_ERROR;
    bool running = cmd_domain_is_active(&row);
    bool changed = false;
    if (o->live) {
        domain_free(d);
        err_set("Operation not supported: live snapshot creation is supported only during full "
                "system snapshots with external memory; tvm takes internal ones (a running "
                "guest pauses once, briefly)");
        return CMD_ERROR;
    }
    if ((running ? check_checkpoint(&row, tmpl, o) : snap_check_offline(tmpl)) < 0 ||
        (running && running_definition(&row, &d) < 0) ||
        vm_resolve_volumes(st, d, true, &changed) < 0 || check_disks(d, tmpl) < 0) {
        domain_free(d);
        return CMD_ERROR;
    }
    if (running) {
        enum cmd_result r = take_checkpoint(ctx, st, &row, d, tmpl, o);
        domain_free(d);
        return r;
    }
    int claim = snap_claim(st, &row);
    enum cmd_result r = CMD_ERROR;
    if (claim >= 0) {
        r = take_claimed(ctx, st, &row, d, tmpl, o->no_metadata, o->from);
        vm_dir_release(row.uuid, claim);
    }
    domain_free(d);
    return r;
}

int snap_claim(struct store *st, const struct store_domain_row *row)
{
    bool active = false;
    int claim = vm_dir_claim(st, row, VM_CLAIM_WAIT_MS, &active);
    if (claim < 0 && active)
        err_set("domain '%s' started meanwhile: take the snapshot again", row->name);
    return claim;
}

int snap_state_file(struct cmd_ctx *ctx, const char *uuid, const char *name, char **path)
{
    struct store *st = cmd_store(ctx);
    return st ? store_snapshot_state_file(st, uuid, name, path) : -1;
}
