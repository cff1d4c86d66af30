/* vol-resize VOL CAPACITY [--pool P] [--delta] [--shrink] and
 * vol-wipe VOL [--pool P] [--algorithm zero]: change a volume's size or
 * its contents on the host, then its record. */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/image/image.h"

#include <stdio.h>
#include <string.h>

static const char *vol_path(const struct volume *v)
{
    return v->target_path ? v->target_path : v->key;
}

/* virsh: a leading '-' means shrink by that much and needs --shrink. */
static int new_capacity(const struct cmd_args *a, uint64_t now, uint64_t *size, bool *shrink)
{
    const char *text = a->argv[1];
    bool delta = cmd_has(a, "delta");
    *shrink = cmd_has(a, "shrink");
    if (*text == '-') {
        if (!*shrink)
            return err_set("negative size requires --shrink");
        text++;
        delta = true;
    }
    uint64_t n;
    if (cmd_parse_size(text, "capacity", &n) < 0)
        return -1;
    if (!delta)
        *size = n;
    else if (*shrink && n > now)
        return err_set("Failed to change size of volume to %s: the volume has %llu bytes",
                       a->argv[1], (unsigned long long)now);
    else
        *size = *shrink ? now - n : now + n;
    if (!*shrink && *size < now)
        return err_set("Can't shrink capacity below current capacity unless shrink flag "
                       "explicitly specified");
    return 0;
}

static enum cmd_result vol_resize_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool bad, shrink;
    const char *pool = cmd_vol_pool_arg(args, 2, &bad);
    if (bad)
        return CMD_USAGE;
    struct cmd_pool p;
    struct volume *v = NULL;
    uint64_t size;
    int rc = cmd_vol_lookup(ctx, args->argv[0], pool, &p, &v);
    if (rc == 0)
        rc = cmd_pool_backend(&p);
    if (rc == 0)
        rc = new_capacity(args, v->capacity_bytes, &size, &shrink);
    if (rc == 0)
        rc = p.be->vol_resize(p.def, vol_path(v), v->format ? v->format : "raw", size, shrink);
    if (rc == 0)
        rc = cmd_pool_record_volume(ctx, &p, vol_path(v));
    if (rc == 0)
        rc = store_event_add(ctx->store, "volume", v->name, "resized", args->argv[1]);
    if (rc == 0)
        fprintf(ctx->out, "Size of volume '%s' successfully changed to %s\n\n", v->name,
                args->argv[1]);
    volume_free(v);
    cmd_pool_clear(&p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

/* Zeros over the whole disk: holes in a file, zero clusters in qcow2,
 * zeroed blocks on a logical volume. In chunks small enough for the
 * progress shown to move on a slow device. */
#define WIPE_CHUNK (64ull << 20)

static int wipe(struct cmd_ctx *ctx, const struct volume *v)
{
    enum image_format f = IMAGE_FORMAT_RAW;
    if (v->format && image_format_parse(v->format, &f) < 0)
        return -1;
    struct image *img = image_open(vol_path(v), f, 0);
    if (!img)
        return -1;
    char what[300];
    snprintf(what, sizeof(what), "wiping %s", v->name);
    uint64_t size = image_get_size(img), off = 0;
    int rc = 0;
    while (rc == 0 && off < size) {
        uint64_t n = size - off < WIPE_CHUNK ? size - off : WIPE_CHUNK;
        rc = image_write_zeroes(img, off, n);
        off += n;
        cmd_progress(ctx, what, off, size);
    }
    cmd_progress_end(ctx);
    if (image_close(img) < 0)
        rc = -1;
    return rc;
}

static enum cmd_result vol_wipe_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool bad;
    const char *pool = cmd_vol_pool_arg(args, 1, &bad);
    if (bad)
        return CMD_USAGE;
    const char *alg = cmd_get(args, "algorithm");
    if (alg && strcmp(alg, "zero") != 0) {
        err_set("vol-wipe: algorithm '%s' is not supported by tvm (zero)", alg);
        return CMD_USAGE;
    }
    struct cmd_pool p;
    struct volume *v = NULL;
    int rc = cmd_vol_lookup(ctx, args->argv[0], pool, &p, &v);
    if (rc == 0)
        rc = wipe(ctx, v);
    if (rc == 0)
        rc = cmd_pool_record_volume(ctx, &p, vol_path(v));
    if (rc == 0)
        rc = store_event_add(ctx->store, "volume", v->name, "wiped", "zero");
    if (rc == 0)
        fprintf(ctx->out, "Vol %s wiped\n\n", v->name);
    volume_free(v);
    cmd_pool_clear(&p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_vol_resize_entry = {
    .name = "vol-resize",
    .usage = "vol-resize VOL CAPACITY [POOL | --pool POOL] [--delta] [--shrink]",
    .summary = "change a volume's capacity (--delta: by CAPACITY; shrinking needs --shrink, "
               "raw and logical volumes only)",
    .opts = "pool=,delta,shrink,allocate",
    .min_args = 2,
    .max_args = 3,
    .exec = vol_resize_exec,
    .flags = CMD_F_WRITES,
};

const struct cmd_entry cmd_vol_wipe_entry = {
    .name = "vol-wipe",
    .usage = "vol-wipe VOL [POOL | --pool POOL] [--algorithm zero]",
    .summary = "overwrite a volume's data with zeros",
    .opts = "pool=,algorithm=",
    .min_args = 1,
    .max_args = 2,
    .exec = vol_wipe_exec,
    .flags = CMD_F_WRITES,
};
