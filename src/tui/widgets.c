/* The one dialog, prompt and pager every action reuses. Each runs a nested
 * loop on app_wait_key(), so the list keeps refreshing behind it. */
#include "tui/app.h"
#include "tui/format.h"

#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KEY_ESC 27
#define KEY_CTRL(c) ((c)&0x1f)

/* Split text into at most max lines of at most w columns (word wrap not needed: messages are
 * short). */
static int wrap(const char *text, int w, char lines[][256], int max)
{
    int n = 0;
    const char *p = text;
    while (*p && n < max) {
        const char *nl = strchr(p, '\n');
        size_t seg = nl ? (size_t)(nl - p) : strlen(p);
        char buf[1024];
        snprintf(buf, sizeof(buf), "%.*s", (int)(seg < sizeof(buf) ? seg : sizeof(buf) - 1), p);
        const char *q = buf;
        do {
            size_t b = fmt_fit_bytes(q, w);
            if (b == 0 && *q)
                b = 1;
            snprintf(lines[n++], 256, "%.*s", (int)b, q);
            q += b;
        } while (*q && n < max);
        p = nl ? nl + 1 : p + seg;
    }
    return n;
}

/* A border: line drawing in a UTF-8 locale, plain ASCII otherwise. */
static void draw_frame(const struct app *a, int y, int x, int h, int w, unsigned attr)
{
    attrset(attr);
    chtype hl = a->utf8 ? ACS_HLINE : '-', vl = a->utf8 ? ACS_VLINE : '|';
    mvhline(y, x, hl, w);
    mvhline(y + h - 1, x, hl, w);
    mvvline(y, x, vl, h);
    mvvline(y, x + w - 1, vl, h);
    mvaddch(y, x, a->utf8 ? ACS_ULCORNER : '+');
    mvaddch(y, x + w - 1, a->utf8 ? ACS_URCORNER : '+');
    mvaddch(y + h - 1, x, a->utf8 ? ACS_LLCORNER : '+');
    mvaddch(y + h - 1, x + w - 1, a->utf8 ? ACS_LRCORNER : '+');
    attrset(A_NORMAL);
}

static void draw_dialog(struct app *a, const char *text, const char *keys)
{
    int w = COLS - 8 > 70 ? 70 : COLS - 8;
    if (w < 20)
        w = COLS;
    char lines[12][256];
    int n = wrap(text, w - 4, lines, 10);
    int h = n + 4;
    int y = (LINES - h) / 2, x = (COLS - w) / 2;
    if (y < 0)
        y = 0;
    unsigned attr = theme_attr(ROLE_DIALOG);
    for (int i = 0; i < h && y + i < LINES; i++)
        draw_put(y + i, x, w, "", attr);
    draw_frame(a, y, x, h, w, attr);
    for (int i = 0; i < n; i++)
        draw_put(y + 1 + i, x + 2, w - 4, lines[i], attr);
    draw_put(y + h - 2, x + 2, w - 4, keys, attr | A_BOLD);
    wnoutrefresh(stdscr);
    doupdate();
}

bool widget_confirm(struct app *a, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    bool answer = false;
    for (bool done = false; !done && !a->quit;) {
        draw_all(a);
        draw_dialog(a, text, "[y] yes   [n] no");
        a->redraw = false;
        int key = app_wait_key(a);
        if (key == 'y' || key == 'Y')
            answer = done = true;
        else if (key == 'n' || key == 'N' || key == KEY_ESC || key == 'q')
            done = true;
    }
    a->redraw = true;
    return answer;
}

bool widget_prompt(struct app *a, const char *label, char *buf, size_t len,
                   void (*on_change)(struct app *a, const char *text))
{
    size_t n = strlen(buf);
    curs_set(1);
    bool ok = false;
    for (bool done = false; !done && !a->quit;) {
        if (a->redraw) {
            draw_all(a);
            a->redraw = false;
        }
        char line[1200];
        snprintf(line, sizeof(line), "%s%s", label, buf);
        int y = a->lay.message.y;
        draw_put(y, 0, COLS, line, theme_attr(ROLE_FILTER));
        int cx = fmt_fit(line, COLS - 1);
        move(y, cx);
        wnoutrefresh(stdscr);
        doupdate();
        int key = app_wait_key(a);
        if (key < 0)
            continue;
        bool changed = false;
        if (key == '\r' || key == '\n' || key == KEY_ENTER) {
            ok = done = true;
        } else if (key == KEY_ESC) {
            done = true;
        } else if (key == KEY_BACKSPACE || key == 127 || key == KEY_CTRL('h')) {
            /* Drop a whole UTF-8 character. */
            while (n > 0 && ((unsigned char)buf[n - 1] & 0xc0) == 0x80)
                n--;
            if (n > 0)
                n--;
            buf[n] = '\0';
            changed = true;
        } else if (key == KEY_CTRL('u')) {
            n = 0;
            buf[0] = '\0';
            changed = true;
        } else if (key == KEY_RESIZE) {
            a->redraw = true;
        } else if (key >= 0x20 && key < 0x100 && key != 127 && n + 1 < len) {
            buf[n++] = (char)key;
            buf[n] = '\0';
            changed = true;
        }
        if (changed && on_change) {
            on_change(a, buf);
            a->redraw = true;
        }
    }
    curs_set(0);
    a->redraw = true;
    return ok;
}

