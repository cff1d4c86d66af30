/* Domain list model: reload from the store, live samples, filter and sort. */
#include "tui/domlist.h"
#include "tui/host.h"
#include "core/err.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const sort_names[SORT_COUNT] = {
    [SORT_NAME] = "name",     [SORT_STATE] = "state", [SORT_VCPUS] = "vcpus",
    [SORT_MEMORY] = "memory", [SORT_CPU] = "cpu%",    [SORT_RSS] = "mem use",
};

const char *domlist_sort_name(enum sort_key k)
{
    return k < SORT_COUNT ? sort_names[k] : "?";
}

static bool is_live(enum domain_state s)
{
    return s == DOMAIN_RUNNING || s == DOMAIN_PAUSED || s == DOMAIN_BLOCKED ||
           s == DOMAIN_SHUTDOWN || s == DOMAIN_PMSUSPENDED;
}

static void items_free(struct dom_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(items[i].name);
    free(items);
}

/* Same rows, same shown fields? (live figures are compared by domlist_sample) */
static bool rows_equal(const struct domlist *l, const struct store_domain_row *rows, size_t n)
{
    if (n != l->n)
        return false;
    for (size_t i = 0; i < n; i++) {
        const struct dom_item *it = &l->items[i];
        const struct store_domain_row *r = &rows[i];
        if (strcmp(it->uuid, r->uuid) || strcmp(it->name, r->name) || it->state != r->state ||
            it->vcpus != r->vcpus || it->memory_kib != r->memory_kib ||
            it->autostart != r->autostart)
            return false;
    }
    return true;
}

/* Keep live samples of a guest across reloads so CPU% has a previous point. */
static const struct dom_item *find_old(const struct domlist *l, const char *uuid, size_t hint)
{
    if (hint < l->n && !strcmp(l->items[hint].uuid, uuid))
        return &l->items[hint];
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->items[i].uuid, uuid))
            return &l->items[i];
    return NULL;
}

