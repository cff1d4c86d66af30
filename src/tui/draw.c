/* Screen layout and the parts drawn every frame: title, list, message line,
 * function-key bar. The details and console panes draw themselves. */
#include "tui/app.h"
#include "tui/format.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

/* Wide terminals get the details beside the list, narrow ones below it. */
#define SIDE_BY_SIDE_MIN_COLS 150

void draw_layout(struct app *a)
{
    struct layout *l = &a->lay;
    int rows = LINES, cols = COLS;
    l->title = (struct rect){0, 0, 1, cols};
    l->keys = (struct rect){rows - 1, 0, 1, cols};
    l->message = (struct rect){rows - 2, 0, 1, cols};
    int body_y = 1, body_h = rows - 3;
    if (body_h < 2)
        body_h = 2;
    l->side_by_side = cols >= SIDE_BY_SIDE_MIN_COLS;
    if (l->side_by_side) {
        int lw = cols * 55 / 100;
        l->list = (struct rect){body_y, 0, body_h, lw};
        l->details = (struct rect){body_y, lw, body_h, cols - lw};
    } else {
        int lh = body_h / 2;
        if (lh < 4)
            lh = body_h < 4 ? body_h : 4;
        l->list = (struct rect){body_y, 0, lh, cols};
        l->details = (struct rect){body_y + lh, 0, body_h - lh, cols};
    }
}

void draw_put(int y, int x, int w, const char *s, unsigned attr)
{
    if (w <= 0 || y < 0 || y >= LINES)
        return;
    attrset(attr);
    move(y, x);
    int used = fmt_fit(s, w);
    size_t bytes = fmt_fit_bytes(s, w);
    addnstr(s, (int)bytes);
    for (; used < w; used++)
        addch(' ');
    attrset(A_NORMAL);
}

void draw_box(const struct app *a, struct rect r, const char *title)
{
    if (r.h < 2 || r.w < 4)
        return;
    unsigned attr = theme_attr(ROLE_BORDER);
    attrset(attr);
    if (a->utf8) {
        mvhline(r.y, r.x, ACS_HLINE, r.w);
    } else {
        mvhline(r.y, r.x, '-', r.w);
    }
    attrset(A_NORMAL);
    if (title && *title) {
        char t[256];
        snprintf(t, sizeof(t), " %s ", title);
        draw_put(r.y, r.x + 2, (int)strlen(t) < r.w - 4 ? (int)strlen(t) : r.w - 4, t, attr);
    }
}

static void draw_title(struct app *a)
{
    const struct host_info *h = &a->host;
    char total[32], avail[32], line[512];
    fmt_kib(total, sizeof(total), h->mem_total_kib);
    fmt_kib(avail, sizeof(avail), h->mem_avail_kib);
    snprintf(line, sizeof(line), " tvm  host %s  CPUs %d  memory %s (%s free)  %s  domains %zu",
             h->hostname, h->cpus, total, avail, h->kvm_text, a->list.n);
    draw_put(0, 0, COLS, line, theme_attr(ROLE_TITLE));
}

static enum role draw_state_role(enum domain_state s)
{
    switch (s) {
    case DOMAIN_RUNNING:
    case DOMAIN_BLOCKED:
        return ROLE_STATE_RUNNING;
    case DOMAIN_PAUSED:
    case DOMAIN_PMSUSPENDED:
        return ROLE_STATE_PAUSED;
    case DOMAIN_SHUTOFF:
        return ROLE_STATE_SHUTOFF;
    case DOMAIN_CRASHED:
        return ROLE_STATE_CRASHED;
    default:
        return ROLE_STATE_OTHER;
    }
}

/* Column widths after the name, which takes what is left. */
static const struct {
    const char *title;
    int width;
    enum sort_key sort;
} columns[] = {
    {"STATE", 10, SORT_STATE}, {"VCPU", 5, SORT_VCPUS},  {"MEMORY", 9, SORT_MEMORY},
    {"CPU%", 6, SORT_CPU},     {"MEM USE", 9, SORT_RSS}, {"AUTOSTART", 9, SORT_COUNT},
};
#define NCOLUMNS (sizeof(columns) / sizeof(columns[0]))

static int name_width(int w)
{
    int fixed = 1;
    for (size_t i = 0; i < NCOLUMNS; i++)
        fixed += columns[i].width + 1;
    return w - fixed > 8 ? w - fixed : 8;
}

