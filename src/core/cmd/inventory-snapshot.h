/* The TUI's view of a domain's snapshot tree (inventory.h's companion). */
#ifndef TVM_CORE_CMD_INVENTORY_SNAPSHOT_H
#define TVM_CORE_CMD_INVENTORY_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cmd/cmd.h"

/* One snapshot, in tree order (each after its parent, children by
 * creation time), with its depth below a root. */
struct inv_snapshot {
    char name[256];
    char description[256]; /* first line, cut */
    int64_t creation_time;
    unsigned depth;
    bool current;
};

/* DOM's snapshots (name or uuid) in tree order; *rows malloc'd (free()).
 * A quick read of the inventory. -1 with err_msg(). */
int inventory_snapshots(struct cmd_ctx *ctx, const char *dom, struct inv_snapshot **rows,
                        size_t *n);

#endif
