/* The one key table: it binds keys to actions, and the same rows build the
 * Enter menu (rows with a menu label, in table order) and the '?' help
 * (rows with a key name), so the three cannot disagree. */
#include "tui/app.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_ESC 27
#define KEY_CTRL(c) ((c)&0x1f)
#define CONSOLE_ESCAPE 0x1d          /* Ctrl-], as virsh console */
#define CONSOLE_SWITCH KEY_CTRL('t') /* serial <-> graphical console */

/* A second key for the row above it: bound, not listed again. */
#define ALSO(k, f)                                                                                 \
    {                                                                                              \
        .key = (k), .fn = (f)                                                                      \
    }
/* A function key for the row above it, with its label on the key bar. */
#define FKEY(n, f, lab, p)                                                                         \
    {                                                                                              \
        .key = KEY_F(n), .fn = (f), .label = (lab), .prio = (p)                                    \
    }

const struct key_binding keys_list[] = {
    {KEY_UP, "Up/Down, j/k", "move the selection", act_up, .when = WHEN_ANY},
    ALSO('k', act_up),
    ALSO(KEY_DOWN, act_down),
    ALSO('j', act_down),
    {KEY_PPAGE, "PgUp/PgDn", "page through the list", act_pgup, .when = WHEN_ANY},
    ALSO(KEY_NPAGE, act_pgdn),
    {KEY_HOME, "Home/End", "first/last domain", act_home, .when = WHEN_ANY},
    ALSO(KEY_END, act_end),
    {'\t', "Tab/Shift-Tab", "next/previous details tab (also Right/Left)", act_next_tab,
     .when = WHEN_ANY},
    ALSO(KEY_BTAB, act_prev_tab),
    ALSO(KEY_RIGHT, act_next_tab),
    ALSO(KEY_LEFT, act_prev_tab),
    {'?', "?, F1", "this help", act_help, .label = "help", .prio = 1, .doc = "the key help."},
    FKEY(1, act_help, "Help", 1),
    {'\r', "Enter", "menu of the actions that apply to the selected domain", keys_menu,
     .label = "menu", .prio = 1},
    ALSO(KEY_ENTER, keys_menu),
    {'1', "1..6", "details tab: overview, disks, NICs, graphics/console, boot, XML",
     .when = WHEN_ANY},
    {'[', "[ ]", "scroll the details pane (the XML tab)", act_details_up, .when = WHEN_ANY},
    ALSO(']', act_details_down),
    {'s', "s, F2", "start the domain (when shut off)", act_start, "Start", "start", 2,
     .when = WHEN_INACTIVE},
    FKEY(2, act_start, "Start", 3),
    {'h', "h, F3", "shut down: ACPI power button (when running)", act_shutdown, "Shut down",
     "shutdown", 3, .when = WHEN_ACTIVE},
    FKEY(3, act_shutdown, "Shutdown", 4),
    {'r', "r", "reboot (when running)", act_reboot, "Reboot", NULL, 0, .when = WHEN_ACTIVE},
    {'R', "R", "reset (when running; asks first)", act_reset, "Reset...", NULL, 0,
     .when = WHEN_ACTIVE},
    {'p', "p", "suspend / resume (when running or paused)", act_pause, "Suspend / resume", NULL, 0,
     .when = WHEN_SUSPENDABLE},
    {'D', "D, F8", "destroy: power off at once (when running; asks first)", act_destroy,
     "Destroy...", "destroy", 4, .when = WHEN_ACTIVE},
    FKEY(8, act_destroy, "Destroy", 5),
    {'c', "c, F5", "console pane (Ctrl-] back to the list)", act_console, "Console pane", "console",
     3, .when = WHEN_ANY, .doc = "the serial console pane inside the screen (its keys: below)."},
    FKEY(5, act_console, "Console", 5),
    {'C', "C", "full-screen console, as 'tvm console' (Ctrl-] detaches)", act_console_full,
     "Full-screen console", .when = WHEN_ANY,
     .doc = "a full-screen attach, as\n.B tvm console\n(Ctrl\\-] detaches)."},
    {'g', "g", "graphical console pane: the guest's screen (Ctrl-] back)", act_graphics,
     "Graphical console pane", .when = WHEN_ANY,
     .doc = "the graphical console pane: the guest's screen as\n.B vncviewer\nshows it (text mode "
            "as text, a framebuffer as a picture fitted to the pane)."},
    {'G', "G", "full-screen graphical console, as 'tvm vncviewer' (Ctrl-] leaves)",
     act_graphics_full, "Full-screen graphical console", .when = WHEN_ANY,
     .doc = "the full-screen graphical console, as\n.B tvm vncviewer\n(Ctrl\\-] leaves)."},
    {'e', "e, F7", "edit the XML in $EDITOR, as 'tvm edit'", act_edit, "Edit XML", "edit", 5,
     .when = WHEN_ANY, .doc = "edit the XML in the editor, as\n.BR \"tvm edit\" ."},
    FKEY(7, act_edit, "Edit", 6),
    {'T', "T", "snapshots: the tree; take, revert, delete (asks first)", act_snapshots,
     "Snapshots...", "snapshots", 7, .when = WHEN_ANY,
     .doc = "the selected domain's snapshots: the tree (children indented below their\n"
            "parent) with creation dates and descriptions, the current one marked\n.BR * .\n"
            "\"Take a snapshot...\" asks a name and a description\n"
            ".RB ( snapshot\\-create\\-as );\n"
            "on a snapshot, revert to it (asks first: changes since the current\n"
            "snapshot are lost, as\n.B snapshot\\-revert \\-\\-force\n"
            "does), or first snapshot the current state (named after its creation\n"
            "time) and then revert, so nothing is lost, or delete it, alone or with its\n"
            "descendants (asks first). The commands run in the background; their\n"
            "result shows in the message line."},
    {'u', "u, F9", "undefine (asks first)", act_undefine, "Undefine...", "undefine", 6,
     .when = WHEN_ANY},
    FKEY(9, act_undefine, "Undefine", 7),
    {'S', "S", "storage pane: pools and their volumes (S or Esc back)", act_storage,
     "Storage pools and volumes", "storage", 5, .when = WHEN_ANY},
    {'y', "y", "clone the domain: asks the new name, then a full or linked copy", act_clone,
     "Clone...", "clone", 8, .when = WHEN_ANY,
     .doc = "clone the selected domain as\n.B tvm clone\n"
            "does: asks the new name (NAME\\-clone offered), then a full copy or a\n"
            "linked one (qcow2 overlays); the copy runs in the background with its\n"
            "progress on the status line."},
    {'a', "a", "define a domain from an XML file", act_define, "Define from file...", "define", 8,
     .when = WHEN_ANY},
    {':', ":", "command line: any batch verb (list, dominfo, net-list ...), :theme NAME",
     act_command, "Command line...", "command", 2, .when = WHEN_ANY,
     .doc = "a command line: any command of this page, as in a batch file;\n"
            ".BI \":theme \" NAME\nswitches the theme."},
    {'t', "t", "choose a colour theme (kept in tvm.conf)", act_theme, "Theme...", "theme", 9,
     .when = WHEN_ANY},
    {'/', "/, F4", "filter by name (Enter keeps, Esc clears)", act_filter, .label = "filter",
     .prio = 4},
    FKEY(4, act_filter, "Filter", 6),
    {KEY_ESC, "Esc", "clear the filter", act_clear_filter, .when = WHEN_ANY},
    {'>', "> <, F6", "sort by the next/previous column", act_sort_next, .label = "sort", .prio = 7},
    ALSO('.', act_sort_next),
    FKEY(6, act_sort_next, "Sort", 8),
    ALSO('<', act_sort_prev),
    ALSO(',', act_sort_prev),
    {'I', "I", "invert the sort order", act_sort_invert, .when = WHEN_ANY},
    {KEY_CTRL('l'), "Ctrl-L", "redraw and reload", act_redraw, .when = WHEN_ANY},
    {'q', "q, F10", "quit", act_quit, .label = "quit", .prio = 9},
    FKEY(10, act_quit, "Quit", 1),
    ALSO(KEY_RESIZE, act_resize),
    {KEY_MOUSE, "mouse", "click a row to select it, click a tab, wheel scrolls", act_mouse,
     .when = WHEN_ANY},
    {0},
};

