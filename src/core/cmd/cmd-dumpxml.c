/* dumpxml, net-dumpxml, pool-dumpxml NAME: the stored definition, as the
 * formatter wrote it. The body is the kind table's (cmd-kind.c). */
#include "core/cmd/cmd-kind.h"
#include "core/cmd/cmd-util.h"
#include "core/model/domain.h"

#include <stdlib.h>

/* As virsh: secrets (the VNC passwd) only with --security-info. */
static enum cmd_result dumpxml_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    if (cmd_has(args, "security-info"))
        return cmd_kind_dumpxml_exec(ctx, args);
    char *xml, *pub = NULL;
    if (!cmd_store(ctx) || cmd_kind_domain.get_xml(ctx, args->argv[0], &xml) < 0)
        return CMD_ERROR;
    pub = domain_xml_public(xml, args->argv[0]);
    free(xml);
    if (!pub)
        return CMD_ERROR;
    cmd_print_xml(ctx->out, pub);
    free(pub);
    return CMD_OK;
}

/* The other options virsh scripts pass are accepted: the definition has no
 * live part that they would change yet. */
const struct cmd_entry cmd_dumpxml_entry = {
    .name = "dumpxml",
    .usage = "dumpxml DOMAIN [--inactive] [--security-info] [--migratable]",
    .summary = "print the domain's XML definition",
    .opts = "inactive,security-info,update-cpu,migratable",
    .min_args = 1,
    .max_args = 1,
    .exec = dumpxml_exec,
    .data = &cmd_kind_domain,
};

const struct cmd_entry cmd_net_dumpxml_entry = {
    .name = "net-dumpxml",
    .usage = "net-dumpxml NETWORK [--inactive]",
    .summary = "print a network's XML definition",
    .opts = "inactive",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_dumpxml_exec,
    .data = &cmd_kind_network,
};

const struct cmd_entry cmd_pool_dumpxml_entry = {
    .name = "pool-dumpxml",
    .usage = "pool-dumpxml POOL [--inactive]",
    .summary = "print a storage pool's XML definition",
    .opts = "inactive",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_dumpxml_exec,
    .data = &cmd_kind_pool,
};
