/* net-start and net-destroy: build a defined network on the host (bridge,
 * address, nftables rules, dnsmasq) or take it down again, its definition
 * staying, as virsh's do. One exec; each entry's data row names the
 * service it calls and the words it prints. */
#include "core/base/err.h"
#include "core/cmd/cmd-util.h"
#include "core/virt/network-run.h"
#include "store/store.h"

struct net_verb {
    const char *verb;     /* in "failed to VERB network 'NAME': why" */
    const char *done_fmt; /* printed with the network's name */
    int (*fn)(struct store *st, const char *uuid);
};

static enum cmd_result net_verb_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const struct net_verb *v = args->entry->data;
    struct store *st = cmd_store(ctx);
    struct store_object_row row;
    if (!st || store_network_get_row(st, args->argv[0], &row) < 0)
        return CMD_ERROR;
    if (v->fn(st, row.uuid) < 0) {
        err_prefix("failed to %s network '%s': ", v->verb, row.name);
        return CMD_ERROR;
    }
    fprintf(ctx->out, v->done_fmt, row.name);
    fputs("\n\n", ctx->out);
    return CMD_OK;
}

const struct cmd_entry cmd_net_start_entry = {
    .name = "net-start",
    .usage = "net-start NETWORK",
    .summary = "start a defined network: its bridge, address, NAT rules and DHCP/DNS server",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = net_verb_exec,
    .flags = CMD_F_WRITES,
    .data = &(const struct net_verb){"start", "Network %s started", network_start},
};

const struct cmd_entry cmd_net_destroy_entry = {
    .name = "net-destroy",
    .usage = "net-destroy NETWORK",
    .summary = "stop a running network (the definition stays)",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = net_verb_exec,
    .flags = CMD_F_WRITES,
    .data = &(const struct net_verb){"destroy", "Network %s destroyed", network_destroy},
};
