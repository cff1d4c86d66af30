/* The storage pane's rows and selection (storage.h) and its drawing: the
 * pools where the domain list is, with a capacity bar each, and the
 * selected pool's volumes where the details are. */
#include "tui/storage.h"
#include "tui/app.h"
#include "tui/format.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- rows and selection ---- */

static size_t find_pool(const struct storage *s, const char *name, size_t fallback)
{
    for (size_t i = 0; i < s->npools; i++)
        if (!strcmp(s->pools[i].name, name))
            return i;
    return fallback < s->npools ? fallback : (s->npools ? s->npools - 1 : 0);
}

size_t storage_pool_volumes(const struct storage *s, const struct inv_volume **first)
{
    const struct inv_pool *p = storage_pool(s);
    *first = NULL;
    if (!p)
        return 0;
    size_t n = 0;
    for (size_t i = 0; i < s->nvols; i++) {
        if (strcmp(s->vols[i].pool, p->name) != 0)
            continue;
        if (!n)
            *first = &s->vols[i];
        n++;
    }
    return n;
}

static void remember_selection(struct storage *s)
{
    const struct inv_pool *p = storage_pool(s);
    const struct inv_volume *v = storage_volume(s);
    snprintf(s->pool_name, sizeof(s->pool_name), "%s", p ? p->name : "");
    snprintf(s->vol_name, sizeof(s->vol_name), "%s", v ? v->name : "");
}

void storage_apply(struct storage *s, struct inv_pool *pools, size_t npools,
                   struct inv_volume *vols, size_t nvols)
{
    free(s->pools);
    free(s->vols);
    s->pools = pools;
    s->npools = npools;
    s->vols = vols;
    s->nvols = nvols;
    s->loaded = true;
    s->pool_sel = find_pool(s, s->pool_name, s->pool_sel);
    const struct inv_volume *first;
    size_t n = storage_pool_volumes(s, &first);
    size_t keep = s->vol_sel < n ? s->vol_sel : (n ? n - 1 : 0);
    for (size_t i = 0; i < n; i++)
        if (!strcmp(first[i].name, s->vol_name))
            keep = i;
    s->vol_sel = keep;
    remember_selection(s);
}

void storage_free(struct storage *s)
{
    free(s->pools);
    free(s->vols);
    memset(s, 0, sizeof(*s));
}

const struct inv_pool *storage_pool(const struct storage *s)
{
    return s->pool_sel < s->npools ? &s->pools[s->pool_sel] : NULL;
}

const struct inv_volume *storage_volume(const struct storage *s)
{
    const struct inv_volume *first;
    size_t n = storage_pool_volumes(s, &first);
    return s->vol_sel < n ? &first[s->vol_sel] : NULL;
}

static size_t clamp_move(size_t at, long delta, size_t n)
{
    if (!n)
        return 0;
    long to = (long)at + delta;
    if (to < 0)
        to = 0;
    if ((size_t)to >= n)
        to = (long)n - 1;
    return (size_t)to;
}

void storage_move(struct storage *s, long delta)
{
    if (s->on_volumes) {
        const struct inv_volume *first;
        s->vol_sel = clamp_move(s->vol_sel, delta, storage_pool_volumes(s, &first));
    } else {
        size_t was = s->pool_sel;
        s->pool_sel = clamp_move(s->pool_sel, delta, s->npools);
        if (s->pool_sel != was)
            s->vol_sel = s->vol_top = 0;
    }
    remember_selection(s);
}

static void keep_visible(size_t sel, size_t *top, int rows)
{
    size_t r = rows > 0 ? (size_t)rows : 1;
    if (sel < *top)
        *top = sel;
    else if (sel >= *top + r)
        *top = sel - r + 1;
}

void storage_scroll(struct storage *s, int pool_rows, int vol_rows)
{
    keep_visible(s->pool_sel, &s->pool_top, pool_rows);
    keep_visible(s->vol_sel, &s->vol_top, vol_rows);
}

/* ---- drawing ---- */

#define BAR_CELLS 10

