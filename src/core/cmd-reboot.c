/* reboot: reboot a guest: for now a hard reset, like 'reset' */
#include "core/cmd.h"
#include "core/vm-priv.h"

static enum cmd_result reboot_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return vm_cmd_run(ctx, args, vm_reboot, "reboot", "Domain '%s' is being rebooted");
}

const struct cmd_entry cmd_reboot_entry = {
    .name = "reboot",
    .usage = "reboot DOMAIN",
    .summary = "reboot a guest: for now a hard reset, like 'reset'",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = reboot_exec,
};
