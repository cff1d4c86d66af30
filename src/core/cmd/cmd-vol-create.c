/* vol-create, vol-create-as, vol-create-from, vol-clone: a new volume in an
 * active pool's storage (never where the XML's <target><path> points: the
 * pool decides, as libvirt does), made by the pool's backend on tvm's
 * image layer and recorded as the host then has it. The copying forms
 * copy what the source reads, sparsely. */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/image/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Makes the volume and records it; *path (malloc'd) is where it went. On a
 * failure nothing is left behind. */
static int create_volume(struct cmd_ctx *ctx, struct cmd_pool *p, const struct pool_vol_spec *s,
                         char **path)
{
    struct store_object_row row;
    *path = NULL;
    if (store_volume_get_row(ctx->store, p->row.name, s->name, &row) == 0)
        return err_set("storage volume '%s' exists already in pool '%s'", s->name, p->row.name);
    err_clear();
    if (p->be->vol_create(p->def, s, path) < 0)
        return -1;
    if (cmd_pool_record_volume(ctx, p, *path) == 0)
        return 0;
    char why[1024];
    snprintf(why, sizeof why, "%s", err_msg());
    p->be->vol_delete(p->def, *path);
    free(*path);
    *path = NULL;
    return err_set("%s", why);
}

static int open_pool(struct cmd_ctx *ctx, const char *name, struct cmd_pool *p)
{
    if (cmd_pool_load(ctx, name, p) < 0 || cmd_pool_backend(p) < 0 ||
        cmd_pool_require_active(p) < 0)
        return -1;
    return 0;
}

/* The format a backing volume was recorded with: tvm never probes one. */
static int backing_of(struct cmd_ctx *ctx, struct cmd_pool *p, const char *vol, const char *fmt,
                      char **path, char **format)
{
    struct cmd_pool bp;
    struct volume *bv;
    /* virsh: a name in the same pool first, then a key (path) */
    int rc = cmd_vol_lookup(ctx, vol, p->row.name, &bp, &bv);
    if (rc < 0 && vol[0] == '/') {
        cmd_pool_clear(&bp);
        rc = cmd_vol_lookup(ctx, vol, NULL, &bp, &bv);
    }
    if (rc < 0) {
        cmd_pool_clear(&bp);
        return err_prefix("backing volume: ");
    }
    *path = strdup(bv->target_path ? bv->target_path : bv->key);
    *format = strdup(fmt ? fmt : bv->format ? bv->format : "raw");
    volume_free(bv);
    cmd_pool_clear(&bp);
    return *path && *format ? 0 : err_set("out of memory");
}

static enum cmd_result vol_create_as_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *backing = cmd_get(args, "backing-vol");
    struct pool_vol_spec s = {
        .name = args->argv[1],
        .format = cmd_get(args, "format"),
        .prealloc_metadata = cmd_has(args, "prealloc-metadata"),
    };
    if (cmd_parse_size(args->argv[2], "capacity", &s.capacity) < 0)
        return CMD_USAGE;
    s.allocation = s.capacity; /* libvirt: without <allocation>, all of it */
    if (cmd_get(args, "allocation") &&
        cmd_parse_size(cmd_get(args, "allocation"), "allocation", &s.allocation) < 0)
        return CMD_USAGE;
    if (cmd_get(args, "backing-vol-format") && !backing) {
        err_set("vol-create-as: --backing-vol-format needs --backing-vol");
        return CMD_USAGE;
    }
    struct cmd_pool p;
    char *path = NULL, *bpath = NULL, *bfmt = NULL;
    int rc = open_pool(ctx, args->argv[0], &p);
    if (rc == 0 && pool_check_vol_name(s.name) < 0)
        rc = -1;
    if (rc == 0 && backing) {
        rc = backing_of(ctx, &p, backing, cmd_get(args, "backing-vol-format"), &bpath, &bfmt);
        s.backing_path = bpath;
        s.backing_format = bfmt;
        if (!s.format)
            s.format = "qcow2"; /* an overlay is the only volume with a backing file */
    }
    if (rc == 0)
        rc = create_volume(ctx, &p, &s, &path);
    if (rc == 0)
        rc = store_event_add(ctx->store, "volume", s.name, "created", path);
    if (rc == 0)
        fprintf(ctx->out, "Vol %s created\n\n", s.name);
    free(path);
    free(bpath);
    free(bfmt);
    cmd_pool_clear(&p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

/* What a volume XML asks for, as a spec pointing into v. */
static struct pool_vol_spec spec_from_xml(const struct volume *v, const struct cmd_args *args)
{
    return (struct pool_vol_spec){
        .name = v->name,
        .capacity = v->capacity_bytes,
        .allocation = v->allocation_bytes,
        .format = v->format,
        .backing_path = v->backing_path,
        .backing_format = v->backing_format,
        .prealloc_metadata = cmd_has(args, "prealloc-metadata"),
    };
}

static int read_volume_xml(struct cmd_ctx *ctx, const char *file, struct volume **v)
{
    char *xml;
    size_t len;
    if (cmd_read_input(ctx, file, &xml, &len) < 0)
        return -1;
    int rc = volume_parse(xml, len, cmd_input_origin(file), v);
    free(xml);
    return rc;
}

/* Copies the source volume's data into the new one. */
static int copy_volume(const struct volume *src, const char *dst_path, const char *dst_format,
                       bool dst_is_file)
{
    enum image_format sf = IMAGE_FORMAT_RAW, df = IMAGE_FORMAT_RAW;
    if ((src->format && image_format_parse(src->format, &sf) < 0) ||
        (dst_format && image_format_parse(dst_format, &df) < 0))
        return -1;
    const char *sp = src->target_path ? src->target_path : src->key;
    struct image *in = image_open(sp, sf, IMAGE_OPEN_RDONLY);
    if (!in)
        return -1;
    struct image *out = image_open(dst_path, df, 0);
    int rc = out ? image_copy(in, out, dst_is_file, NULL, NULL) : -1;
    if (out && image_close(out) < 0)
        rc = -1;
    image_close(in);
    return rc;
}

/* Creates S in P and fills it from SRC; nothing is left on a failure. */
static int create_copy(struct cmd_ctx *ctx, struct cmd_pool *p, struct pool_vol_spec *s,
                       const struct volume *src)
{
    char *path;
    if (s->capacity < src->capacity_bytes)
        s->capacity = src->capacity_bytes;
    s->allocation = 0; /* the copy allocates what it writes */
    if (create_volume(ctx, p, s, &path) < 0)
        return -1;
    struct store_object_row row;
    bool is_file = store_volume_get_row(ctx->store, p->row.name, s->name, &row) == 0 &&
                   strcmp(p->def->type, "logical") != 0;
    int rc = copy_volume(src, path, s->format, is_file);
    if (rc == 0)
        rc = cmd_pool_record_volume(ctx, p, path);
    if (rc < 0) {
        char why[1024];
        snprintf(why, sizeof why, "%s", err_msg());
        p->be->vol_delete(p->def, path);
        err_set("%s", why);
    }
    free(path);
    return rc;
}

static enum cmd_result vol_create_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *file = args->argv[1];
    struct cmd_pool p;
    struct volume *v = NULL;
    char *path = NULL;
    int rc = open_pool(ctx, args->argv[0], &p);
    if (rc == 0)
        rc = read_volume_xml(ctx, file, &v);
    if (rc == 0) {
        struct pool_vol_spec s = spec_from_xml(v, args);
        rc = create_volume(ctx, &p, &s, &path);
    }
    if (rc == 0)
        rc = store_event_add(ctx->store, "volume", v->name, "created", path);
    if (rc == 0)
        fprintf(ctx->out, "Vol %s created from %s\n\n", v->name, file);
    free(path);
    volume_free(v);
    cmd_pool_clear(&p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

/* vol-create-from POOL FILE INPUTVOL [--inputpool P]: FILE's volume, filled from INPUTVOL. */
static enum cmd_result vol_create_from_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *file = args->argv[1], *input = args->argv[2];
    struct cmd_pool p, ip;
    struct volume *v = NULL, *src = NULL;
    memset(&ip, 0, sizeof ip);
    int rc = open_pool(ctx, args->argv[0], &p);
    if (rc == 0)
        rc = read_volume_xml(ctx, file, &v);
    if (rc == 0)
        rc = cmd_vol_lookup(ctx, input, cmd_get(args, "inputpool"), &ip, &src);
    if (rc == 0) {
        struct pool_vol_spec s = spec_from_xml(v, args);
        s.backing_path = s.backing_format = NULL; /* the data is copied, not layered */
        rc = create_copy(ctx, &p, &s, src);
    }
    if (rc == 0)
        rc = store_event_add(ctx->store, "volume", v->name, "created", input);
    if (rc == 0)
        fprintf(ctx->out, "Vol %s created from input vol %s\n\n", v->name, src->name);
    volume_free(v);
    volume_free(src);
    cmd_pool_clear(&p);
    cmd_pool_clear(&ip);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

/* vol-clone VOL NEWNAME [--pool P]: the same format and size, the same data. */
static enum cmd_result vol_clone_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool bad;
    const char *pool = cmd_vol_pool_arg(args, 2, &bad);
    if (bad)
        return CMD_USAGE;
    struct cmd_pool p;
    struct volume *src = NULL;
    int rc = cmd_vol_lookup(ctx, args->argv[0], pool, &p, &src);
    if (rc == 0)
        rc = cmd_pool_backend(&p);
    if (rc == 0) {
        struct pool_vol_spec s = {
            .name = args->argv[1],
            .capacity = src->capacity_bytes,
            .format = src->format,
            .prealloc_metadata = cmd_has(args, "prealloc-metadata"),
        };
        rc = create_copy(ctx, &p, &s, src);
    }
    if (rc == 0)
        rc = store_event_add(ctx->store, "volume", args->argv[1], "created", src->name);
    if (rc == 0)
        fprintf(ctx->out, "Vol %s cloned from %s\n\n", args->argv[1], src->name);
    volume_free(src);
    cmd_pool_clear(&p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_vol_create_entry = {
    .name = "vol-create",
    .usage = "vol-create POOL FILE [--prealloc-metadata]",
    .summary = "create a volume from XML in an active pool (placed in the pool's target)",
    .opts = "prealloc-metadata",
    .min_args = 2,
    .max_args = 2,
    .exec = vol_create_exec,
    .flags = CMD_F_WRITES,
};

const struct cmd_entry cmd_vol_create_as_entry = {
    .name = "vol-create-as",
    .usage = "vol-create-as POOL NAME CAPACITY [--allocation SIZE] [--format raw|qcow2] "
             "[--backing-vol VOL] [--backing-vol-format FMT] [--prealloc-metadata]",
    .summary = "create a volume from arguments (sizes as 10G, 512M, bytes)",
    .opts = "allocation=,format=,backing-vol=,backing-vol-format=,prealloc-metadata",
    .min_args = 3,
    .max_args = 3,
    .exec = vol_create_as_exec,
    .flags = CMD_F_WRITES,
};

const struct cmd_entry cmd_vol_create_from_entry = {
    .name = "vol-create-from",
    .usage = "vol-create-from POOL FILE INPUTVOL [--inputpool POOL] [--prealloc-metadata]",
    .summary = "create a volume from XML, filled with another volume's data",
    .opts = "inputpool=,prealloc-metadata",
    .min_args = 3,
    .max_args = 3,
    .exec = vol_create_from_exec,
    .flags = CMD_F_WRITES,
};

const struct cmd_entry cmd_vol_clone_entry = {
    .name = "vol-clone",
    .usage = "vol-clone VOL NEWNAME [POOL | --pool POOL] [--prealloc-metadata]",
    .summary = "copy a volume within its pool (same format and size, sparse)",
    .opts = "pool=,prealloc-metadata",
    .min_args = 2,
    .max_args = 3,
    .exec = vol_clone_exec,
    .flags = CMD_F_WRITES,
};
