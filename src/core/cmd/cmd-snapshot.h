/* What the snapshot verbs share (cmd-snapshot-*.c): taking, reverting and
 * deleting the qcow2 internal snapshots of a domain's disks, a running
 * guest's saved state with them, and the metadata that records them. Not
 * a public API. */
#ifndef TVM_CORE_CMD_SNAPSHOT_H
#define TVM_CORE_CMD_SNAPSHOT_H

#include "core/cmd/cmd-util.h"
#include "core/model/domain.h"
#include "core/model/snapshot.h"
#include "store/store.h"

/* Takes snapshot TEMPLATE (name, description, <disks> and <memory>
 * choices as parsed from the user's XML) of domain DOM: an internal
 * snapshot on every writable disk (all or none), then, unless
 * NO_METADATA, its record as the current snapshot. Of a shut-off domain
 * that is all; of a running or paused one it is a checkpoint: tvm-vmm
 * takes the disks' snapshots and saves the guest's state at one instant
 * (vm_checkpoint), into a file the record owns. Prints virsh's line. */
struct snap_take_opts {
    bool no_metadata;
    bool halt;        /* --halt: the domain is shut off afterwards */
    bool live;        /* --live: refused (libvirt's, for external memory only) */
    const char *from; /* the XML file, for the message */
};
enum cmd_result snap_take(struct cmd_ctx *ctx, const char *dom, struct snapshot *tmpl,
                          const struct snap_take_opts *o);
/* snapshot-create-as / snapshot-create --disk-only
 * (cmd-snapshot-external.c): a qcow2 overlay on every included disk, the
 * definition moved onto the overlays, the record state 'disk-snapshot';
 * a running or paused guest is switched onto them by its tvm-vmm
 * (vm_disk_snapshot), all disks or none. */
enum cmd_result snap_take_external(struct cmd_ctx *ctx, const char *dom, struct snapshot *tmpl,
                                   const struct snap_take_opts *o);
/* What the two share (cmd-snapshot-disk.c): whether disk K takes part
 * (CD-ROMs and read-only disks do not, unless the XML names them); the
 * record of TMPL of D in STATE, its parent the current snapshot (OVERLAYS:
 * per disk, the external file, or NULL for internal snapshots); memory
 * refused for an offline snapshot; a taken snapshot's event (DETAIL) and
 * virsh's "created" line. */
bool snap_disk_included(const struct domain_disk *k, const struct snapshot *tmpl);
int snap_new_record(struct store *st, const struct store_domain_row *row, const struct domain *d,
                    const struct snapshot *tmpl, const char *state, const char *const *overlays,
                    struct snapshot **s);
int snap_check_offline(const struct snapshot *tmpl);
/* A shut-off domain's run directory claimed as a start claims it, so that
 * no guest starts on its disks while a snapshot changes them: the claim
 * for vm_dir_release(), or -1 (libvirt-style message when it started
 * meanwhile). */
int snap_claim(struct store *st, const struct store_domain_row *row);
void snap_created(struct cmd_ctx *ctx, struct store *st, const char *name, const char *from,
                  const char *detail);

/* The saved state snapshot NAME of domain UUID owns ("" none); freed by
 * the caller. */
int snap_state_file(struct cmd_ctx *ctx, const char *uuid, const char *name, char **path);

/* snap_rows(), and with no NAME the current snapshot in *IDX (refused
 * when there is none, as libvirt). */
int snap_rows_or_current(struct cmd_ctx *ctx, const char *dom, struct store_domain_row *row,
                         struct store_snapshot_row **rows, size_t *n, const char *name,
                         ssize_t *idx);
/* Every disk TMPL names is one of D's (libvirt's message otherwise). */
int snap_check_disk_names(const struct domain *d, const struct snapshot *tmpl);
/* The rows of DOM's snapshots and the index of NAME among them (-1 with
 * libvirt's message when there is none). */
int snap_rows(struct cmd_ctx *ctx, const char *dom, struct store_domain_row *row,
              struct store_snapshot_row **rows, size_t *n, const char *name, ssize_t *idx);
/* Children of rows[i] (count) and all its descendants. */
size_t snap_children(const struct store_snapshot_row *rows, size_t n, size_t i);
size_t snap_descendants(const struct store_snapshot_row *rows, size_t n, size_t i);

#endif
