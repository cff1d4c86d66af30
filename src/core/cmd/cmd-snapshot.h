/* What the snapshot verbs share (cmd-snapshot-*.c): taking, reverting and
 * deleting the qcow2 internal snapshots of a shut-off domain's disks, and
 * the metadata that records them. Not a public API. */
#ifndef TVM_CORE_CMD_SNAPSHOT_H
#define TVM_CORE_CMD_SNAPSHOT_H

#include "core/cmd/cmd-util.h"
#include "core/model/snapshot.h"
#include "store/store.h"

/* Takes snapshot TEMPLATE (name, description, <disks> choices as parsed
 * from the user's XML) of the shut-off domain DOM: an internal snapshot
 * on every writable disk (all or none), then, unless NO_METADATA, its
 * record as the current snapshot. Prints virsh's line. */
enum cmd_result snap_take(struct cmd_ctx *ctx, const char *dom, struct snapshot *tmpl,
                          bool no_metadata, const char *from);

/* The rows of DOM's snapshots and the index of NAME among them (-1 with
 * libvirt's message when there is none). */
int snap_rows(struct cmd_ctx *ctx, const char *dom, struct store_domain_row *row,
              struct store_snapshot_row **rows, size_t *n, const char *name, ssize_t *idx);
/* Children of rows[i] (count) and all its descendants. */
size_t snap_children(const struct store_snapshot_row *rows, size_t n, size_t i);
size_t snap_descendants(const struct store_snapshot_row *rows, size_t n, size_t i);

#endif
