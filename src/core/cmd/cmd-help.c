/* help [COMMAND | GROUP]: the table itself is the documentation. Commands
 * are shown in groups as virsh does, each group named by a keyword that
 * `help KEYWORD` accepts. */
#include "core/cmd/cmd.h"
#include "core/base/err.h"

#include <string.h>

struct help_group {
    const char *keyword;
    const char *title;
};

static const struct help_group help_groups[] = {
    {"domain", "Domain Management"},          {"network", "Networking"},
    {"storage", "Storage Pools and Volumes"}, {"snapshot", "Snapshots"},
    {"host", "Host and Hypervisor"},          {"other", "Other"},
};
#define HELP_NGROUPS (sizeof(help_groups) / sizeof(help_groups[0]))

/* The group of a command, from its virsh-style name. */
static size_t help_group_of(const struct cmd_entry *e)
{
    static const char *const other[] = {"help", "version", "events", "quit", "exit"};
    static const char *const host[] = {
        "nodeinfo", "capabilities", "domcapabilities", "freecell", "nodememstats", "nodecpustats",
        "hostname", "uri",          "maxvcpus",        "sysinfo",  "host-validate"};
    if (strncmp(e->name, "net-", 4) == 0)
        return 1;
    if (strncmp(e->name, "pool-", 5) == 0 || strncmp(e->name, "vol-", 4) == 0)
        return 2;
    if (strncmp(e->name, "snapshot-", 9) == 0)
        return 3;
    for (size_t i = 0; i < sizeof(host) / sizeof(host[0]); i++)
        if (strcmp(e->name, host[i]) == 0)
            return 4;
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++)
        if (strcmp(e->name, other[i]) == 0)
            return 5;
    return 0;
}

static void help_print_group(FILE *out, size_t g, int width)
{
    fprintf(out, " %s (help keyword '%s'):\n", help_groups[g].title, help_groups[g].keyword);
    for (size_t i = 0; cmd_table[i]; i++)
        if (help_group_of(cmd_table[i]) == g)
            fprintf(out, "    %-*s  %s\n", width, cmd_table[i]->name, cmd_table[i]->summary);
    fputc('\n', out);
}

static enum cmd_result help_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    int width = 0;
    for (size_t i = 0; cmd_table[i]; i++)
        if ((int)strlen(cmd_table[i]->name) > width)
            width = (int)strlen(cmd_table[i]->name);

    if (args->argc == 1) {
        for (size_t g = 0; g < HELP_NGROUPS; g++)
            if (strcmp(args->argv[0], help_groups[g].keyword) == 0) {
                help_print_group(ctx->out, g, width);
                return CMD_OK;
            }
        const struct cmd_entry *e = cmd_find(args->argv[0]);
        if (!e)
            return CMD_USAGE;
        cmd_print_help(e, ctx->out);
        return CMD_OK;
    }
    fprintf(ctx->out, "Commands ('tvm help COMMAND' or 'tvm COMMAND --help' for details):\n\n");
    for (size_t g = 0; g < HELP_NGROUPS; g++)
        help_print_group(ctx->out, g, width);
    return CMD_OK;
}

const struct cmd_entry cmd_help_entry = {
    .name = "help",
    .usage = "help [COMMAND | GROUP]",
    .summary = "list the commands, or show how to use one",
    .opts = "",
    .min_args = 0,
    .max_args = 1,
    .exec = help_exec,
};
