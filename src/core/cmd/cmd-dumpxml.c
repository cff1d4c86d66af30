/* dumpxml, net-dumpxml, pool-dumpxml NAME. A domain has a live and an
 * inactive view (below); networks and pools print the stored definition
 * as the formatter wrote it, through the kind table (cmd-kind.c). */
#include "core/cmd/cmd-kind.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/model/domain.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

/* dumpxml --update-cpu: libvirt rewrites a host-model or custom <cpu> as
 * the named model and features the guest gets. tvm-vmm gives every guest
 * the host's CPU as KVM supports it, whatever <cpu> says (libvirt's
 * host-passthrough), and tvm has no table of named models to describe
 * that as one honestly: such a <cpu> is refused. One that already says
 * host-passthrough or maximum, or names no model, is what libvirt leaves
 * as it is, and so does tvm. */
static int check_update_cpu(struct cmd_ctx *ctx, const struct store_domain_row *row,
                            const struct domain *live)
{
    struct domain *stored = NULL;
    const struct domain *d = live;
    if (!d) {
        if (cmd_domain_load(ctx, row->uuid, NULL, &stored) < 0)
            return -1;
        d = stored;
    }
    const char *mode = d->cpu_mode ? d->cpu_mode : "custom";
    bool named = !strcmp(mode, "host-model") || (!strcmp(mode, "custom") && d->cpu_model);
    int rc = 0;
    if (named)
        rc = err_set("dumpxml --update-cpu is not supported for <cpu mode='%s'>: tvm-vmm gives "
                     "the guest the host's CPU as KVM supports it (host-passthrough), and tvm "
                     "has no CPU model table to describe it as a named model with features",
                     mode);
    domain_free(stored);
    return rc;
}

/* As virsh: a running domain's live XML (the definition it was started
 * with, its run id and taps: vm_live_view) unless --inactive, else the
 * stored definition as the formatter wrote it; secrets (the VNC passwd)
 * only with --security-info, in both views. */
static enum cmd_result dumpxml_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool secure = cmd_has(args, "security-info");
    struct store_domain_row row;
    struct domain *d = NULL;
    /* The run directory says whether it runs; no reconcile of the whole
     * inventory for one document. */
    if (!cmd_store(ctx) || store_domain_get_row(ctx->store, args->argv[0], &row) < 0)
        return CMD_ERROR;
    if (!cmd_has(args, "inactive") && cmd_domain_is_active(&row) &&
        vm_live_view(row.uuid, &d) < 0) {
        if (cmd_domain_is_active(&row)) {
            err_prefix("live definition of domain '%s': ", row.name);
            return CMD_ERROR;
        }
        err_clear(); /* it stopped meanwhile: the stored definition is all there is */
        d = NULL;
    }
    if (cmd_has(args, "update-cpu") && check_update_cpu(ctx, &row, d) < 0) {
        domain_free(d);
        return CMD_ERROR;
    }
    char *xml = NULL;
    if (d) {
        xml = secure ? domain_format(d) : domain_format_public(d);
        domain_free(d);
        if (!xml) {
            err_set("out of memory");
            return CMD_ERROR;
        }
    } else if (secure) {
        if (cmd_kind_domain.get_xml(ctx, row.uuid, &xml) < 0)
            return CMD_ERROR;
    } else {
        char *stored;
        if (cmd_kind_domain.get_xml(ctx, row.uuid, &stored) < 0)
            return CMD_ERROR;
        xml = domain_xml_public(stored, args->argv[0]);
        free(stored);
        if (!xml)
            return CMD_ERROR;
    }
    int rc = cmd_print_xml_selected(ctx->out, args, xml);
    free(xml);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

/* --migratable is accepted as virsh scripts pass it: tvm's definitions
 * have nothing it would change. */
const struct cmd_entry cmd_dumpxml_entry = {
    .name = "dumpxml",
    .usage = "dumpxml DOMAIN [--inactive] [--security-info] [--update-cpu] [--migratable] "
             "[--xpath EXPR] [--wrap]",
    .summary = "print the domain's XML definition",
    .opts = "inactive,security-info,update-cpu,migratable,xpath=,wrap",
    .min_args = 1,
    .max_args = 1,
    .exec = dumpxml_exec,
    .data = &cmd_kind_domain,
};

const struct cmd_entry cmd_net_dumpxml_entry = {
    .name = "net-dumpxml",
    .usage = "net-dumpxml NETWORK [--inactive] [--xpath EXPR] [--wrap]",
    .summary = "print a network's XML definition",
    .opts = "inactive,xpath=,wrap",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_dumpxml_exec,
    .data = &cmd_kind_network,
};

const struct cmd_entry cmd_pool_dumpxml_entry = {
    .name = "pool-dumpxml",
    .usage = "pool-dumpxml POOL [--inactive] [--xpath EXPR] [--wrap]",
    .summary = "print a storage pool's XML definition",
    .opts = "inactive,xpath=,wrap",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_dumpxml_exec,
    .data = &cmd_kind_pool,
};