int domlist_reload(struct domlist *l, struct store *st)
{
    struct store_domain_row *rows = NULL;
    size_t n = 0;
    if (store_domain_list(st, STORE_LIST_ALL, &rows, &n) < 0)
        return -1;
    if (rows_equal(l, rows, n)) {
        free(rows);
        return 0;
    }
    struct dom_item *items = calloc(n ? n : 1, sizeof(*items));
    if (!items) {
        free(rows);
        return err_set("out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        struct dom_item *it = &items[i];
        it->name = strdup(rows[i].name);
        memcpy(it->uuid, rows[i].uuid, sizeof(it->uuid));
        it->state = rows[i].state;
        it->vcpus = rows[i].vcpus_current ? rows[i].vcpus_current : rows[i].vcpus;
        it->memory_kib = rows[i].memory_kib;
        it->autostart = rows[i].autostart;
        it->cpu_pct = -1;
        const struct dom_item *old = is_live(it->state) ? find_old(l, it->uuid, i) : NULL;
        if (old && old->pid) {
            it->pid = old->pid;
            it->cpu_ticks = old->cpu_ticks;
            it->sample_ms = old->sample_ms;
            it->cpu_pct = old->cpu_pct;
            it->rss_kib = old->rss_kib;
        }
        if (!it->name) {
            items_free(items, i);
            free(rows);
            return err_set("out of memory");
        }
    }
    free(rows);
    items_free(l->items, l->n);
    l->items = items;
    l->n = n;
    domlist_sample(l);
    domlist_rebuild(l);
    return 1;
}

int domlist_sample(struct domlist *l)
{
    static long ticks_per_s;
    if (!ticks_per_s)
        ticks_per_s = sysconf(_SC_CLK_TCK) > 0 ? sysconf(_SC_CLK_TCK) : 100;
    int changed = 0;
    int64_t now = host_now_ms();
    for (size_t i = 0; i < l->n; i++) {
        struct dom_item *it = &l->items[i];
        if (!is_live(it->state)) {
            it->pid = 0;
            continue;
        }
        if (!it->pid)
            it->pid = host_vmm_pid(it->uuid);
        uint64_t ticks, rss;
        if (!it->pid || host_proc_sample(it->pid, &ticks, &rss) < 0) {
            changed |= it->cpu_pct >= 0 || it->rss_kib;
            it->pid = 0;
            it->cpu_pct = -1;
            it->rss_kib = 0;
            continue;
        }
        double pct = it->cpu_pct;
        if (it->sample_ms && now > it->sample_ms)
            pct = (double)(ticks - it->cpu_ticks) * 1000.0 * 100.0 / (double)ticks_per_s /
                  (double)(now - it->sample_ms);
        changed |= pct != it->cpu_pct || rss != it->rss_kib;
        it->cpu_ticks = ticks;
        it->sample_ms = now;
        it->cpu_pct = pct;
        it->rss_kib = rss;
    }
    if (changed && (l->sort == SORT_CPU || l->sort == SORT_RSS))
        domlist_rebuild(l);
    return changed;
}

/* qsort has no context argument; the list being sorted is this one. */
static const struct domlist *sorting;

static int cmp_u64(uint64_t a, uint64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_view(const void *pa, const void *pb)
{
    const struct dom_item *a = &sorting->items[*(const size_t *)pa];
    const struct dom_item *b = &sorting->items[*(const size_t *)pb];
    int c = 0;
    switch (sorting->sort) {
    case SORT_STATE:
        c = (int)a->state - (int)b->state;
        break;
    case SORT_VCPUS:
        c = cmp_u64(a->vcpus, b->vcpus);
        break;
    case SORT_MEMORY:
        c = cmp_u64(a->memory_kib, b->memory_kib);
        break;
    case SORT_CPU:
        c = a->cpu_pct < b->cpu_pct ? -1 : a->cpu_pct > b->cpu_pct;
        break;
    case SORT_RSS:
        c = cmp_u64(a->rss_kib, b->rss_kib);
        break;
    default:
        break;
    }
    /* Items are in the store's name order, so their index breaks ties by name cheaply. */
    if (c == 0)
        c = a < b ? -1 : a > b;
    return sorting->reverse ? -c : c;
}

void domlist_rebuild(struct domlist *l)
{
    size_t *view = realloc(l->view, (l->n ? l->n : 1) * sizeof(*view));
    if (!view)
        return; /* keep the old view; the next refresh retries */
    l->view = view;
    l->nview = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!l->filter[0] || strcasestr(l->items[i].name, l->filter))
            l->view[l->nview++] = i;
    /* The store returns rows by name, so sorting by name needs no comparisons. */
    if (l->sort != SORT_NAME) {
        sorting = l;
        qsort(l->view, l->nview, sizeof(*l->view), cmp_view);
    } else if (l->reverse) {
        for (size_t i = 0, j = l->nview; i + 1 < j; i++, j--) {
            size_t t = l->view[i];
            l->view[i] = l->view[j - 1];
            l->view[j - 1] = t;
        }
    }
    l->selected = 0;
    for (size_t v = 0; v < l->nview && l->sel_uuid[0]; v++)
        if (!strcmp(l->items[l->view[v]].uuid, l->sel_uuid)) {
            l->selected = v;
            break;
        }
    domlist_select(l, (long)l->selected);
}

struct dom_item *domlist_selected(struct domlist *l)
{
    return l->nview ? &l->items[l->view[l->selected]] : NULL;
}

void domlist_select(struct domlist *l, long v)
{
    if (l->nview == 0) {
        l->selected = 0;
        return; /* keep sel_uuid: the domain may come back when the filter changes */
    }
    if (v < 0)
        v = 0;
    if ((size_t)v >= l->nview)
        v = (long)l->nview - 1;
    l->selected = (size_t)v;
    memcpy(l->sel_uuid, l->items[l->view[v]].uuid, sizeof(l->sel_uuid));
}

void domlist_scroll(struct domlist *l, int rows)
{
    if (rows < 1)
        rows = 1;
    if (l->selected < l->top)
        l->top = l->selected;
    else if (l->selected >= l->top + (size_t)rows)
        l->top = l->selected - (size_t)rows + 1;
    if (l->nview <= (size_t)rows)
        l->top = 0;
    else if (l->top + (size_t)rows > l->nview)
        l->top = l->nview - (size_t)rows;
}

void domlist_free(struct domlist *l)
{
    items_free(l->items, l->n);
    free(l->view);
    memset(l, 0, sizeof(*l));
}
