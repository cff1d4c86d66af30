/* destroy: stop a guest at once (QMP quit, then SIGKILL), like pulling the plug */
#include "core/cmd/cmd-util.h"
#include "core/virt/vm-priv.h"

static enum cmd_result destroy_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return vm_cmd_run(ctx, args, vm_destroy, "destroy", "Domain '%s' destroyed");
}

const struct cmd_entry cmd_destroy_entry = {
    .name = "destroy",
    .usage = "destroy DOMAIN",
    .summary = "stop a guest at once (QMP quit, then SIGKILL), like pulling the plug",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = destroy_exec,
};
