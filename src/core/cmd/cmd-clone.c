/* clone --original NAME --name NEW: a new domain with the original's
 * hardware and copies of its disks, as virt-clone makes one. What must be
 * unique changes (uuid, MACs, fixed graphics ports, tap names); each
 * writable disk is copied next to the original (full: the image file
 * copied sparsely or reflinked; --linked: a qcow2 overlay whose backing
 * file is the original's disk), CD-ROMs and read-only or shareable disks
 * are kept. Nothing is half done: files made before a failure are removed
 * and the domain is recorded only once every disk is in place. The TUI's
 * clone action runs this same command on its worker. */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/image/image.h"
#include "core/model/domain.h"
#include "store/store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum clone_action {
    CLONE_SHARE,    /* the new domain uses the original's disk as it is */
    CLONE_COPY,     /* a full, independent copy */
    CLONE_LINK,     /* a qcow2 overlay on the original's disk */
    CLONE_PRESERVE, /* --preserve-data: the file given with --file, as it is */
};

struct clone_disk {
    size_t index;
    enum clone_action action;
    char src[PATH_MAX]; /* the original's disk on the host */
    char dst[PATH_MAX];
    bool created; /* dst made by this clone: removed again on a failure */
    bool volume;  /* <disk type='volume'>: dst is a volume of the same pool */
    char pool[256];
};

struct clone_opts {
    const char *name;
    unsigned copy_flags; /* IMAGE_CLONE_* */
    bool linked, preserve, force;
};

struct clone_plan {
    struct domain *orig, *copy;
    struct clone_disk *disks; /* one per disk of the original */
    size_t n;
};

static void plan_free(struct clone_plan *p)
{
    domain_free(p->orig);
    domain_free(p->copy);
    free(p->disks);
}

/* ---- names, as virt-clone makes them ---- */

static bool domain_taken(struct store *st, const char *name)
{
    struct store_domain_row row;
    bool taken = store_domain_get_row(st, name, &row) == 0;
    err_clear();
    return taken;
}

/* NAME-clone, NAME-clone1, ...; a "web-clone" original gives
 * "web-clone1", a "web-clone3" one "web-clone4". */
static int generate_name(struct store *st, const char *orig, char *out, size_t len)
{
    int base = (int)strlen(orig);
    unsigned start = 1;
    bool numbered = false;
    const char *tag = NULL;
    for (const char *s = strstr(orig, "-clone"); s; s = strstr(s + 1, "-clone"))
        tag = s;
    if (tag && strspn(tag + 6, "123456789") == strlen(tag + 6)) {
        numbered = true;
        if (tag[6])
            start = (unsigned)strtoul(tag + 6, NULL, 10) + 1;
        base = (int)(tag - orig);
    }
    snprintf(out, len, "%.*s-clone", base, orig);
    if (!numbered && !domain_taken(st, out))
        return 0;
    for (unsigned i = start; i < start + 100000; i++) {
        snprintf(out, len, "%.*s-clone%u", base, orig, i);
        if (!domain_taken(st, out))
            return 0;
    }
    return err_set("no free name for a clone of '%s'", orig);
}

static bool path_taken(const struct clone_plan *p, const char *path)
{
    struct stat st;
    if (lstat(path, &st) == 0)
        return true;
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->disks[i].dst, path))
            return true;
    return false;
}

/* virt-clone's disk names: DIR/web.qcow2 of domain web → DIR/NEW.qcow2;
 * any other DIR/disk.qcow2 → DIR/disk-clone.qcow2, then disk-clone-1 ...
 * (an extension longer than 7 characters is part of the name). */
static int generate_path(const struct clone_plan *p, const char *src, char *out, size_t len)
{
    const char *slash = strrchr(src, '/');
    const char *dot = strrchr(src, '.');
    size_t stem = strlen(src);
    if (dot && (!slash || dot > slash) && strlen(dot + 1) <= 7)
        stem = (size_t)(dot - src);
    const char *suffix = src + stem;
    size_t dir = slash ? (size_t)(slash - src) + 1 : 0;
    char base[PATH_MAX];
    const char *name = src + dir;
    size_t namelen = stem - dir;
    if (namelen == strlen(p->orig->name) && !strncmp(name, p->orig->name, namelen))
        snprintf(base, sizeof base, "%.*s%s", (int)dir, src, p->copy->name);
    else
        snprintf(base, sizeof base, "%.*s-clone", (int)stem, src);
    for (unsigned i = 0; i < 100000; i++) {
        int w = i ? snprintf(out, len, "%s-%u%s", base, i, suffix)
                  : snprintf(out, len, "%s%s", base, suffix);
        if (w < 0 || (size_t)w >= len)
            return err_set("%s: the clone's path would be too long", src);
        if (!path_taken(p, out))
            return 0;
    }
    return err_set("%s: no free path for its clone", src);
}

