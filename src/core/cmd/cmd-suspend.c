/* suspend: pause a guest's vCPUs */
#include "core/cmd/cmd-util.h"
#include "core/virt/vm-priv.h"

static enum cmd_result suspend_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return vm_cmd_run(ctx, args, vm_suspend, "suspend", "Domain '%s' suspended");
}

const struct cmd_entry cmd_suspend_entry = {
    .name = "suspend",
    .usage = "suspend DOMAIN",
    .summary = "pause a guest's vCPUs",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = suspend_exec,
};