void widget_pager(struct app *a, const char *title, const char *text)
{
    /* Index the lines once; the text is not copied. */
    size_t n = 0, cap = 64;
    const char **lines = malloc(cap * sizeof(*lines));
    int *lens = malloc(cap * sizeof(*lens));
    for (const char *p = text; lines && lens && p && *p;) {
        if (n == cap) {
            cap *= 2;
            const char **nl = realloc(lines, cap * sizeof(*lines));
            int *nls = realloc(lens, cap * sizeof(*lens));
            if (nl)
                lines = nl;
            if (nls)
                lens = nls;
            if (!nl || !nls)
                break;
        }
        const char *e = strchr(p, '\n');
        lines[n] = p;
        lens[n++] = e ? (int)(e - p) : (int)strlen(p);
        p = e ? e + 1 : NULL;
    }
    int top = 0;
    for (bool done = false; !done && !a->quit && lines && lens;) {
        int rows = LINES - 2;
        int max_top = (int)n > rows ? (int)n - rows : 0;
        if (top > max_top)
            top = max_top;
        if (top < 0)
            top = 0;
        char head[512];
        snprintf(head, sizeof(head), " %s  (%d-%d of %zu)  q/Esc close  arrows/PgUp/PgDn scroll",
                 title, n ? top + 1 : 0, top + rows < (int)n ? top + rows : (int)n, n);
        draw_put(0, 0, COLS, head, theme_attr(ROLE_TITLE));
        for (int i = 0; i < rows; i++) {
            char buf[1024] = "";
            if ((size_t)(top + i) < n)
                snprintf(buf, sizeof(buf), "%.*s", lens[top + i], lines[top + i]);
            draw_put(1 + i, 0, COLS, buf, theme_attr(ROLE_ROW));
        }
        draw_put(LINES - 1, 0, COLS, " q close", theme_attr(ROLE_HELP_TEXT));
        wnoutrefresh(stdscr);
        doupdate();
        a->redraw = false;
        int key = app_wait_key(a);
        switch (key) {
        case 'q':
        case KEY_ESC:
        case '\r':
        case '\n':
        case KEY_ENTER:
            done = true;
            break;
        case KEY_UP:
        case 'k':
            top--;
            break;
        case KEY_DOWN:
        case 'j':
            top++;
            break;
        case KEY_PPAGE:
            top -= rows;
            break;
        case KEY_NPAGE:
        case ' ':
            top += rows;
            break;
        case KEY_HOME:
        case 'g':
            top = 0;
            break;
        case KEY_END:
        case 'G':
            top = max_top;
            break;
        default:
            break;
        }
    }
    free(lines);
    free(lens);
    a->redraw = true;
}

int widget_menu(struct app *a, const char *title, const char *const *items, int n)
{
    return widget_menu_keys(a, title, items, NULL, n);
}

/* The first item shown, so that SEL is among the ROWS shown from it. */
static int menu_scroll(int top, int sel, int rows, int n)
{
    if (sel < top)
        top = sel;
    if (sel >= top + rows)
        top = sel - rows + 1;
    if (top > n - rows)
        top = n - rows;
    return top < 0 ? 0 : top;
}

int widget_menu_keys(struct app *a, const char *title, const char *const *items, const int *hotkeys,
                     int n)
{
    int sel = 0, top = 0;
    if (n <= 0)
        return -1;
    for (;;) {
        if (a->quit)
            return -1;
        draw_all(a);
        a->redraw = false;
        int w = (int)strlen(title) + 2; /* the title shows whole where the screen allows */
        for (int i = 0; i < n; i++)
            if ((int)strlen(items[i]) > w)
                w = (int)strlen(items[i]);
        w = w + 6 < COLS ? w + 6 : COLS;
        int h = n + 2 < LINES ? n + 2 : LINES;
        int rows = h - 2 > 0 ? h - 2 : 1;
        top = menu_scroll(top, sel, rows, n);
        int y = (LINES - h) / 2, x = (COLS - w) / 2;
        unsigned attr = theme_attr(ROLE_DIALOG);
        for (int i = 0; i < h; i++)
            draw_put(y + i, x, w, "", attr);
        draw_frame(a, y, x, h, w, attr);
        char head[128];
        snprintf(head, sizeof(head), " %s ", title);
        draw_put(y, x + 2, fmt_fit(head, w - 4), head, attr | A_BOLD);
        /* Where entries are out of sight, the frame says so. */
        if (top > 0)
            draw_put(y, x + w - 5, 3, a->utf8 ? " \u25b2 " : " ^ ", attr | A_BOLD);
        if (top + rows < n)
            draw_put(y + h - 1, x + w - 5, 3, a->utf8 ? " \u25bc " : " v ", attr | A_BOLD);
        for (int i = 0; i < rows && top + i < n; i++)
            draw_put(y + 1 + i, x + 2, w - 4, items[top + i],
                     top + i == sel ? theme_attr(ROLE_ROW_SELECTED) : attr);
        wnoutrefresh(stdscr);
        doupdate();
        int key = app_wait_key(a);
        for (int i = 0; hotkeys && key > 0 && i < n; i++)
            if (hotkeys[i] == key)
                return i;
        if (key == KEY_UP || key == 'k')
            sel = (sel + n - 1) % n;
        else if (key == KEY_DOWN || key == 'j')
            sel = (sel + 1) % n;
        else if (key == KEY_PPAGE)
            sel = sel > rows ? sel - rows : 0;
        else if (key == KEY_NPAGE)
            sel = sel + rows < n ? sel + rows : n - 1;
        else if (key == KEY_HOME)
            sel = 0;
        else if (key == KEY_END)
            sel = n - 1;
        else if (key == '\r' || key == '\n' || key == KEY_ENTER)
            return sel;
        else if (key == KEY_ESC || key == 'q')
            return -1;
    }
}
