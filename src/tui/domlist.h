/* The domain list: a compact copy of the inventory's rows plus live figures,
 * and a filtered, sorted view of it that keeps the selection on the same
 * domain (by uuid) across refreshes, sorts and filters. */
#ifndef TVM_TUI_DOMLIST_H
#define TVM_TUI_DOMLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/cmd/inventory.h"
#include "core/model/domain.h"

struct dom_item {
    char *name;
    char uuid[UUID_STR_LEN];
    enum domain_state state;
    unsigned vcpus;
    uint64_t memory_kib;
    bool autostart;
    bool transient; /* tvm create's: leaves the list once it stops */
    /* live, for running/paused guests */
    pid_t pid;
    uint64_t cpu_ticks;
    int64_t sample_ms;
    double cpu_pct; /* of one host CPU; < 0 when unknown */
    uint64_t rss_kib;
};

enum sort_key { SORT_NAME, SORT_STATE, SORT_VCPUS, SORT_MEMORY, SORT_CPU, SORT_RSS, SORT_COUNT };

struct domlist {
    struct dom_item *items;
    size_t n;
    size_t *view; /* indices into items: filtered and sorted */
    size_t nview;
    size_t selected; /* index into view */
    size_t top;      /* first visible view row */
    char sel_uuid[UUID_STR_LEN];
    enum sort_key sort;
    bool reverse;
    char filter[128];
};

const char *domlist_sort_name(enum sort_key k);
/* Take a fresh list of rows (inventory_domains()). Returns 1 if anything
 * shown changed, 0 if not, -1 with err_msg() on failure (the old rows stay). */
int domlist_apply(struct domlist *l, const struct inv_domain *rows, size_t n);
/* Sample /proc for running guests; 1 if figures changed. */
int domlist_sample(struct domlist *l);
/* Rebuild the view after a filter/sort change, keeping the selection. */
void domlist_rebuild(struct domlist *l);
/* The selected item, or NULL when the view is empty. */
struct dom_item *domlist_selected(struct domlist *l);
void domlist_select(struct domlist *l, long view_index);
/* Keep the selection within [top, top+rows). */
void domlist_scroll(struct domlist *l, int rows);
void domlist_free(struct domlist *l);

#endif
