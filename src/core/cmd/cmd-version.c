/* version: what this tvm is built from. */
#include "core/cmd/cmd.h"

#include <libxml/xmlversion.h>

static enum cmd_result version_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    fprintf(ctx->out, "tvm %s\n", TVM_VERSION);
    fprintf(ctx->out, "Compiled against library: libxml2 %s\n", LIBXML_DOTTED_VERSION);
    fprintf(ctx->out, "Running hypervisor: tvm-vmm %s (KVM)\n", TVM_VERSION);
    /* tvm has no daemon: each guest's tvm-vmm is started by tvm itself */
    if (cmd_has(args, "daemon"))
        fprintf(ctx->out, "Running against daemon: none (tvm has no daemon)\n");
    fputc('\n', ctx->out);
    return CMD_OK;
}

const struct cmd_entry cmd_version_entry = {
    .name = "version",
    .usage = "version [--daemon]",
    .summary = "show the version of tvm",
    .opts = "daemon",
    .min_args = 0,
    .max_args = 0,
    .exec = version_exec,
};
