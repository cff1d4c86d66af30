/* edit, net-edit, pool-edit NAME: change a definition in $EDITOR, as virsh
 * does. The body is the kind table's (cmd-kind.c).
 *
 * Not CMD_F_WRITES: the editor may stay open for long, and the store must
 * not be locked meanwhile; the edited document is applied in a transaction
 * of its own. */
#include "core/cmd/cmd-kind.h"

const struct cmd_entry cmd_edit_entry = {
    .name = "edit",
    .usage = "edit DOMAIN",
    .summary = "edit a domain's XML in $VISUAL/$EDITOR (default vi) and apply it",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_edit_exec,
    .data = &cmd_kind_domain,
};

const struct cmd_entry cmd_net_edit_entry = {
    .name = "net-edit",
    .usage = "net-edit NETWORK",
    .summary = "edit a network's XML in $VISUAL/$EDITOR and apply it",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_edit_exec,
    .data = &cmd_kind_network,
};

const struct cmd_entry cmd_pool_edit_entry = {
    .name = "pool-edit",
    .usage = "pool-edit POOL",
    .summary = "edit a storage pool's XML in $VISUAL/$EDITOR and apply it",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_edit_exec,
    .data = &cmd_kind_pool,
};
