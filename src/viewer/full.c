/* The full-screen view (`tvm vncviewer NAME`, `tvm console NAME
 * --graphics`, and the TUI's G, which runs the same verb): the guest's
 * screen on the whole terminal but its last row, a status line there.
 * One poll loop over the terminal and the viewer; the terminal's size is
 * read every turn, so a resize rescales at once. */
#include "viewer/viewer.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "core/base/err.h"

#define TURN_MS 250

struct full {
    struct viewer *v;
    struct render *r;
    const char *name;
    int out;
    bool done, menu;
    int rows, cols, cell_w, cell_h;
    char shown_status[512];
};

static void write_all(int fd, const char *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the terminal went away; the loop ends on its input */
        p += n;
        len -= (size_t)n;
    }
}

static void menu_pick(struct full *f, int key)
{
    f->menu = false;
    int i = -1;
    if (key == 'd' || key == 'D')
        i = 0;
    else if (key >= '1' && key <= '9')
        i = key - '0';
    else if (key == '0')
        i = 10;
    else if (key == '-')
        i = 11;
    else if (key == '=')
        i = 12;
    viewer_menu_send(f->v, i);
}

static void on_input(void *opaque, enum viewer_input_event ev, int key, const char *text,
                     size_t len)
{
    struct full *f = opaque;
    switch (ev) {
    case VIN_ESCAPE:
        f->done = true;
        break;
    case VIN_MENU:
        f->menu = !f->menu;
        break;
    case VIN_PASTE:
        viewer_type(f->v, text, len);
        break;
    case VIN_KEY:
        if (f->menu)
            menu_pick(f, key);
        else
            viewer_send_key(f->v, key);
        break;
    default:
        break;
    }
}

static void status_line(struct full *f, bool force)
{
    char line[512];
    if (f->menu)
        snprintf(line, sizeof line,
                 " menu: d Ctrl-Alt-Del   1..9 0 - = Ctrl-Alt-F1..F12   other keys: back");
    else
        snprintf(line, sizeof line, " %s: %s   Ctrl-] leave  Ctrl-G menu", f->name,
                 viewer_status(f->v));
    if (!force && !strcmp(line, f->shown_status))
        return;
    snprintf(f->shown_status, sizeof f->shown_status, "%s", line);
    struct vbuf b = {0};
    vbuf_printf(&b, "\0337\033[%d;1H\033[0;7m", f->rows);
    size_t n = strlen(line);
    if ((int)n > f->cols)
        n = (size_t)f->cols;
    vbuf_add(&b, line, n);
    for (int i = (int)n; i < f->cols; i++)
        vbuf_add(&b, " ", 1);
    vbuf_add(&b, "\033[0m\0338", 6);
    write_all(f->out, b.p, b.len);
    vbuf_free(&b);
}

/* The terminal's size; true when it changed. */
static bool read_size(struct full *f)
{
    struct winsize ws;
    if (ioctl(f->out, TIOCGWINSZ, &ws) < 0 || !ws.ws_row || !ws.ws_col)
        ws = (struct winsize){.ws_row = 24, .ws_col = 80};
    int cw = ws.ws_xpixel ? ws.ws_xpixel / ws.ws_col : 0,
        ch = ws.ws_ypixel ? ws.ws_ypixel / ws.ws_row : 0;
    if (ws.ws_row == f->rows && ws.ws_col == f->cols && cw == f->cell_w && ch == f->cell_h)
        return false;
    f->rows = ws.ws_row;
    f->cols = ws.ws_col;
    f->cell_w = cw;
    f->cell_h = ch;
    write_all(f->out, "\033[0m\033[2J", 8);
    render_set_cell_pixels(f->r, cw, ch);
    render_set_area(f->r, 0, 0, f->rows - 1, f->cols);
    return true;
}

static void draw(struct full *f)
{
    struct vbuf b = {0};
    viewer_draw(f->v, f->r, &b);
    if (b.len)
        write_all(f->out, b.p, b.len);
    vbuf_free(&b);
}

static int loop(struct full *f, int in)
{
    struct viewer_input input = {0};
    int rc = 0;
    while (!f->done) {
        bool resized = read_size(f);
        draw(f);
        status_line(f, resized);
        struct pollfd p[2] = {{.fd = in, .events = POLLIN},
                              {.fd = viewer_fd(f->v), .events = POLLIN}};
        if (poll(p, 2, TURN_MS) < 0) {
            if (errno == EINTR)
                continue;
            rc = err_errno("poll");
            break;
        }
        if (p[0].revents & (POLLIN | POLLHUP)) {
            unsigned char buf[4096];
            ssize_t n = read(in, buf, sizeof buf);
            if (n <= 0)
                break; /* the terminal is gone */
            viewer_input_feed(&input, buf, (size_t)n, on_input, f);
        }
        if ((p[1].revents & POLLIN) && viewer_service(f->v) < 0) {
            rc = -1; /* err_msg(): why the screen went away */
            break;
        }
    }
    vbuf_free(&input.paste);
    return rc;
}

int viewer_fullscreen(const char *uuid, const char *name, enum viewer_mode mode, int in_fd,
                      int out_fd)
{
    if (!isatty(in_fd) || !isatty(out_fd))
        return err_set("the graphical console needs a terminal");
    if (mode == VIEWER_MODE_AUTO)
        mode = viewer_probe(in_fd, out_fd, 500);
    struct full f = {.name = name, .out = out_fd};
    f.v = viewer_open(uuid);
    if (!f.v)
        return -1;
    f.r = render_new(mode);
    struct termios saved, raw;
    if (!f.r || tcgetattr(in_fd, &saved) < 0) {
        render_free(f.r);
        viewer_close(f.v);
        return err_set("the graphical console needs a terminal");
    }
    raw = saved;
    cfmakeraw(&raw);
    tcsetattr(in_fd, TCSANOW, &raw);
    /* the alternate screen, no cursor, bracketed paste */
    write_all(out_fd, "\033[?1049h\033[?25l\033[?2004h", 22);
    int rc = loop(&f, in_fd);
    if (render_mode(f.r) == VIEWER_MODE_KITTY)
        write_all(out_fd, "\033_Ga=d,d=A,q=2\033\\", 16);
    write_all(out_fd, "\033[0m\033[?2004l\033[?25h\033[?1049l", 26);
    tcsetattr(in_fd, TCSANOW, &saved);
    render_free(f.r);
    viewer_close(f.v);
    return rc;
}
