/* Key tables and the actions behind them. Every action that changes
 * something runs a command from the shared table (cmd_run_argv) with its
 * output captured, so keys, the ':' prompt and `tvm VERB` behave alike. */
#include "tui/app.h"
#include "core/base/err.h"
#include "store/store.h"

#include <curses.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define KEY_ESC 27
#define KEY_CTRL(c) ((c)&0x1f)
#define CONSOLE_ESCAPE 0x1d /* Ctrl-], as virsh console */

/* ---- running commands ---- */

static bool verb_available(const char *verb)
{
    const struct cmd_entry *e = cmd_find(verb);
    err_clear();
    return e && !strcmp(e->name, verb);
}

static char *read_fd_all(int fd)
{
    size_t len = 0, cap = 256;
    char *buf = malloc(cap);
    if (!buf)
        return NULL;
    lseek(fd, 0, SEEK_SET);
    for (;;) {
        if (len + 1 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb)
                break;
            buf = nb;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    return buf;
}

/* While a command runs inside the TUI, the terminal is not its to use: stdin
 * reads /dev/null (a `define -` must not hang on the keyboard) and anything
 * written straight to fd 1 or 2 lands in a file shown afterwards. */
struct stdio_capture {
    FILE *file;
    int saved[3];
};

static void capture_begin(struct stdio_capture *c)
{
    c->file = tmpfile();
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    fflush(stdout);
    fflush(stderr);
    for (int fd = 0; fd < 3; fd++) {
        c->saved[fd] = c->file ? dup(fd) : -1;
        if (c->saved[fd] >= 0)
            dup2(fd == 0 ? null : fileno(c->file), fd);
    }
    if (null >= 0)
        close(null);
}

static char *capture_end(struct stdio_capture *c)
{
    fflush(stdout);
    fflush(stderr);
    for (int fd = 0; fd < 3; fd++) {
        if (c->saved[fd] >= 0) {
            dup2(c->saved[fd], fd);
            close(c->saved[fd]);
        }
    }
    char *text = c->file ? read_fd_all(fileno(c->file)) : NULL;
    if (c->file)
        fclose(c->file);
    return text;
}

/* Run argv with its output captured into *output (malloc'd). Commands see
 * in_tui and a non-interactive context: they must not prompt here. */
static enum cmd_result run_captured(struct app *a, int argc, const char **argv, char **output)
{
    struct cmd_ctx *ctx = a->ctx;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    FILE *saved_out = ctx->out;
    bool saved_tui = ctx->in_tui, saved_inter = ctx->interactive;
    struct stdio_capture cap;
    capture_begin(&cap);
    ctx->out = mem ? mem : saved_out;
    ctx->in_tui = true;
    ctx->interactive = false;
    err_clear();
    enum cmd_result rc = cmd_run_argv(ctx, argc, (char **)argv);
    char msg[ERR_MSG_MAX];
    snprintf(msg, sizeof(msg), "%s", err_msg());
    ctx->out = saved_out;
    ctx->in_tui = saved_tui;
    ctx->interactive = saved_inter;
    if (mem)
        fclose(mem);
    char *stray = capture_end(&cap);
    /* The command's output first, then anything written around it. */
    char *all = NULL;
    if (asprintf(&all, "%s%s", text ? text : "", stray ? stray : "") < 0)
        all = NULL;
    free(text);
    free(stray);
    *output = all;
    err_set("%s", msg);
    return rc;
}

static void trim_end(char *s)
{
    size_t n = s ? strlen(s) : 0;
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

int actions_run(struct app *a, bool show_output, int argc, const char **argv)
{
    if (!verb_available(argv[0])) {
        app_message(a, true, "'%s' is not available yet", argv[0]);
        return R_REDRAW;
    }
    char *out = NULL;
    enum cmd_result rc = run_captured(a, argc, argv, &out);
    trim_end(out);
    bool multi = out && strchr(out, '\n');
    if (rc != CMD_OK)
        app_message(a, true, "%s", *err_msg() ? err_msg() : (out && *out ? out : "failed"));
    else if (multi && show_output)
        widget_pager(a, argv[0], out);
    else
        app_message(a, false, "%s", out && *out ? out : "done");
    if (rc != CMD_OK && multi && show_output)
        widget_pager(a, argv[0], out);
    free(out);
    return R_REDRAW | R_REFRESH;
}

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

static int act_up(struct app *a)
{
    return move_sel(a, -1);
}
static int act_down(struct app *a)
{
    return move_sel(a, 1);
}
static int act_pgup(struct app *a)
{
    return move_sel(a, -draw_list_rows(a));
}
static int act_pgdn(struct app *a)
{
    return move_sel(a, draw_list_rows(a));
}
static int act_home(struct app *a)
{
    domlist_select(&a->list, 0);
    return R_REDRAW;
}
static int act_end(struct app *a)
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
static int act_next_tab(struct app *a)
{
    return set_tab(a, (int)a->det.tab + 1);
}
static int act_prev_tab(struct app *a)
{
    return set_tab(a, (int)a->det.tab - 1);
}
static int act_details_up(struct app *a)
{
    a->det.scroll -= a->lay.details.h > 4 ? a->lay.details.h - 2 : 1;
    return R_REDRAW;
}
static int act_details_down(struct app *a)
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
static int act_sort_next(struct app *a)
{
    return set_sort(a, (int)a->list.sort + 1);
}
static int act_sort_prev(struct app *a)
{
    return set_sort(a, (int)a->list.sort - 1);
}
static int act_sort_invert(struct app *a)
{
    a->list.reverse = !a->list.reverse;
    return set_sort(a, (int)a->list.sort);
}

static void filter_changed(struct app *a, const char *text)
{
    snprintf(a->list.filter, sizeof(a->list.filter), "%s", text);
    domlist_rebuild(&a->list);
}

static int act_filter(struct app *a)
{
    char buf[sizeof(a->list.filter)];
    snprintf(buf, sizeof(buf), "%s", a->list.filter);
    if (!widget_prompt(a, "Filter: ", buf, sizeof(buf), filter_changed))
        filter_changed(a, "");
    if (a->list.filter[0])
        app_message(a, false, "filter '%s': %zu of %zu domains (Esc clears)", a->list.filter,
                    a->list.nview, a->list.n);
    else
        a->message[0] = '\0';
    return R_REDRAW;
}

static int act_clear_filter(struct app *a)
{
    filter_changed(a, "");
    a->message[0] = '\0';
    return R_REDRAW;
}

/* ---- lifecycle and inventory actions ---- */

static int act_start(struct app *a)
{
    return run_on_selected(a, "start");
}
static int act_shutdown(struct app *a)
{
    return run_on_selected(a, "shutdown");
}
static int act_reboot(struct app *a)
{
    return run_on_selected(a, "reboot");
}
static int act_destroy(struct app *a)
{
    return confirm_then_run(a, "destroy", "Destroy (power off at once)");
}
static int act_reset(struct app *a)
{
    return confirm_then_run(a, "reset", "Reset (hard reboot)");
}
static int act_undefine(struct app *a)
{
    return confirm_then_run(a, "undefine", "Undefine (remove the definition of)");
}

static int act_pause(struct app *a)
{
    struct dom_item *it = need_selection(a);
    if (!it)
        return R_REDRAW;
    return run_on_selected(a, it->state == DOMAIN_PAUSED ? "resume" : "suspend");
}

static int act_define(struct app *a)
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

/* Run the user's editor on path with the terminal handed over. */
static int run_editor(struct app *a, const char *path)
{
    const char *editor = getenv("VISUAL");
    if (!editor || !*editor)
        editor = getenv("EDITOR");
    if (!editor || !*editor)
        editor = "vi";
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "%s \"$1\"", editor); /* the editor may carry arguments */
    app_suspend_screen(a);
    pid_t pid = fork();
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd, "sh", path, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    app_resume_screen(a);
    if (pid < 0)
        return err_errno("cannot run the editor");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return err_set("editor '%s' failed (status %d)", editor,
                       WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return 0;
}

static char *read_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *s = read_fd_all(fd);
    close(fd);
    return s;
}

/* Edit loop: $EDITOR on a temp copy, apply through `define`, offer re-edit on errors. */
static int act_edit(struct app *a)
{
    struct dom_item *it = need_selection(a);
    if (!it)
        return R_REDRAW;
    if (!verb_available("define")) {
        app_message(a, true, "'define' is not available yet");
        return R_REDRAW;
    }
    char name[256];
    snprintf(name, sizeof(name), "%s", it->name);
    char *xml = NULL;
    if (store_domain_get_xml(a->st, it->uuid, &xml) < 0) {
        app_message(a, true, "%s", err_msg());
        return R_REDRAW;
    }
    char path[] = "/tmp/tvm-edit-XXXXXX.xml";
    int fd = mkstemps(path, 4);
    if (fd < 0 || write(fd, xml, strlen(xml)) != (ssize_t)strlen(xml)) {
        app_message(a, true, "cannot write a temporary file: %s", strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(path);
        }
        free(xml);
        return R_REDRAW;
    }
    close(fd);
    int reaction = R_REDRAW;
    for (;;) {
        if (run_editor(a, path) < 0) {
            app_message(a, true, "%s", err_msg());
            break;
        }
        char *edited = read_file(path);
        if (edited && !strcmp(edited, xml)) {
            app_message(a, false, "Domain '%s' XML configuration not changed.", name);
            free(edited);
            break;
        }
        free(edited);
        const char *argv[] = {"define", path};
        char *out = NULL;
        enum cmd_result rc = run_captured(a, 2, argv, &out);
        free(out);
        if (rc == CMD_OK) {
            app_message(a, false, "Domain '%s' XML configuration edited.", name);
            reaction |= R_REFRESH;
            details_invalidate(a);
            break;
        }
        char msg[ERR_MSG_MAX];
        snprintf(msg, sizeof(msg), "%s", err_msg());
        if (!widget_confirm(a, "Failed: %s\n\nEdit again?", msg)) {
            app_message(a, true, "%s (definition not changed)", msg);
            break;
        }
    }
    unlink(path);
    free(xml);
    return reaction;
}

/* ---- console ---- */

static int act_console(struct app *a)
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

static int act_console_full(struct app *a)
{
    struct dom_item *it = need_selection(a);
    if (!it)
        return R_REDRAW;
    if (!verb_available("console")) {
        app_message(a, true, "'console' is not available yet");
        return R_REDRAW;
    }
    char name[256];
    snprintf(name, sizeof(name), "%s", it->name);
    struct cmd_ctx *ctx = a->ctx;
    FILE *saved_out = ctx->out;
    bool saved_tui = ctx->in_tui, saved_inter = ctx->interactive;
    ctx->out = stdout;
    ctx->in_tui = false; /* the attach owns the whole terminal, exactly as `tvm console` */
    ctx->interactive = true;
    app_suspend_screen(a);
    const char *argv[] = {"console", name};
    err_clear();
    enum cmd_result rc = cmd_run_argv(ctx, 2, (char **)argv);
    fflush(stdout);
    app_resume_screen(a);
    ctx->out = saved_out;
    ctx->in_tui = saved_tui;
    ctx->interactive = saved_inter;
    if (rc != CMD_OK)
        app_message(a, true, "%s", err_msg());
    else
        app_message(a, false, "detached from the console of '%s'", name);
    return R_REDRAW | R_REFRESH;
}

static int act_console_leave(struct app *a)
{
    console_close(&a->con);
    a->focus = FOCUS_LIST;
    return R_REDRAW;
}

static int act_console_scroll_up(struct app *a)
{
    size_t page = a->lay.details.h > 2 ? (size_t)a->lay.details.h - 2 : 1;
    a->con.scroll += page;
    if (a->con.count && a->con.scroll > a->con.count - 1)
        a->con.scroll = a->con.count - 1;
    return R_REDRAW;
}

static int act_console_scroll_down(struct app *a)
{
    size_t page = a->lay.details.h > 2 ? (size_t)a->lay.details.h - 2 : 1;
    a->con.scroll = a->con.scroll > page ? a->con.scroll - page : 0;
    return R_REDRAW;
}

/* Keys that are not console bindings go to the guest, as a terminal would send them. */
static int console_send_key(struct app *a, int key)
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

static int act_help(struct app *a)
{
    char *text = actions_help_text();
    widget_pager(a, "tvm keys", text ? text : "out of memory");
    free(text);
    return R_REDRAW;
}

static int act_command(struct app *a)
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
    if (argc > 0) {
        const struct cmd_entry *e = cmd_find(argv[0]);
        if (!e)
            app_message(a, true, "%s", err_msg());
        else
            r = actions_run(a, true, argc, (const char **)argv);
    }
    cmd_free_words(argc, argv);
    return r;
}

