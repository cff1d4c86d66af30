/* domblkinfo DOMAIN [TARGET] [--human] [--all] and blockresize DOMAIN
 * TARGET SIZE, as virsh's. A disk is named by its target (vda) or its
 * source path, as libvirt finds one.
 *
 * domblkinfo measures the disk's file now: capacity is the virtual size
 * (qcow2's header, a raw file's length), allocation what the host file
 * system has allocated to it, physical its length (a block device: its
 * size for all three). libvirt asks QEMU for a running qcow2 disk's highest
 * written offset instead; tvm's file figures hold for both states.
 *
 * blockresize grows the image: on a running guest tvm-vmm does it (QMP
 * block_resize), so the guest sees the new capacity at once through the
 * virtio-blk config-change interrupt; on a stopped one tvm resizes the
 * file itself. Shrinking a disk under a guest's file system is refused. */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/image/image.h"
#include "core/model/domain.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SECTOR 512

struct blk_sizes {
    uint64_t capacity, allocation, physical;
};

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

/* The disk's file: its source, or the path its pool records for its volume. */
static int disk_path(struct cmd_ctx *ctx, const struct domain_disk *k, char *buf, size_t len)
{
    if (k->source && *k->source) {
        snprintf(buf, len, "%s", k->source);
        return 0;
    }
    buf[0] = '\0';
    if (!k->source_pool || !k->source_volume)
        return 0; /* an empty CD-ROM drive */
    struct store *st = cmd_store(ctx);
    struct store_object_row row;
    if (!st || store_volume_get_row(st, k->source_pool, k->source_volume, &row) < 0)
        return -1;
    snprintf(buf, len, "%s", row.detail);
    return 0;
}

/* virsh's lookup: the target, else the source path. */
static const struct domain_disk *find_disk(const struct domain *d, const char *key)
{
    for (size_t i = 0; i < d->ndisks; i++)
        if (d->disks[i].target_dev && !strcmp(d->disks[i].target_dev, key))
            return &d->disks[i];
    for (size_t i = 0; i < d->ndisks; i++)
        if (d->disks[i].source && !strcmp(d->disks[i].source, key))
            return &d->disks[i];
    err_set("invalid argument: invalid path %s not assigned to domain", key);
    return NULL;
}

static enum image_format disk_format(const struct domain_disk *k)
{
    enum image_format f = IMAGE_FORMAT_RAW;
    if (k->driver_type && image_format_parse(k->driver_type, &f) < 0)
        err_clear(); /* a format tvm cannot open is measured as raw bytes */
    return f;
}

static int measure(const struct domain_disk *k, const char *path, struct blk_sizes *out)
{
    memset(out, 0, sizeof(*out));
    if (!*path)
        return 0; /* no medium: virsh shows '-' */
    struct stat st;
    if (stat(path, &st) < 0)
        return err_errno("cannot stat '%s'", path);
    /* As qemu-img -U: a running guest's disk can be looked at. */
    struct image *img =
        image_open(path, disk_format(k), IMAGE_OPEN_RDONLY | IMAGE_OPEN_FORCE_SHARE);
    if (!img)
        return -1;
    out->capacity = image_get_size(img);
    image_close(img);
    if (S_ISREG(st.st_mode)) {
        out->allocation = (uint64_t)st.st_blocks * 512;
        out->physical = (uint64_t)st.st_size;
    } else {
        out->allocation = out->physical = out->capacity;
    }
    return 0;
}

/* "1.000 GiB", "512.000 B": virsh's vshPrettyCapacity with three decimals. */
static const char *pretty(uint64_t v, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double x = (double)v;
    size_t u = 0;
    while (x >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
        x /= 1024;
        u++;
    }
    snprintf(buf, len, "%.3f %s", x, units[u]);
    return buf;
}

static void cells(const struct blk_sizes *s, bool human, char c[3][40])
{
    const uint64_t v[3] = {s->capacity, s->allocation, s->physical};
    for (int i = 0; i < 3; i++) {
        if (!s->capacity && !s->allocation && !s->physical)
            snprintf(c[i], 40, "-");
        else if (human)
            pretty(v[i], c[i], 40);
        else
            snprintf(c[i], 40, "%llu", (unsigned long long)v[i]);
    }
}

static int disk_sizes(struct cmd_ctx *ctx, const struct domain_disk *k, struct blk_sizes *s)
{
    char path[4096];
    if (disk_path(ctx, k, path, sizeof(path)) < 0 || measure(k, path, s) < 0)
        return err_prefix("disk '%s': ", or_empty(k->target_dev));
    return 0;
}

static enum cmd_result domblkinfo_all(struct cmd_ctx *ctx, const struct domain *d, bool human)
{
    struct cmd_tbl *t = cmd_tbl_new(4, "Target", "Capacity", "Allocation", "Physical");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < d->ndisks; i++) {
        struct blk_sizes s;
        char c[3][40];
        rc = disk_sizes(ctx, &d->disks[i], &s);
        cells(&s, human, c);
        if (rc == 0)
            cmd_tbl_add(t, or_empty(d->disks[i].target_dev), c[0], c[1], c[2]);
    }
    if (rc == 0)
        cmd_tbl_print(t, ctx->out);
    cmd_tbl_free(t);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