/* ---- which disks are copied, and where ---- */

static enum clone_action default_action(const struct domain_disk *disk)
{
    bool empty = !disk->source && !disk->source_volume;
    if (empty || disk->readonly || disk->shareable ||
        (disk->device && strcmp(disk->device, "disk") != 0))
        return CLONE_SHARE; /* virt-clone: CD-ROMs, read-only and shareable disks stay */
    return CLONE_COPY;
}

/* The original disk's file on the host: its path, or its volume's. */
static int disk_source(struct cmd_ctx *ctx, const struct domain_disk *disk, struct clone_disk *cd)
{
    if (disk->type && !strcmp(disk->type, "volume")) {
        struct cmd_pool p;
        struct volume *v = NULL;
        int rc = cmd_vol_lookup(ctx, disk->source_volume, disk->source_pool, &p, &v);
        if (rc == 0)
            snprintf(cd->src, sizeof cd->src, "%s", v->target_path ? v->target_path : v->key);
        volume_free(v);
        cmd_pool_clear(&p);
        cd->volume = true;
        snprintf(cd->pool, sizeof cd->pool, "%s", disk->source_pool);
        return rc;
    }
    if (!disk->type || strcmp(disk->type, "file") != 0)
        return err_set("only file and volume disks can be copied (this one is type '%s'; "
                       "--preserve-data with --file uses a disk you made)",
                       disk->type ? disk->type : "?");
    snprintf(cd->src, sizeof cd->src, "%s", disk->source);
    return 0;
}

/* Opens the original's disk as the domain declares it (a format is never
 * probed) to find it is there and what it is. */
static int check_source(const struct domain_disk *disk, struct clone_disk *cd, bool linked)
{
    enum image_format fmt = IMAGE_FORMAT_RAW;
    if (disk->driver_type && image_format_parse(disk->driver_type, &fmt) < 0)
        return -1;
    if (linked && fmt != IMAGE_FORMAT_QCOW2)
        return err_set("--linked needs a qcow2 disk (%s is %s)", cd->src, image_format_name(fmt));
    struct image *img = image_open(cd->src, fmt, IMAGE_OPEN_RDONLY | IMAGE_OPEN_FORCE_SHARE);
    if (!img)
        return -1;
    struct image_info info;
    int rc = image_get_info(img, &info);
    /* a full copy keeps the backing reference as written: a relative one
     * must still point at the same file from the new directory */
    if (rc == 0 && cd->action == CLONE_COPY && info.backing_file && info.backing_file[0] != '/') {
        const char *a = strrchr(cd->src, '/'), *b = strrchr(cd->dst, '/');
        size_t la = a ? (size_t)(a - cd->src) : 0, lb = b ? (size_t)(b - cd->dst) : 0;
        if (la != lb || strncmp(cd->src, cd->dst, la) != 0)
            rc = err_set("%s names its backing file '%s' relative to its directory: put its "
                         "clone in the same directory",
                         cd->src, info.backing_file);
    }
    image_close(img);
    return rc;
}

/* Splits a comma-separated option value; *n items into out (pointers into buf). */
static size_t split_list(char *buf, char **out, size_t max)
{
    size_t n = 0;
    for (char *s = buf; s && *s && n < max;) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        out[n++] = s;
        s = comma ? comma + 1 : NULL;
    }
    return n;
}