const struct key_binding keys_storage[] = {
    {KEY_UP, "Up/Down, j/k", "move the selection (pools, or volumes after Tab)", act_storage_up,
     .when = WHEN_ANY},
    ALSO('k', act_storage_up),
    ALSO(KEY_DOWN, act_storage_down),
    ALSO('j', act_storage_down),
    {KEY_HOME, "Home/End", "first/last row", act_storage_home, .when = WHEN_ANY},
    ALSO(KEY_END, act_storage_end),
    {'?', "?, F1", "this help", act_help, .label = "help", .prio = 1, .doc = "the key help."},
    FKEY(1, act_help, "Help", 1),
    {'S', "S, Esc", "back to the domain list", act_storage, .label = "back", .prio = 1},
    ALSO(KEY_ESC, act_storage),
    {'\t', "Tab", "move between the pools and the selected pool's volumes (also Right/Left)",
     act_storage_switch, .label = "pools/volumes", .prio = 2},
    ALSO(KEY_BTAB, act_storage_switch),
    ALSO(KEY_RIGHT, act_storage_switch),
    ALSO(KEY_LEFT, act_storage_switch),
    {'\r', "Enter", "menu of the storage actions", keys_storage_menu, .label = "menu", .prio = 2},
    ALSO(KEY_ENTER, keys_storage_menu),
    {'N', "N", "new directory pool (asks its name and directory; built and started)", act_pool_new,
     "New directory pool...", "new pool", 3, .when = WHEN_ANY,
     .doc = "a new directory pool: asks its name and directory; defined, built and\n"
            "started, as\n.BR pool\\-define\\-as \", \" pool\\-build \", \" pool\\-start ."},
    {'s', "s", "start the pool", act_pool_start, "Start pool", "start", 4, .when = WHEN_ANY},
    {'x', "x", "stop the pool (pool-destroy: its volumes stay on disk)", act_pool_stop, "Stop pool",
     "stop", 4, .when = WHEN_ANY},
    {'r', "r", "refresh the pool: find volumes made by others", act_pool_refresh, "Refresh pool",
     "refresh", 7, .when = WHEN_ANY},
    {'A', "A", "autostart the pool on/off", act_pool_autostart, "Toggle autostart", "autostart", 8,
     .when = WHEN_ANY},
    {'D', "D", "delete the pool: stop it, remove its empty directory, undefine it (asks first)",
     act_pool_delete, "Delete pool...", "delete pool", 5, .when = WHEN_ANY,
     .doc = "delete the pool (asks first): stop it, remove its empty directory with\n"
            ".BR pool\\-delete ,\nundefine it."},
    {'n', "n", "new volume in the pool (asks name, capacity, raw or qcow2; sparse)", act_vol_new,
     "New volume...", "new vol", 3, .when = WHEN_ANY},
    {'d', "d", "delete the volume (asks first)", act_vol_delete, "Delete volume...", "delete", 5,
     .when = WHEN_ANY},
    {'z', "z", "resize the volume (20G sets, +5G grows)", act_vol_resize, "Resize volume...",
     "resize", 6, .when = WHEN_ANY},
    {'w', "w", "wipe the volume: zeros over all of it (asks first; progress below)", act_vol_wipe,
     "Wipe volume...", "wipe", 6, .when = WHEN_ANY},
    {'u', "u", "upload a local file into the volume (asks the file, then first; progress below)",
     act_vol_upload, "Upload into volume...", "upload", 7, .when = WHEN_ANY},
    {':', ":", "command line: any batch verb (pool-info, vol-info ...)", act_command,
     "Command line...", "command", 3, .when = WHEN_ANY},
    {KEY_CTRL('l'), "Ctrl-L", "redraw and reload", act_redraw, .when = WHEN_ANY},
    {'q', "q, F10", "quit", act_quit, .when = WHEN_ANY},
    FKEY(10, act_quit, "Quit", 1),
    ALSO(KEY_RESIZE, act_resize),
    {0},
};

