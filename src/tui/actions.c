/* What the keys do (keys.c binds them). Every action that changes
 * something runs a command from the shared table on the command worker
 * (actions_run), so keys, the ':' prompt and `tvm VERB` behave alike and
 * the screen never waits for one. */
#include "tui/app.h"
#include "core/base/err.h"

#include <curses.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static struct dom_item *need_selection(struct app *a)
{
    struct dom_item *it = domlist_selected(&a->list);
    if (!it)
        app_message(a, true, "no domain selected");
    return it;
}

static int run_on_selected(struct app *a, const char *verb)
{
    struct dom_item *it = need_selection(a);
    if (!it)
        return R_REDRAW;
    const char *argv[] = {verb, it->name};
    return actions_run(a, false, 2, argv);
}

static int confirm_then_run(struct app *a, const char *verb, const char *what)
{
    struct dom_item *it = need_selection(a);
    if (!it)
        return R_REDRAW;
    char name[256];
    snprintf(name, sizeof(name), "%s", it->name); /* the list may reload while we ask */
    if (!widget_confirm(a, "%s domain '%s'?", what, name)) {
        app_message(a, false, "%s of '%s' cancelled", verb, name);
        return R_REDRAW;
    }
    const char *argv[] = {verb, name};
    return actions_run(a, false, 2, argv);
}

/* ---- list navigation ---- */

static int move_sel(struct app *a, long delta)
{
    domlist_select(&a->list, (long)a->list.selected + delta);
    return R_REDRAW;
}

int act_up(struct app *a)
{
    return move_sel(a, -1);
}
int act_down(struct app *a)
{
    return move_sel(a, 1);
}
int act_pgup(struct app *a)
{
    return move_sel(a, -draw_list_rows(a));
}
int act_pgdn(struct app *a)
{
    return move_sel(a, draw_list_rows(a));
}
int act_home(struct app *a)
{
    domlist_select(&a->list, 0);
    return R_REDRAW;
}
int act_end(struct app *a)
{
    domlist_select(&a->list, (long)a->list.nview - 1);
    return R_REDRAW;
}

static int set_tab(struct app *a, int tab)
{
    a->det.tab = (enum details_tab)((tab + TAB_COUNT) % TAB_COUNT);
    a->det.scroll = 0;
    return R_REDRAW;
}
int act_next_tab(struct app *a)
{
    return set_tab(a, (int)a->det.tab + 1);
}
int act_prev_tab(struct app *a)
{
    return set_tab(a, (int)a->det.tab - 1);
}
int act_details_up(struct app *a)
{
    a->det.scroll -= a->lay.details.h > 4 ? a->lay.details.h - 2 : 1;
    return R_REDRAW;
}
int act_details_down(struct app *a)
{
    a->det.scroll += a->lay.details.h > 4 ? a->lay.details.h - 2 : 1;
    return R_REDRAW;
}

/* ---- sort and filter ---- */

static int set_sort(struct app *a, int key)
{
    a->list.sort = (enum sort_key)((key + SORT_COUNT) % SORT_COUNT);
    domlist_rebuild(&a->list);
    app_message(a, false, "sorted by %s%s", domlist_sort_name(a->list.sort),
                a->list.reverse ? " (reversed)" : "");
    return R_REDRAW;
}
int act_sort_next(struct app *a)
{
    return set_sort(a, (int)a->list.sort + 1);
}
int act_sort_prev(struct app *a)
{
    return set_sort(a, (int)a->list.sort - 1);
}
int act_sort_invert(struct app *a)
{
    a->list.reverse = !a->list.reverse;
    return set_sort(a, (int)a->list.sort);
}

static void filter_changed(struct app *a, const char *text)
{
    snprintf(a->list.filter, sizeof(a->list.filter), "%s", text);
    domlist_rebuild(&a->list);
}

int act_filter(struct app *a)
{
    char buf[sizeof(a->list.filter)];
    snprintf(buf, sizeof(buf), "%s", a->list.filter);
    if (!widget_prompt(a, "Filter: ", buf, sizeof(buf), filter_changed))
        filter_changed(a, "");
    if (a->list.filter[0])
        app_message(a, false, "filter '%s': %zu of %zu domain%s (Esc clears)", a->list.filter,
                    a->list.nview, a->list.n, a->list.n == 1 ? "" : "s");
    else
        a->message[0] = '\0';
    return R_REDRAW;
}

int act_clear_filter(struct app *a)
{
    filter_changed(a, "");
    a->message[0] = '\0';
    return R_REDRAW;
}

/* ---- lifecycle and inventory actions ---- */

int act_start(struct app *a)
{
    return run_on_selected(a, "start");
}
int act_shutdown(struct app *a)
{
    return run_on_selected(a, "shutdown");
}
int act_reboot(struct app *a)
{
    return run_on_selected(a, "reboot");
}
int act_destroy(struct app *a)
{
    return confirm_then_run(a, "destroy", "Destroy (power off at once)");
}
int act_reset(struct app *a)
{
    return confirm_then_run(a, "reset", "Reset (hard reboot)");
}
int act_undefine(struct app *a)
{
    return confirm_then_run(a, "undefine", "Undefine (remove the definition of)");
}

