/* create FILE: a transient domain, as virsh's create: defined from the XML
 * and started in one step, never in the persistent inventory; it is gone
 * once it stops (vm_create in vm.h says who removes it). `define` of it
 * while it runs makes it persistent, `undefine` of a running persistent
 * domain makes it transient.
 *
 * --autodestroy is refused: libvirt destroys such a guest when the
 * client's connection closes, and tvm has no connection that outlives
 * one command; a guest tied to the --console session would die with an
 * ssh hiccup, which is not what a script asking for it expects.
 */
#include "core/cmd/cmd-kind.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/model/domain.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static enum cmd_result create_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *path = args->argv[0];
    bool console = cmd_has(args, "console");
    if (cmd_has(args, "autodestroy")) {
        err_set("create --autodestroy is not supported: tvm has no client connection for the "
                "guest to end with (stop it with tvm destroy)");
        return CMD_ERROR;
    }
    if (console && ctx->in_tui) {
        err_set("create --console takes over the terminal; use the console pane in the TUI");
        return CMD_ERROR;
    }
    struct store *st = cmd_store(ctx);
    char *xml;
    size_t len;
    void *obj = NULL;
    if (!st || cmd_read_input(ctx, path, &xml, &len) < 0)
        return CMD_ERROR;
    /* The checks define makes (a guest tvm-vmm can run), --validate or not. */
    int rc = cmd_kind_domain.parse(xml, len, cmd_input_origin(path), &obj);
    free(xml);
    struct domain *d = obj;
    struct vm_start_opts o = {.paused = cmd_has(args, "paused"), .db_path = ctx->db_path};
    if (rc == 0)
        rc = vm_create(st, d, &o);
    if (rc < 0) {
        err_prefix("Failed to create domain from %s: ", path);
        domain_free(d);
        return CMD_ERROR;
    }
    fprintf(ctx->out, "Domain '%s' created from %s\n\n", d->name, path);
    char uuid[UUID_STR_LEN];
    snprintf(uuid, sizeof uuid, "%s", d->uuid);
    domain_free(d);
    if (!console)
        return CMD_OK;
    fflush(ctx->out);
    return vm_console(st, uuid, STDIN_FILENO, STDOUT_FILENO, 0) < 0 ? CMD_ERROR : CMD_OK;
}

const struct cmd_entry cmd_create_entry = {
    .name = "create",
    .usage = "create FILE [--console] [--paused] [--validate]",
    .summary = "create and start a transient domain from an XML file (gone once it stops)",
    .opts = "console,paused,autodestroy,validate",
    .min_args = 1,
    .max_args = 1,
    .exec = create_exec,
};
