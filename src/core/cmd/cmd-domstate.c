/* domstate: a guest's live state, as virsh prints it. */
#include "core/cmd/cmd.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <stdio.h>

static enum cmd_result domstate_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    enum domain_state s;
    int reason;
    if (!st || vm_state(st, args->argv[0], &s, &reason) < 0)
        return CMD_ERROR;
    if (cmd_has(args, "reason"))
        fprintf(ctx->out, "%s (%s)\n\n", domain_state_name(s), vm_state_reason_name(s, reason));
    else
        fprintf(ctx->out, "%s\n\n", domain_state_name(s));
    return CMD_OK;
}

const struct cmd_entry cmd_domstate_entry = {
    .name = "domstate",
    .usage = "domstate DOMAIN [--reason]",
    .summary = "show a guest's state (--reason: and why)",
    .opts = "reason",
    .min_args = 1,
    .max_args = 1,
    .exec = domstate_exec,
};