int act_pause(struct app *a)
{
    struct dom_item *it = need_selection(a);
    if (!it)
        return R_REDRAW;
    return run_on_selected(a, it->state == DOMAIN_PAUSED ? "resume" : "suspend");
}

int act_define(struct app *a)
{
    char path[1024] = "";
    if (!widget_prompt(a, "Define from XML file: ", path, sizeof(path), NULL) || !path[0]) {
        a->message[0] = '\0';
        return R_REDRAW;
    }
    char full[2048];
    if (path[0] == '~' && path[1] == '/' && getenv("HOME"))
        snprintf(full, sizeof(full), "%s%s", getenv("HOME"), path + 1);
    else
        snprintf(full, sizeof(full), "%s", path);
    const char *argv[] = {"define", full};
    return actions_run(a, false, 2, argv);
}

/* Clone, as `tvm clone`: the new name (NAME-clone offered), full or
 * linked; the rest (MACs, uuid, disk paths beside the original's) is
 * clone's own, and the copy runs on the command worker with its progress
 * on the status line. */
int act_clone(struct app *a)
{
    struct dom_item *it = need_selection(a);
    if (!it)
        return R_REDRAW;
    char orig[256], label[300], name[256];
    snprintf(orig, sizeof(orig), "%s", it->name); /* the list may reload while we ask */
    snprintf(name, sizeof(name), "%.249s-clone", orig);
    snprintf(label, sizeof(label), "Clone '%s' as: ", orig);
    if (!widget_prompt(a, label, name, sizeof(name), NULL) || !name[0]) {
        app_message(a, false, "clone of '%s' cancelled", orig);
        return R_REDRAW;
    }
    static const char *const kinds[] = {
        "Full copy: disks copied, independent of the original",
        "Linked: qcow2 overlays on the original's disks (instant)",
    };
    int kind = widget_menu(a, "Clone", kinds, 2);
    if (kind < 0) {
        app_message(a, false, "clone of '%s' cancelled", orig);
        return R_REDRAW;
    }
    const char *argv[] = {"clone", "--original", orig, "--name", name, "--linked"};
    return actions_run(a, false, kind == 1 ? 6 : 5, argv);
}

/* ---- console ---- */

int act_console(struct app *a)
{
    struct dom_item *it = need_selection(a);
    if (!it)
        return R_REDRAW;
    if (console_open(&a->con, it->uuid, it->name) < 0) {
        app_message(a, true, "%s", err_msg());
        return R_REDRAW;
    }
    a->focus = FOCUS_CONSOLE;
    a->message[0] = '\0';
    return R_REDRAW;
}

int act_console_leave(struct app *a)
{
    console_close(&a->con);
    a->focus = FOCUS_LIST;
    return R_REDRAW;
}

/* One page is the pane's rows less one, kept for context. At the top of
 * the scrollback the pane stays full (the oldest line on its first row),
 * as in less: scrolling further would only push the lines off its bottom. */
int act_console_scroll_up(struct app *a)
{
    size_t page = a->lay.details.h > 2 ? (size_t)a->lay.details.h - 2 : 1;
    size_t rows = page + 1; /* draw_console: the pane's height less its title */
    size_t top = a->con.count > rows ? a->con.count - rows : 0;
    a->con.scroll = a->con.scroll + page < top ? a->con.scroll + page : top;
    return R_REDRAW;
}

int act_console_scroll_down(struct app *a)
{
    size_t page = a->lay.details.h > 2 ? (size_t)a->lay.details.h - 2 : 1;
    a->con.scroll = a->con.scroll > page ? a->con.scroll - page : 0;
    return R_REDRAW;
}

/* Keys that are not console bindings go to the guest, as a terminal would send them. */
int act_console_send_key(struct app *a, int key)
{
    static const struct {
        int key;
        const char *seq;
    } seqs[] = {
        {KEY_UP, "\x1b[A"},      {KEY_DOWN, "\x1b[B"}, {KEY_RIGHT, "\x1b[C"}, {KEY_LEFT, "\x1b[D"},
        {KEY_HOME, "\x1b[H"},    {KEY_END, "\x1b[F"},  {KEY_DC, "\x1b[3~"},   {KEY_IC, "\x1b[2~"},
        {KEY_BACKSPACE, "\x7f"}, {KEY_ENTER, "\r"},
    };
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++)
        if (seqs[i].key == key)
            return console_send(&a->con, seqs[i].seq, strlen(seqs[i].seq)) < 0 ? R_REDRAW
                                                                               : R_HANDLED;
    if (key >= 0 && key < 256) {
        char c = (char)key;
        if (a->con.scroll) {
            a->con.scroll = 0; /* typing brings the view back to the bottom */
            console_send(&a->con, &c, 1);
            return R_REDRAW;
        }
        return console_send(&a->con, &c, 1) < 0 ? R_REDRAW : R_HANDLED;
    }
    return R_HANDLED;
}