/* Append cell to line, right- or left-aligned in width display columns. */
static int put_cell(char *line, size_t size, int off, const char *cell, int width, bool left)
{
    int pad = width - fmt_fit(cell, 1024);
    if (pad < 0)
        pad = 0;
    if (off >= (int)size)
        return off;
    if (left)
        return off + snprintf(line + off, size - (size_t)off, " %s%*s", cell, pad, "");
    return off + snprintf(line + off, size - (size_t)off, " %*s%s", pad, "", cell);
}

static void draw_list_header(struct app *a, struct rect r)
{
    const char *up = a->utf8 ? "\u25b2" : "^", *down = a->utf8 ? "\u25bc" : "v";
    const char *mark = a->list.reverse ? down : up;
    char line[1024], cell[32];
    snprintf(cell, sizeof(cell), "NAME%s", a->list.sort == SORT_NAME ? mark : "");
    int off = put_cell(line, sizeof(line), 0, cell, name_width(r.w), true);
    for (size_t i = 0; i < NCOLUMNS; i++) {
        snprintf(cell, sizeof(cell), "%s%s", columns[i].title,
                 columns[i].sort == a->list.sort ? mark : "");
        off = put_cell(line, sizeof(line), off, cell, columns[i].width, i == 0);
    }
    draw_put(r.y, r.x, r.w, line, theme_attr(ROLE_LIST_HEADER));
}

static void draw_row(struct app *a, struct rect r, int y, const struct dom_item *it, bool sel)
{
    (void)a;
    int nw = name_width(r.w);
    unsigned base = theme_attr(sel ? ROLE_ROW_SELECTED : ROLE_ROW);
    char mem[32], cpu[16], rss[32];
    fmt_kib(mem, sizeof(mem), it->memory_kib);
    if (it->cpu_pct >= 0)
        snprintf(cpu, sizeof(cpu), "%.1f", it->cpu_pct);
    else
        snprintf(cpu, sizeof(cpu), "-");
    if (it->rss_kib)
        fmt_kib(rss, sizeof(rss), it->rss_kib);
    else
        snprintf(rss, sizeof(rss), "-");
    char name[512];
    /* virt-manager's word for a domain that is gone once it stops */
    snprintf(name, sizeof(name), " %s%s", it->name, it->transient ? " (transient)" : "");
    draw_put(y, r.x, nw + 1, name, base);
    int x = r.x + nw + 1;
    const char *state = domain_state_name(it->state);
    draw_put(y, x, 1, "", base);
    draw_put(y, x + 1, columns[0].width, state,
             sel ? base : theme_attr(draw_state_role(it->state)));
    x += columns[0].width + 1;
    char rest[256];
    snprintf(rest, sizeof(rest), " %*u %*s %*s %*s %*s", columns[1].width, it->vcpus,
             columns[2].width, mem, columns[3].width, cpu, columns[4].width, rss,
             columns[5].width, it->autostart ? "yes" : "no");
    draw_put(y, x, r.x + r.w - x, rest, base);
}

int draw_list_rows(const struct app *a)
{
    return a->lay.list.h - 1 > 0 ? a->lay.list.h - 1 : 1;
}

static void draw_list(struct app *a)
{
    struct rect r = a->lay.list;
    draw_list_header(a, r);
    int rows = draw_list_rows(a);
    domlist_scroll(&a->list, rows);
    for (int i = 0; i < rows; i++) {
        size_t v = a->list.top + (size_t)i;
        int y = r.y + 1 + i;
        if (v >= a->list.nview) {
            const char *empty = "";
            if (i == 0)
                empty = a->list.n ? "  (no domain matches the filter)"
                                  : "  (no domains defined: 'a' defines one from an XML file)";
            draw_put(y, r.x, r.w, empty, theme_attr(ROLE_ROW));
            continue;
        }
        const struct dom_item *it = &a->list.items[a->list.view[v]];
        draw_row(a, r, y, it, v == a->list.selected && a->focus == FOCUS_LIST);
    }
}

static void draw_console(struct app *a, struct rect r)
{
    char title[300];
    snprintf(title, sizeof(title), "console: %s%s", a->con.name,
             a->con.fd < 0 ? " (disconnected)" : "");
    draw_box(a, r, title);
    int rows = r.h - 1;
    const struct console *c = &a->con;
    size_t bottom = c->count > c->scroll ? c->count - c->scroll : 0;
    size_t start = bottom > (size_t)rows ? bottom - (size_t)rows : 0;
    for (int i = 0; i < rows; i++) {
        size_t li = start + (size_t)i;
        draw_put(r.y + 1 + i, r.x, r.w, li < bottom ? console_line(c, li) : "",
                 theme_attr(ROLE_CONSOLE));
    }
}