static int plan_disk(struct cmd_ctx *ctx, struct clone_plan *p, size_t i, const char *file,
                     const struct clone_opts *o)
{
    const struct domain_disk *disk = &p->orig->disks[i];
    struct clone_disk *cd = &p->disks[i];
    cd->index = i;
    cd->action = default_action(disk);
    if (cd->action == CLONE_SHARE)
        return file ? err_set("--file %s: disk %s is %s and is not copied", file, disk->target_dev,
                              disk->readonly    ? "read-only"
                              : disk->shareable ? "shareable"
                                                : "not a disk")
                    : 0;
    if (o->preserve) {
        cd->action = CLONE_PRESERVE;
        if (!file)
            return err_set("--preserve-data needs a --file for disk %s", disk->target_dev);
        snprintf(cd->dst, sizeof cd->dst, "%s", file);
        if (access(file, R_OK | W_OK) < 0)
            return err_set("--file %s: %s", file, strerror(errno));
        return 0;
    }
    if (disk_source(ctx, disk, cd) < 0)
        return -1;
    if (o->linked)
        cd->action = CLONE_LINK;
    if (file && strlen(file) >= sizeof cd->dst)
        return err_set("--file %s: path too long", file);
    if (file && path_taken(p, file))
        return err_set("--file %s: the file exists already (clone never overwrites)", file);
    char dst[PATH_MAX];
    if (file)
        snprintf(dst, sizeof dst, "%s", file);
    else if (generate_path(p, cd->src, dst, sizeof dst) < 0)
        return -1;
    memcpy(cd->dst, dst, sizeof dst);
    if (file)
        cd->volume = false; /* a path of the user's: a file disk */
    return check_source(disk, cd, o->linked);
}

/* The values of a repeated option, each of them a comma list too
 * (`--file a,b --file c`), joined into one comma list in BUF. */
static int joined_list(const struct cmd_args *args, const char *opt, char *buf, size_t size)
{
    const char *values[CMD_MAX_OPTS];
    int n = cmd_get_all(args, opt, values, CMD_MAX_OPTS);
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? "," : "", values[i]);
        if (w < 0 || (size_t)w >= size - used)
            return err_set("--%s: list too long", opt);
        used += (size_t)w;
    }
    return 0;
}

static int plan_disks(struct cmd_ctx *ctx, struct clone_plan *p, const struct cmd_args *args,
                      const struct clone_opts *o)
{
    char buf[8192];
    char *list[64];
    if (joined_list(args, "file", buf, sizeof buf) < 0)
        return -1;
    size_t nfiles = split_list(buf, list, 64), used = 0;
    p->n = p->orig->ndisks;
    p->disks = calloc(p->n ? p->n : 1, sizeof *p->disks);
    if (!p->disks)
        return err_set("out of memory");
    for (size_t i = 0; i < p->n; i++) {
        const char *file = NULL;
        if (default_action(&p->orig->disks[i]) != CLONE_SHARE && used < nfiles)
            file = list[used++];
        if (plan_disk(ctx, p, i, file, o) < 0)
            return err_prefix("disk %s: ", p->orig->disks[i].target_dev);
    }
    if (used < nfiles)
        return err_set("--file %s: the domain has no further disk to copy", list[used]);
    return 0;
}

/* ---- the new definition ---- */

static int set_macs(struct domain *d, const struct cmd_args *args)
{
    char buf[4096];
    char *list[64];
    if (joined_list(args, "mac", buf, sizeof buf) < 0)
        return -1;
    size_t n = split_list(buf, list, 64);
    if (n > d->nnics)
        return err_set("--mac %s: the domain has %zu interface%s", list[d->nnics], d->nnics,
                       d->nnics == 1 ? "" : "s");
    for (size_t i = 0; i < d->nnics; i++) {
        char mac[MAC_STR_LEN];
        const char *given = i < n && strcasecmp(list[i], "RANDOM") != 0 ? list[i] : NULL;
        if (!given && mac_generate(mac) < 0)
            return -1;
        if (domain_set_nic_mac(d, i, given ? given : mac) < 0)
            return err_prefix("--mac: ");
    }
    return 0;
}

