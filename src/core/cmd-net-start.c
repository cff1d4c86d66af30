/* net-start NETWORK: build a defined network on the host (bridge, address,
 * nftables rules, dnsmasq), as virsh net-start does. */
#include "core/cmd-util.h"
#include "core/err.h"
#include "core/network-run.h"
#include "store/store.h"

static enum cmd_result net_start_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    if (!st)
        return CMD_ERROR;
    struct store_object_row row;
    if (store_network_get_row(st, args->argv[0], &row) < 0)
        return CMD_ERROR;
    if (network_start(st, row.uuid) < 0) {
        err_prefix("failed to start network '%s': ", row.name);
        return CMD_ERROR;
    }
    fprintf(ctx->out, "Network %s started\n\n", row.name);
    return CMD_OK;
}

const struct cmd_entry cmd_net_start_entry = {
    .name = "net-start",
    .usage = "net-start NETWORK",
    .summary = "start a defined network: its bridge, address, NAT rules and DHCP/DNS server",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = net_start_exec,
    .flags = CMD_F_WRITES,
};