static int act_quit(struct app *a)
{
    (void)a;
    return R_QUIT;
}

static int act_redraw(struct app *a)
{
    (void)a;
    clearok(curscr, TRUE);
    return R_REDRAW | R_REFRESH;
}

static int act_resize(struct app *a)
{
    draw_layout(a);
    return R_REDRAW;
}

/* Mouse: clicks select rows or tabs, the wheel moves the selection. */
static int act_mouse(struct app *a)
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

/* Enter: every action on the selected domain in one menu; an entry runs as its key would. */
static int act_menu(struct app *a)
{
    static const struct {
        int key;
        const char *label;
    } entries[] = {
        {'s', "s  Start"},        {'h', "h  Shut down"},           {'r', "r  Reboot"},
        {'R', "R  Reset..."},     {'p', "p  Suspend / resume"},    {'D', "D  Destroy..."},
        {'c', "c  Console pane"}, {'C', "C  Full-screen console"}, {'e', "e  Edit XML"},
        {'u', "u  Undefine..."},  {'a', "a  Define from file..."}, {':', ":  Command line..."},
    };
    enum { N = sizeof(entries) / sizeof(entries[0]) };
    const char *labels[N];
    for (int i = 0; i < N; i++)
        labels[i] = entries[i].label;
    struct dom_item *it = domlist_selected(&a->list);
    char title[300];
    snprintf(title, sizeof(title), "%s", it ? it->name : "actions");
    int choice = widget_menu(a, title, labels, N);
    if (choice < 0)
        return R_REDRAW;
    return actions_dispatch(a, entries[choice].key) | R_REDRAW;
}

