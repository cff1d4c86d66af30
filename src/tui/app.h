/* The TUI's state and the pieces that share it.
 *
 * Shape (after htop): key tables map keys to action functions that return
 * reaction flags; the loop polls stdin, the console socket and a timer,
 * reloads the list from the store on the timer and redraws only when a
 * reaction or a refresh asked for it. Dialogs and prompts run a nested loop
 * through app_wait_key(), which keeps the refresh and the console going.
 */
#ifndef TVM_TUI_APP_H
#define TVM_TUI_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/cmd/cmd.h"
#include "tui/console.h"
#include "tui/domlist.h"
#include "tui/host.h"
#include "tui/theme.h"

struct domain;

/* What an action asks the loop to do next. */
enum reaction {
    R_NONE = 0,
    R_HANDLED = 1 << 0,
    R_REDRAW = 1 << 1,
    R_REFRESH = 1 << 2, /* reload the list from the store now */
    R_QUIT = 1 << 3,
};

enum focus { FOCUS_LIST, FOCUS_CONSOLE };

enum details_tab { TAB_OVERVIEW, TAB_DISKS, TAB_NICS, TAB_GRAPHICS, TAB_BOOT, TAB_XML, TAB_COUNT };

struct rect {
    int y, x, h, w;
};

struct app;
typedef int (*action_fn)(struct app *a);

struct key_binding {
    int key;
    const char *key_name; /* as the help screen shows it */
    const char *help;
    action_fn fn;
};

struct details {
    char uuid[UUID_STR_LEN]; /* domain the cache is for */
    struct domain *dom;      /* parsed, NULL if the XML did not parse */
    char *xml;
    char parse_error[256];
    enum details_tab tab;
    int scroll;
    bool stale; /* reload on next draw */
};

struct layout {
    struct rect title, list, details, message, keys;
    bool side_by_side;
};

struct app {
    struct cmd_ctx *ctx;
    struct store *st;
    struct theme theme;
    struct host_info host;
    struct domlist list;
    struct details det;
    struct console con;
    struct layout lay;
    enum focus focus;
    bool utf8;
    bool redraw;
    bool quit;
    bool in_dispatch, nested_wait; /* a key's action ran a dialog (not timed by the bench) */
    char message[1024];
    bool message_error;
    int64_t last_refresh_ms;
    int64_t last_reload_ms;
    int64_t next_reconcile_ms;
    char db_stamp[128]; /* sizes and mtimes of the db and its WAL at the last reload */
    int64_t last_sample_ms;
    /* bench instrumentation (TVM_TUI_BENCH=FILE) */
    const char *bench_path;
    double start_us;
    double first_frame_us;
    double redraw_total_ms, redraw_max_ms;
    int redraw_max_key; /* the key behind the slowest redraw */
    unsigned redraw_count;
    double refresh_total_ms, refresh_max_ms;
    unsigned refresh_count;
};

/* tui.c: the loop */
int app_wait_key(struct app *a); /* next key; services refresh and console while waiting */
void app_message(struct app *a, bool error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int app_refresh(struct app *a, bool force); /* reconcile, reload if the store changed */
void app_suspend_screen(struct app *a);     /* before $EDITOR or a full-screen attach */
void app_resume_screen(struct app *a);

/* draw.c */
void draw_layout(struct app *a);
void draw_all(struct app *a);
int draw_list_rows(const struct app *a);                          /* visible list rows */
void draw_put(int y, int x, int w, const char *s, unsigned attr); /* clipped, padded */
void draw_box(const struct app *a, struct rect r, const char *title);

/* details.c */
void details_invalidate(struct app *a);
void details_load(struct app *a); /* fetch and parse the selected domain if needed */
void details_draw(struct app *a, struct rect r);
void details_free(struct details *d);
const char *details_tab_name(enum details_tab t);

/* widgets.c: one dialog/prompt/pager implementation used everywhere */
bool widget_confirm(struct app *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Line input in the message line. on_change (may be NULL) runs after each edit.
 * Returns true on Enter, false on Esc; buf holds the text either way. */
bool widget_prompt(struct app *a, const char *label, char *buf, size_t len,
                   void (*on_change)(struct app *a, const char *text));
void widget_pager(struct app *a, const char *title, const char *text);
/* A vertical menu; returns the chosen index or -1 (Esc). */
int widget_menu(struct app *a, const char *title, const char *const *items, int n);

/* actions.c */
extern const struct key_binding keys_list[];
extern const struct key_binding keys_console[];
int actions_dispatch(struct app *a, int key);
/* Run one command line through the command table with output captured; shows
 * a one-line result in the message line, longer output in the pager. */
int actions_run(struct app *a, bool show_output, int argc, const char **argv);
char *actions_help_text(void);

#endif