/* " wiping web.img [######    ] 60% 6 GiB of 10 GiB": long work on the command worker. */
static bool draw_progress(struct app *a, char *buf, size_t len)
{
    struct job_progress *p = &a->progress;
    pthread_mutex_lock(&p->mu);
    bool active = p->active;
    char what[sizeof(p->what)];
    memcpy(what, p->what, sizeof(what));
    uint64_t done = p->done, total = p->total;
    unsigned pct = p->pct;
    pthread_mutex_unlock(&p->mu);
    if (!active)
        return false;
    enum { CELLS = 20 };
    char bar[CELLS * 3 + 1], d[32], t[32];
    size_t o = 0;
    for (unsigned i = 0; i < CELLS; i++)
        o += (size_t)snprintf(bar + o, sizeof(bar) - o, "%s",
                              i < pct * CELLS / 100 ? (a->utf8 ? "\u2588" : "#") : " ");
    fmt_kib(d, sizeof(d), done / 1024);
    fmt_kib(t, sizeof(t), total / 1024);
    snprintf(buf, len, " %s [%s] %u%%  %s of %s", what, bar, pct, d, t);
    return true;
}

static void draw_message(struct app *a)
{
    const char *text = a->message;
    enum role role = a->message_error ? ROLE_STATUS_ERROR : ROLE_STATUS;
    char hint[512];
    if (!*text && a->nbusy > 0 && draw_progress(a, hint, sizeof(hint))) {
        text = hint;
    } else if (!*text && a->nbusy > 0) {
        /* What is running, until its result replaces it. */
        if (a->nbusy > 1)
            snprintf(hint, sizeof(hint), " %s (%d more queued)", a->busy[0], a->nbusy - 1);
        else
            snprintf(hint, sizeof(hint), " %s", a->busy[0]);
        text = hint;
    } else if (!*text) {
        /* The keys of the table in use, as many as fit: never cut mid-word. */
        int off = 0;
        hint[0] = '\0';
        if (a->list.filter[0] && a->focus == FOCUS_LIST && a->view == VIEW_DOMAINS)
            off = snprintf(hint, sizeof(hint), " filter '%s' (Esc clears)", a->list.filter);
        if (off < 0 || off >= (int)sizeof(hint))
            off = 0;
        keys_hint_fit(a, COLS - fmt_fit(hint, COLS), hint + off, sizeof(hint) - (size_t)off);
        text = hint;
        role = ROLE_STATUS;
    }
    draw_put(a->lay.message.y, 0, COLS, text, theme_attr(role));
}

/* The function keys the table in use binds, as many as fit whole. */
static void draw_fkeys(struct app *a)
{
    const struct key_binding *rows[11];
    keys_fkeys_fit(a, COLS, rows);
    int x = 0, y = a->lay.keys.y;
    for (int i = 0; rows[i]; i++) {
        char key[8];
        keys_fkey_name(rows[i], key, sizeof(key));
        int kw = (int)strlen(key), lw = (int)strlen(rows[i]->label) + 1;
        draw_put(y, x, kw, key, theme_attr(ROLE_HELP_KEY));
        /* Greyed where it does not apply to the selected domain now. */
        unsigned dim = keys_applies(a, rows[i]) ? 0 : A_DIM;
        draw_put(y, x + kw, lw, rows[i]->label, theme_attr(ROLE_HELP_TEXT) | dim);
        x += kw + lw;
    }
    if (x < COLS)
        draw_put(y, x, COLS - x, "", theme_attr(ROLE_HELP_TEXT));
}

void draw_all(struct app *a)
{
    draw_layout(a);
    erase();
    draw_title(a);
    bool storage = a->view == VIEW_STORAGE && a->focus == FOCUS_LIST;
    if (!storage)
        draw_list(a);
    struct rect d = a->lay.details;
    if (a->lay.side_by_side) {
        /* A rule between the list and the pane beside it. */
        attrset(theme_attr(ROLE_BORDER));
        mvvline(d.y, d.x, a->utf8 ? ACS_VLINE : '|', d.h);
        attrset(A_NORMAL);
        d.x++;
        d.w--;
    }
    if (a->focus == FOCUS_CONSOLE)
        draw_console(a, d);
    else if (a->focus == FOCUS_GRAPHICS)
        graphics_draw_pane(a, d);
    else if (storage)
        storage_draw(a, d);
    else
        details_draw(a, d);
    draw_message(a);
    draw_fkeys(a);
    wnoutrefresh(stdscr);
    doupdate();
}
