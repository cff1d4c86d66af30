/* snapshot-list DOMAIN: a domain's snapshots as a table, names, or virsh's tree. */
#include "core/cmd/cmd-snapshot.h"
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

/* Whether rows[i] descends from rows[anc] (DEEP) or is its child. */
static bool under(const struct store_snapshot_row *rows, size_t n, size_t i, size_t anc, bool deep)
{
    for (int hops = 0; rows[i].parent[0] && hops < 4096; hops++) {
        if (!strcmp(rows[i].parent, rows[anc].name))
            return true;
        if (!deep)
            return false;
        size_t p = n;
        for (size_t k = 0; k < n; k++)
            if (!strcmp(rows[k].name, rows[i].parent))
                p = k;
        if (p == n)
            return false;
        i = p;
    }
    return false;
}

/* Keeps the rows the filters select (virsh's --roots, --leaves, and --from
 * or --current: the children of that snapshot, with --descendants all that
 * is below it); returns how many. */
static size_t snap_filter(struct store_snapshot_row *rows, size_t n, const struct cmd_args *args,
                          ssize_t from)
{
    bool roots = cmd_has(args, "roots"), leaves = cmd_has(args, "leaves");
    bool no_leaves = cmd_has(args, "no-leaves"), deep = cmd_has(args, "descendants");
    bool *keep = calloc(n ? n : 1, sizeof(bool));
    if (!keep)
        return 0;
    for (size_t i = 0; i < n; i++) {
        bool leaf = snap_children(rows, n, i) == 0;
        keep[i] = (!roots || !rows[i].parent[0]) && (!leaves || leaf) && (!no_leaves || !leaf) &&
                  (from < 0 || under(rows, n, i, (size_t)from, deep));
    }
    size_t out = 0;
    for (size_t i = 0; i < n; i++)
        if (keep[i])
            rows[out++] = rows[i];
    free(keep);
    return out;
}

static enum cmd_result snapshot_list_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store_domain_row dom;
    struct store_snapshot_row *rows;
    size_t n;
    ssize_t from = -1;
    const char *from_name = cmd_get(args, "from");
    bool tree = cmd_has(args, "tree");
    const char *clash = tree && cmd_has(args, "parent")       ? "--tree and --parent"
                        : tree && cmd_has(args, "leaves")     ? "--leaves and --tree"
                        : tree && cmd_has(args, "roots")      ? "--roots and --tree"
                        : from_name && cmd_has(args, "roots") ? "--roots and --from"
                                                              : NULL;
    if (clash) {
        err_set("snapshot-list: %s are mutually exclusive", clash);
        return CMD_USAGE;
    }
    if (snap_rows(ctx, args->argv[0], &dom, &rows, &n, from_name, &from) < 0)
        return CMD_ERROR;
    if (cmd_has(args, "current") && !from_name) {
        from = -1;
        for (size_t i = 0; i < n; i++)
            if (rows[i].current)
                from = (ssize_t)i;
        if (from < 0) {
            free(rows);
            err_set("Domain snapshot not found: the domain does not have a current snapshot");
            return CMD_ERROR;
        }
    }
    struct store_snapshot_row self = from >= 0 ? rows[from] : (struct store_snapshot_row){0};
    n = snap_filter(rows, n, args, from);
    if (tree) {
        if (from >= 0) {
            /* the tree below --from, with it as the root */
            self.parent[0] = '\0';
            struct store_snapshot_row *all = realloc(rows, (n + 1) * sizeof(*rows));
            if (all) {
                rows = all;
                memmove(rows + 1, rows, n * sizeof(*rows));
                rows[0] = self;
                n++;
            }
        }
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
    .usage = "snapshot-list DOMAIN [--tree | --parent] [--name] [--roots | --from SNAP] "
             "[--current] [--descendants] [--leaves] [--no-leaves]",
    .summary = "list a domain's snapshots",
    .opts = "tree,name,parent,roots,leaves,no-leaves,current,descendants,from=,metadata,"
            "no-metadata,inactive,active,disk-only,internal,external,topological",
    .min_args = 1,
    .max_args = 1,
    .exec = snapshot_list_exec,
};
