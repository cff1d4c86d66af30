/* inventory_snapshots: a domain's snapshot tree for the TUI's snapshot
 * dialog, read from the store in one go. */
#include "core/cmd/inventory-snapshot.h"
#include "core/base/err.h"
#include "core/model/snapshot.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static void description_of(struct store *st, const char *uuid, const char *name, char *out,
                           size_t len)
{
    char *xml;
    struct snapshot *s = NULL;
    out[0] = '\0';
    if (store_snapshot_get_xml(st, uuid, name, &xml) < 0)
        return;
    if (snapshot_parse(xml, strlen(xml), name, &s) == 0 && s->description)
        snprintf(out, len, "%.*s", (int)strcspn(s->description, "\n"), s->description);
    snapshot_free(s);
    free(xml);
}

/* Appends rows[i] and, depth first, its descendants (rows are by creation time). */
static void walk(const struct store_snapshot_row *rows, size_t n, size_t i, unsigned depth,
                 bool *done, struct inv_snapshot *out, size_t *k)
{
    if (done[i] || depth > 1000)
        return;
    done[i] = true;
    struct inv_snapshot *o = &out[(*k)++];
    snprintf(o->name, sizeof(o->name), "%s", rows[i].name);
    o->creation_time = rows[i].creation_time;
    o->current = rows[i].current;
    o->depth = depth;
    for (size_t c = 0; c < n; c++)
        if (!strcmp(rows[c].parent, rows[i].name))
            walk(rows, n, c, depth + 1, done, out, k);
}

int inventory_snapshots(struct cmd_ctx *ctx, const char *dom, struct inv_snapshot **rows, size_t *n)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    struct store_snapshot_row *srows;
    size_t ns;
    *rows = NULL;
    *n = 0;
    if (!st || store_domain_get_row(st, dom, &row) < 0 ||
        store_snapshot_list(st, row.uuid, &srows, &ns) < 0)
        return -1;
    struct inv_snapshot *out = calloc(ns ? ns : 1, sizeof(*out));
    bool *done = calloc(ns ? ns : 1, sizeof(bool));
    if (!out || !done) {
        free(out);
        free(done);
        free(srows);
        return err_set("out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < ns; i++)
        if (!srows[i].parent[0])
            walk(srows, ns, i, 0, done, out, &k);
    for (size_t i = 0; i < ns; i++) /* a parent that is gone: shown as a root */
        walk(srows, ns, i, 0, done, out, &k);
    for (size_t i = 0; i < k; i++)
        description_of(st, row.uuid, out[i].name, out[i].description, sizeof(out[i].description));
    free(done);
    free(srows);
    *rows = out;
    *n = k;
    return 0;
}
