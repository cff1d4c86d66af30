/* domrename OLD NEW: rename an inactive domain, keeping its uuid. */
#include "core/cmd/cmd-util.h"
#include "core/model/domain.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>

static enum cmd_result domrename_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *new_name = args->argv[1];
    struct store *st = cmd_store(ctx);
    struct store_domain_row row, other;
    struct domain *d = NULL;
    if (!st || cmd_domain_load(ctx, args->argv[0], &row, &d) < 0)
        return CMD_ERROR;

    char detail[600];
    snprintf(detail, sizeof(detail), "%s -> %s", row.name, new_name);
    int rc = 0;
    if (cmd_domain_is_active(&row))
        rc = err_set("Requested operation is not valid: cannot rename active domain");
    else if (strcmp(row.name, new_name) == 0)
        rc = err_set("Requested operation is not valid: Can't rename domain to itself");
    else if (store_domain_get_row(st, new_name, &other) == 0)
        rc = err_set("Requested operation is not valid: domain with name '%s' already exists",
                     new_name);
    else if (domain_set_name(d, new_name) < 0)
        rc = -1;
    if (rc == 0)
        rc = store_domain_update(st, d);
    if (rc == 0)
        rc = store_event_add(st, "domain", new_name, "renamed", detail);
    domain_free(d);
    if (rc < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "Domain successfully renamed\n\n");
    return CMD_OK;
}

const struct cmd_entry cmd_domrename_entry = {
    .name = "domrename",
    .usage = "domrename DOMAIN NEW-NAME",
    .summary = "rename an inactive domain",
    .opts = "",
    .min_args = 2,
    .max_args = 2,
    .exec = domrename_exec,
    .flags = CMD_F_WRITES,
};
