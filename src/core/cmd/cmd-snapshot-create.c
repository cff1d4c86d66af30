/* snapshot-create DOMAIN FILE --redefine: record snapshot metadata, as
 * virsh does when restoring it elsewhere. Taking a real snapshot needs
 * qcow2 snapshot writing, which the image layer does not have yet (it lists
 * internal snapshots, image_list_snapshots, but cannot create them). */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/model/snapshot.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static enum cmd_result snapshot_create_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *path = args->argv[1];
    if (!cmd_has(args, "redefine")) {
        err_set("taking a snapshot is not implemented: the image layer reads qcow2 internal "
                "snapshots but cannot write one yet; use --redefine to record existing "
                "snapshot metadata");
        return CMD_ERROR;
    }
    struct store *st = cmd_store(ctx);
    struct store_domain_row dom;
    struct snapshot *s = NULL;
    char *xml;
    size_t len;
    if (!st || cmd_domain_load(ctx, args->argv[0], &dom, NULL) < 0 ||
        cmd_read_input(ctx, path, &xml, &len) < 0)
        return CMD_ERROR;
    int rc = snapshot_parse(xml, len, cmd_input_origin(path), &s);
    free(xml);
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
    snapshot_free(s);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_snapshot_create_entry = {
    .name = "snapshot-create",
    .usage = "snapshot-create DOMAIN XMLFILE --redefine [--current]",
    .summary = "record a snapshot's metadata from XML (--redefine only, for now)",
    .opts = "redefine,current,validate",
    .min_args = 2,
    .max_args = 2,
    .exec = snapshot_create_exec,
    .flags = CMD_F_WRITES,
};
