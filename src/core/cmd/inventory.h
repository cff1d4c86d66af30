/* What the TUI reads from the inventory, without knowing the store: the
 * domain list with the figures it shows, one domain's definition (parsed,
 * and as text without secrets), the reconcile step, and closing a
 * context's store connection. Every call runs on the caller's cmd_ctx, so
 * a thread that has its own context has its own SQLite connection. */
#ifndef TVM_CORE_CMD_INVENTORY_H
#define TVM_CORE_CMD_INVENTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cmd/cmd.h"
#include "core/model/domain.h"

/* One row of the domain list, as `tvm list` sees it. */
struct inv_domain {
    char name[256];
    char uuid[UUID_STR_LEN];
    enum domain_state state;
    unsigned vcpus; /* current vCPUs */
    uint64_t memory_kib;
    bool autostart;
    bool persistent; /* false: transient (tvm create), gone once it stops */
};

/* Every domain, ordered by name. *rows malloc'd (free()). -1 with err_msg(). */
int inventory_domains(struct cmd_ctx *ctx, struct inv_domain **rows, size_t *n);
/* The definition of the domain (name or uuid): *xml as `tvm dumpxml`
 * prints it (never the VNC passwd), *dom parsed (domain_free()). When the
 * stored text does not parse, *xml is still set, *dom is NULL and the
 * return is -1 with the parser's message. */
int inventory_domain_details(struct cmd_ctx *ctx, const char *dom, char **xml, struct domain **d);
/* Where a running guest's VNC server listens on TCP (vm_vnc_address: one
 * small file read, fit for the UI thread): 1 with the <graphics> INDEX,
 * PORT and listen ADDR, 0 when it has none. */
int inventory_vnc_address(const char *uuid, size_t *index, int *port, char *addr, size_t len);
/* vm_reconcile() on ctx's store: the store's states made true before they
 * are listed. Asks every live guest over QMP, so it can take a while. */
int inventory_reconcile(struct cmd_ctx *ctx);
/* One storage pool, as `tvm pool-list --all --details` sees it. */
struct inv_pool {
    char name[256];
    char uuid[UUID_STR_LEN];
    char type[64];    /* dir, fs, logical, ... */
    char target[512]; /* the directory its volumes live in */
    bool active, autostart;
    uint64_t capacity, allocation, available; /* measured now when active, else as recorded */
};

/* One volume of a pool, as `tvm vol-list POOL --details` sees it. */
struct inv_volume {
    char pool[256];
    char name[256];
    char path[512];
    char format[64]; /* raw, qcow2 */
    uint64_t capacity, allocation;
};

/* Every pool, ordered by name, with the sizes measured for the active ones
 * (statvfs, or vgs for a logical pool: may take a moment). *rows malloc'd. */
int inventory_pools(struct cmd_ctx *ctx, struct inv_pool **rows, size_t *n);
/* Every volume of every active pool, as last recorded, ordered by pool,
 * then by name. *rows malloc'd. */
int inventory_volumes(struct cmd_ctx *ctx, struct inv_volume **rows, size_t *n);
/* Close the store connection cmd_store(ctx) opened, if any. */
void inventory_ctx_close(struct cmd_ctx *ctx);

#endif
