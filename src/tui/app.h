/* The TUI's state and the pieces that share it.
 *
 * Shape (after htop): one key table maps keys to action functions that
 * return reaction flags, and the same table builds the Enter menu and the
 * '?' help (keys.c). The loop polls the terminal, the console socket, the
 * workers' pipe and a timer, and redraws only when something changed.
 * Anything that can take long (a command, reconciling the guests) runs on
 * a worker thread (worker.h, jobs.c) and comes back through the loop, so a
 * key is answered within one frame while a guest starts. Dialogs and
 * prompts run a nested loop through app_wait_key(), which keeps results,
 * refreshes and the console going.
 */
#ifndef TVM_TUI_APP_H
#define TVM_TUI_APP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "core/cmd/cmd.h"
#include "tui/console.h"
#include "tui/domlist.h"
#include "tui/host.h"
#include "tui/storage.h"
#include "tui/theme.h"
#include "tui/worker.h"
#include "viewer/viewer.h"

struct domain;

/* What an action asks the loop to do next. */
enum reaction {
    R_NONE = 0,
    R_HANDLED = 1 << 0,
    R_REDRAW = 1 << 1,
    R_REFRESH = 1 << 2, /* reconcile and reload the list now (on the refresh worker) */
    R_QUIT = 1 << 3,
};

enum focus { FOCUS_LIST, FOCUS_CONSOLE, FOCUS_GRAPHICS };

/* What the body of the screen lists: the domains, or the storage pane (S). */
enum view { VIEW_DOMAINS, VIEW_STORAGE };

/* How far the command worker's long work got (cmd_progress), for the
 * status line; written on the worker, read on the UI thread. */
struct job_progress {
    pthread_mutex_t mu;
    char what[256]; /* "wiping web.img" */
    uint64_t done, total;
    unsigned pct;
    bool active;  /* between the first figure and cmd_progress_end */
    bool changed; /* the UI has not drawn it yet */
};

enum details_tab { TAB_OVERVIEW, TAB_DISKS, TAB_NICS, TAB_GRAPHICS, TAB_BOOT, TAB_XML, TAB_COUNT };

struct rect {
    int y, x, h, w;
};

struct app;
typedef int (*action_fn)(struct app *a);

/* Which domain states an action applies to: the menu offers it only then,
 * and its key refuses at once otherwise (no question first). */
enum key_when {
    WHEN_ANY = 0,
    WHEN_INACTIVE,   /* shut off or crashed: start */
    WHEN_ACTIVE,     /* has a tvm-vmm: shutdown, reboot, reset, destroy */
    WHEN_SUSPENDABLE /* running or paused: suspend / resume */
};

/* One row of the key table: the key, how help names it (NULL for the
 * second key of a pair, shown with the first), what it does, its label in
 * the Enter menu (NULL: not in the menu), its short label on the hint line
 * (or, for a function key, on the key bar) with that label's priority (1
 * is kept longest when the line is too narrow; 0: not shown), and the
 * domain states it applies to. tvm(1)'s key lists are generated from the
 * same rows (keys_roff): the help, or DOC where the page says more (roff
 * source, one sentence or more, ending with its full stop). */
