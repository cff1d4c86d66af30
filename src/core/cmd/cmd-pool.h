/* What the pool and volume verbs share (cmd-pool-util.c): loading a pool
 * with its backend, recording what the host has, finding a volume as
 * virsh does, the default pool. Not a public API. */
#ifndef TVM_CORE_CMD_CMD_POOL_H
#define TVM_CORE_CMD_CMD_POOL_H

#include "core/cmd/cmd.h"
#include "core/pool/pool-backend.h"
#include "store/store.h"

/* A stored pool, parsed, with its backend (NULL for a type tvm only stores). */
struct cmd_pool {
    struct store_object_row row;
    struct pool *def;
    const struct pool_backend *be;
};

/* Name or uuid. The pool named "default", when there is none, is made
 * first as virt-manager makes it: a dir pool on DATA_DIR/images (the
 * directory of the inventory: /var/lib/tvm as root, else $XDG_DATA_HOME/tvm),
 * built, started and marked autostart. */
int cmd_pool_load(struct cmd_ctx *ctx, const char *key, struct cmd_pool *out);
void cmd_pool_clear(struct cmd_pool *p);
/* The backend, or -1 naming the type that cannot be started. */
int cmd_pool_backend(struct cmd_pool *p);
/* "Requested operation is not valid: storage pool 'x' is not active". */
int cmd_pool_require_active(const struct cmd_pool *p);
/* Records every volume the backend finds, replacing what was recorded. */
int cmd_pool_refresh(struct cmd_ctx *ctx, struct cmd_pool *p);
/* Records (insert or update) the one volume at PATH as the backend sees it. */
int cmd_pool_record_volume(struct cmd_ctx *ctx, struct cmd_pool *p, const char *path);
/* Capacity, allocation, available: measured for an active pool, else the
 * stored figures. */
int cmd_pool_sizes(struct cmd_pool *p, struct pool_sizes *out);

/* A volume found as virsh finds one: by name in --pool, else by path (key).
 * On success *pool is loaded (active) and *vol parsed from its record. */
int cmd_vol_lookup(struct cmd_ctx *ctx, const char *vol, const char *pool, struct cmd_pool *p,
                   struct volume **v);
/* virsh's forms: VOL [POOL] or VOL --pool POOL. Returns the pool argument
 * (NULL when none) or sets CMD_USAGE through *bad. */
const char *cmd_vol_pool_arg(const struct cmd_args *args, int pos, bool *bad);

/* undefine --storage LIST: every entry (a target such as vda, a source
 * path, or a volume name) must name one of D's disks; -1 naming the first
 * that does not ("Volume 'x' was not found in domain's definition"). */
int cmd_storage_check_list(const struct domain *d, const char *list);
/* undefine --remove-all-storage (LIST NULL) or --storage LIST, in virsh's
 * two passes: without REMOVE it warns on stderr of each chosen disk whose
 * file no pool holds ("Storage volume 'vda'(PATH) is not managed by tvm.
 * Remove it manually."); with REMOVE it deletes the volume behind each
 * chosen disk that a pool holds and prints "Volume 'vda'(PATH) removed.".
 * -1 when a volume could not be deleted (the others still are). */
int cmd_remove_domain_storage(struct cmd_ctx *ctx, const struct domain *d, const char *list,
                              bool remove);

/* --overwrite / --no-overwrite as POOL_BUILD_* flags. */
unsigned cmd_pool_build_flags(const struct cmd_args *a);

/* A size as virsh takes one: a number with an optional unit (1G, 512M,
 * 10GiB, 1000000000, 1GB); "what" names it in the error. */
int cmd_parse_size(const char *text, const char *what, uint64_t *bytes);

#endif
