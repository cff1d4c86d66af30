/* net-start NETWORK: build a defined network on the host (bridge, address,
 * nftables rules, dnsmasq), as virsh net-start does. */
#include "core/cmd/cmd-util.h"
#include "core/virt/network-run.h"

static enum cmd_result net_start_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return network_cmd_run(ctx, args, network_start, "start", "Network %s started");
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
