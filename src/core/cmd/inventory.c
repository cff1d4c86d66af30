/* The inventory seen from above the commands (see inventory.h). */
#include "core/cmd/inventory.h"
#include "core/cmd/cmd-pool.h"
#include "core/base/err.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

int inventory_domains(struct cmd_ctx *ctx, struct inv_domain **rows, size_t *n)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row *r = NULL;
    size_t count = 0;
    if (!st || store_domain_list(st, STORE_LIST_ALL, &r, &count) < 0)
        return -1;
    struct inv_domain *out = calloc(count ? count : 1, sizeof(*out));
    if (!out) {
        free(r);
        return err_set("out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        memcpy(out[i].name, r[i].name, sizeof(out[i].name));
        memcpy(out[i].uuid, r[i].uuid, sizeof(out[i].uuid));
        out[i].state = r[i].state;
        out[i].vcpus = r[i].vcpus_current ? r[i].vcpus_current : r[i].vcpus;
        out[i].memory_kib = r[i].memory_kib;
        out[i].autostart = r[i].autostart;
        out[i].persistent = r[i].persistent;
    }
    free(r);
    *rows = out;
    *n = count;
    return 0;
}

/* A stored text that no longer parses is still shown, with its secrets
 * cut out by hand: the formatter needs a parsed document. */
static void strip_passwd(char *xml)
{
    static const char attr[] = "passwd=";
    for (char *p = strstr(xml, attr); p; p = strstr(p, attr)) {
        char q = p[sizeof(attr) - 1];
        char *end = (q == '\'' || q == '"') ? strchr(p + sizeof(attr), q) : NULL;
        if (!end)
            break;
        memmove(p, end + 1, strlen(end + 1) + 1);
    }
}

int inventory_domain_details(struct cmd_ctx *ctx, const char *dom, char **xml, struct domain **d)
{
    struct store *st = cmd_store(ctx);
    char *stored = NULL;
    *xml = NULL;
    *d = NULL;
    if (!st || store_domain_get_xml(st, dom, &stored) < 0)
        return -1;
    if (domain_parse(stored, strlen(stored), dom, d) < 0) {
        *d = NULL;
        strip_passwd(stored);
        *xml = stored;
        return -1;
    }
    free(stored);
    if (!(*xml = domain_format_public(*d))) {
        domain_free(*d);
        *d = NULL;
        return err_set("out of memory");
    }
    return 0;
}

int inventory_reconcile(struct cmd_ctx *ctx)
{
    struct store *st = cmd_store(ctx);
    return st ? vm_reconcile(st) : -1;
}

static void pool_row_sizes(struct cmd_ctx *ctx, struct inv_pool *out)
{
    struct cmd_pool p;
    struct pool_sizes sz;
    if (cmd_pool_load(ctx, out->uuid, &p) == 0 && cmd_pool_sizes(&p, &sz) == 0) {
        out->capacity = sz.capacity;
        out->allocation = sz.allocation;
        out->available = sz.available;
    }
    cmd_pool_clear(&p);
    err_clear(); /* a pool that cannot be measured shows its recorded figures */
}

int inventory_pools(struct cmd_ctx *ctx, struct inv_pool **rows, size_t *n)
{
    struct store *st = cmd_store(ctx);
    struct store_object_row *r = NULL;
    size_t count = 0;
    if (!st || store_pool_list(st, &r, &count) < 0)
        return -1;
    struct inv_pool *out = calloc(count ? count : 1, sizeof(*out));
    if (!out) {
        free(r);
        return err_set("out of memory");
    }
    for (size_t i = 0; i < count; i++) {
        memcpy(out[i].name, r[i].name, sizeof(out[i].name));
        memcpy(out[i].uuid, r[i].uuid, sizeof(out[i].uuid));
        snprintf(out[i].type, sizeof(out[i].type), "%s", r[i].kind);
        snprintf(out[i].target, sizeof(out[i].target), "%s", r[i].detail);
        out[i].active = r[i].active;
        out[i].autostart = r[i].autostart;
        out[i].capacity = r[i].capacity_bytes;
        out[i].allocation = r[i].allocation_bytes;
        if (out[i].active)
            pool_row_sizes(ctx, &out[i]);
    }
    free(r);
    *rows = out;
    *n = count;
    return 0;
}

/* Appends POOL's recorded volumes to *out (grown as needed). */
static int append_volumes(struct store *st, const char *pool, struct inv_volume **out, size_t *n)
{
    struct store_object_row *r = NULL;
    size_t count = 0;
    if (store_volume_list(st, pool, &r, &count) < 0)
        return -1;
    if (!count) {
        free(r);
        return 0;
    }
    struct inv_volume *grown = realloc(*out, (*n + count) * sizeof(**out));
    if (!grown) {
        free(r);
        return err_set("out of memory");
    }
    *out = grown;
    for (size_t i = 0; i < count; i++) {
        struct inv_volume *v = &grown[(*n)++];
        memset(v, 0, sizeof(*v));
        snprintf(v->pool, sizeof(v->pool), "%s", pool);
        memcpy(v->name, r[i].name, sizeof(v->name));
        snprintf(v->path, sizeof(v->path), "%s", r[i].detail);
        snprintf(v->format, sizeof(v->format), "%s", r[i].kind);
        v->capacity = r[i].capacity_bytes;
        v->allocation = r[i].allocation_bytes;
    }
    free(r);
    return 0;
}

int inventory_volumes(struct cmd_ctx *ctx, struct inv_volume **rows, size_t *n)
{
    struct store *st = cmd_store(ctx);
    struct store_object_row *pools = NULL;
    size_t npools = 0, count = 0;
    struct inv_volume *out = NULL;
    if (!st || store_pool_list(st, &pools, &npools) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < npools; i++)
        if (pools[i].active)
            rc = append_volumes(st, pools[i].name, &out, &count);
    free(pools);
    if (rc < 0) {
        free(out);
        return -1;
    }
    *rows = out;
    *n = count;
    return 0;
}

void inventory_ctx_close(struct cmd_ctx *ctx)
{
    if (ctx->store)
        store_close(ctx->store);
    ctx->store = NULL;
}

int inventory_vnc_address(const char *uuid, size_t *index, int *port, char *addr, size_t len)
{
    return vm_vnc_address(uuid, index, port, addr, len);
}
