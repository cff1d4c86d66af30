/* snapshot-list DOMAIN: a domain's snapshots as a table, names, or virsh's tree. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct snap_tree {
    const struct store_snapshot_row *rows;
    size_t n;
    FILE *out;
    char indent[4096];
};

static ssize_t last_child(const struct snap_tree *t, const char *name)
{
    ssize_t last = -1;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->rows[i].parent, name) == 0)
            last = (ssize_t)i;
    return last;
}

/* Draws one node and its children the way virsh's vshTreePrint does:
 * "+- " before a child, "|" continuing a branch, a blank line after a
 * last leaf. */
static void snap_tree_node(struct snap_tree *t, size_t i, size_t siblings_last, bool root)
{
    size_t len = strlen(t->indent);
    fprintf(t->out, "%s%s%s\n", t->indent, root ? "" : "+- ", t->rows[i].name);
    if (!root && len + 2 < sizeof(t->indent))
        strcat(t->indent, i == siblings_last ? "  " : "| ");
    ssize_t last = last_child(t, t->rows[i].name);
    if (last >= 0)
        fprintf(t->out, "%s  |\n", t->indent);
    size_t inner = strlen(t->indent);
    if (inner + 2 < sizeof(t->indent))
        strcat(t->indent, "  ");
    for (size_t c = 0; c < t->n; c++)
        if (strcmp(t->rows[c].parent, t->rows[i].name) == 0)
            snap_tree_node(t, c, (size_t)last, false);
    t->indent[inner] = '\0';
    if (last < 0 && i == siblings_last)
        fprintf(t->out, "%s\n", t->indent);
    t->indent[len] = '\0';
}

static void snap_print_tree(FILE *out, const struct store_snapshot_row *rows, size_t n)
{
    struct snap_tree t = {.rows = rows, .n = n, .out = out};
    for (size_t i = 0; i < n; i++)
        if (rows[i].parent[0] == '\0')
            snap_tree_node(&t, i, i, true);
}

static void snap_print_table(FILE *out, const struct store_snapshot_row *rows, size_t n,
                             bool parent)
{
    struct cmd_tbl *t = parent ? cmd_tbl_new(4, "Name", "Creation Time", "State", "Parent")
                               : cmd_tbl_new(3, "Name", "Creation Time", "State");
    for (size_t i = 0; i < n; i++) {
        char when[64] = "";
        time_t secs = (time_t)rows[i].creation_time;
        struct tm tm;
        if (localtime_r(&secs, &tm))
            strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", &tm);
        cmd_tbl_add(t, rows[i].name, when, rows[i].state, rows[i].parent);
    }
    cmd_tbl_print(t, out);
    cmd_tbl_free(t);
}

static enum cmd_result snapshot_list_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row dom;
    struct store_snapshot_row *rows;
    size_t n;
    if (!st || cmd_domain_load(ctx, args->argv[0], &dom, NULL) < 0 ||
        store_snapshot_list(st, dom.uuid, &rows, &n) < 0)
        return CMD_ERROR;
    if (cmd_has(args, "tree") && cmd_has(args, "parent")) {
        free(rows);
        err_set("snapshot-list: --tree and --parent cannot be combined; usage: %s",
                "snapshot-list DOMAIN [--tree | --parent] [--name]");
        return CMD_USAGE;
    }
    if (cmd_has(args, "tree")) {
        snap_print_tree(ctx->out, rows, n);
        fputc('\n', ctx->out);
    } else if (cmd_has(args, "name")) {
        for (size_t i = 0; i < n; i++)
            fprintf(ctx->out, "%s\n", rows[i].name);
        fputc('\n', ctx->out);
    } else {
        snap_print_table(ctx->out, rows, n, cmd_has(args, "parent"));
    }
    free(rows);
    return CMD_OK;
}

const struct cmd_entry cmd_snapshot_list_entry = {
    .name = "snapshot-list",
    .usage = "snapshot-list DOMAIN [--tree | --parent] [--name]",
    .summary = "list a domain's snapshots",
    .opts = "tree,name,parent",
    .min_args = 1,
    .max_args = 1,
    .exec = snapshot_list_exec,
};
