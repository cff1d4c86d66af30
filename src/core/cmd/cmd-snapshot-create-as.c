/* snapshot-create-as DOMAIN [NAME] [DESCRIPTION]: a snapshot described by
 * its arguments, as virsh builds the XML from them (cmd-snapshot-disk.c
 * takes it: a shut-off domain's disks, or a running guest's checkpoint;
 * with --disk-only cmd-snapshot-external.c: external overlays, --diskspec
 * choosing disks and files). As in virsh, name and description may be
 * given by position or as --name/--description. */
#include "core/cmd/cmd-snapshot.h"
#include "core/base/err.h"
#include "core/xml/xml-util.h"

#include <stdlib.h>
#include <string.h>

/* One --diskspec "DISK[,snapshot=TYPE][,driver=TYPE][,file=NAME]" as
 * virsh turns it into a <disk> (",," is a comma in a value). */
static int put_diskspec(FILE *f, const char *spec)
{
    char *copy = malloc(strlen(spec) + 1), *w = copy;
    if (!copy)
        return err_set("out of memory");
    const char *fields[4] = {copy};
    size_t n = 1;
    for (const char *p = spec; *p; p++) {
        if (*p == ',' && p[1] == ',') {
            *w++ = *p++;
        } else if (*p == ',') {
            *w++ = '\0';
            if (n == 4) {
                free(copy);
                return err_set("--diskspec '%s': too many fields", spec);
            }
            fields[n++] = w;
        } else {
            *w++ = *p;
        }
    }
    *w = '\0';
    const char *snap = NULL, *driver = NULL, *file = NULL;
    int rc = *fields[0] ? 0 : err_set("--diskspec '%s': no disk named", spec);
    for (size_t i = 1; i < n && rc == 0; i++) {
        if (!strncmp(fields[i], "snapshot=", 9))
            snap = fields[i] + 9;
        else if (!strncmp(fields[i], "driver=", 7))
            driver = fields[i] + 7;
        else if (!strncmp(fields[i], "file=", 5))
            file = fields[i] + 5;
        else
            rc = err_set("--diskspec '%s': unknown field '%s' (snapshot=, driver=, file=)", spec,
                         fields[i]);
    }
    if (rc == 0) {
        fputs("    <disk name='", f);
        xml_put_escaped(f, fields[0], true);
        fputc('\'', f);
        if (snap) {
            fputs(" snapshot='", f);
            xml_put_escaped(f, snap, true);
            fputc('\'', f);
        }
        fputs(">\n", f);
        if (driver) {
            fputs("      <driver type='", f);
            xml_put_escaped(f, driver, true);
            fputs("'/>\n", f);
        }
        if (file) {
            fputs("      <source file='", f);
            xml_put_escaped(f, file, true);
            fputs("'/>\n", f);
        }
        fputs("    </disk>\n", f);
    }
    free(copy);
    return rc;
}

/* The XML virsh builds (and prints with --print-xml). */
static char *create_as_xml(const char *name, const char *desc, const char **specs, int nspecs)
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
    int rc = 0;
    if (nspecs > 0) {
        fputs("  <disks>\n", f);
        for (int i = 0; i < nspecs && rc == 0; i++)
            rc = put_diskspec(f, specs[i]);
        fputs("  </disks>\n", f);
    }
    fputs("</domainsnapshot>\n", f);
    fclose(f);
    if (rc < 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static enum cmd_result snapshot_create_as_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *name = args->argc > 1 && args->argv[1][0] ? args->argv[1] : NULL;
    const char *desc = args->argc > 2 ? args->argv[2] : NULL;
    bool disk_only = cmd_has(args, "disk-only");
    const char *specs[64];
    int nspecs = cmd_get_all(args, "diskspec", specs, 64);
    if (cmd_get(args, "memspec")) {
        err_set("snapshot-create-as: --memspec is not supported by tvm (a running guest's "
                "memory goes into its checkpoint; drop --memspec)");
        return CMD_ERROR;
    }
    if (nspecs > 0 && !disk_only) {
        err_set("snapshot-create-as: --diskspec needs --disk-only (tvm's snapshots with memory "
                "are internal)");
        return CMD_ERROR;
    }
    if (cmd_has(args, "quiesce")) {
        err_set("snapshot-create-as: --quiesce needs a guest agent to freeze the guest's file "
                "systems, and tvm has none; take the snapshot without --quiesce");
        return CMD_ERROR;
    }
    char *xml = create_as_xml(name, desc, specs, nspecs);
    if (!xml)
        return CMD_ERROR;
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
    enum cmd_result r = disk_only ? snap_take_external(ctx, args->argv[0], s, &o)
                                  : snap_take(ctx, args->argv[0], s, &o);
    snapshot_free(s);
    return r;
}

const struct cmd_entry cmd_snapshot_create_as_entry = {
    .name = "snapshot-create-as",
    .usage =
        "snapshot-create-as DOMAIN [NAME] [DESCRIPTION] [--print-xml] [--no-metadata] "
        "[--atomic] [--halt] [--disk-only [--diskspec DISK[,snapshot=external|no][,file=F]]...]",
    .summary = "take a snapshot named on the command line (internal qcow2 snapshots of the "
               "disks; of a running guest with its memory and device state)",
    .opts = "print-xml,no-metadata,atomic,disk-only,memspec=,diskspec=*,live,quiesce,"
            "reuse-external,halt,validate",
    .min_args = 1,
    .max_args = 3,
    .exec = snapshot_create_as_exec,
    .flags = CMD_F_WRITES,
};
