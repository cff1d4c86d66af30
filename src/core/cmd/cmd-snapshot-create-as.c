/* snapshot-create-as DOMAIN [NAME] [DESCRIPTION]: a snapshot described by
 * its arguments, as virsh builds the XML from them (cmd-snapshot-disk.c
 * takes it: a shut-off domain's disks, or a running guest's checkpoint). As in virsh, name and
 * description may be given by position or as --name/--description. */
#include "core/cmd/cmd-snapshot.h"
#include "core/base/err.h"
#include "core/xml/xml-util.h"

#include <stdlib.h>
#include <string.h>

/* The XML virsh builds (and prints with --print-xml). */
static char *create_as_xml(const char *name, const char *desc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fputs("<domainsnapshot>\n", f);
    if (name) {
        fputs("  <name>", f);
        xml_put_escaped(f, name, false);
        fputs("</name>\n", f);
    }
    if (desc) {
        fputs("  <description>", f);
        xml_put_escaped(f, desc, false);
        fputs("</description>\n", f);
    }
    fputs("</domainsnapshot>\n", f);
    fclose(f);
    return buf;
}

static enum cmd_result snapshot_create_as_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *name = args->argc > 1 && args->argv[1][0] ? args->argv[1] : NULL;
    const char *desc = args->argc > 2 ? args->argv[2] : NULL;
    if (cmd_get(args, "memspec") || cmd_get(args, "diskspec")) {
        err_set("snapshot-create-as: --diskspec and --memspec are not supported by tvm; "
                "--disk-only makes external overlays with libvirt's default names");
        return CMD_ERROR;
    }
    char *xml = create_as_xml(name, desc);
    if (!xml) {
        err_set("out of memory");
        return CMD_ERROR;
    }
    if (cmd_has(args, "print-xml")) {
        fprintf(ctx->out, "%s\n", xml);
        free(xml);
        return CMD_OK;
    }
    struct snapshot *s = NULL;
    int rc = snapshot_parse(xml, strlen(xml), "snapshot-create-as", &s);
    free(xml);
    if (rc < 0)
        return CMD_ERROR;
    struct snap_take_opts o = {.no_metadata = cmd_has(args, "no-metadata"),
                               .halt = cmd_has(args, "halt"),
                               .live = cmd_has(args, "live")};
    enum cmd_result r = cmd_has(args, "disk-only") ? snap_take_external(ctx, args->argv[0], s, &o)
                                                   : snap_take(ctx, args->argv[0], s, &o);
    snapshot_free(s);
    return r;
}

const struct cmd_entry cmd_snapshot_create_as_entry = {
    .name = "snapshot-create-as",
    .usage = "snapshot-create-as DOMAIN [NAME] [DESCRIPTION] [--print-xml] [--no-metadata] "
             "[--atomic] [--halt] [--disk-only]",
    .summary = "take a snapshot named on the command line (internal qcow2 snapshots of the "
               "disks; of a running guest with its memory and device state)",
    .opts = "print-xml,no-metadata,atomic,disk-only,memspec=,diskspec=,live,quiesce,"
            "reuse-external,halt,validate",
    .min_args = 1,
    .max_args = 3,
    .exec = snapshot_create_as_exec,
    .flags = CMD_F_WRITES,
};
