/* undefine NAME: remove an inactive domain and its snapshot metadata (and
 * the saved states its checkpoints own); a running one becomes transient.
 * net-undefine and pool-undefine remove an inactive network or pool (a
 * pool only while it holds no volumes) through the kind table (cmd-kind.c). */
#include "core/cmd/cmd-kind.h"
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-template.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>

static enum cmd_result refuse_active(const struct store_domain_row *row)
{
    err_set("Requested operation is not valid: domain '%s' is %s; shut it down first", row->name,
            domain_state_name(row->state));
    return CMD_ERROR;
}

/* A template with linked clones stays (it is their base), and no domain's
 * storage goes while other domains' disks are layered on it. */
static int refuse_backing(struct cmd_ctx *ctx, const char *uuid, bool storage)
{
    struct domain *d = NULL;
    char clones[1024];
    if (cmd_domain_load(ctx, uuid, NULL, &d) < 0)
        return -1;
    int rc = 0;
    if ((d->is_template || storage) && cmd_linked_clones(ctx, d, clones, sizeof clones) > 0)
        rc = err_set("Requested operation is not valid: %s '%s' backs the disks of its linked "
                     "clones (%s); undefine them first",
                     d->is_template ? "template" : "domain", d->name, clones);
    domain_free(d);
    return rc;
}

/* The store part, under the claim: the domain is read again (a racing
 * undefine may have removed it) and removed in one transaction. */
static enum cmd_result undefine_claimed(struct cmd_ctx *ctx, struct cmd_args *args,
                                        const char *uuid, bool more)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    if (store_begin(st) < 0)
        return CMD_ERROR;
    struct store_snapshot_row *snaps = NULL;
    size_t nsnaps = 0;
    if (store_domain_get_row(st, uuid, &row) < 0 ||
        store_snapshot_list(st, row.uuid, &snaps, &nsnaps) < 0)
        goto fail;
    free(snaps);
    if (nsnaps > 0 && !cmd_has(args, "snapshots-metadata")) {
        err_set("Requested operation is not valid: cannot delete inactive domain with %zu "
                "snapshots (use --snapshots-metadata)",
                nsnaps);
        goto fail;
    }
    /* The store drops the snapshot rows with the domain (ON DELETE CASCADE). */
    if (store_domain_delete(st, row.uuid) < 0 ||
        store_event_add(st, "domain", row.name, "undefined", "removed") < 0 || store_commit(st) < 0)
        goto fail;
    /* After the records: a kill in between leaves files no record names. */
    if (nsnaps > 0 && vm_snapshot_states_remove(ctx->db_path, row.uuid) < 0)
        fprintf(stderr, "tvm: warning: %s\n", err_msg());
    fprintf(ctx->out, "Domain '%s' has been undefined\n%s", row.name, more ? "" : "\n");
    return CMD_OK;
fail:
    store_rollback(st);
    return CMD_ERROR;
}

/* A running domain loses only its persistence, as libvirt's: it goes
 * when it stops (core/virt, vm_record_stop). Its disks stay while the
 * guest uses them, and its snapshots, whose saved states only an
 * undefine of the stopped domain removes, keep it persistent. */
static enum cmd_result undefine_running(struct cmd_ctx *ctx, struct cmd_args *args,
                                        const struct store_domain_row *row)
{
    struct store *st = cmd_store(ctx);
    if (cmd_get(args, "storage") || cmd_has(args, "remove-all-storage")) {
        err_set("Storage volume deletion is supported only on stopped domains");
        return CMD_ERROR;
    }
    if (!row->persistent) {
        err_set("Requested operation is not valid: cannot undefine transient domain");
        return CMD_ERROR;
    }
    struct store_snapshot_row *snaps = NULL;
    size_t nsnaps = 0;
    if (store_snapshot_list(st, row->uuid, &snaps, &nsnaps) < 0)
        return CMD_ERROR;
    free(snaps);
    if (nsnaps > 0) {
        err_set("Requested operation is not valid: domain '%s' is running and has %zu "
                "snapshots; delete them, or undefine it once it is shut off",
                row->name, nsnaps);
        return CMD_ERROR;
    }
    if (store_begin(st) < 0)
        return CMD_ERROR;
    if (store_domain_set_persistent(st, row->uuid, false) < 0 ||
        store_event_add(st, "domain", row->name, "undefined", "transient until it stops") < 0 ||
        store_commit(st) < 0) {
        store_rollback(st);
        return CMD_ERROR;
    }
    fprintf(ctx->out, "Domain '%s' has been undefined\n\n", row->name);
    return CMD_OK;
}

static enum cmd_result undefine_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    if (!st || cmd_domain_load(ctx, args->argv[0], &row, NULL) < 0)
        return CMD_ERROR;
    if (cmd_domain_is_active(&row))
        return undefine_running(ctx, args, &row);
    /* The disks are read before the definition goes; a --storage entry
     * that names no disk refuses the whole undefine, as virsh does. */
    struct domain *d = NULL;
    const char *list = cmd_get(args, "storage");
    bool storage = list || cmd_has(args, "remove-all-storage");
    if (refuse_backing(ctx, row.uuid, storage) < 0)
        return CMD_ERROR;
    if (storage && (cmd_domain_load(ctx, row.uuid, NULL, &d) < 0 ||
                    (list && cmd_storage_check_list(d, list) < 0) ||
                    cmd_remove_domain_storage(ctx, d, list, false) < 0)) {
        domain_free(d);
        return CMD_ERROR;
    }
    /* Claimed as a start claims it, so an undefine racing a start either
     * waits for it and refuses, or is over before the start reads the
     * domain; never does a VMM run for a domain that is gone. No store
     * transaction is open while it waits: the start records its guest in
     * one. */
    bool active;
    int claim = vm_dir_claim(st, &row, VM_CLAIM_WAIT_MS, &active);
    if (claim < 0) {
        domain_free(d);
        if (active && store_domain_get_row(st, row.uuid, &row) == 0)
            return refuse_active(&row);
        return CMD_ERROR;
    }
    enum cmd_result r = undefine_claimed(ctx, args, row.uuid, storage);
    vm_dir_release(row.uuid, claim);
    if (r == CMD_OK && storage && cmd_remove_domain_storage(ctx, d, list, true) < 0)
        r = CMD_ERROR;
    if (r == CMD_OK && storage)
        fputc('\n', ctx->out);
    domain_free(d);
    return r;
}

const struct cmd_entry cmd_undefine_entry = {
    .name = "undefine",
    .usage = "undefine DOMAIN [--snapshots-metadata] [--remove-all-storage | --storage "
             "VDA,PATH,...]",
    .summary = "undefine a domain (a running one stays until it stops)",
    .opts = "snapshots-metadata,remove-all-storage,storage=,nvram,keep-nvram,managed-save",
    .min_args = 1,
    .max_args = 1,
    .exec = undefine_exec,
    /* not CMD_F_WRITES: it opens its transaction only once it holds the
     * run directory (undefine_claimed) */
};

const struct cmd_entry cmd_net_undefine_entry = {
    .name = "net-undefine",
    .usage = "net-undefine NETWORK",
    .summary = "undefine an inactive network",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_undefine_exec,
    .flags = CMD_F_WRITES,
    .data = &cmd_kind_network,
};

const struct cmd_entry cmd_pool_undefine_entry = {
    .name = "pool-undefine",
    .usage = "pool-undefine POOL",
    .summary = "undefine an inactive storage pool that has no volumes",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = cmd_kind_undefine_exec,
    .flags = CMD_F_WRITES,
    .data = &cmd_kind_pool,
};
