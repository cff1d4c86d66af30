/* The command table and the one runner behind verbs, batch lines and the
 * TUI. The table is generated from cmd-list.h, so adding a command is
 * adding its file and one CMD() line; nothing here knows any command.
 */
#include "core/cmd/cmd.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CMD(sym) extern const struct cmd_entry sym;
#include "core/cmd/cmd-list.h"
#undef CMD

#define CMD(sym) &sym,
const struct cmd_entry *const cmd_table[] = {
#include "core/cmd/cmd-list.h"
    NULL,
};
#undef CMD

static const struct cmd_entry *find_exact(const char *name)
{
    for (size_t i = 0; cmd_table[i]; i++) {
        const struct cmd_entry *e = cmd_table[i];
        if (strcmp(e->name, name) == 0 || (e->alias && strcmp(e->alias, name) == 0))
            return e;
    }
    return NULL;
}

/* The commands NAME is a prefix of, as "a, b, c" in BUF; returns how many. */
static int prefix_matches(const char *name, const struct cmd_entry **found, char *buf, size_t len)
{
    size_t n = strlen(name), used = 0;
    int matches = 0;
    buf[0] = '\0';
    for (size_t i = 0; n > 0 && cmd_table[i]; i++) {
        const struct cmd_entry *e = cmd_table[i];
        if (strncmp(e->name, name, n) != 0)
            continue;
        *found = e;
        matches++;
        int w = snprintf(buf + used, len - used, "%s%s", matches > 1 ? ", " : "", e->name);
        if (w > 0 && used + (size_t)w < len)
            used += (size_t)w;
    }
    return matches;
}

/* Exact names only: as in virsh, an abbreviation never runs a command (a
 * destructive verb must not run from "undef"); the error suggests what the
 * abbreviation could have meant. */
const struct cmd_entry *cmd_find(const char *name)
{
    const struct cmd_entry *e = find_exact(name), *found = NULL;
    if (e)
        return e;
    char candidates[ERR_MSG_MAX / 2];
    int matches = prefix_matches(name, &found, candidates, sizeof(candidates));
    if (matches > 0)
        err_set("unknown command: '%s' (did you mean %s?)", name, candidates);
    else
        err_set("unknown command: '%s'", name);
    return NULL;
}

/* For the TUI's ':' prompt, where typing is completion: a unique prefix
 * names that command. */
const struct cmd_entry *cmd_find_prefix(const char *name)
{
    const struct cmd_entry *e = find_exact(name), *found = NULL;
    if (e)
        return e;
    char candidates[ERR_MSG_MAX / 2];
    int matches = prefix_matches(name, &found, candidates, sizeof(candidates));
    if (matches == 1)
        return found;
    if (matches > 1)
        err_set("ambiguous command '%s': %s", name, candidates);
    else
        err_set("unknown command '%s'", name);
    return NULL;
}

struct store *cmd_store(struct cmd_ctx *ctx)
{
    if (!ctx->store && store_open(ctx->db_path, &ctx->store) < 0) {
        ctx->store = NULL;
        return NULL;
    }
    return ctx->store;
}

void cmd_print_help(const struct cmd_entry *e, FILE *f)
{
    fprintf(f, "usage: %s\n\n  %s\n", e->usage, e->summary);
    if (e->alias)
        fprintf(f, "\n  alias: %s\n", e->alias);
    /* As virsh's OPTIONS: each positional argument may be named too. */
    char names[CMD_MAX_POSITIONAL][CMD_NAME_MAX];
    int n = cmd_positional_names(e, names, CMD_MAX_POSITIONAL);
    bool header = false;
    for (int i = 0; i < n; i++) {
        if (!names[i][0])
            continue;
        if (!header)
            fputs("\n  arguments (by position or by name):\n", f);
        header = true;
        fprintf(f, "    [--%s] <value>\n", names[i]);
    }
    fputc('\n', f);
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

/* Runs exec inside one store transaction: the whole command lands or none of it. */
static enum cmd_result run_in_transaction(const struct cmd_entry *e, struct cmd_ctx *ctx,
                                          struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    if (!st || store_begin(st) < 0)
        return CMD_ERROR;
    enum cmd_result r = e->exec(ctx, args);
    if (r == CMD_OK) {
        if (store_commit(st) < 0) {
            store_rollback(st);
            return CMD_ERROR;
        }
    } else {
        store_rollback(st);
    }
    return r;
}

enum cmd_result cmd_run_argv(struct cmd_ctx *ctx, int argc, char **argv)
{
    if (argc < 1) {
        err_set("no command given");
        return CMD_USAGE;
    }
    err_clear();
    const struct cmd_entry *e = cmd_find(argv[0]);
    if (!e)
        return CMD_USAGE;
    return cmd_run_entry(ctx, e, argc, argv);
}

enum cmd_result cmd_run_entry(struct cmd_ctx *ctx, const struct cmd_entry *e, int argc, char **argv)
{
    err_clear();
    if (wants_help(argc, argv)) {
        cmd_print_help(e, ctx->out);
        return CMD_OK;
    }

    struct cmd_args args;
    enum cmd_result r = cmd_parse_args(e, argc, argv, &args);
    if (r != CMD_OK)
        return r;
    if (e->flags & CMD_F_WRITES)
        r = run_in_transaction(e, ctx, &args);
    else
        r = e->exec(ctx, &args);
    cmd_free_args(&args);
    if (r != CMD_OK && strcmp(err_msg(), "unknown error") == 0)
        err_set("%s failed", e->name);
    fflush(ctx->out);
    return r;
}

enum cmd_result cmd_run_line(struct cmd_ctx *ctx, const char *line)
{
    char **argv;
    int argc = cmd_split_words(line, &argv);
    if (argc < 0)
        return CMD_USAGE;
    enum cmd_result r = CMD_OK;
    if (argc > 0)
        r = cmd_run_argv(ctx, argc, argv);
    cmd_free_words(argc, argv);
    return r;
}
