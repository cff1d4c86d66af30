/* vncdisplay DOMAIN and domdisplay DOMAIN: where a running guest's VNC
 * server listens, printed as virsh prints it (its test driver is the
 * oracle): "127.0.0.1:1" / "vnc://127.0.0.1:1", ":1" / "vnc://localhost:1"
 * for a wildcard address. The port is the one tvm-vmm bound (QMP
 * query-vnc: with autoport, the first free from 5900). */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"
#include "core/cmd/cmd-util.h"
#include "core/cmd/cmd.h"
#include "core/model/domain.h"
#include "core/virt/vm.h"
#include "store/store.h"

#define ERR_NO_VNC "Failed to get VNC port. Is this domain using VNC?"

/* The TCP address and port of a running guest's VNC server; *port -1 when
 * it has none. */
static int vnc_where(struct cmd_ctx *ctx, const char *name, struct store_domain_row *row,
                     char *host, size_t hlen, int *port)
{
    *port = -1;
    if (cmd_domain_load(ctx, name, row, NULL) < 0)
        return -1;
    if (!cmd_domain_is_active(row))
        return err_set("Domain is not running");
    char *reply;
    if (vm_qmp(row, VM_QMP_TIMEOUT_MS, "query-vnc", NULL, &reply) < 0) {
        /* a VMM without the command has no VNC either */
        err_clear();
        return 0;
    }
    struct json_object *o = json_tokener_parse(reply), *v;
    free(reply);
    if (o && json_object_object_get_ex(o, "service", &v)) {
        *port = atoi(json_object_get_string(v));
        snprintf(host, hlen, "%s",
                 json_object_object_get_ex(o, "host", &v) ? json_object_get_string(v) : "");
    }
    json_object_put(o);
    return 0;
}

static bool wildcard(const char *host)
{
    return !*host || !strcmp(host, "0.0.0.0") || !strcmp(host, "::");
}

static enum cmd_result vncdisplay_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store_domain_row row;
    char host[64];
    int port;
    if (vnc_where(ctx, args->argv[0], &row, host, sizeof host, &port) < 0)
        return CMD_ERROR;
    if (port < 0) {
        err_set(ERR_NO_VNC);
        return CMD_ERROR;
    }
    if (wildcard(host))
        fprintf(ctx->out, ":%d\n\n", port - 5900);
    else
        fprintf(ctx->out, "%s:%d\n\n", host, port - 5900);
    return CMD_OK;
}

const struct cmd_entry cmd_vncdisplay_entry = {
    .name = "vncdisplay",
    .usage = "vncdisplay DOMAIN",
    .summary = "print a running domain's VNC display (ADDRESS:DISPLAY)",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = vncdisplay_exec,
};

static enum cmd_result domdisplay_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store_domain_row row;
    char host[64];
    int port;
    const char *type = cmd_get(args, "type");
    if (vnc_where(ctx, args->argv[0], &row, host, sizeof host, &port) < 0)
        return CMD_ERROR;
    if (port < 0 || (type && strcmp(type, "vnc"))) {
        err_set("No graphical display found");
        return CMD_ERROR;
    }
    char *pass = NULL;
    if (cmd_has(args, "include-password")) {
        struct domain *d;
        if (vm_live_domain(row.uuid, &d) == 0) {
            for (size_t i = 0; i < d->ngraphics && !pass; i++)
                if (d->graphics[i].passwd && !strcmp(d->graphics[i].type, "vnc"))
                    pass = strdup(d->graphics[i].passwd);
            domain_free(d);
        } else {
            err_clear();
        }
    }
    bool v6 = strchr(host, ':') && !wildcard(host);
    fprintf(ctx->out, "vnc://%s%s%s%s%s%s:%d\n", pass ? ":" : "", pass ? pass : "", pass ? "@" : "",
            v6 ? "[" : "", wildcard(host) ? "localhost" : host, v6 ? "]" : "", port - 5900);
    free(pass);
    return CMD_OK;
}

const struct cmd_entry cmd_domdisplay_entry = {
    .name = "domdisplay",
    .usage = "domdisplay DOMAIN [--type vnc] [--include-password]",
    .summary = "print a running domain's graphical display as a URI",
    .opts = "type=,include-password,all",
    .min_args = 1,
    .max_args = 1,
    .exec = domdisplay_exec,
};
