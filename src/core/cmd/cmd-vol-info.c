/* vol-info, vol-path, vol-key, vol-name, vol-pool: one volume's facts, as
 * virsh prints them. A volume is named as virsh names one: NAME with its
 * pool (VOL POOL or VOL --pool POOL), or its key (here its path) alone. */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"

#include <stdio.h>
#include <string.h>

static enum cmd_result with_volume(struct cmd_ctx *ctx, struct cmd_args *args,
                                   int (*show)(struct cmd_ctx *, struct cmd_args *,
                                               struct cmd_pool *, struct volume *))
{
    bool bad;
    const char *pool = cmd_vol_pool_arg(args, 1, &bad);
    if (bad)
        return CMD_USAGE;
    struct cmd_pool p;
    struct volume *v = NULL;
    int rc = cmd_vol_lookup(ctx, args->argv[0], pool, &p, &v);
    if (rc == 0)
        rc = show(ctx, args, &p, v);
    volume_free(v);
    cmd_pool_clear(&p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

static const char *vol_path(const struct volume *v)
{
    return v->target_path ? v->target_path : v->key;
}

/* The volume as the host has it now; the record follows. */
static int show_info(struct cmd_ctx *ctx, struct cmd_args *args, struct cmd_pool *p,
                     struct volume *v)
{
    struct pool_vol now;
    if (cmd_pool_backend(p) < 0 || p->be->vol_stat(p->def, vol_path(v), &now) < 0)
        return -1;
    int rc = cmd_pool_record_volume(ctx, p, vol_path(v));
    if (rc == 0) {
        char cap[40], alloc[40];
        if (cmd_has(args, "bytes")) {
            snprintf(cap, sizeof cap, "%llu bytes", (unsigned long long)now.capacity);
            snprintf(alloc, sizeof alloc, "%llu bytes", (unsigned long long)now.allocation);
        } else {
            cmd_format_size(now.capacity, cap, sizeof cap);
            cmd_format_size(now.allocation, alloc, sizeof alloc);
        }
        fprintf(ctx->out, "%-15s %s\n%-15s %s\n%-15s %s\n%-15s %s\n\n", "Name:", v->name,
                "Type:", now.type, "Capacity:", cap, "Allocation:", alloc);
    }
    pool_vol_clear(&now);
    return rc;
}

static int show_path(struct cmd_ctx *ctx, struct cmd_args *a, struct cmd_pool *p, struct volume *v)
{
    (void)a, (void)p;
    fprintf(ctx->out, "%s\n\n", vol_path(v));
    return 0;
}

static int show_key(struct cmd_ctx *ctx, struct cmd_args *a, struct cmd_pool *p, struct volume *v)
{
    (void)a, (void)p;
    fprintf(ctx->out, "%s\n\n", v->key ? v->key : vol_path(v));
    return 0;
}

static int show_name(struct cmd_ctx *ctx, struct cmd_args *a, struct cmd_pool *p, struct volume *v)
{
    (void)a, (void)p;
    fprintf(ctx->out, "%s\n\n", v->name);
    return 0;
}

static int show_pool(struct cmd_ctx *ctx, struct cmd_args *a, struct cmd_pool *p, struct volume *v)
{
    (void)v;
    fprintf(ctx->out, "%s\n\n", cmd_has(a, "uuid") ? p->row.uuid : p->row.name);
    return 0;
}

static enum cmd_result vol_info_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return with_volume(ctx, args, show_info);
}

static enum cmd_result vol_path_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return with_volume(ctx, args, show_path);
}

static enum cmd_result vol_key_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return with_volume(ctx, args, show_key);
}

static enum cmd_result vol_name_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return with_volume(ctx, args, show_name);
}

static enum cmd_result vol_pool_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return with_volume(ctx, args, show_pool);
}

const struct cmd_entry cmd_vol_info_entry = {
    .name = "vol-info",
    .usage = "vol-info VOL [POOL | --pool POOL] [--bytes]",
    .summary = "show a volume's type, capacity and allocation, measured now",
    .opts = "pool=,bytes",
    .min_args = 1,
    .max_args = 2,
    .exec = vol_info_exec,
    .flags = CMD_F_WRITES, /* the record follows what was measured */
};

const struct cmd_entry cmd_vol_path_entry = {
    .name = "vol-path",
    .usage = "vol-path VOL [POOL | --pool POOL]",
    .summary = "print a volume's path",
    .opts = "pool=",
    .min_args = 1,
    .max_args = 2,
    .exec = vol_path_exec,
};

const struct cmd_entry cmd_vol_key_entry = {
    .name = "vol-key",
    .usage = "vol-key VOL [POOL | --pool POOL]",
    .summary = "print a volume's key (its path)",
    .opts = "pool=",
    .min_args = 1,
    .max_args = 2,
    .exec = vol_key_exec,
};

const struct cmd_entry cmd_vol_name_entry = {
    .name = "vol-name",
    .usage = "vol-name KEY",
    .summary = "print the name of the volume with this key (path)",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = vol_name_exec,
};

const struct cmd_entry cmd_vol_pool_entry = {
    .name = "vol-pool",
    .usage = "vol-pool KEY [--uuid]",
    .summary = "print the pool holding the volume with this key (path)",
    .opts = "uuid",
    .min_args = 1,
    .max_args = 1,
    .exec = vol_pool_exec,
};
