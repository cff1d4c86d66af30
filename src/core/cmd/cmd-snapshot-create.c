/* snapshot-create DOMAIN [XMLFILE]: take a snapshot described by
 * <domainsnapshot> XML (cmd-snapshot-disk.c; with --disk-only external
 * overlays, cmd-snapshot-external.c), or with --redefine record
 * existing snapshot metadata, as virsh does when restoring it elsewhere. */
#include "core/cmd/cmd-snapshot.h"
#include "core/base/err.h"

#include <stdlib.h>
#include <string.h>

static enum cmd_result redefine(struct cmd_ctx *ctx, struct cmd_args *args, struct snapshot *s,
                                const char *path)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row dom;
    if (!st || cmd_domain_load(ctx, args->argv[0], &dom, NULL) < 0)
        return CMD_ERROR;
    int rc = snapshot_check_redefine(s, cmd_input_origin(path));
    if (rc == 0 && s->domain_uuid && *s->domain_uuid && strcmp(s->domain_uuid, dom.uuid) != 0)
        rc = err_set("%s: snapshot '%s' belongs to domain uuid %s, not '%s' (%s)",
                     cmd_input_origin(path), s->name, s->domain_uuid, dom.name, dom.uuid);
    if (rc == 0)
        rc = store_snapshot_insert(st, dom.uuid, s, cmd_has(args, "current"));
    if (rc == 0) {
        char detail[600];
        snprintf(detail, sizeof(detail), "%s: redefined", dom.name);
        rc = store_event_add(st, "snapshot", s->name, "defined", detail);
    }
    if (rc == 0)
        fprintf(ctx->out, "Domain snapshot %s created from '%s'\n", s->name, path);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

static enum cmd_result snapshot_create_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *path = args->argc > 1 ? args->argv[1] : NULL;
    if (cmd_has(args, "current") && !cmd_has(args, "redefine")) {
        err_set("--current requires --redefine");
        return CMD_USAGE;
    }
    if (cmd_has(args, "disk-only") && cmd_has(args, "redefine")) {
        err_set("--disk-only and --redefine are mutually exclusive");
        return CMD_USAGE;
    }
    if (cmd_has(args, "quiesce")) {
        err_set("snapshot-create: --quiesce needs a guest agent to freeze the guest's file "
                "systems, and tvm has none; take the snapshot without --quiesce");
        return CMD_ERROR;
    }
    char *xml = NULL;
    size_t len = 0;
    if (path && cmd_read_input(ctx, path, &xml, &len) < 0)
        return CMD_ERROR;
    if (!path) {
        if (cmd_has(args, "redefine")) {
            err_set("--redefine needs the snapshot's XML file");
            return CMD_USAGE;
        }
        xml = strdup("<domainsnapshot/>");
        len = xml ? strlen(xml) : 0;
        if (!xml) {
            err_set("out of memory");
            return CMD_ERROR;
        }
    }
    struct snapshot *s = NULL;
    int rc = snapshot_parse(xml, len, path ? cmd_input_origin(path) : "snapshot-create", &s);
    free(xml);
    if (rc < 0)
        return CMD_ERROR;
    struct snap_take_opts o = {.no_metadata = cmd_has(args, "no-metadata"),
                               .halt = cmd_has(args, "halt"),
                               .live = cmd_has(args, "live"),
                               .from = path};
    enum cmd_result r = cmd_has(args, "redefine")    ? redefine(ctx, args, s, path)
                        : cmd_has(args, "disk-only") ? snap_take_external(ctx, args->argv[0], s, &o)
                                                     : snap_take(ctx, args->argv[0], s, &o);
    snapshot_free(s);
    return r;
}

const struct cmd_entry cmd_snapshot_create_entry = {
    .name = "snapshot-create",
    .usage = "snapshot-create DOMAIN [XMLFILE] [--redefine [--current]] [--no-metadata] "
             "[--atomic] [--halt] [--disk-only]",
    .summary = "take a snapshot from XML (internal qcow2 snapshots of the disks; of a running "
               "guest with its memory and device state), or record one's metadata (--redefine)",
    .opts = "redefine,current,validate,no-metadata,atomic,disk-only,halt,live,quiesce",
    .min_args = 1,
    .max_args = 2,
    .exec = snapshot_create_exec,
    .flags = CMD_F_WRITES,
};
