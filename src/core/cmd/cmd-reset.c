/* reset: reset a guest as the reset button does */
#include "core/cmd/cmd-util.h"
#include "core/virt/vm-priv.h"

static enum cmd_result reset_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return vm_cmd_run(ctx, args, vm_reset, "reset", "Domain '%s' was reset");
}

const struct cmd_entry cmd_reset_entry = {
    .name = "reset",
    .usage = "reset DOMAIN",
    .summary = "reset a guest as the reset button does",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = reset_exec,
};
