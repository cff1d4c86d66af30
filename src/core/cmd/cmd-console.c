/* console: the guest's serial console (or, with --devname consoleN, its Nth
 * virtio console) on this terminal; Ctrl-] detaches. --graphics: its
 * screen instead (cmd-vncviewer.c). */
#include "core/cmd/cmd.h"
#include "core/base/err.h"
#include "core/cmd/cmd-util.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <stdio.h>
#include <unistd.h>

static enum cmd_result console_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    if (ctx->in_tui) {
        err_set("console takes over the terminal; use the console pane in the TUI");
        return CMD_ERROR;
    }
    if (cmd_has(args, "graphics"))
        return cmd_graphics_view(ctx, args->argv[0], NULL);
    struct store *st = cmd_store(ctx);
    if (!st)
        return CMD_ERROR;
    unsigned flags = cmd_has(args, "force") ? VM_CONSOLE_FORCE : 0;
    fflush(ctx->out);
    const char *devname = cmd_get(args, "devname");
    if (vm_console_dev(st, args->argv[0], devname, STDIN_FILENO, STDOUT_FILENO, flags) < 0)
        return CMD_ERROR;
    return CMD_OK;
}

const struct cmd_entry cmd_console_entry = {
    .name = "console",
    .usage = "console DOMAIN [--devname NAME] [--force] [--graphics]",
    .summary = "attach to a running guest's console (Ctrl-] detaches); --devname console1 is the "
               "first virtio console; --graphics the guest's screen, as vncviewer",
    .opts = "devname=,force,safe,graphics",
    .min_args = 1,
    .max_args = 1,
    .exec = console_exec,
};
