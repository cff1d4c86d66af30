/* Templates (cmd-template.c): what undefine and start ask about a domain
 * whose disks may back other domains' disks. Not a public API. */
#ifndef TVM_CORE_CMD_CMD_TEMPLATE_H
#define TVM_CORE_CMD_CMD_TEMPLATE_H

#include <stddef.h>

#include "core/cmd/cmd.h"

struct domain;

/* The other domains with a disk whose backing chain holds one of D's disk
 * files (linked clones), as "a, b" in NAMES (empty when none; truncated
 * with "..." past LEN). Found from the images themselves, so a clone made
 * with qemu-img counts too. Returns how many. */
size_t cmd_linked_clones(struct cmd_ctx *ctx, const struct domain *d, char *names, size_t len);

#endif
