/* edit DOMAIN: change a definition in $EDITOR, as virsh edit. */
#include "core/cmd/cmd-util.h"
#include "core/model/domain.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

struct edit_target {
    struct store_domain_row row; /* the domain as it was before the edit */
};

/* Applies an edited document in its own transaction; the uuid is the key
 * and must stay, a new name must be free. */
static int edit_apply(struct cmd_ctx *ctx, const char *xml, size_t len, const char *origin,
                      void *opaque)
{
    const struct edit_target *t = opaque;
    struct store *st = cmd_store(ctx);
    struct store_domain_row other;
    struct domain *d;
    if (!st || domain_parse(xml, len, origin, &d) < 0)
        return -1;
    int rc = 0;
    if (strcmp(d->uuid, t->row.uuid) != 0)
        rc = err_set("%s: the uuid cannot be changed by edit (was %s)", origin, t->row.uuid);
    else if (strcmp(d->name, t->row.name) != 0 && store_domain_get_row(st, d->name, &other) == 0)
        rc = err_set("%s: domain '%s' already exists with uuid %s", origin, d->name, other.uuid);
    if (rc == 0 && store_begin(st) == 0) {
        if (store_domain_update(st, d) < 0 ||
            store_event_add(st, "domain", d->name, "updated", "edited") < 0) {
            store_rollback(st);
            rc = -1;
        } else {
            rc = store_commit(st);
        }
    } else if (rc == 0) {
        rc = -1;
    }
    if (rc == 0)
        fprintf(ctx->out, "Domain '%s' XML configuration edited.\n\n", d->name);
    domain_free(d);
    return rc;
}

static enum cmd_result edit_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct edit_target t;
    struct store *st = cmd_store(ctx);
    char *xml;
    if (!st || cmd_domain_load(ctx, args->argv[0], &t.row, NULL) < 0 ||
        store_domain_get_xml(st, t.row.uuid, &xml) < 0)
        return CMD_ERROR;
    char what[300];
    snprintf(what, sizeof(what), "Domain '%s'", t.row.name);
    bool changed;
    int rc = cmd_edit_xml(ctx, xml, what, edit_apply, &t, &changed);
    free(xml);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

/* Not CMD_F_WRITES: the editor may stay open for long, and the store must
 * not be locked meanwhile. edit_apply() makes its own transaction. */
const struct cmd_entry cmd_edit_entry = {
    .name = "edit",
    .usage = "edit DOMAIN",
    .summary = "edit a domain's XML in $VISUAL/$EDITOR (default vi) and apply it",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = edit_exec,
};