const struct key_binding keys_console[] = {
    {0, "other keys", "are sent to the guest", .label = "keys go to the guest", .prio = 1},
    {CONSOLE_ESCAPE, "Ctrl-]", "leave the console pane (back to the list)", act_console_leave,
     .label = "back to list", .prio = 1},
    {KEY_PPAGE, "PgUp/PgDn", "scroll the console's scrollback", act_console_scroll_up,
     .label = "scroll", .prio = 2},
    ALSO(KEY_NPAGE, act_console_scroll_down),
    {CONSOLE_SWITCH, "Ctrl-T", "switch to the graphical console", act_console_to_graphics,
     .label = "graphical", .prio = 2},
    ALSO(KEY_RESIZE, act_resize),
    ALSO(KEY_MOUSE, act_mouse),
    {0},
};

const struct key_binding keys_graphics[] = {
    {0, "other keys", "are sent to the guest as key presses",
     .label = "keys and pastes go to the guest", .prio = 1},
    {0, "paste", "pasted text is typed into the guest (US keyboard)", .when = WHEN_ANY},
    {CONSOLE_ESCAPE, "Ctrl-]", "leave the graphical console (back to the list)", act_graphics_leave,
     .label = "back to list", .prio = 1},
    {VIEWER_MENU, "Ctrl-G", "menu: send Ctrl-Alt-Del or Ctrl-Alt-F1..F12", act_graphics_menu,
     .label = "menu (Ctrl-Alt-Del, Ctrl-Alt-Fn)", .prio = 2},
    {CONSOLE_SWITCH, "Ctrl-T", "switch to the serial console", act_graphics_to_serial,
     .label = "serial", .prio = 2},
    ALSO(KEY_RESIZE, act_resize),
    ALSO(KEY_MOUSE, act_mouse),
    {0},
};

