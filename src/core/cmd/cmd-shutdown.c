/* shutdown: ask a guest to power off (ACPI power button); returns at once */
#include "core/cmd/cmd-util.h"
#include "core/virt/vm-priv.h"

static enum cmd_result shutdown_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return vm_cmd_run(ctx, args, vm_shutdown, "shutdown", "Domain '%s' is being shutdown");
}

const struct cmd_entry cmd_shutdown_entry = {
    .name = "shutdown",
    .usage = "shutdown DOMAIN",
    .summary = "ask a guest to power off (ACPI power button); returns at once",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = shutdown_exec,
};
