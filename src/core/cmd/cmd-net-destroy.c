/* net-destroy NETWORK: take a running network down (dnsmasq, rules,
 * bridge); its definition stays, as with virsh net-destroy. */
#include "core/cmd/cmd-util.h"
#include "core/virt/network-run.h"

static enum cmd_result net_destroy_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return network_cmd_run(ctx, args, network_destroy, "destroy", "Network %s destroyed");
}

const struct cmd_entry cmd_net_destroy_entry = {
    .name = "net-destroy",
    .usage = "net-destroy NETWORK",
    .summary = "stop a running network (the definition stays)",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = net_destroy_exec,
    .flags = CMD_F_WRITES,
};
