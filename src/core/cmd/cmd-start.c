/* start: boot a defined guest on its own tvm-vmm, or resume it from its
 * managed save (managedsave) when it has one, as virsh does; --force-boot
 * discards that save and boots. */
#include "core/cmd/cmd.h"
#include "core/base/err.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

static enum cmd_result start_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool console = cmd_has(args, "console");
    if (console && ctx->in_tui) {
        err_set("start --console takes over the terminal; use the console pane in the TUI");
        return CMD_ERROR;
    }
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    if (!st || vm_lookup(st, args->argv[0], &row) < 0)
        return CMD_ERROR;
    struct vm_start_opts o = {.paused = cmd_has(args, "paused"), .db_path = ctx->db_path};
    /* A managed save resumes (and is then used up), unless --force-boot. */
    char saved[PATH_MAX];
    bool resume = vm_has_managed_save(ctx->db_path, row.uuid) &&
                  vm_managed_save_path(ctx->db_path, row.uuid, saved, sizeof saved) == 0;
    if (resume && cmd_has(args, "force-boot")) {
        unlink(saved);
        resume = false;
    }
    if (resume) {
        o.restore = saved;
        o.restore_run = o.paused ? -1 : 0;
    }
    if (vm_start(st, row.uuid, &o) < 0) {
        err_prefix("Failed to start domain '%s': ", row.name);
        return CMD_ERROR;
    }
    if (resume)
        unlink(saved);
    fprintf(ctx->out, "Domain '%s' started\n", row.name);
    if (!console)
        return CMD_OK;
    fflush(ctx->out);
    return vm_console(st, row.uuid, STDIN_FILENO, STDOUT_FILENO, 0) < 0 ? CMD_ERROR : CMD_OK;
}

const struct cmd_entry cmd_start_entry = {
    .name = "start",
    .usage = "start DOMAIN [--console] [--paused] [--force-boot]",
    .summary = "start a defined guest (--console: attach to its serial console)",
    .opts = "console,paused,force-boot",
    .min_args = 1,
    .max_args = 1,
    .exec = start_exec,
};
