/* console: the guest's serial console on this terminal; Ctrl-] detaches. */
#include "core/cmd.h"
#include "core/err.h"
#include "core/vm-priv.h"

#include <stdio.h>
#include <unistd.h>

static enum cmd_result console_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    if (ctx->in_tui) {
        err_set("console takes over the terminal; use the console pane in the TUI");
        return CMD_ERROR;
    }
    struct store *st = cmd_store(ctx);
    if (!st)
        return CMD_ERROR;
    unsigned flags = cmd_has(args, "force") ? VM_CONSOLE_FORCE : 0;
    fflush(ctx->out);
    if (vm_console(st, args->argv[0], STDIN_FILENO, STDOUT_FILENO, flags) < 0)
        return CMD_ERROR;
    return CMD_OK;
}

const struct cmd_entry cmd_console_entry = {
    .name = "console",
    .usage = "console DOMAIN [--force]",
    .summary = "attach to a running guest's serial console (Ctrl-] detaches)",
    .opts = "force,safe",
    .min_args = 1,
    .max_args = 1,
    .exec = console_exec,
};