static enum cmd_result domblkinfo_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool all = cmd_has(args, "all"), human = cmd_has(args, "human");
    if (all == (args->argc > 1)) {
        err_set("domblkinfo: give a TARGET or --all; usage: %s", args->entry->usage);
        return CMD_USAGE;
    }
    struct domain *d;
    if (cmd_domain_load_view(ctx, args->argv[0], false, NULL, &d) < 0)
        return CMD_ERROR;
    enum cmd_result r = CMD_ERROR;
    const struct domain_disk *k;
    struct blk_sizes s;
    if (all) {
        r = domblkinfo_all(ctx, d, human);
    } else if ((k = find_disk(d, args->argv[1])) && disk_sizes(ctx, k, &s) == 0) {
        char c[3][40];
        cells(&s, human, c);
        fprintf(ctx->out, "%-15s %s\n%-15s %s\n%-15s %s\n\n", "Capacity:", c[0],
                "Allocation:", c[1], "Physical:", c[2]);
        r = CMD_OK;
    }
    domain_free(d);
    return r;
}

/* ---- blockresize ---- */

/* virsh's scaled integer: a bare number is KiB; "B" means bytes. Rounded
 * up to whole sectors, as libvirt rounds before it asks QEMU. */
static int parse_new_size(const char *text, uint64_t *bytes)
{
    bool bare = *text != '\0';
    for (const char *p = text; *p; p++)
        bare = bare && isdigit((unsigned char)*p);
    uint64_t n;
    if (cmd_parse_size(text, "size", &n) < 0)
        return -1;
    if (bare && n > UINT64_MAX / 1024)
        return err_set("size '%s' is too large", text);
    if (bare)
        n *= 1024;
    if (n > UINT64_MAX - SECTOR)
        return err_set("size '%s' is too large", text);
    *bytes = (n + SECTOR - 1) / SECTOR * SECTOR;
    return 0;
}

static int resize_offline(const struct domain_disk *k, const char *path, uint64_t size)
{
    struct image *img = image_open(path, disk_format(k), 0);
    if (!img)
        return -1;
    int rc = image_resize(img, size, false);
    if (image_close(img) < 0)
        rc = -1;
    return rc;
}

/* A disk that is a pool's volume: its record follows the new size. */
static void record_volume(struct cmd_ctx *ctx, const char *path)
{
    char pool[256], name[256];
    struct cmd_pool p;
    if (store_volume_find_path(ctx->store, path, pool, name) == 0 &&
        cmd_pool_load(ctx, pool, &p) == 0) {
        cmd_pool_record_volume(ctx, &p, path);
        cmd_pool_clear(&p);
    }
    err_clear(); /* a file outside the pools has no record to keep */
}

static int block_resize(struct cmd_ctx *ctx, const struct store_domain_row *row,
                        const struct domain_disk *k, uint64_t size)
{
    char path[4096];
    struct blk_sizes now;
    if (k->device && strcmp(k->device, "disk") != 0)
        return err_set("disk '%s' is a %s: only a disk can be resized", or_empty(k->target_dev),
                       k->device);
    if (disk_path(ctx, k, path, sizeof(path)) < 0 || measure(k, path, &now) < 0)
        return -1;
    if (size < now.capacity)
        return err_set("blockresize: disk '%s' has %llu bytes; shrinking it to %llu under the "
                       "guest's file systems is refused (vol-resize --shrink on a stopped "
                       "domain's raw volume)",
                       or_empty(k->target_dev), (unsigned long long)now.capacity,
                       (unsigned long long)size);
    int rc = cmd_domain_is_active(row) ? vm_block_resize(row, k->target_dev, size)
                                       : resize_offline(k, path, size);
    if (rc == 0)
        record_volume(ctx, path);
    return rc;
}

static enum cmd_result blockresize_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    uint64_t size;
    if (parse_new_size(args->argv[2], &size) < 0)
        return CMD_USAGE;
    struct store_domain_row row;
    struct domain *d;
    if (cmd_domain_load_view(ctx, args->argv[0], false, &row, &d) < 0)
        return CMD_ERROR;
    const struct domain_disk *k = find_disk(d, args->argv[1]);
    int rc = k ? block_resize(ctx, &row, k, size) : -1;
    if (rc == 0)
        rc = store_event_add(ctx->store, "domain", row.name, "block-resized", args->argv[1]);
    if (rc == 0)
        fprintf(ctx->out, "Block device '%s' is resized\n\n", args->argv[1]);
    domain_free(d);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_domblkinfo_entry = {
    .name = "domblkinfo",
    .usage = "domblkinfo DOMAIN [DEVICE] [--human] [--all]",
    .summary = "a disk's capacity, allocation and physical size (--all: every disk)",
    .opts = "human,all",
    .min_args = 1,
    .max_args = 2,
    .exec = domblkinfo_exec,
};

const struct cmd_entry cmd_blockresize_entry = {
    .name = "blockresize",
    .usage = "blockresize DOMAIN PATH SIZE",
    .summary = "grow a disk (SIZE in KiB, or with a unit: 20G); a running guest sees it at once",
    .opts = "",
    .min_args = 3,
    .max_args = 3,
    .exec = blockresize_exec,
    .flags = CMD_F_WRITES,
};
