/* define FILE: add a domain, or replace the definition of the domain with
 * the same uuid and name, as virsh define does. */
#include "core/cmd/cmd-util.h"
#include "core/model/domain.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* Decides between insert and update; refuses a clash of name or uuid. */
static int define_store(struct store *st, const struct domain *d, bool *updated)
{
    struct store_domain_row by_uuid, by_name;
    bool have_uuid = store_domain_get_row(st, d->uuid, &by_uuid) == 0;
    bool have_name = store_domain_get_row(st, d->name, &by_name) == 0;
    err_clear();
    if (have_uuid && strcmp(by_uuid.name, d->name) != 0)
        return err_set("domain '%s' is already defined with uuid %s", by_uuid.name, d->uuid);
    if (have_name && strcmp(by_name.uuid, d->uuid) != 0)
        return err_set("domain '%s' already exists with uuid %s", d->name, by_name.uuid);
    *updated = have_uuid;
    return have_uuid ? store_domain_update(st, d) : store_domain_insert(st, d);
}

static enum cmd_result define_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *path = args->argv[0];
    struct store *st = cmd_store(ctx);
    char *xml;
    size_t len;
    struct domain *d = NULL;
    bool updated = false;

    if (!st || cmd_read_input(ctx, path, &xml, &len) < 0)
        return CMD_ERROR;
    int rc = domain_parse(xml, len, cmd_input_origin(path), &d);
    free(xml);
    if (rc == 0)
        rc = define_store(st, d, &updated);
    if (rc == 0)
        rc = store_event_add(st, "domain", d->name, "defined", updated ? "updated" : "added");
    if (rc == 0)
        fprintf(ctx->out, "Domain '%s' defined from %s\n\n", d->name, path);
    domain_free(d);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_define_entry = {
    .name = "define",
    .usage = "define FILE",
    .summary = "define (but don't start) a domain from an XML file ('-' reads stdin)",
    .opts = "validate",
    .min_args = 1,
    .max_args = 1,
    .exec = define_exec,
    .flags = CMD_F_WRITES,
};
