/* change-media DOMAIN PATH [SOURCE] [--eject|--insert|--update] [--live]
 * [--config] [--current] [--force] [--print-xml] [--block]: a CD-ROM's
 * medium, as virsh does it (virsh has no separate eject verb).
 *
 * PATH is the drive's target (sda) or its current medium's path. --eject
 * takes the medium out, --insert puts SOURCE into an empty drive, --update
 * (the default) puts SOURCE in whatever was there (an explicit --update
 * without SOURCE ejects, as virsh's). A running guest changes
 * live: tvm opens SOURCE and hands the descriptor to tvm-vmm (QMP getfd +
 * x-tvm-change-medium, or eject), and the guest sees the change as a real
 * drive reports it; the live definition follows. --config (or a domain
 * that is not running) changes the stored definition for the next start.
 * --force ejects a tray the guest has locked. --print-xml prints the
 * drive's new <disk> and changes nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"
#include "core/cmd/cmd-util.h"
#include "core/cmd/cmd.h"
#include "core/virt/vm.h"
#include "store/store.h"

enum media_action { MEDIA_EJECT, MEDIA_INSERT, MEDIA_UPDATE };

static const char *const action_names[] = {"eject", "insert", "update"};
static const char *const done_msgs[] = {
    "Successfully ejected media.", "Successfully inserted media.", "Successfully updated media."};

struct media_req {
    const char *path, *source;
    enum media_action action;
    bool force, block;
};

/* A CD-ROM or floppy whose target or medium is PATH, as virsh finds it. */
static int find_drive(const struct domain *d, const char *path)
{
    for (size_t i = 0; i < d->ndisks; i++) {
        const struct domain_disk *x = &d->disks[i];
        if (!x->device || (strcmp(x->device, "cdrom") && strcmp(x->device, "floppy")))
            continue;
        if ((x->target_dev && !strcmp(x->target_dev, path)) ||
            (x->source && !strcmp(x->source, path)))
            return (int)i;
    }
    return err_set("No disk found whose source path or target is %s", path);
}

/* The drive in D and whether the action fits what it holds. */
static int check_drive(const struct domain *d, const struct media_req *r)
{
    int i = find_drive(d, r->path);
    if (i < 0)
        return -1;
    const struct domain_disk *x = &d->disks[i];
    bool has = x->source && *x->source;
    if (r->action == MEDIA_INSERT && has)
        return err_set("The disk device '%s' already has media", x->target_dev);
    if (r->action == MEDIA_EJECT && !has)
        return err_set("The disk device '%s' doesn't have media", x->target_dev);
    return i;
}

static const char *new_source(const struct media_req *r)
{
    return r->action == MEDIA_EJECT ? NULL : r->source;
}

static int change_live(const struct store_domain_row *row, const struct media_req *r)
{
    struct domain *ld;
    if (vm_live_domain(row->uuid, &ld) < 0)
        return -1;
    int i = check_drive(ld, r);
    int rc = i < 0 ? -1 : 0;
    if (rc == 0)
        rc = vm_change_medium(row, ld->disks[i].target_dev, new_source(r), r->force);
    if (rc == 0)
        rc = domain_set_disk_source(ld, (size_t)i, new_source(r), r->block) < 0 ||
                     vm_live_domain_save(row->uuid, ld) < 0
                 ? -1
                 : 0;
    domain_free(ld);
    return rc;
}

static int change_config(struct store *st, struct domain *d, const struct media_req *r)
{
    int i = check_drive(d, r);
    if (i < 0 || domain_set_disk_source(d, (size_t)i, new_source(r), r->block) < 0 ||
        store_domain_update(st, d) < 0)
        return -1;
    char detail[160];
    snprintf(detail, sizeof detail, "disk %s media %s", d->disks[i].target_dev,
             r->action == MEDIA_EJECT ? "ejected" : "changed");
    return store_event_add(st, "domain", d->name, "updated", detail);
}

