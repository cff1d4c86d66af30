/* The storage pane (S): the pools with their state and capacity, and the
 * volumes of the selected pool. Its rows come from the refresh worker
 * (inventory_pools/inventory_volumes: measuring a pool may run vgs); the
 * selection stays on the same pool and volume, by name, across reloads. */
#ifndef TVM_TUI_STORAGE_H
#define TVM_TUI_STORAGE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/cmd/inventory.h"

struct storage {
    struct inv_pool *pools;
    size_t npools;
    struct inv_volume *vols; /* every active pool's, grouped by pool (inventory order) */
    size_t nvols;
    bool loaded;                        /* a first listing came back */
    bool on_volumes;                    /* the keys move in the volume list, not the pool list */
    size_t pool_sel, pool_top;          /* index into pools */
    size_t vol_sel, vol_top;            /* index among the selected pool's volumes */
    char pool_name[256], vol_name[256]; /* what is selected, kept across reloads */
};

/* Takes the rows (malloc'd, now the storage's) and keeps the selection. */
void storage_apply(struct storage *s, struct inv_pool *pools, size_t npools,
                   struct inv_volume *vols, size_t nvols);
void storage_free(struct storage *s);
/* The selected pool, or NULL when there is none. */
const struct inv_pool *storage_pool(const struct storage *s);
/* The selected pool's volumes: *first and the count (0 when none). */
size_t storage_pool_volumes(const struct storage *s, const struct inv_volume **first);
/* The selected volume, or NULL. */
const struct inv_volume *storage_volume(const struct storage *s);
/* Moves the selection in the focused list by delta (clamped). */
void storage_move(struct storage *s, long delta);
/* Keeps the focused list's selection within [top, top+rows) of each list. */
void storage_scroll(struct storage *s, int pool_rows, int vol_rows);

#endif
