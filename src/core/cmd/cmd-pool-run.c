/* pool-build, pool-start, pool-destroy, pool-delete, pool-refresh: a pool's
 * storage on the host, through its backend (src/core/pool), and the
 * inventory's record of it: the active flag, and the volumes, which are
 * recorded while the pool runs (refresh finds those others made). */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"

#include <stdio.h>

typedef int (*pool_step_fn)(struct cmd_ctx *ctx, struct cmd_pool *p, const struct cmd_args *a);

static int refuse_active(const struct cmd_pool *p, const char *how)
{
    return err_set("Requested operation is not valid: storage pool '%s' is %s active", p->row.name,
                   how);
}

static int build_step(struct cmd_ctx *ctx, struct cmd_pool *p, const struct cmd_args *a)
{
    (void)ctx;
    if (p->row.active)
        return refuse_active(p, "already");
    return p->be->build(p->def, cmd_pool_build_flags(a));
}

static int start_step(struct cmd_ctx *ctx, struct cmd_pool *p, const struct cmd_args *a)
{
    unsigned flags = cmd_pool_build_flags(a);
    if (p->row.active)
        return refuse_active(p, "already");
    if ((flags || cmd_has(a, "build")) && p->be->build(p->def, flags) < 0)
        return -1;
    if (p->be->start(p->def) < 0 || store_pool_set_active(ctx->store, p->row.uuid, true) < 0)
        return -1;
    p->row.active = true;
    if (cmd_pool_refresh(ctx, p) == 0)
        return 0;
    /* not left half-started: the transaction rolls the record back */
    char why[1024];
    snprintf(why, sizeof why, "%s", err_msg());
    p->be->stop(p->def);
    return err_set("%s", why);
}

static int destroy_step(struct cmd_ctx *ctx, struct cmd_pool *p, const struct cmd_args *a)
{
    (void)a;
    if (cmd_pool_require_active(p) < 0 || p->be->stop(p->def) < 0)
        return -1;
    return store_volume_delete_pool(ctx->store, p->row.name) < 0 ||
                   store_pool_set_active(ctx->store, p->row.uuid, false) < 0
               ? -1
               : 0;
}

static int delete_step(struct cmd_ctx *ctx, struct cmd_pool *p, const struct cmd_args *a)
{
    (void)ctx, (void)a;
    if (p->row.active)
        return refuse_active(p, "still");
    return p->be->remove(p->def);
}

static int refresh_step(struct cmd_ctx *ctx, struct cmd_pool *p, const struct cmd_args *a)
{
    (void)a;
    return cmd_pool_require_active(p) < 0 ? -1 : cmd_pool_refresh(ctx, p);
}

struct pool_verb {
    pool_step_fn step;
    const char *done; /* "Pool %s built" */
    const char *event;
};

static const struct pool_verb build_verb = {build_step, "built", "built"},
                              start_verb = {start_step, "started", "started"},
                              destroy_verb = {destroy_step, "destroyed", "stopped"},
                              delete_verb = {delete_step, "deleted", "deleted"},
                              refresh_verb = {refresh_step, "refreshed", "refreshed"};

static enum cmd_result pool_verb_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const struct pool_verb *v = args->entry->data;
    if (cmd_has(args, "overwrite") && cmd_has(args, "no-overwrite")) {
        err_set("--overwrite and --no-overwrite exclude each other");
        return CMD_USAGE;
    }
    struct cmd_pool p;
    int rc = cmd_pool_load(ctx, args->argv[0], &p);
    if (rc == 0)
        rc = cmd_pool_backend(&p);
    if (rc == 0)
        rc = v->step(ctx, &p, args);
    if (rc == 0)
        rc = store_event_add(ctx->store, "pool", p.row.name, v->event, "");
    if (rc == 0)
        fprintf(ctx->out, "Pool %s %s\n\n", p.row.name, v->done);
    cmd_pool_clear(&p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_pool_build_entry = {
    .name = "pool-build",
    .usage = "pool-build POOL [--overwrite|--no-overwrite]",
    .summary = "build a pool's storage: its directory; with --overwrite or --no-overwrite also "
               "the file system (fs) or volume group (logical); --no-overwrite refuses a device "
               "that holds one",
    .opts = "overwrite,no-overwrite",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_verb_exec,
    .flags = CMD_F_WRITES,
    .data = &build_verb,
};

const struct cmd_entry cmd_pool_start_entry = {
    .name = "pool-start",
    .usage = "pool-start POOL [--build] [--overwrite|--no-overwrite]",
    .summary = "start an inactive pool (mount, activate the volume group) and record its volumes",
    .opts = "build,overwrite,no-overwrite",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_verb_exec,
    .flags = CMD_F_WRITES,
    .data = &start_verb,
};

const struct cmd_entry cmd_pool_destroy_entry = {
    .name = "pool-destroy",
    .usage = "pool-destroy POOL",
    .summary = "stop an active pool (unmount, deactivate); its data stays",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_verb_exec,
    .flags = CMD_F_WRITES,
    .data = &destroy_verb,
};

const struct cmd_entry cmd_pool_delete_entry = {
    .name = "pool-delete",
    .usage = "pool-delete POOL",
    .summary = "remove an inactive pool's storage: its (empty) directory, its volume group",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_verb_exec,
    .flags = CMD_F_WRITES,
    .data = &delete_verb,
};

const struct cmd_entry cmd_pool_refresh_entry = {
    .name = "pool-refresh",
    .usage = "pool-refresh POOL",
    .summary = "record the volumes an active pool holds now, made by tvm or not",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_verb_exec,
    .flags = CMD_F_WRITES,
    .data = &refresh_verb,
};
