/* desc DOMAIN [--title] [--new-desc TEXT | TEXT...]: show or set the
 * description or title, with virsh's messages. */
#include "core/cmd/cmd-util.h"
#include "core/model/domain.h"
#include "core/base/err.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* The new text: --new-desc, else the remaining words joined by spaces (as virsh). */
static char *desc_new_text(const struct cmd_args *args)
{
    const char *opt = cmd_get(args, "new-desc");
    if (opt)
        return strdup(opt);
    if (args->argc < 2)
        return NULL;
    size_t len = 1;
    for (int i = 1; i < args->argc; i++)
        len += strlen(args->argv[i]) + 1;
    char *s = calloc(1, len);
    for (int i = 1; s && i < args->argc; i++) {
        if (i > 1)
            strcat(s, " ");
        strcat(s, args->argv[i]);
    }
    return s;
}

static enum cmd_result desc_show(struct cmd_ctx *ctx, const struct domain *d, bool title)
{
    const char *text = title ? d->title : d->description;
    if (text && *text)
        fprintf(ctx->out, "%s\n", text);
    else
        fprintf(ctx->out, "No %s for domain: %s\n", title ? "title" : "description", d->name);
    return CMD_OK;
}

static enum cmd_result desc_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool title = cmd_has(args, "title");
    struct store *st = cmd_store(ctx);
    struct domain *d;
    if (!st || cmd_domain_load(ctx, args->argv[0], NULL, &d) < 0)
        return CMD_ERROR;
    if (cmd_has(args, "new-desc") && args->argc > 1) {
        domain_free(d);
        err_set("desc: give the new text either with --new-desc or as arguments, not both");
        return CMD_USAGE;
    }
    char *text = desc_new_text(args);
    if (!text) {
        enum cmd_result r = desc_show(ctx, d, title);
        domain_free(d);
        return r;
    }
    int rc = title ? domain_set_title(d, text) : domain_set_description(d, text);
    if (rc == 0)
        rc = store_domain_update(st, d);
    if (rc == 0)
        rc = store_event_add(st, "domain", d->name, "updated", title ? "title" : "description");
    if (rc == 0)
        fprintf(ctx->out, "Domain %s updated successfully\n", title ? "title" : "description");
    free(text);
    domain_free(d);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

/* --live/--config/--current are accepted for virsh scripts: a tvm domain
 * has one definition, used for both. --edit is not supported. */
const struct cmd_entry cmd_desc_entry = {
    .name = "desc",
    .usage = "desc DOMAIN [--title] [[--new-desc] TEXT...]",
    .summary = "show or set a domain's description or title",
    .opts = "title,new-desc=,live,config,current",
    .min_args = 1,
    .max_args = -1,
    .exec = desc_exec,
    .flags = CMD_F_WRITES,
};
