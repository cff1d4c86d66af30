/* The inventory seen from above the commands (see inventory.h). */
#include "core/cmd/inventory.h"
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

void inventory_ctx_close(struct cmd_ctx *ctx)
{
    if (ctx->store)
        store_close(ctx->store);
    ctx->store = NULL;
}