static bool row_end(const struct key_binding *b)
{
    return !b->key && !b->fn && !b->key_name;
}

static const struct key_binding *lookup(const struct key_binding *table, int key)
{
    for (const struct key_binding *b = table; !row_end(b); b++)
        if (b->key == key && b->fn)
            return b;
    return NULL;
}

/* The row that names FN (the one help lists): ALSO and FKEY rows share
 * its state rule. */
static const struct key_binding *named_row(const struct key_binding *table, action_fn fn)
{
    for (const struct key_binding *b = table; !row_end(b); b++)
        if (b->fn == fn && b->key_name)
            return b;
    return NULL;
}

static bool state_in(enum key_when when, enum domain_state s)
{
    switch (when) {
    case WHEN_INACTIVE:
        return s == DOMAIN_SHUTOFF || s == DOMAIN_CRASHED;
    case WHEN_ACTIVE:
        return s != DOMAIN_SHUTOFF && s != DOMAIN_CRASHED;
    case WHEN_SUSPENDABLE:
        return s == DOMAIN_RUNNING || s == DOMAIN_BLOCKED || s == DOMAIN_PAUSED;
    case WHEN_ANY:
        break;
    }
    return true;
}

/* Whether B applies to the selected domain (always, with no selection: the
 * action then says there is none). */
static bool row_applies(const struct app *a, const struct key_binding *table,
                        const struct key_binding *b)
{
    const struct key_binding *named = named_row(table, b->fn);
    enum key_when when = named ? named->when : b->when;
    const struct dom_item *it = domlist_selected((struct domlist *)&a->list);
    return when == WHEN_ANY || !it || state_in(when, it->state);
}

/* A key whose action does not apply: say why at once, ask nothing. */
static int refuse(struct app *a, const struct key_binding *table, const struct key_binding *b)
{
    const struct key_binding *named = named_row(table, b->fn);
    const struct dom_item *it = domlist_selected(&a->list);
    const char *what = named && named->menu ? named->menu : "that";
    char verb[64];
    snprintf(verb, sizeof(verb), "%s", what);
    char *dots = strstr(verb, "...");
    if (dots)
        *dots = '\0';
    app_message(a, true, "%s does not apply: '%s' is %s", verb, it->name,
                domain_state_name(it->state));
    return R_REDRAW;
}

bool keys_applies(const struct app *a, const struct key_binding *b)
{
    return row_applies(a, keys_current(a), b);
}

