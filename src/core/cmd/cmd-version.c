/* version: what this tvm is built from. */
#include "core/cmd/cmd.h"

#include <libxml/xmlversion.h>

static enum cmd_result version_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    (void)args;
    fprintf(ctx->out, "tvm %s\n", TVM_VERSION);
    fprintf(ctx->out, "Compiled against library: libxml2 %s\n", LIBXML_DOTTED_VERSION);
    fprintf(ctx->out, "Running hypervisor: tvm-vmm %s (KVM)\n\n", TVM_VERSION);
    return CMD_OK;
}

const struct cmd_entry cmd_version_entry = {
    .name = "version",
    .usage = "version",
    .summary = "show the version of tvm",
    .opts = "",
    .min_args = 0,
    .max_args = 0,
    .exec = version_exec,
};
