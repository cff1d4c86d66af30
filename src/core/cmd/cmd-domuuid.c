/* domuuid, domname, domid: convert between a domain's name, uuid and run id. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

#include <inttypes.h>

static enum cmd_result domuuid_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store_domain_row row;
    if (cmd_domain_load(ctx, args->argv[0], &row, NULL) < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "%s\n\n", row.uuid);
    return CMD_OK;
}

const struct cmd_entry cmd_domuuid_entry = {
    .name = "domuuid",
    .usage = "domuuid DOMAIN",
    .summary = "print a domain's uuid",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = domuuid_exec,
};

static enum cmd_result domname_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store_domain_row row;
    if (cmd_domain_load(ctx, args->argv[0], &row, NULL) < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "%s\n\n", row.name);
    return CMD_OK;
}

const struct cmd_entry cmd_domname_entry = {
    .name = "domname",
    .usage = "domname DOMAIN-UUID",
    .summary = "print a domain's name",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = domname_exec,
};

static enum cmd_result domid_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store_domain_row row;
    if (cmd_domain_load(ctx, args->argv[0], &row, NULL) < 0)
        return CMD_ERROR;
    if (row.id >= 0 && cmd_domain_is_active(&row))
        fprintf(ctx->out, "%" PRId64 "\n\n", row.id);
    else
        fprintf(ctx->out, "-\n\n");
    return CMD_OK;
}

const struct cmd_entry cmd_domid_entry = {
    .name = "domid",
    .usage = "domid DOMAIN",
    .summary = "print a domain's run id ('-' when it is not running)",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = domid_exec,
};