const struct key_binding *keys_current(const struct app *a)
{
    if (a->focus == FOCUS_CONSOLE)
        return keys_console;
    if (a->focus == FOCUS_GRAPHICS)
        return keys_graphics;
    return a->view == VIEW_STORAGE ? keys_storage : keys_list;
}

int keys_dispatch(struct app *a, int key)
{
    bool had_message = a->message[0] != '\0';
    if (a->focus == FOCUS_CONSOLE) {
        const struct key_binding *b = lookup(keys_console, key);
        return b ? b->fn(a) : act_console_send_key(a, key);
    }
    if (a->focus == FOCUS_GRAPHICS) {
        /* Inside a paste every byte is text, Ctrl-] included. */
        const struct key_binding *b = graphics_pasting(a) ? NULL : lookup(keys_graphics, key);
        return b ? b->fn(a) : act_graphics_key(a, key);
    }
    /* A message stays until the next key, as in less and htop. */
    if (key != KEY_RESIZE && key != KEY_MOUSE)
        a->message[0] = '\0';
    int r = R_NONE;
    bool storage = a->view == VIEW_STORAGE;
    const struct key_binding *table = storage ? keys_storage : keys_list;
    const struct key_binding *b = lookup(table, key);
    if (b && !row_applies(a, table, b))
        r = refuse(a, table, b);
    else if (b)
        r = b->fn(a);
    else if (!storage && key >= '1' && key < '1' + TAB_COUNT)
        r = act_tab_n(a, key);
    if (had_message && !a->message[0])
        r |= R_REDRAW;
    return r;
}

/* Enter: the rows of TABLE with a menu label that apply to the selected
 * domain, as "KEY  Label"; an entry runs as its key would, and its key
 * chooses it inside the menu too. */
static int menu_of(struct app *a, const struct key_binding *table, const char *title)
{
    enum { MAX = 32 };
    char labels[MAX][64];
    const char *items[MAX];
    int keys[MAX], n = 0;
    for (const struct key_binding *b = table; !row_end(b) && n < MAX; b++) {
        if (!b->menu || !row_applies(a, table, b))
            continue;
        snprintf(labels[n], sizeof(labels[n]), "%c  %s", b->key, b->menu);
        items[n] = labels[n];
        keys[n++] = b->key;
    }
    int choice = widget_menu_keys(a, title, items, keys, n);
    if (choice < 0)
        return R_REDRAW;
    return keys_dispatch(a, keys[choice]) | R_REDRAW;
}

int keys_menu(struct app *a)
{
    struct dom_item *it = domlist_selected(&a->list);
    char title[300];
    if (it)
        snprintf(title, sizeof(title), "%s (%s)", it->name, domain_state_name(it->state));
    else
        snprintf(title, sizeof(title), "actions");
    return menu_of(a, keys_list, title);
}

int keys_storage_menu(struct app *a)
{
    const struct inv_pool *p = storage_pool(&a->storage);
    char title[300];
    snprintf(title, sizeof(title), "pool %s", p ? p->name : "-");
    return menu_of(a, keys_storage, title);
}

static bool is_fkey(int key)
{
    return key >= KEY_F(1) && key <= KEY_F(12);
}

void keys_fkey_name(const struct key_binding *b, char *buf, size_t len)
{
    snprintf(buf, len, "F%d", b->key - KEY_F(0));
}

/* "?" of "?, F1": the key as the hint line shows it. */
static void hint_key(const struct key_binding *b, char *buf, size_t len)
{
    const char *name = b->key_name ? b->key_name : "";
    const char *comma = strstr(name, ", ");
    snprintf(buf, len, "%.*s", (int)(comma ? (size_t)(comma - name) : strlen(name)), name);
}

/* Which of N entries of WIDTHS (each with its priority) fit in WIDTH
 * columns: the most important first, equal ones in table order, until one
 * does not fit; none after it shows, so no entry is ever shown in place of
 * a more important one. */
static void fit(const int *widths, const int *prios, int n, int width, bool *keep)
{
    int used = 0;
    for (int p = 1; p <= 9; p++)
        for (int i = 0; i < n; i++) {
            if (prios[i] != p)
                continue;
            if (used + widths[i] > width)
                return;
            keep[i] = true;
            used += widths[i];
        }
}

