/* net-define FILE: add a network, or update the one with the same uuid and name. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/model/network.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

static int net_define_store(struct store *st, const struct network *n, bool *updated)
{
    struct store_object_row by_uuid, by_name;
    bool have_uuid = store_network_get_row(st, n->uuid, &by_uuid) == 0;
    bool have_name = store_network_get_row(st, n->name, &by_name) == 0;
    err_clear();
    if (have_uuid && strcmp(by_uuid.name, n->name) != 0)
        return err_set("network '%s' is already defined with uuid %s", by_uuid.name, n->uuid);
    if (have_name && strcmp(by_name.uuid, n->uuid) != 0)
        return err_set("network '%s' already exists with uuid %s", n->name, by_name.uuid);
    *updated = have_uuid;
    return have_uuid ? store_network_update(st, n) : store_network_insert(st, n);
}

static enum cmd_result net_define_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *path = args->argv[0];
    struct store *st = cmd_store(ctx);
    struct network *n = NULL;
    char *xml;
    size_t len;
    bool updated = false;
    if (!st || cmd_read_input(ctx, path, &xml, &len) < 0)
        return CMD_ERROR;
    int rc = network_parse(xml, len, cmd_input_origin(path), &n);
    free(xml);
    if (rc == 0)
        rc = net_define_store(st, n, &updated);
    if (rc == 0)
        rc = store_event_add(st, "network", n->name, "defined", updated ? "updated" : "added");
    if (rc == 0)
        fprintf(ctx->out, "Network %s defined from %s\n\n", n->name, path);
    network_free(n);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_net_define_entry = {
    .name = "net-define",
    .usage = "net-define FILE",
    .summary = "define (but don't start) a network from an XML file ('-' reads stdin)",
    .opts = "validate",
    .min_args = 1,
    .max_args = 1,
    .exec = net_define_exec,
    .flags = CMD_F_WRITES,
};
