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
#define CONSOLE_ESCAPE 0x1d /* Ctrl-], as virsh console */
#define CONSOLE_SWITCH KEY_CTRL('t') /* serial <-> graphical console */

/* A second key for the row above it: bound, not listed again. */
#define ALSO(k, fn)                                                                                \
    {                                                                                              \
        k, NULL, NULL, fn, NULL                                                                    \
    }

const struct key_binding keys_list[] = {
    {KEY_UP, "Up/Down, j/k", "move the selection", act_up, NULL},
    ALSO('k', act_up),
    ALSO(KEY_DOWN, act_down),
    ALSO('j', act_down),
    {KEY_PPAGE, "PgUp/PgDn", "page through the list", act_pgup, NULL},
    ALSO(KEY_NPAGE, act_pgdn),
    {KEY_HOME, "Home/End", "first/last domain", act_home, NULL},
    ALSO(KEY_END, act_end),
    {'\t', "Tab/Shift-Tab", "next/previous details tab (also Right/Left)", act_next_tab, NULL},
    ALSO(KEY_BTAB, act_prev_tab),
    ALSO(KEY_RIGHT, act_next_tab),
    ALSO(KEY_LEFT, act_prev_tab),
    {'\r', "Enter", "menu of the actions on the selected domain", keys_menu, NULL},
    ALSO(KEY_ENTER, keys_menu),
    {'1', "1..6", "details tab: overview, disks, NICs, graphics/console, boot, XML", NULL, NULL},
    {'[', "[ ]", "scroll the details pane (the XML tab)", act_details_up, NULL},
    ALSO(']', act_details_down),
    {'s', "s, F2", "start the domain", act_start, "Start"},
    ALSO(KEY_F(2), act_start),
    {'h', "h, F3", "shut down (ACPI power button)", act_shutdown, "Shut down"},
    ALSO(KEY_F(3), act_shutdown),
    {'r', "r", "reboot", act_reboot, "Reboot"},
    {'R', "R", "reset (asks first)", act_reset, "Reset..."},
    {'p', "p", "suspend / resume", act_pause, "Suspend / resume"},
    {'D', "D, F8", "destroy: power off at once (asks first)", act_destroy, "Destroy..."},
    ALSO(KEY_F(8), act_destroy),
    {'c', "c, F5", "console pane (Ctrl-] back to the list)", act_console, "Console pane"},
    ALSO(KEY_F(5), act_console),
    {'C', "C", "full-screen console, as 'tvm console' (Ctrl-] detaches)", act_console_full,
     "Full-screen console"},
    {'g', "g", "graphical console pane: the guest's screen (Ctrl-] back)", act_graphics,
     "Graphical console pane"},
    {'G', "G", "full-screen graphical console, as 'tvm vncviewer' (Ctrl-] leaves)",
     act_graphics_full, "Full-screen graphical console"},
    {'e', "e, F7", "edit the XML in $EDITOR, as 'tvm edit'", act_edit, "Edit XML"},
    ALSO(KEY_F(7), act_edit),
    {'T', "T", "snapshots: the tree; take, revert, delete (asks first)", act_snapshots,
     "Snapshots..."},
    {'u', "u, F9", "undefine (asks first)", act_undefine, "Undefine..."},
    ALSO(KEY_F(9), act_undefine),
    {'S', "S", "storage pane: pools and their volumes (S or Esc back)", act_storage,
     "Storage pools and volumes"},
    {'y', "y", "clone the domain: asks the new name, then a full or linked copy", act_clone,
     "Clone..."},
    {'a', "a", "define a domain from an XML file", act_define, "Define from file..."},
    {':', ":", "command line: any batch verb (list, dominfo, net-list ...)", act_command,
     "Command line..."},
    {'/', "/, F4", "filter by name (Enter keeps, Esc clears)", act_filter, NULL},
    ALSO(KEY_F(4), act_filter),
    {KEY_ESC, "Esc", "clear the filter", act_clear_filter, NULL},
    {'>', "> <, F6", "sort by the next/previous column", act_sort_next, NULL},
    ALSO('.', act_sort_next),
    ALSO(KEY_F(6), act_sort_next),
    ALSO('<', act_sort_prev),
    ALSO(',', act_sort_prev),
    {'I', "I", "invert the sort order", act_sort_invert, NULL},
    {'?', "?, F1", "this help", act_help, NULL},
    ALSO(KEY_F(1), act_help),
    {KEY_CTRL('l'), "Ctrl-L", "redraw and reload", act_redraw, NULL},
    {'q', "q, F10", "quit", act_quit, NULL},
    ALSO(KEY_F(10), act_quit),
    ALSO(KEY_RESIZE, act_resize),
    {KEY_MOUSE, "mouse", "click a row to select it, click a tab, wheel scrolls", act_mouse, NULL},
    {0, NULL, NULL, NULL, NULL},
};