void keys_hint_fit(const struct app *a, int width, char *buf, size_t len)
{
    enum { MAX = 40 };
    char text[MAX][96];
    int widths[MAX], prios[MAX], n = 0;
    bool keep[MAX] = {false};
    for (const struct key_binding *b = keys_current(a); !row_end(b) && n < MAX; b++) {
        if (!b->label || !b->prio || is_fkey(b->key) || !keys_applies(a, b))
            continue;
        char key[32] = "";
        if (b->key)
            hint_key(b, key, sizeof(key));
        snprintf(text[n], sizeof(text[n]), " %s%s%s ", key, key[0] ? " " : "", b->label);
        widths[n] = (int)strlen(text[n]);
        prios[n] = b->prio;
        n++;
    }
    fit(widths, prios, n, width, keep);
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && off < len; i++)
        if (keep[i])
            off += (size_t)snprintf(buf + off, len - off, "%s", text[i]);
}

int keys_fkeys_fit(const struct app *a, int width, const struct key_binding **out)
{
    const struct key_binding *rows[10];
    int widths[10], prios[10], n = 0;
    bool keep[10] = {false};
    for (int f = 1; f <= 10; f++)
        for (const struct key_binding *b = keys_current(a); !row_end(b); b++)
            if (b->key == KEY_F(f) && b->label && b->prio) {
                char name[8];
                keys_fkey_name(b, name, sizeof(name));
                widths[n] = (int)(strlen(name) + strlen(b->label)) + 1;
                prios[n] = b->prio;
                rows[n++] = b;
                break;
            }
    fit(widths, prios, n, width, keep);
    int k = 0;
    for (int i = 0; i < n; i++)
        if (keep[i])
            out[k++] = rows[i];
    out[k] = NULL;
    return k;
}

static void help_section(FILE *f, const char *title, const struct key_binding *table)
{
    fprintf(f, "%s\n", title);
    for (const struct key_binding *b = table; !row_end(b); b++)
        if (b->key_name && b->help)
            fprintf(f, "  %-14s %s\n", b->key_name, b->help);
    fprintf(f, "\n");
}

char *keys_help_text(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    help_section(f, "Domain list", keys_list);
    help_section(f, "Storage pane (S): pools above, the selected pool's volumes below",
                 keys_storage);
    help_section(f, "Console pane", keys_console);
    help_section(f, "Graphical console pane (and the full-screen view, G)", keys_graphics);
    fprintf(f, "Command line (':'): the same verbs as 'tvm VERB' and batch scripts\n");
    for (size_t i = 0; cmd_table[i]; i++)
        fprintf(f, "  %-18s %s\n", cmd_table[i]->name,
                cmd_table[i]->summary ? cmd_table[i]->summary : "");
    fclose(f);
    return text;
}

/* TEXT as roff running text: a minus sign is \-, a backslash \e, and a
 * line may not start with a control character. */
static void roff_escaped(FILE *f, const char *text)
{
    if (*text == '.' || *text == '\'')
        fputs("\\&", f);
    for (const char *c = text; *c; c++) {
        if (*c == '-')
            fputs("\\-", f);
        else if (*c == '\\')
            fputs("\\e", f);
        else
            fputc(*c, f);
    }
}

static void roff_section(FILE *f, const struct key_binding *table)
{
    bool first = true;
    for (const struct key_binding *b = table; !row_end(b); b++) {
        if (!b->key_name || !b->help)
            continue;
        fputs(first ? ".TP 16\n.B " : ".TP\n.B ", f);
        first = false;
        roff_escaped(f, b->key_name);
        fputc('\n', f);
        if (b->doc) {
            fprintf(f, "%s\n", b->doc);
        } else {
            roff_escaped(f, b->help);
            fputs(".\n", f);
        }
    }
}

int keys_roff(FILE *f, const char *section)
{
    static const struct {
        const char *name;
        const struct key_binding *table;
    } sections[] = {
        {"list", keys_list},
        {"storage", keys_storage},
        {"console", keys_console},
        {"graphics", keys_graphics},
    };
    for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
        if (!strcmp(section, sections[i].name)) {
            roff_section(f, sections[i].table);
            return 0;
        }
    return -1;
}
