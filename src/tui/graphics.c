/* The graphical console pane: the guest's screen (src/viewer) where the
 * serial console pane would be. curses draws the pane's frame and title
 * and leaves its inside blank; the viewer writes the picture there
 * straight to the terminal after curses' update (wrapped in DECSC/DECRC,
 * so curses' idea of the cursor holds), and again whenever the guest's
 * screen changes, without a curses frame. curses never rewrites cells it
 * believes unchanged, so the picture stays until something curses draws
 * covers it (a menu, a clear): then the whole pane is drawn again.
 *
 * The viewer's client runs on its own thread; the loop polls its fd
 * (graphics_fd) like the console socket's. Keys go to the guest as key
 * events; a bracketed paste is typed into it. */
#include "tui/app.h"
#include "core/base/err.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The keys curses returns for the terminal's bracketed-paste markers. */
#define KEY_PASTE_BEGIN (KEY_MAX + 1)
#define KEY_PASTE_END (KEY_MAX + 2)

void graphics_init(struct app *a)
{
    define_key("\033[200~", KEY_PASTE_BEGIN);
    define_key("\033[201~", KEY_PASTE_END);
    a->gv_mode = a->gv_mode ? a->gv_mode : VIEWER_MODE_256;
}

static void tty_write(struct app *a, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(a->tty_out, p, len);
        if (n <= 0)
            return; /* the terminal is gone; the loop sees it on input */
        p += n;
        len -= (size_t)n;
    }
}

static void bracketed_paste(struct app *a, bool on)
{
    tty_write(a, on ? "\033[?2004h" : "\033[?2004l", 8);
}

void graphics_close(struct app *a)
{
    if (a->gv) {
        viewer_close(a->gv);
        bracketed_paste(a, false);
    }
    a->gv = NULL;
    render_free(a->gv_render);
    a->gv_render = NULL;
    vbuf_free(&a->gv_paste);
    a->gv_pasting = false;
}

static int open_on(struct app *a, const char *uuid, const char *name)
{
    graphics_close(a);
    a->gv = viewer_open(uuid);
    if (!a->gv) {
        app_message(a, true, "%s", err_msg());
        return -1;
    }
    a->gv_render = render_new(a->gv_mode);
    snprintf(a->gv_name, sizeof a->gv_name, "%s", name);
    snprintf(a->gv_uuid, sizeof a->gv_uuid, "%s", uuid);
    a->gv_status[0] = '\0';
    bracketed_paste(a, true);
    a->focus = FOCUS_GRAPHICS;
    a->message[0] = '\0';
    return 0;
}

int act_graphics(struct app *a)
{
    struct dom_item *it = domlist_selected(&a->list);
    if (!it) {
        app_message(a, true, "no domain selected");
        return R_REDRAW;
    }
    open_on(a, it->uuid, it->name);
    return R_REDRAW;
}

int act_graphics_leave(struct app *a)
{
    graphics_close(a);
    a->focus = FOCUS_LIST;
    return R_REDRAW;
}

/* Ctrl-T in the serial console pane: the same guest's screen. */
int act_console_to_graphics(struct app *a)
{
    char uuid[UUID_STR_LEN], name[256];
    snprintf(uuid, sizeof uuid, "%s", a->con.uuid);
    snprintf(name, sizeof name, "%s", a->con.name);
    if (open_on(a, uuid, name) == 0)
        console_close(&a->con);
    return R_REDRAW;
}

/* Ctrl-T in the graphical pane: the same guest's serial console. */
int act_graphics_to_serial(struct app *a)
{
    if (console_open(&a->con, a->gv_uuid, a->gv_name) < 0) {
        app_message(a, true, "%s", err_msg());
        return R_REDRAW;
    }
    graphics_close(a);
    a->focus = FOCUS_CONSOLE;
    return R_REDRAW;
}

int act_graphics_menu(struct app *a)
{
    const char *items[VIEWER_MENU_N];
    for (int i = 0; i < VIEWER_MENU_N; i++)
        items[i] = viewer_menu_label(i);
    int choice = widget_menu(a, "send to the guest", items, VIEWER_MENU_N);
    if (choice >= 0 && a->gv) {
        viewer_menu_send(a->gv, choice);
        app_message(a, false, "sent %s to '%s'", items[choice], a->gv_name);
    }
    a->gv_invalidate = true; /* the menu was drawn over the picture */
    return R_REDRAW;
}

int act_graphics_key(struct app *a, int key)
{
    if (!a->gv)
        return R_HANDLED;
    if (key == KEY_PASTE_BEGIN) {
        a->gv_pasting = true;
        a->gv_paste.len = 0;
        return R_HANDLED;
    }
    if (key == KEY_PASTE_END) {
        if (a->gv_pasting && a->gv_paste.len)
            viewer_type(a->gv, a->gv_paste.p, a->gv_paste.len);
        a->gv_pasting = false;
        a->gv_paste.len = 0;
        return R_HANDLED;
    }
    if (a->gv_pasting) {
        if (key >= 0 && key < 256) {
            char c = (char)key;
            vbuf_add(&a->gv_paste, &c, 1);
        }
        return R_HANDLED;
    }
    viewer_send_key(a->gv, key);
    return R_HANDLED;
}

bool graphics_pasting(const struct app *a)
{
    return a->focus == FOCUS_GRAPHICS && a->gv_pasting;
}

int graphics_fd(const struct app *a)
{
    return a->gv ? viewer_fd(a->gv) : -1;
}

/* The pane's frame: a title with the viewer's state; the inside is the viewer's. */
void graphics_draw_pane(struct app *a, struct rect r)
{
    char title[600];
    snprintf(a->gv_status, sizeof a->gv_status, "%s", a->gv ? viewer_status(a->gv) : "closed");
    snprintf(title, sizeof title, "graphics: %s (%s)", a->gv_name, a->gv_status);
    draw_box(a, r, title);
    for (int i = 1; i < r.h; i++)
        draw_put(r.y + i, r.x, r.w, "", A_NORMAL);
    a->gv_area = (struct rect){r.y + 1, r.x, r.h - 1, r.w};
}

/* After curses' update: what changed of the guest's screen, to the terminal. */
void graphics_paint(struct app *a)
{
    if (a->focus != FOCUS_GRAPHICS || !a->gv || !a->gv_render)
        return;
    render_set_area(a->gv_render, a->gv_area.y, a->gv_area.x, a->gv_area.h, a->gv_area.w);
    if (a->gv_invalidate)
        render_invalidate(a->gv_render);
    a->gv_invalidate = false;
    struct vbuf out = {0};
    viewer_draw(a->gv, a->gv_render, &out);
    if (out.len)
        tty_write(a, out.p, out.len);
    vbuf_free(&out);
}

/* The viewer's fd was readable. */
void graphics_service(struct app *a)
{
    if (!a->gv)
        return;
    int r = viewer_service(a->gv);
    if (r < 0) {
        app_message(a, true, "%s", err_msg());
        graphics_close(a);
        a->focus = FOCUS_LIST;
        return;
    }
    if (strcmp(viewer_status(a->gv), a->gv_status) != 0)
        a->redraw = true; /* the title says the new state; the frame paints too */
    else if (r > 0 && !a->redraw && !a->in_dispatch)
        graphics_paint(
            a); /* (in_dispatch: a menu is open over the pane; the frame after it paints) */
}