static int print_xml(struct cmd_ctx *ctx, struct domain *d, const struct media_req *r)
{
    int i = check_drive(d, r);
    if (i < 0 || domain_set_disk_source(d, (size_t)i, new_source(r), r->block) < 0)
        return -1;
    char *xml = domain_disk_xml(d, (size_t)i);
    if (!xml)
        return -1;
    fputs(xml, ctx->out);
    free(xml);
    return 0;
}

static int parse_request(struct cmd_args *args, struct media_req *r)
{
    *r = (struct media_req){.path = args->argv[1], .action = MEDIA_UPDATE};
    r->source = args->argc > 2 ? args->argv[2] : cmd_get(args, "source");
    if (args->argc > 2 && cmd_get(args, "source"))
        return err_set("SOURCE given twice (argument and --source)");
    const char *chosen = NULL;
    for (int a = MEDIA_EJECT; a <= MEDIA_UPDATE; a++) {
        if (!cmd_has(args, action_names[a]))
            continue;
        if (chosen)
            return err_set("Options --%s and --%s are mutually exclusive", chosen, action_names[a]);
        chosen = action_names[a];
        r->action = (enum media_action)a;
    }
    bool no_source = !r->source || !*r->source;
    if (no_source && r->action == MEDIA_UPDATE && chosen)
        r->action = MEDIA_EJECT; /* virsh: --update without a medium ejects */
    if (r->action != MEDIA_EJECT && no_source)
        return err_set("New disk media source was not specified");
    r->force = cmd_has(args, "force");
    r->block = cmd_has(args, "block");
    return 0;
}

static enum cmd_result change_media_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct media_req r;
    bool live = cmd_has(args, "live"), config = cmd_has(args, "config");
    if (cmd_has(args, "current") && (live || config)) {
        err_set("Options --current and --%s are mutually exclusive", live ? "live" : "config");
        return CMD_ERROR;
    }
    if (parse_request(args, &r) < 0)
        return CMD_ERROR;
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    struct domain *d;
    if (!st || cmd_domain_load(ctx, args->argv[0], &row, &d) < 0)
        return CMD_ERROR;
    int rc = cmd_affect_resolve(&row, &live, &config);
    if (rc == 0 && cmd_has(args, "print-xml")) {
        struct domain *shown = d;
        if (live && vm_live_domain(row.uuid, &shown) < 0)
            rc = -1;
        if (rc == 0)
            rc = print_xml(ctx, shown, &r);
        if (shown != d)
            domain_free(shown);
        domain_free(d);
        return rc < 0 ? CMD_ERROR : CMD_OK;
    }
    /* Both checked before either changes: all or nothing. */
    if (rc == 0 && config && check_drive(d, &r) < 0)
        rc = -1;
    if (rc == 0 && live)
        rc = change_live(&row, &r);
    if (rc == 0 && config)
        rc = change_config(st, d, &r);
    domain_free(d);
    if (rc < 0) {
        if (strncmp(err_msg(), "No disk found", 13) && strncmp(err_msg(), "The disk device", 15) &&
            strncmp(err_msg(), "Requested operation", 19))
            err_prefix("Failed to complete action %s on media: ", action_names[r.action]);
        return CMD_ERROR;
    }
    fprintf(ctx->out, "%s\n\n", done_msgs[r.action]);
    return CMD_OK;
}

const struct cmd_entry cmd_change_media_entry = {
    .name = "change-media",
    .usage = "change-media DOMAIN PATH [SOURCE] [--source SOURCE] [--eject|--insert|--update] "
             "[--live] [--config] [--current] [--force] [--print-xml] [--block]",
    .summary = "change, insert or eject the medium of a CD-ROM drive",
    .opts = "source=,eject,insert,update,live,config,current,force,print-xml,block",
    .min_args = 2,
    .max_args = 3,
    .exec = change_media_exec,
    .flags = CMD_F_WRITES,
};