const struct key_binding keys_storage[] = {
    {KEY_UP, "Up/Down, j/k", "move the selection (pools, or volumes after Tab)", act_storage_up,
     NULL},
    ALSO('k', act_storage_up),
    ALSO(KEY_DOWN, act_storage_down),
    ALSO('j', act_storage_down),
    {KEY_HOME, "Home/End", "first/last row", act_storage_home, NULL},
    ALSO(KEY_END, act_storage_end),
    {'\t', "Tab", "move between the pools and the selected pool's volumes (also Right/Left)",
     act_storage_switch, NULL},
    ALSO(KEY_BTAB, act_storage_switch),
    ALSO(KEY_RIGHT, act_storage_switch),
    ALSO(KEY_LEFT, act_storage_switch),
    {'\r', "Enter", "menu of the storage actions", keys_storage_menu, NULL},
    ALSO(KEY_ENTER, keys_storage_menu),
    {'N', "N", "new directory pool (asks its name and directory; built and started)",
     act_pool_new, "New directory pool..."},
    {'s', "s", "start the pool", act_pool_start, "Start pool"},
    {'x', "x", "stop the pool (pool-destroy: its volumes stay on disk)", act_pool_stop,
     "Stop pool"},
    {'r', "r", "refresh the pool: find volumes made by others", act_pool_refresh, "Refresh pool"},
    {'A', "A", "autostart the pool on/off", act_pool_autostart, "Toggle autostart"},
    {'D', "D", "delete the pool: stop it, remove its empty directory, undefine it (asks first)",
     act_pool_delete, "Delete pool..."},
    {'n', "n", "new volume in the pool (asks name, capacity, raw or qcow2; sparse)", act_vol_new,
     "New volume..."},
    {'d', "d", "delete the volume (asks first)", act_vol_delete, "Delete volume..."},
    {'z', "z", "resize the volume (20G sets, +5G grows)", act_vol_resize, "Resize volume..."},
    {'w', "w", "wipe the volume: zeros over all of it (asks first; progress below)",
     act_vol_wipe, "Wipe volume..."},
    {':', ":", "command line: any batch verb (pool-info, vol-info ...)", act_command,
     "Command line..."},
    {'S', "S, Esc", "back to the domain list", act_storage, NULL},
    ALSO(KEY_ESC, act_storage),
    {'?', "?, F1", "this help", act_help, NULL},
    ALSO(KEY_F(1), act_help),
    {KEY_CTRL('l'), "Ctrl-L", "redraw and reload", act_redraw, NULL},
    {'q', "q, F10", "quit", act_quit, NULL},
    ALSO(KEY_F(10), act_quit),
    ALSO(KEY_RESIZE, act_resize),
    {0, NULL, NULL, NULL, NULL},
};

const struct key_binding keys_console[] = {
    {CONSOLE_ESCAPE, "Ctrl-]", "leave the console pane (back to the list)", act_console_leave,
     NULL},
    {KEY_PPAGE, "PgUp/PgDn", "scroll the console's scrollback", act_console_scroll_up, NULL},
    ALSO(KEY_NPAGE, act_console_scroll_down),
    {CONSOLE_SWITCH, "Ctrl-T", "switch to the graphical console", act_console_to_graphics, NULL},
    ALSO(KEY_RESIZE, act_resize),
    ALSO(KEY_MOUSE, act_mouse),
    {0, "other keys", "are sent to the guest", NULL, NULL},
    {0, NULL, NULL, NULL, NULL},
};

const struct key_binding keys_graphics[] = {
    {CONSOLE_ESCAPE, "Ctrl-]", "leave the graphical console (back to the list)",
     act_graphics_leave, NULL},
    {VIEWER_MENU, "Ctrl-G", "menu: send Ctrl-Alt-Del or Ctrl-Alt-F1..F12", act_graphics_menu,
     NULL},
    {CONSOLE_SWITCH, "Ctrl-T", "switch to the serial console", act_graphics_to_serial, NULL},
    ALSO(KEY_RESIZE, act_resize),
    ALSO(KEY_MOUSE, act_mouse),
    {0, "paste", "pasted text is typed into the guest (US keyboard)", NULL, NULL},
    {0, "other keys", "are sent to the guest as key presses", NULL, NULL},
    {0, NULL, NULL, NULL, NULL},
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
    const struct key_binding *b = lookup(storage ? keys_storage : keys_list, key);
    if (b)
        r = b->fn(a);
    else if (!storage && key >= '1' && key < '1' + TAB_COUNT)
        r = act_tab_n(a, key);
    if (had_message && !a->message[0])
        r |= R_REDRAW;
    return r;
}

/* Enter: every row of TABLE with a menu label, as "KEY  Label"; an entry
 * runs as its key would. */
static int menu_of(struct app *a, const struct key_binding *table, const char *title)
{
    enum { MAX = 32 };
    char labels[MAX][64];
    const char *items[MAX];
    int keys[MAX], n = 0;
    for (const struct key_binding *b = table; !row_end(b) && n < MAX; b++) {
        if (!b->menu)
            continue;
        snprintf(labels[n], sizeof(labels[n]), "%c  %s", b->key, b->menu);
        items[n] = labels[n];
        keys[n++] = b->key;
    }
    int choice = widget_menu(a, title, items, n);
    if (choice < 0)
        return R_REDRAW;
    return keys_dispatch(a, keys[choice]) | R_REDRAW;
}

int keys_menu(struct app *a)
{
    struct dom_item *it = domlist_selected(&a->list);
    char title[300];
    snprintf(title, sizeof(title), "%s", it ? it->name : "actions");
    return menu_of(a, keys_list, title);
}

int keys_storage_menu(struct app *a)
{
    const struct inv_pool *p = storage_pool(&a->storage);
    char title[300];
    snprintf(title, sizeof(title), "pool %s", p ? p->name : "-");
    return menu_of(a, keys_storage, title);
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
    help_section(f, "Storage pane (S): pools above, the selected pool's volumes below", keys_storage);
    help_section(f, "Console pane", keys_console);
    help_section(f, "Graphical console pane (and the full-screen view, G)", keys_graphics);
    fprintf(f, "Command line (':'): the same verbs as 'tvm VERB' and batch scripts\n");
    for (size_t i = 0; cmd_table[i]; i++)
        fprintf(f, "  %-18s %s\n", cmd_table[i]->name,
                cmd_table[i]->summary ? cmd_table[i]->summary : "");
    fclose(f);
    return text;
}
