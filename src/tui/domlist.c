/* Domain list model: rows from the inventory, live samples, filter and sort. */
#include "tui/domlist.h"
#include "tui/host.h"
#include "core/base/err.h"

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
static bool rows_equal(const struct domlist *l, const struct inv_domain *rows, size_t n)
{
    if (n != l->n)
        return false;
    for (size_t i = 0; i < n; i++) {
        const struct dom_item *it = &l->items[i];
        const struct inv_domain *r = &rows[i];
        if (strcmp(it->uuid, r->uuid) || strcmp(it->name, r->name) || it->state != r->state ||
            it->vcpus != r->vcpus || it->memory_kib != r->memory_kib ||
            it->autostart != r->autostart || it->transient == r->persistent)
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

int domlist_apply(struct domlist *l, const struct inv_domain *rows, size_t n)
{
    if (rows_equal(l, rows, n))
        return 0;
    struct dom_item *items = calloc(n ? n : 1, sizeof(*items));
    if (!items)
        return err_set("out of memory");
    for (size_t i = 0; i < n; i++) {
        struct dom_item *it = &items[i];
        it->name = strdup(rows[i].name);
        memcpy(it->uuid, rows[i].uuid, sizeof(it->uuid));
        it->state = rows[i].state;
        it->vcpus = rows[i].vcpus;
        it->memory_kib = rows[i].memory_kib;
        it->autostart = rows[i].autostart;
        it->transient = !rows[i].persistent;
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
            return err_set("out of memory");
        }
    }
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

/* One sort key per row, computed once: the comparisons then touch a small
 * contiguous array instead of chasing items (10,000 rows re-sort in a blink). */
struct sort_pair {
    uint64_t key;
    size_t index;
};

static uint64_t sort_key(const struct dom_item *it, enum sort_key k)
{
    switch (k) {
    case SORT_STATE:
        return (uint64_t)it->state;
    case SORT_VCPUS:
        return it->vcpus;
    case SORT_MEMORY:
        return it->memory_kib;
    case SORT_CPU: /* tenths of a percent; unknown sorts first */
        return it->cpu_pct < 0 ? 0 : (uint64_t)(it->cpu_pct * 10.0) + 1;
    case SORT_RSS:
        return it->rss_kib;
    default:
        return 0;
    }
}

/* Items are in the store's name order, so the index breaks ties by name. */
static int cmp_pair(const void *pa, const void *pb)
{
    const struct sort_pair *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static void sort_view(struct domlist *l)
{
    struct sort_pair *pairs = malloc((l->nview ? l->nview : 1) * sizeof(*pairs));
    if (!pairs)
        return; /* unsorted beats nothing; the next rebuild retries */
    for (size_t v = 0; v < l->nview; v++)
        pairs[v] = (struct sort_pair){sort_key(&l->items[l->view[v]], l->sort), l->view[v]};
    qsort(pairs, l->nview, sizeof(*pairs), cmp_pair);
    for (size_t v = 0; v < l->nview; v++)
        l->view[v] = pairs[l->reverse ? l->nview - 1 - v : v].index;
    free(pairs);
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
        sort_view(l);
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