/* "[#####.....]  50%": allocation of capacity. */
static void usage_bar(const struct app *a, const struct inv_pool *p, char *buf, size_t len)
{
    if (!p->capacity) {
        snprintf(buf, len, "%s", "-");
        return;
    }
    unsigned pct =
        (unsigned)(p->allocation >= p->capacity ? 100 : p->allocation * 100 / p->capacity);
    int fill = (int)((pct * BAR_CELLS + 50) / 100);
    const char *on = a->utf8 ? "\u2588" : "#", *off = a->utf8 ? "\u2591" : ".";
    size_t o = 0;
    for (int i = 0; i < BAR_CELLS && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s", i < fill ? on : off);
    if (o < len)
        snprintf(buf + o, len - o, " %3u%%", pct);
}

static void size_cell(uint64_t bytes, bool known, char *buf, size_t len)
{
    if (!known) {
        snprintf(buf, len, "-");
        return;
    }
    fmt_kib(buf, len, bytes / 1024);
}

/* Name column width: what is left after the fixed ones (at least 8). */
static int rest_width(int w, int fixed)
{
    return w - fixed > 8 ? w - fixed : 8;
}

#define POOL_FIXED (1 + 9 + 5 + 8 + 3 * 11 + 17)

static void draw_pool_row(const struct app *a, struct rect r, int y, const struct inv_pool *p,
                          bool sel)
{
    char cap[32], alloc[32], avail[32], bar[64], line[1024];
    bool known = p->active || p->capacity;
    size_cell(p->capacity, known, cap, sizeof(cap));
    size_cell(p->allocation, known, alloc, sizeof(alloc));
    size_cell(p->available, known, avail, sizeof(avail));
    usage_bar(a, p, bar, sizeof(bar));
    int nw = rest_width(r.w, POOL_FIXED);
    unsigned attr = theme_attr(sel ? ROLE_ROW_SELECTED : ROLE_ROW);
    snprintf(line, sizeof(line), " %-*.*s", nw, nw, p->name);
    draw_put(y, r.x, nw + 1, line, attr);
    int x = r.x + nw + 1;
    enum role state = p->active ? ROLE_STATE_RUNNING : ROLE_STATE_SHUTOFF;
    draw_put(y, x, 9, p->active ? " active" : " inactive", sel ? attr : theme_attr(state));
    x += 9;
    snprintf(line, sizeof(line), " %-4s %-7.7s %10s %10s %10s  %s", p->autostart ? "yes" : "no",
             p->type, cap, alloc, avail, bar);
    draw_put(y, x, r.x + r.w - x, line, attr);
}

static void draw_pools(struct app *a, struct rect r, int rows)
{
    struct storage *s = &a->storage;
    char head[1024];
    int nw = rest_width(r.w, POOL_FIXED);
    snprintf(head, sizeof(head), " %-*s %-8s %-4s %-7s %10s %10s %10s  %s", nw, "POOL", "STATE",
             "AUTO", "TYPE", "CAPACITY", "ALLOCATION", "AVAILABLE", "USE");
    draw_put(r.y, r.x, r.w, head, theme_attr(ROLE_LIST_HEADER));
    for (int i = 0; i < rows; i++) {
        size_t at = s->pool_top + (size_t)i;
        int y = r.y + 1 + i;
        if (at >= s->npools) {
            const char *empty =
                i == 0 ? (s->loaded ? "  (no storage pools: 'N' makes a directory pool)"
                                    : "  (reading the pools...)")
                       : "";
            draw_put(y, r.x, r.w, empty, theme_attr(ROLE_ROW));
            continue;
        }
        draw_pool_row(a, r, y, &s->pools[at], at == s->pool_sel && !s->on_volumes);
    }
}

#define VOL_FIXED (1 + 8 + 2 * 11 + 2)

static void draw_volumes(struct app *a, struct rect r, int rows)
{
    struct storage *s = &a->storage;
    const struct inv_pool *p = storage_pool(s);
    char title[800];
    snprintf(title, sizeof(title), "volumes of %s%s%s", p ? p->name : "-",
             p && p->target[0] ? " in " : "", p ? p->target : "");
    draw_box(a, r, title);
    int nw = rest_width(r.w, VOL_FIXED) / 3;
    if (nw < 12)
        nw = 12;
    char line[1200];
    snprintf(line, sizeof(line), " %-*s %-7s %10s %10s  %s", nw, "NAME", "FORMAT", "CAPACITY",
             "ALLOCATION", "PATH");
    draw_put(r.y + 1, r.x, r.w, line, theme_attr(ROLE_LIST_HEADER));
    const struct inv_volume *first;
    size_t n = storage_pool_volumes(s, &first);
    for (int i = 0; i < rows; i++) {
        size_t at = s->vol_top + (size_t)i;
        int y = r.y + 2 + i;
        if (at >= n) {
            const char *empty = "";
            if (i == 0 && p && !p->active)
                empty = "  (the pool is not active: 's' starts it)";
            else if (i == 0 && p)
                empty = "  (no volumes: 'n' makes one)";
            draw_put(y, r.x, r.w, empty, theme_attr(ROLE_ROW));
            continue;
        }
        const struct inv_volume *v = &first[at];
        char cap[32], alloc[32];
        fmt_kib(cap, sizeof(cap), v->capacity / 1024);
        fmt_kib(alloc, sizeof(alloc), v->allocation / 1024);
        snprintf(line, sizeof(line), " %-*.*s %-7.7s %10s %10s  %s", nw, nw, v->name, v->format,
                 cap, alloc, v->path);
        bool sel = at == s->vol_sel && s->on_volumes;
        draw_put(y, r.x, r.w, line, theme_attr(sel ? ROLE_ROW_SELECTED : ROLE_ROW));
    }
}

int storage_pool_rows(const struct app *a)
{
    return a->lay.list.h - 1 > 0 ? a->lay.list.h - 1 : 1;
}

static int volume_rows(struct rect d)
{
    return d.h - 2 > 0 ? d.h - 2 : 1;
}

void storage_draw(struct app *a, struct rect details)
{
    int prow = storage_pool_rows(a), vrow = volume_rows(details);
    storage_scroll(&a->storage, prow, vrow);
    draw_pools(a, a->lay.list, prow);
    draw_volumes(a, details, vrow);
}
