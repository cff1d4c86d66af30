/* The snapshot dialog of the selected domain (key T): its snapshot tree
 * with dates, descriptions and the current node marked; take a snapshot
 * (asks a name and a description), revert to one (optionally after taking
 * a snapshot of the current state, so nothing is lost) or delete one (each
 * asks first). The tree is a quick inventory read; the commands run on the
 * command worker like every other action, so the screen never waits. */
#include "tui/app.h"
#include "core/base/err.h"
#include "core/cmd/inventory-snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TREE_INDENT 2

/* "  * s2   2026-12-07 08:36  before the upgrade" */
static char *tree_line(const struct inv_snapshot *s)
{
    char when[32] = "";
    time_t t = (time_t)s->creation_time;
    struct tm tm;
    if (localtime_r(&t, &tm))
        strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
    char *line = NULL;
    unsigned indent = s->depth * TREE_INDENT;
    if (asprintf(&line, "%*s%s %-16s %s  %s", (int)indent, "", s->current ? "*" : " ", s->name,
                 when, s->description) < 0)
        return NULL;
    return line;
}

static int take(struct app *a, const char *dom)
{
    char name[200] = "", desc[256] = "";
    if (!widget_prompt(a, "Snapshot name (empty: its creation time): ", name, sizeof(name), NULL) ||
        !widget_prompt(a, "Description: ", desc, sizeof(desc), NULL)) {
        app_message(a, false, "snapshot of '%s' cancelled", dom);
        return R_REDRAW;
    }
    const char *argv[6] = {"snapshot-create-as", dom};
    int argc = 2;
    if (name[0]) {
        argv[argc++] = "--name";
        argv[argc++] = name;
    }
    if (desc[0]) {
        argv[argc++] = "--description";
        argv[argc++] = desc;
    }
    return actions_run(a, false, argc, argv);
}

static int act_on(struct app *a, const char *dom, const struct inv_snapshot *s)
{
    static const char *const choices[] = {"Revert to it", "Snapshot the current state, then revert",
                                          "Delete it", "Delete it and its descendants"};
    char name[256];
    snprintf(name, sizeof(name), "%s", s->name);
    int c = widget_menu(a, name, choices, 4);
    if (c < 0)
        return R_REDRAW;
    if (c == 1) {
        /* Nothing is lost: the current state becomes a snapshot (named
         * after its creation time) before the revert discards it. */
        if (!widget_confirm(a, "Snapshot the current state of '%s', then revert it to '%s'?", dom,
                            name)) {
            app_message(a, false, "revert of '%s' cancelled", dom);
            return R_REDRAW;
        }
        const char *words[] = {
            "snapshot-create-as", dom, NULL, "snapshot-revert", dom, name, "--force", NULL, NULL};
        return actions_run_steps(a, "snapshot, then revert", false, words);
    }
    if (c == 0) {
        /* The question is the TUI's --force: changes since the current
         * snapshot are lost, and the user says so here. */
        if (!widget_confirm(a, "Revert '%s' to snapshot '%s'? Changes since are lost.", dom,
                            name)) {
            app_message(a, false, "revert of '%s' cancelled", dom);
            return R_REDRAW;
        }
        const char *argv[] = {"snapshot-revert", dom, name, "--force"};
        return actions_run(a, false, 4, argv);
    }
    if (!widget_confirm(a, "Delete snapshot '%s'%s of '%s'?", name,
                        c == 3 ? " and its descendants" : "", dom)) {
        app_message(a, false, "delete of snapshot '%s' cancelled", name);
        return R_REDRAW;
    }
    const char *argv[] = {"snapshot-delete", dom, name, "--children"};
    return actions_run(a, false, c == 3 ? 4 : 3, argv);
}

int act_snapshots(struct app *a)
{
    struct dom_item *it = domlist_selected(&a->list);
    if (!it) {
        app_message(a, true, "no domain selected");
        return R_REDRAW;
    }
    char dom[256];
    snprintf(dom, sizeof(dom), "%s", it->name); /* the list may reload while we ask */
    struct inv_snapshot *rows;
    size_t n;
    if (inventory_snapshots(a->ctx, dom, &rows, &n) < 0) {
        app_message(a, true, "%s", err_msg());
        return R_REDRAW;
    }
    const char **items = calloc(n + 1, sizeof(*items));
    int r = R_REDRAW;
    if (!items) {
        app_message(a, true, "out of memory");
    } else {
        items[0] = "Take a snapshot...";
        size_t ok = 1;
        for (size_t i = 0; i < n && ok == i + 1; i++)
            if ((items[i + 1] = tree_line(&rows[i])))
                ok++;
        char title[300];
        snprintf(title, sizeof(title), "Snapshots of %s (* current)", dom);
        int c = ok == n + 1 ? widget_menu(a, title, items, (int)(n + 1)) : -1;
        if (ok != n + 1)
            app_message(a, true, "out of memory");
        else if (c == 0)
            r = take(a, dom);
        else if (c > 0)
            r = act_on(a, dom, &rows[c - 1]);
        for (size_t i = 1; i < ok; i++)
            free((char *)items[i]);
    }
    free(items);
    free(rows);
    return r;
}