static int set_disks(struct clone_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const struct clone_disk *cd = &p->disks[i];
        if (cd->action == CLONE_SHARE)
            continue;
        const char *base = strrchr(cd->dst, '/');
        int rc = cd->volume ? domain_set_disk_volume(p->copy, i, base ? base + 1 : cd->dst)
                            : domain_set_disk_path(p->copy, i, cd->dst, false);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The original's definition with what must be unique changed, parsed
 * again so that it is checked as define would check it. */
static int make_definition(struct cmd_ctx *ctx, struct clone_plan *p, const char *name,
                           const char *uuid, const struct cmd_args *args)
{
    char new_uuid[UUID_STR_LEN];
    if (uuid ? uuid_parse(uuid, new_uuid) < 0 : uuid_generate(new_uuid) < 0)
        return err_prefix("--uuid: ");
    struct store_domain_row other;
    if (store_domain_get_row(ctx->store, new_uuid, &other) == 0)
        return err_set("--uuid %s: domain '%s' has it already", new_uuid, other.name);
    err_clear();
    char *xml = domain_format(p->orig);
    if (!xml)
        return -1;
    int rc = domain_parse(xml, strlen(xml), "clone", &p->copy);
    free(xml);
    if (rc < 0 || domain_prepare_clone(p->copy, name, new_uuid) < 0 || set_macs(p->copy, args) < 0)
        return -1;
    return 0;
}

static int reparse(struct domain **d)
{
    char *xml = domain_format(*d);
    if (!xml)
        return -1;
    struct domain *again = NULL;
    int rc = domain_parse(xml, strlen(xml), "clone", &again);
    free(xml);
    if (rc == 0) {
        domain_free(*d);
        *d = again;
    }
    return rc;
}

/* ---- the disks ---- */

struct copy_progress {
    struct cmd_ctx *ctx;
    const char *target;
};

static void report_progress(uint64_t done, uint64_t total, void *opaque)
{
    struct copy_progress *cp = opaque;
    cmd_progress(cp->ctx, cp->target, done, total);
}

static int make_disk(struct cmd_ctx *ctx, struct clone_disk *cd, const struct domain_disk *disk,
                     unsigned copy_flags)
{
    char what[PATH_MAX + 64];
    snprintf(what, sizeof what, "copying %.32s to %s", disk->target_dev, cd->dst);
    struct copy_progress cp = {ctx, what};
    if (cd->action == CLONE_COPY) {
        if (image_clone_file(cd->src, cd->dst, copy_flags, report_progress, &cp) < 0)
            return -1;
    } else if (cd->action == CLONE_LINK) {
        /* the backing file by its absolute path, its format recorded */
        char abs[PATH_MAX];
        if (!realpath(cd->src, abs))
            return err_set("%s: %s", cd->src, strerror(errno));
        if (image_create_qcow2(cd->dst, 0, 0, abs, IMAGE_FORMAT_QCOW2) < 0)
            return -1;
        report_progress(1, 1, &cp);
    } else {
        return 0;
    }
    cd->created = true;
    return 0;
}

static void remove_created(struct clone_plan *p)
{
    for (size_t i = 0; i < p->n; i++)
        if (p->disks[i].created && unlink(p->disks[i].dst) == 0)
            p->disks[i].created = false;
}

/* A new file in the directory of a pool that holds the original's disk
 * is a volume of that pool, as a refresh would find it. */
static int record_volumes(struct cmd_ctx *ctx, struct clone_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        struct clone_disk *cd = &p->disks[i];
        char pool[256], name[256];
        if (!cd->created)
            continue;
        if (!cd->volume && store_volume_find_path(ctx->store, cd->src, pool, name) < 0) {
            err_clear();
            continue;
        }
        struct cmd_pool cp;
        int rc = cmd_pool_load(ctx, cd->volume ? cd->pool : pool, &cp);
        char dir[PATH_MAX];
        const char *target = rc == 0 ? pool_target(cp.def, dir, sizeof dir) : NULL;
        size_t tl = target ? strlen(target) : 0;
        if (target && !strncmp(cd->dst, target, tl) && cd->dst[tl] == '/' &&
            !strchr(cd->dst + tl + 1, '/'))
            rc = cmd_pool_record_volume(ctx, &cp, cd->dst);
        cmd_pool_clear(&cp);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int record_domain(struct cmd_ctx *ctx, struct clone_plan *p)
{
    struct store *st = ctx->store;
    char detail[600];
    snprintf(detail, sizeof detail, "from %s", p->orig->name);
    if (store_begin(st) < 0)
        return -1;
    if (store_domain_insert(st, p->copy) < 0 || record_volumes(ctx, p) < 0 ||
        store_event_add(st, "domain", p->copy->name, "cloned", detail) < 0 ||
        store_commit(st) < 0) {
        store_rollback(st);
        return -1;
    }
    return 0;
}

/* ---- the command ---- */

static int check_original(const struct store_domain_row *row, bool force)
{
    if (!cmd_domain_is_active(row) || row->state == DOMAIN_PAUSED || force)
        return 0;
    return err_set("Requested operation is not valid: domain '%s' is %s: shut it down or "
                   "suspend it before cloning (--force copies disks that may be changing)",
                   row->name, domain_state_name(row->state));
}

static int clone_run(struct cmd_ctx *ctx, struct cmd_args *args, const struct clone_opts *o,
                     struct clone_plan *p)
{
    struct store_domain_row row;
    char name[256];
    if (cmd_domain_load(ctx, cmd_get(args, "original"), &row, &p->orig) < 0 ||
        check_original(&row, o->force) < 0)
        return -1;
    if (o->name) {
        if (name_check(o->name) < 0)
            return err_prefix("Invalid name for new guest: ");
        if (domain_taken(ctx->store, o->name))
            return err_set("Invalid name for new guest: Guest name '%s' is already in use.",
                           o->name);
        snprintf(name, sizeof name, "%s", o->name);
    } else if (generate_name(ctx->store, row.name, name, sizeof name) < 0) {
        return -1;
    }
    if (make_definition(ctx, p, name, cmd_get(args, "uuid"), args) < 0 ||
        plan_disks(ctx, p, args, o) < 0 || set_disks(p) < 0 || reparse(&p->copy) < 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < p->n && rc == 0; i++)
        if (make_disk(ctx, &p->disks[i], &p->orig->disks[i], o->copy_flags) < 0)
            rc = err_prefix("disk %s: ", p->orig->disks[i].target_dev);
    cmd_progress_end(ctx);
    return rc == 0 ? record_domain(ctx, p) : -1;
}

static enum cmd_result clone_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct clone_opts o = {
        .name = cmd_get(args, "name"),
        .linked = cmd_has(args, "linked"),
        .preserve = cmd_has(args, "preserve-data"),
        .force = cmd_has(args, "force"),
        .copy_flags = IMAGE_CLONE_REFLINK,
    };
    if (cmd_has(args, "reflink"))
        o.copy_flags |= IMAGE_CLONE_REFLINK_ONLY;
    if (cmd_has(args, "nonsparse"))
        o.copy_flags |= IMAGE_CLONE_NONSPARSE;
    const char *why =
        !cmd_get(args, "original")                ? "--original NAME is required"
        : !o.name && !cmd_has(args, "auto-clone") ? "--name NEW or --auto-clone is required"
        : o.linked && o.preserve               ? "--linked and --preserve-data exclude each other"
        : o.linked && cmd_has(args, "reflink") ? "--linked and --reflink exclude each other"
                                               : NULL;
    if (why) {
        err_set("clone: %s", why);
        return CMD_USAGE;
    }
    if (!cmd_store(ctx))
        return CMD_ERROR;
    struct clone_plan p = {0};
    int rc = clone_run(ctx, args, &o, &p);
    if (rc < 0) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", err_msg());
        remove_created(&p);
        err_set("%s", msg);
    } else {
        fprintf(ctx->out, "Clone '%s' created successfully.\n", p.copy->name);
        if (o.linked && !p.orig->is_template)
            fprintf(ctx->out,
                    "Note: '%s' now backs the clone's disks; writing to them would change the "
                    "clone (mark it a template: tvm template %s)\n",
                    p.orig->name, p.orig->name);
    }
    plan_free(&p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_clone_entry = {
    .name = "clone",
    .usage = "clone --original DOMAIN (--name NEW | --auto-clone) [--file PATH[,PATH...]]... "
             "[--linked] [--mac MAC[,MAC...]]... [--uuid UUID] [--preserve-data] [--nonsparse] "
             "[--reflink] [--force]",
    .summary = "copy a domain and its disks, as virt-clone (--linked: qcow2 overlays)",
    .opts = "original=,name=,auto-clone,file=*,linked,mac=*,uuid=,preserve-data,nonsparse,reflink,"
            "force",
    .min_args = 0,
    .max_args = 0,
    .exec = clone_exec,
    /* not CMD_F_WRITES: the disks are copied outside any transaction and
     * the domain recorded in one of its own (record_domain) */
};