/* ---- misc ---- */

int act_help(struct app *a)
{
    char *text = keys_help_text();
    widget_pager(a, "tvm keys", text ? text : "out of memory");
    free(text);
    return R_REDRAW;
}

/* Load NAME, draw with it from now on and keep it in tvm.conf; a theme
 * that does not load changes nothing. */
static int use_theme(struct app *a, const char *name)
{
    struct theme t;
    if (theme_load(&t, name) < 0) {
        app_message(a, true, "%s", err_msg());
        return R_REDRAW;
    }
    if (!t.name[0])
        snprintf(t.name, sizeof(t.name), "%s", name);
    a->theme = t;
    theme_apply(&a->theme);
    clearok(curscr, TRUE);
    char conf[PATH_MAX];
    if (theme_config_save(name, conf, sizeof(conf)) < 0)
        app_message(a, true, "theme '%s' in use but not kept: %s", name, err_msg());
    else
        app_message(a, false, "theme '%s' (kept in %s)", name, conf);
    return R_REDRAW;
}

/* t: the themes in the search path, the one in use first. */
int act_theme(struct app *a)
{
    enum { MAX = 32 };
    char names[MAX][64];
    int n = theme_list(names, MAX);
    if (n <= 0) {
        app_message(a, true, "no themes found (see THE TERMINAL INTERFACE in tvm(1))");
        return R_REDRAW;
    }
    const char *items[MAX];
    for (int i = 0; i < n; i++)
        items[i] = names[i];
    char title[96];
    snprintf(title, sizeof(title), "theme (now %s)", a->theme.name[0] ? a->theme.name : "default");
    int choice = widget_menu(a, title, items, n);
    if (choice < 0)
        return R_REDRAW;
    return use_theme(a, names[choice]);
}

int act_command(struct app *a)
{
    char line[1024] = "";
    if (!widget_prompt(a, ":", line, sizeof(line), NULL) || !line[0]) {
        a->message[0] = '\0';
        return R_REDRAW;
    }
    if (!strcmp(line, "q") || !strcmp(line, "quit"))
        return R_QUIT;
    char **argv = NULL;
    int argc = cmd_split_words(line, &argv);
    if (argc < 0) {
        app_message(a, true, "%s", err_msg());
        return R_REDRAW;
    }
    int r = R_REDRAW;
    if (argc > 0 && !strcmp(argv[0], "theme")) {
        /* A TUI setting, not a verb: `:theme NAME`, or the menu of them. */
        if (argc > 2)
            app_message(a, true, "usage: theme [NAME]");
        else
            r = argc == 2 ? use_theme(a, argv[1]) : act_theme(a);
    } else if (argc > 0) {
        const struct cmd_entry *e = cmd_find_prefix(argv[0]);
        if (!e) {
            app_message(a, true, "%s", err_msg());
        } else {
            /* The worker runs exact names only. */
            const char *typed = argv[0];
            argv[0] = (char *)e->name;
            r = actions_run(a, true, argc, (const char **)argv);
            argv[0] = (char *)typed;
        }
    }
    cmd_free_words(argc, argv);
    return r;
}

int act_quit(struct app *a)
{
    (void)a;
    return R_QUIT;
}

int act_redraw(struct app *a)
{
    a->gv_invalidate = true;
    clearok(curscr, TRUE);
    return R_REDRAW | R_REFRESH;
}

int act_resize(struct app *a)
{
    a->gv_invalidate = true;
    draw_layout(a);
    return R_REDRAW;
}

/* Mouse: clicks select rows or tabs, the wheel moves the selection. */
int act_mouse(struct app *a)
{
    MEVENT ev;
    if (getmouse(&ev) != OK)
        return R_HANDLED;
    if (ev.bstate & BUTTON4_PRESSED)
        return move_sel(a, -3);
    if (ev.bstate & BUTTON5_PRESSED)
        return move_sel(a, 3);
    if (!(ev.bstate & (BUTTON1_PRESSED | BUTTON1_CLICKED)))
        return R_HANDLED;
    struct rect l = a->lay.list, d = a->lay.details;
    if (ev.y > l.y && ev.y < l.y + l.h && ev.x >= l.x && ev.x < l.x + l.w) {
        size_t v = a->list.top + (size_t)(ev.y - l.y - 1);
        if (v < a->list.nview) {
            a->focus = FOCUS_LIST;
            domlist_select(&a->list, (long)v);
        }
        return R_REDRAW;
    }
    if (ev.y == d.y && a->focus == FOCUS_LIST) {
        /* Same geometry as details.c's tab bar: " N Name " separated by one column. */
        int x = d.x + 1 + (a->lay.side_by_side ? 1 : 0);
        for (int t = 0; t < TAB_COUNT; t++) {
            int w = (int)strlen(details_tab_name((enum details_tab)t)) + 4;
            if (ev.x >= x && ev.x < x + w)
                return set_tab(a, t);
            x += w + 1;
        }
    }
    return R_HANDLED;
}

int act_tab_n(struct app *a, int key)
{
    return set_tab(a, key - '1');
}
