/* define, net-define, pool-define FILE: add an object, or replace the
 * definition of the one with the same uuid and name, as virsh does. The
 * body is the kind table's (cmd-kind.c). */
#include "core/cmd/cmd-kind.h"

const struct cmd_entry cmd_define_entry = {
    .name = "define",
    .usage = "define FILE",
    .summary = "define (but don't start) a domain from an XML file ('-' reads stdin)",
    .opts = "validate",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_define_exec,
    .flags = CMD_F_WRITES,
    .data = &cmd_kind_domain,
};

const struct cmd_entry cmd_net_define_entry = {
    .name = "net-define",
    .usage = "net-define FILE",
    .summary = "define (but don't start) a network from an XML file ('-' reads stdin)",
    .opts = "validate",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_define_exec,
    .flags = CMD_F_WRITES,
    .data = &cmd_kind_network,
};

const struct cmd_entry cmd_pool_define_entry = {
    .name = "pool-define",
    .usage = "pool-define FILE",
    .summary = "define (but don't build or start) a storage pool from an XML file",
    .opts = "validate",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_define_exec,
    .flags = CMD_F_WRITES,
    .data = &cmd_kind_pool,
};
