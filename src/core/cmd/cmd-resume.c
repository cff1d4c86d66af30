/* resume: resume a paused guest */
#include "core/cmd/cmd-util.h"
#include "core/virt/vm-priv.h"

static enum cmd_result resume_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return vm_cmd_run(ctx, args, vm_resume, "resume", "Domain '%s' resumed");
}

const struct cmd_entry cmd_resume_entry = {
    .name = "resume",
    .usage = "resume DOMAIN",
    .summary = "resume a paused guest",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = resume_exec,
};
