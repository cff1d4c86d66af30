/* start-autostarted: what libvirt's daemon does when it comes up, for a
 * host without one: start every pool, then every network, then every
 * domain marked autostart that is not running (pools and networks first,
 * since domains use them). Run at boot by dist/tvm-autostart.service.
 * Each start is the verb's own (pool-start, net-start, start), with its
 * own message and transaction; one that fails does not stop the others,
 * and the command fails naming every one that did not start. */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/virt/network-run.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct autostart_run {
    struct cmd_ctx *ctx;
    int started, failed;
    char why[2048]; /* "domain 'a': ...; network 'n': ..." */
};

static void start_one(struct autostart_run *r, const char *verb, const char *kind, const char *name)
{
    char *argv[] = {(char *)verb, (char *)name, NULL};
    if (cmd_run_argv(r->ctx, 2, argv) == CMD_OK) {
        r->started++;
        return;
    }
    r->failed++;
    size_t used = strlen(r->why);
    snprintf(r->why + used, sizeof r->why - used, "%s%s '%s': %s", used ? "; " : "", kind, name,
             err_msg());
    err_clear();
}

/* Whether the pool's storage is up now: cmd_pool_load() checks the host
 * (a mount gone with a reboot is not active, whatever the record says). */
static bool pool_up(struct autostart_run *r, struct store_object_row *row)
{
    struct cmd_pool p;
    bool up = cmd_pool_load(r->ctx, row->uuid, &p) == 0 && p.row.active;
    cmd_pool_clear(&p);
    err_clear();
    return up;
}

/* Whether the network's bridge is up now (network_reconcile records one
 * that is gone as inactive). */
static bool network_up(struct autostart_run *r, struct store_object_row *row)
{
    bool up = network_reconcile(cmd_store(r->ctx), row) == 0 && row->active;
    err_clear();
    return up;
}

/* Pools or networks: each marked one that is not up is started by VERB. */
static int start_objects(struct autostart_run *r, const char *verb, const char *kind,
                         int (*list)(struct store *, struct store_object_row **, size_t *),
                         bool (*up)(struct autostart_run *, struct store_object_row *))
{
    struct store_object_row *rows = NULL;
    size_t n = 0;
    if (list(cmd_store(r->ctx), &rows, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (rows[i].autostart && !up(r, &rows[i]))
            start_one(r, verb, kind, rows[i].name);
    free(rows);
    return 0;
}

static int start_domains(struct autostart_run *r)
{
    struct store_domain_row *rows = NULL;
    size_t n = 0;
    cmd_reconcile(r->ctx);
    if (store_domain_list(cmd_store(r->ctx), STORE_LIST_INACTIVE, &rows, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (rows[i].autostart)
            start_one(r, "start", "domain", rows[i].name);
    free(rows);
    return 0;
}

static enum cmd_result start_autostarted_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    (void)args;
    struct autostart_run r = {.ctx = ctx};
    if (!cmd_store(ctx) || start_objects(&r, "pool-start", "pool", store_pool_list, pool_up) < 0 ||
        start_objects(&r, "net-start", "network", store_network_list, network_up) < 0 ||
        start_domains(&r) < 0)
        return CMD_ERROR;
    if (r.failed) {
        err_set("%d of %d autostart objects did not start: %s", r.failed, r.failed + r.started,
                r.why);
        return CMD_ERROR;
    }
    return CMD_OK;
}

const struct cmd_entry cmd_start_autostarted_entry = {
    .name = "start-autostarted",
    .usage = "start-autostarted",
    .summary = "start every pool, network and domain marked autostart (at host boot)",
    .opts = "",
    .min_args = 0,
    .max_args = 0,
    .exec = start_autostarted_exec,
};