static int act_tab_n(struct app *a, int key)
{
    return set_tab(a, key - '1');
}

/* ---- key tables ---- */

#define NAV(k, fn)                                                                                 \
    {                                                                                              \
        k, NULL, NULL, fn                                                                          \
    }

const struct key_binding keys_list[] = {
    {KEY_UP, "Up/Down, j/k", "move the selection", act_up},
    NAV('k', act_up),
    {KEY_DOWN, NULL, NULL, act_down},
    NAV('j', act_down),
    {KEY_PPAGE, "PgUp/PgDn", "page through the list", act_pgup},
    {KEY_NPAGE, NULL, NULL, act_pgdn},
    {KEY_HOME, "Home/End", "first/last domain", act_home},
    {KEY_END, NULL, NULL, act_end},
    {'\t', "Tab/Shift-Tab", "next/previous details tab (also Right/Left)", act_next_tab},
    {KEY_BTAB, NULL, NULL, act_prev_tab},
    NAV(KEY_RIGHT, act_next_tab),
    NAV(KEY_LEFT, act_prev_tab),
    {'\r', "Enter", "menu of the actions on the selected domain", act_menu},
    {KEY_ENTER, NULL, NULL, act_menu},
    {'1', "1..6", "details tab: overview, disks, NICs, graphics/console, boot, XML", NULL},
    {'[', "[ ]", "scroll the details pane (the XML tab)", act_details_up},
    {']', NULL, NULL, act_details_down},
    {'s', "s, F2", "start the domain", act_start},
    {KEY_F(2), NULL, NULL, act_start},
    {'h', "h, F3", "shut down (ACPI power button)", act_shutdown},
    {KEY_F(3), NULL, NULL, act_shutdown},
    {'r', "r", "reboot", act_reboot},
    {'R', "R", "reset (asks first)", act_reset},
    {'D', "D, F8", "destroy: power off at once (asks first)", act_destroy},
    {KEY_F(8), NULL, NULL, act_destroy},
    {'p', "p", "suspend / resume", act_pause},
    {'c', "c, F5", "console pane (Ctrl-] back to the list)", act_console},
    {KEY_F(5), NULL, NULL, act_console},
    {'C', "C", "full-screen console, as 'tvm console' (Ctrl-] detaches)", act_console_full},
    {'e', "e, F7", "edit the XML in $EDITOR (applied with define)", act_edit},
    {KEY_F(7), NULL, NULL, act_edit},
    {'a', "a", "define a domain from an XML file", act_define},
    {'u', "u, F9", "undefine (asks first)", act_undefine},
    {KEY_F(9), NULL, NULL, act_undefine},
    {'/', "/, F4", "filter by name (Enter keeps, Esc clears)", act_filter},
    {KEY_F(4), NULL, NULL, act_filter},
    {KEY_ESC, "Esc", "clear the filter", act_clear_filter},
    {'>', "> <, F6", "sort by the next/previous column", act_sort_next},
    NAV('.', act_sort_next),
    {KEY_F(6), NULL, NULL, act_sort_next},
    {'<', NULL, NULL, act_sort_prev},
    NAV(',', act_sort_prev),
    {'I', "I", "invert the sort order", act_sort_invert},
    {':', ":", "command line: any batch verb (list, dominfo, net-list ...)", act_command},
    {'?', "?, F1", "this help", act_help},
    {KEY_F(1), NULL, NULL, act_help},
    {KEY_CTRL('l'), "Ctrl-L", "redraw and reload", act_redraw},
    {'q', "q, F10", "quit", act_quit},
    {KEY_F(10), NULL, NULL, act_quit},
    {KEY_RESIZE, NULL, NULL, act_resize},
    {KEY_MOUSE, "mouse", "click a row to select it, click a tab, wheel scrolls", act_mouse},
    {0, NULL, NULL, NULL},
};