struct key_binding {
    int key;
    const char *key_name;
    const char *help;
    action_fn fn;
    const char *menu;
    const char *label;
    int prio;
    enum key_when when;
    const char *doc;
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

#define APP_BUSY_MAX 8

struct app {
    struct cmd_ctx *ctx; /* the UI thread's own (and its store connection) */
    struct done_list done;
    struct worker cmd_worker;     /* commands from keys and ':', in order */
    struct worker refresh_worker; /* reconcile + list, so a start does not hold the list */
    bool refresh_inflight, refresh_again, refresh_again_force;
    char busy[APP_BUSY_MAX][128]; /* commands submitted and not back yet, oldest first */
    int nbusy;
    char *pending_pager; /* a result to show in the pager once no dialog is open */
    char pending_title[64];
    /* While the TUI owns the terminal, curses talks to dups of it and fds
     * 0/1/2 are /dev/null and a scratch file, so no command or library
     * message can write over the screen or read the keyboard. */
    int tty_in, tty_out;
    int saved_fd[3];
    int stray_fd;
    long long stray_off;
    struct theme theme;
    struct host_info host;
    struct domlist list;
    struct details det;
    enum view view;
    struct storage storage;
    struct job_progress progress;
    struct console con;
    /* the graphical console pane (graphics.c) */
    struct viewer *gv;
    struct render *gv_render;
    enum viewer_mode gv_mode; /* what the terminal draws, asked before curses started */
    char gv_name[256], gv_uuid[UUID_STR_LEN], gv_status[256];
    struct rect gv_area;  /* the pane's inside */
    bool gv_invalidate;   /* something covered the picture: draw it all again */
    bool gv_pasting;      /* between the terminal's paste markers */
    struct vbuf gv_paste; /* what was pasted so far */
    struct layout lay;
    enum focus focus;
    bool utf8;
    bool redraw;
    bool quit;
    bool in_dispatch, nested_wait; /* a key's action ran a dialog (not timed by the bench) */
    char message[1024];
    bool message_error;
    int64_t last_refresh_ms;
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
/* Ask the refresh worker to reconcile and reload (force: now, and list even
 * if the store looks unchanged); samples /proc at once. */
int app_refresh(struct app *a, bool force);
void app_suspend_screen(struct app *a); /* before $EDITOR or a full-screen attach */
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
/* A vertical menu; returns the chosen index or -1 (Esc). It scrolls to keep
 * the selection visible. hotkeys (may be NULL) holds the key shown on each
 * item (0: none); pressing it chooses that item at once. */
int widget_menu(struct app *a, const char *title, const char *const *items, int n);
int widget_menu_keys(struct app *a, const char *title, const char *const *items,
                     const int *hotkeys, int n);

/* keys.c: the key table and what it drives */
extern const struct key_binding keys_list[];
extern const struct key_binding keys_console[];
extern const struct key_binding keys_graphics[];
int keys_dispatch(struct app *a, int key);
int keys_menu(struct app *a); /* Enter: the table's menu entries */
char *keys_help_text(void);
/* The key list of one of tvm(1)'s sections as roff .TP paragraphs: SECTION
 * "list", "storage", "console" or "graphics". -1 for another name. */
int keys_roff(FILE *f, const char *section);
/* The table the keys go to now (focus and view). */
const struct key_binding *keys_current(const struct app *a);
/* Whether a row of keys_current() applies to the selected domain's state. */
bool keys_applies(const struct app *a, const struct key_binding *b);
/* The hint line and the function-key bar, built from keys_current()'s
 * labels: as many entries as fit in WIDTH columns, the lower priorities
 * dropped first, in table order. fkeys_fit: the F-key rows (F1 first)
 * that fit, NULL-terminated, in OUT (room for 11). */
void keys_hint_fit(const struct app *a, int width, char *buf, size_t len);
int keys_fkeys_fit(const struct app *a, int width, const struct key_binding **out);
/* The text of an F-key bar entry: "F2" for KEY_F(2). */
void keys_fkey_name(const struct key_binding *b, char *buf, size_t len);

/* jobs.c: commands and refreshes on the workers */
int jobs_start(struct app *a);
void jobs_stop(struct app *a);
/* Run one command line through the command table on the command worker
 * with its output captured; the status line says what is running. The
 * result comes back through the loop: a one-line result in the message
 * line, longer output in the pager (show_output) or the message line. */
int actions_run(struct app *a, bool show_output, int argc, const char **argv);
/* Several command lines in order, stopping at the first that fails: WORDS
 * holds each line's words, a NULL after each line and one more at the end.
 * LABEL (NULL: from the first verb) is what the status line says meanwhile. */
int actions_run_steps(struct app *a, const char *label, bool show_output,
                      const char *const *words);
void jobs_submit_refresh(struct app *a, bool force);
void jobs_collect(struct app *a);      /* take finished jobs and show them */
void jobs_show_pending(struct app *a); /* the pager for a result, outside dialogs */
/* The scratch file behind fds 1/2: what was written there since last asked. */
char *app_take_stray(struct app *a);

/* actions.c: what keys do on the list and in the console pane */
int act_up(struct app *a);
int act_down(struct app *a);
int act_pgup(struct app *a);
int act_pgdn(struct app *a);
int act_home(struct app *a);
int act_end(struct app *a);
int act_next_tab(struct app *a);
int act_prev_tab(struct app *a);
int act_tab_n(struct app *a, int key);
int act_details_up(struct app *a);
int act_details_down(struct app *a);
int act_sort_next(struct app *a);
int act_sort_prev(struct app *a);
int act_sort_invert(struct app *a);
int act_filter(struct app *a);
int act_clear_filter(struct app *a);
int act_start(struct app *a);
int act_shutdown(struct app *a);
int act_reboot(struct app *a);
int act_destroy(struct app *a);
int act_reset(struct app *a);
int act_undefine(struct app *a);
int act_pause(struct app *a);
int act_define(struct app *a);
int act_clone(struct app *a);
int act_console(struct app *a);
int act_console_leave(struct app *a);
int act_console_scroll_up(struct app *a);
int act_console_scroll_down(struct app *a);
int act_console_send_key(struct app *a, int key);
int act_help(struct app *a);
int act_theme(struct app *a); /* t, and :theme [NAME] */
int act_command(struct app *a);
int act_quit(struct app *a);
int act_redraw(struct app *a);
int act_resize(struct app *a);
int act_mouse(struct app *a);

/* storage.c, storage-actions.c: the storage pane */
extern const struct key_binding keys_storage[];
void storage_draw(struct app *a, struct rect details);
int storage_pool_rows(const struct app *a);
int act_storage(struct app *a); /* S: show or leave the pane */
int act_storage_up(struct app *a);
int act_storage_down(struct app *a);
int act_storage_home(struct app *a);
int act_storage_end(struct app *a);
int act_storage_switch(struct app *a); /* Tab: pools <-> volumes */
int act_pool_new(struct app *a);
int act_pool_start(struct app *a);
int act_pool_stop(struct app *a);
int act_pool_refresh(struct app *a);
int act_pool_autostart(struct app *a);
int act_pool_delete(struct app *a);
int act_vol_new(struct app *a);
int act_vol_delete(struct app *a);
int act_vol_resize(struct app *a);
int act_vol_wipe(struct app *a);
int act_vol_upload(struct app *a);
int keys_storage_menu(struct app *a);

/* snapshots.c: the selected domain's snapshot tree, take/revert/delete */
int act_snapshots(struct app *a);

/* handover.c: actions that give the terminal to something else */
int act_edit(struct app *a);         /* $EDITOR through core's edit loop */
int act_console_full(struct app *a); /* `tvm console` on the whole terminal */
int act_graphics_full(struct app *a); /* `tvm vncviewer` on the whole terminal */

/* graphics.c: the graphical console pane */
void graphics_init(struct app *a); /* once curses runs */
void graphics_close(struct app *a);
int graphics_fd(const struct app *a); /* -1 when closed */
void graphics_service(struct app *a); /* its fd was readable */
void graphics_draw_pane(struct app *a, struct rect r);
void graphics_paint(struct app *a); /* after curses' update */
bool graphics_pasting(const struct app *a);
int act_graphics(struct app *a);
int act_graphics_leave(struct app *a);
int act_graphics_menu(struct app *a);
int act_graphics_to_serial(struct app *a);
int act_console_to_graphics(struct app *a);
int act_graphics_key(struct app *a, int key);

#endif
