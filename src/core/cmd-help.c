/* help [COMMAND]: the table itself is the documentation. */
#include "core/cmd.h"
#include "core/err.h"

#include <string.h>

static enum cmd_result help_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    if (args->argc == 1) {
        const struct cmd_entry *e = cmd_find(args->argv[0]);
        if (!e)
            return CMD_USAGE;
        cmd_print_help(e, ctx->out);
        return CMD_OK;
    }
    int width = 0;
    for (size_t i = 0; cmd_table[i]; i++)
        if ((int)strlen(cmd_table[i]->name) > width)
            width = (int)strlen(cmd_table[i]->name);
    fprintf(ctx->out, "Commands ('tvm help COMMAND' or 'tvm COMMAND --help' for details):\n\n");
    for (size_t i = 0; cmd_table[i]; i++)
        fprintf(ctx->out, "    %-*s  %s\n", width, cmd_table[i]->name, cmd_table[i]->summary);
    fputc('\n', ctx->out);
    return CMD_OK;
}

const struct cmd_entry cmd_help_entry = {
    .name = "help",
    .usage = "help [COMMAND]",
    .summary = "list the commands, or show how to use one",
    .opts = "",
    .min_args = 0,
    .max_args = 1,
    .exec = help_exec,
};