const struct key_binding keys_console[] = {
    {CONSOLE_ESCAPE, "Ctrl-]", "leave the console pane (back to the list)", act_console_leave},
    {KEY_PPAGE, "PgUp/PgDn", "scroll the console's scrollback", act_console_scroll_up},
    {KEY_NPAGE, NULL, NULL, act_console_scroll_down},
    {KEY_RESIZE, NULL, NULL, act_resize},
    {KEY_MOUSE, NULL, NULL, act_mouse},
    {0, "other keys", "are sent to the guest", NULL},
    {0, NULL, NULL, NULL},
};

static const struct key_binding *lookup(const struct key_binding *table, int key)
{
    for (const struct key_binding *b = table; b->key || b->fn || b->key_name; b++)
        if (b->key == key && b->fn)
            return b;
    return NULL;
}

int actions_dispatch(struct app *a, int key)
{
    bool had_message = a->message[0] != '\0';
    if (a->focus == FOCUS_CONSOLE) {
        const struct key_binding *b = lookup(keys_console, key);
        if (b)
            return b->fn(a);
        return console_send_key(a, key);
    }
    /* A message stays until the next key, as in less and htop. */
    if (key != KEY_RESIZE && key != KEY_MOUSE)
        a->message[0] = '\0';
    int r;
    const struct key_binding *b = lookup(keys_list, key);
    if (b)
        r = b->fn(a);
    else if (key >= '1' && key < '1' + TAB_COUNT)
        r = act_tab_n(a, key);
    else
        r = R_NONE;
    if (had_message && !a->message[0])
        r |= R_REDRAW;
    return r;
}

/* ---- help text ---- */

static void help_section(FILE *f, const char *title, const struct key_binding *table)
{
    fprintf(f, "%s\n", title);
    for (const struct key_binding *b = table; b->key || b->fn || b->key_name; b++)
        if (b->key_name && b->help)
            fprintf(f, "  %-14s %s\n", b->key_name, b->help);
    fprintf(f, "\n");
}

char *actions_help_text(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    help_section(f, "Domain list", keys_list);
    help_section(f, "Console pane", keys_console);
    fprintf(f, "Command line (':'): the same verbs as 'tvm VERB' and batch scripts\n");
    for (size_t i = 0; cmd_table[i]; i++)
        fprintf(f, "  %-18s %s\n", cmd_table[i]->name,
                cmd_table[i]->summary ? cmd_table[i]->summary : "");
    if (!cmd_table[0])
        fprintf(f, "  (no commands linked yet)\n");
    fclose(f);
    return text;
}
