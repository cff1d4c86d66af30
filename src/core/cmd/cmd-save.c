/* The saved-state verbs, as virsh's:
 *   save DOMAIN FILE [--running|--paused] [--bypass-cache]
 *   restore FILE [--running|--paused] [--bypass-cache]
 *   save-image-dumpxml FILE
 *   managedsave DOMAIN [--running|--paused] [--bypass-cache]
 *   managedsave-remove DOMAIN
 * save writes the running guest's whole state to FILE and stops it;
 * restore starts it again from there (vm.h, "saved state"). A managed
 * save is kept beside the inventory, and the next `start` resumes from it
 * (then removes it). Like start and destroy, these run outside the
 * runner's transaction: a save takes as long as writing the guest's RAM,
 * and the store must stay open to others (domjobinfo) meanwhile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/cmd/cmd.h"
#include "core/proto/vmstate-file.h"
#include "core/virt/vm.h"
#include "store/store.h"

/* --running / --paused: 1, -1, 0 for neither; -2 with both (an error). */
static int run_flag(struct cmd_args *args)
{
    bool r = cmd_has(args, "running"), p = cmd_has(args, "paused");
    if (r && p) {
        err_set("Options --running and --paused are mutually exclusive");
        return -2;
    }
    return r ? 1 : p ? -1 : 0;
}

static enum cmd_result save_to(struct cmd_ctx *ctx, struct cmd_args *args, const char *path,
                               const char *event)
{
    int run = run_flag(args);
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    if (run == -2 || !st || vm_lookup(st, args->argv[0], &row) < 0)
        return CMD_ERROR;
    /* Its record goes when it stops, and restore starts a defined domain. */
    if (!row.persistent) {
        if (path)
            err_set("Requested operation is not valid: cannot save transient domain '%s': tvm "
                    "restores only a defined domain (make it persistent with tvm define)",
                    row.name);
        else
            err_set("Requested operation is not valid: cannot do managed save for transient "
                    "domain");
        return CMD_ERROR;
    }
    char managed[4096];
    if (!path) {
        if (vm_managed_save_path(ctx->db_path, row.uuid, managed, sizeof managed) < 0)
            return CMD_ERROR;
        path = managed;
    }
    struct vm_save_opts o = {
        .run = run, .bypass_cache = cmd_has(args, "bypass-cache"), .event = event};
    if (vm_save(st, row.uuid, path, &o) < 0) {
        err_prefix("Failed to save domain '%s'%s%s: ", row.name, event ? "" : " to ",
                   event ? "" : path);
        return CMD_ERROR;
    }
    if (event)
        fprintf(ctx->out, "\nDomain '%s' state saved by libvirt\n\n", row.name);
    else
        fprintf(ctx->out, "\nDomain '%s' saved to %s\n\n", row.name, path);
    return CMD_OK;
}

static enum cmd_result save_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return save_to(ctx, args, args->argv[1], NULL);
}

static enum cmd_result managedsave_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return save_to(ctx, args, NULL, "managed-saved");
}

static enum cmd_result restore_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    int run = run_flag(args);
    struct store *st = cmd_store(ctx);
    if (run == -2 || !st)
        return CMD_ERROR;
    struct vm_start_opts o = {.db_path = ctx->db_path, .restore_run = run};
    if (vm_restore(st, args->argv[0], &o) < 0) {
        err_prefix("Failed to restore domain from %s: ", args->argv[0]);
        return CMD_ERROR;
    }
    fprintf(ctx->out, "Domain restored from %s\n\n", args->argv[0]);
    return CMD_OK;
}

static enum cmd_result dumpxml_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    char *xml;
    if (vsf_file_domain_xml(args->argv[0], &xml) < 0)
        return CMD_ERROR;
    fputs(xml, ctx->out);
    if (*xml && xml[strlen(xml) - 1] != '\n')
        fputc('\n', ctx->out);
    free(xml);
    return CMD_OK;
}

static enum cmd_result managedsave_remove_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    char path[4096];
    if (!st || vm_lookup(st, args->argv[0], &row) < 0 ||
        vm_managed_save_path(ctx->db_path, row.uuid, path, sizeof path) < 0)
        return CMD_ERROR;
    if (access(path, F_OK) < 0) {
        fprintf(ctx->out, "Domain '%s' has no managed save image; removal skipped\n", row.name);
        return CMD_OK;
    }
    if (unlink(path) < 0) {
        err_errno("Failed to remove managed save image for domain '%s'", row.name);
        return CMD_ERROR;
    }
    if (store_event_add(st, "domain", row.name, "updated", "managed save removed") < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "Removed managedsave image for domain '%s'\n", row.name);
    return CMD_OK;
}

const struct cmd_entry cmd_save_entry = {
    .name = "save",
    .usage = "save DOMAIN FILE [--running|--paused] [--bypass-cache]",
    .summary = "save a running guest's whole state to FILE and stop it",
    .opts = "running,paused,bypass-cache",
    .min_args = 2,
    .max_args = 2,
    .exec = save_exec,
};

const struct cmd_entry cmd_restore_entry = {
    .name = "restore",
    .usage = "restore FILE [--running|--paused] [--bypass-cache]",
    .summary = "start a guest again from a state saved with save",
    .opts = "running,paused,bypass-cache",
    .min_args = 1,
    .max_args = 1,
    .exec = restore_exec,
};

const struct cmd_entry cmd_save_image_dumpxml_entry = {
    .name = "save-image-dumpxml",
    .usage = "save-image-dumpxml FILE",
    .summary = "print the domain XML a saved state carries",
    .min_args = 1,
    .max_args = 1,
    .exec = dumpxml_exec,
};

const struct cmd_entry cmd_managedsave_entry = {
    .name = "managedsave",
    .usage = "managedsave DOMAIN [--running|--paused] [--bypass-cache]",
    .summary = "save a running guest's state beside the inventory; start resumes it",
    .opts = "running,paused,bypass-cache",
    .min_args = 1,
    .max_args = 1,
    .exec = managedsave_exec,
};

const struct cmd_entry cmd_managedsave_remove_entry = {
    .name = "managedsave-remove",
    .usage = "managedsave-remove DOMAIN",
    .summary = "remove a guest's managed save (its next start boots)",
    .min_args = 1,
    .max_args = 1,
    .exec = managedsave_remove_exec,
    .flags = CMD_F_WRITES,
};
