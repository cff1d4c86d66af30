/* tvm img create|info|check|convert|snapshot|resize|compare|map|rebase|commit (compare in
 * cmd-img-compare.c): offline work on raw and qcow2 images on tvm's own
 * image layer, in qemu-img's spelling (-f, -F, -b, -O, -s, and --output
 * json with qemu-img's field names), so scripts written for qemu-img need
 * only the command's name changed. */
#include "core/cmd/cmd-img.h"
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/image/image.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* qemu-img's short options, taken from the positional words. */
struct img_opts {
    const char *f, *F, *b, *O;
    bool s; /* compare -s: strict about sizes */
    bool u; /* rebase -u: the header only */
    bool d; /* commit -d: keep the overlay */
    bool c; /* convert -c: compressed clusters */
    const char *words[4];
    int nwords;
};

static int img_parse(const struct cmd_args *a, struct img_opts *o)
{
    memset(o, 0, sizeof(*o));
    for (int i = 1; i < a->argc; i++) {
        const char *w = a->argv[i];
        const char **slot = !strcmp(w, "-f")   ? &o->f
                            : !strcmp(w, "-F") ? &o->F
                            : !strcmp(w, "-b") ? &o->b
                            : !strcmp(w, "-O") ? &o->O
                                               : NULL;
        bool *flag = !strcmp(w, "-s")   ? &o->s
                     : !strcmp(w, "-u") ? &o->u
                     : !strcmp(w, "-d") ? &o->d
                     : !strcmp(w, "-c") ? &o->c
                                        : NULL;
        if (flag) {
            *flag = true;
        } else if (slot) {
            if (i + 1 >= a->argc)
                return err_set("img %s: option %s needs a value", a->argv[0], w);
            *slot = a->argv[++i];
        } else if (w[0] == '-' && w[1] && !(w[1] >= '0' && w[1] <= '9')) {
            /* "-1G" is resize's size, not an option */
            return err_set("img %s: unknown option '%s'", a->argv[0], w);
        } else if (o->nwords < 4) {
            o->words[o->nwords++] = w;
        } else {
            return err_set("img %s: too many arguments", a->argv[0]);
        }
    }
    return 0;
}

static int fmt_of(const char *name, enum image_format *f)
{
    *f = IMAGE_FORMAT_AUTO;
    return name ? image_format_parse(name, f) : 0;
}

/* img create [-f FMT] [-b BACKING -F BACKING_FMT] FILE [SIZE] */
static int img_create(struct cmd_ctx *ctx, const struct img_opts *o)
{
    enum image_format f = IMAGE_FORMAT_RAW, bf = IMAGE_FORMAT_AUTO;
    uint64_t size = 0;
    if (o->nwords < 1 || (o->nwords < 2 && !o->b) || o->nwords > 2)
        return err_set("usage: img create [-f raw|qcow2] [-b BACKING -F FMT] FILE [SIZE]");
    if ((o->f && image_format_parse(o->f, &f) < 0) || (o->F && image_format_parse(o->F, &bf) < 0))
        return -1;
    if (o->nwords == 2 && cmd_parse_size(o->words[1], "size", &size) < 0)
        return -1;
    if (o->b && f != IMAGE_FORMAT_QCOW2)
        return err_set("img create: a backing file needs -f qcow2");
    if (o->b && !o->F)
        return err_set("img create: give the backing file's format with -F (it is never probed)");
    int rc = f == IMAGE_FORMAT_QCOW2 ? image_create_qcow2(o->words[0], size, 0, o->b, bf)
                                     : image_create_raw(o->words[0], size);
    if (rc < 0)
        return -1;
    if (f == IMAGE_FORMAT_RAW) {
        fprintf(ctx->out, "Formatting '%s', fmt=raw size=%llu\n", o->words[0],
                (unsigned long long)size);
        return 0;
    }
    struct image *img = image_open(o->words[0], IMAGE_FORMAT_QCOW2, IMAGE_OPEN_RDONLY);
    if (!img)
        return -1;
    size = image_get_size(img);
    image_close(img);
    fprintf(ctx->out,
            "Formatting '%s', fmt=qcow2 cluster_size=65536 extended_l2=off "
            "compression_type=zlib size=%llu",
            o->words[0], (unsigned long long)size);
    if (o->b)
        fprintf(ctx->out, " backing_file=%s backing_fmt=%s", o->b, o->F);
    fputs(" lazy_refcounts=off refcount_bits=16\n", ctx->out);
    return 0;
}

/* qemu-img's human sizes: "1 GiB", "196 KiB", "1.5 GiB". */
static const char *human(uint64_t n, char *buf, size_t len)
{
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)n;
    int u = 0;
    while (v >= 1024 && u < 6) {
        v /= 1024;
        u++;
    }
    if (u == 0 || v >= 100 || v == (uint64_t)v)
        snprintf(buf, len, "%.0f %s", v, unit[u]);
    else if (v >= 10)
        snprintf(buf, len, "%.1f %s", v, unit[u]);
    else
        snprintf(buf, len, "%.2f %s", v, unit[u]);
    /* qemu-img drops trailing zeros of the fraction */
    char *dot = strchr(buf, '.');
    if (dot) {
        char *sp = strchr(dot, ' ');
        char *end = sp - 1;
        while (end > dot && *end == '0')
            end--;
        if (end == dot)
            end--;
        memmove(end + 1, sp, strlen(sp) + 1);
    }
    return buf;
}

static json_object *info_json(const char *path, const struct image_info *i)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "virtual-size", json_object_new_int64((int64_t)i->virtual_size));
    json_object_object_add(o, "filename", json_object_new_string(path));
    if (i->format == IMAGE_FORMAT_QCOW2)
        json_object_object_add(o, "cluster-size", json_object_new_int64(i->cluster_size));
    json_object_object_add(o, "format", json_object_new_string(image_format_name(i->format)));
    json_object_object_add(o, "actual-size", json_object_new_int64((int64_t)i->allocation));
    if (i->backing_file) {
        json_object_object_add(o, "backing-filename", json_object_new_string(i->backing_file));
        if (i->backing_path)
            json_object_object_add(o, "full-backing-filename",
                                   json_object_new_string(i->backing_path));
        if (i->backing_format != IMAGE_FORMAT_AUTO)
            json_object_object_add(o, "backing-filename-format",
                                   json_object_new_string(image_format_name(i->backing_format)));
    }
    if (i->format == IMAGE_FORMAT_QCOW2) {
        json_object *fs = json_object_new_object(), *data = json_object_new_object();
        json_object_object_add(fs, "type", json_object_new_string("qcow2"));
        json_object_object_add(data, "compat",
                               json_object_new_string(i->version >= 3 ? "1.1" : "0.10"));
        json_object_object_add(data, "refcount-bits", json_object_new_int(i->refcount_bits));
        json_object_object_add(data, "corrupt", json_object_new_boolean(i->corrupt));
        json_object_object_add(fs, "data", data);
        json_object_object_add(o, "format-specific", fs);
    }
    json_object_object_add(o, "dirty-flag", json_object_new_boolean(i->dirty));
    return o;
}

static void info_text(FILE *f, const char *path, const struct image_info *i)
{
    char a[32], b[32];
    fprintf(f, "image: %s\nfile format: %s\nvirtual size: %s (%llu bytes)\ndisk size: %s\n", path,
            image_format_name(i->format), human(i->virtual_size, a, sizeof a),
            (unsigned long long)i->virtual_size, human(i->allocation, b, sizeof b));
    if (i->format == IMAGE_FORMAT_QCOW2)
        fprintf(f, "cluster_size: %u\n", i->cluster_size);
    if (i->backing_file) {
        fprintf(f, "backing file: %s", i->backing_file);
        if (i->backing_path && strcmp(i->backing_path, i->backing_file) != 0)
            fprintf(f, " (actual path: %s)", i->backing_path);
        fputc('\n', f);
        if (i->backing_format != IMAGE_FORMAT_AUTO)
            fprintf(f, "backing file format: %s\n", image_format_name(i->backing_format));
    }
    if (i->format == IMAGE_FORMAT_QCOW2)
        fprintf(f,
                "Format specific information:\n    compat: %s\n    refcount bits: %u\n"
                "    corrupt: %s\n",
                i->version >= 3 ? "1.1" : "0.10", i->refcount_bits, i->corrupt ? "true" : "false");
}

/* img info [-f FMT] [--output json] FILE */
static int img_info(struct cmd_ctx *ctx, const struct img_opts *o, const char *output)
{
    enum image_format f;
    if (o->nwords != 1)
        return err_set("usage: img info [-f raw|qcow2] [--output human|json] FILE");
    if (fmt_of(o->f, &f) < 0)
        return -1;
    if (output && strcmp(output, "json") && strcmp(output, "human"))
        return err_set("img info: --output is human or json, not '%s'", output);
    struct image *img = image_open(o->words[0], f, IMAGE_OPEN_RDONLY | IMAGE_OPEN_FORCE_SHARE);
    struct image_info i;
    if (!img || image_get_info(img, &i) < 0) {
        image_close(img);
        return -1;
    }
    if (output && !strcmp(output, "json")) {
        json_object *j = info_json(o->words[0], &i);
        fprintf(ctx->out, "%s\n",
                json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
                                                      JSON_C_TO_STRING_SPACED |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(j);
    } else {
        info_text(ctx->out, o->words[0], &i);
    }
    image_close(img);
    return 0;
}

/* img check [-f FMT] [--output json] FILE: qemu-img check's report and
 * exit status (0 clean, 2 corruptions, 3 only leaks). */
static int img_check(struct cmd_ctx *ctx, const struct img_opts *o, const char *output,
                     enum cmd_result *result)
{
    enum image_format f;
    if (o->nwords != 1)
        return err_set("usage: img check [-f raw|qcow2] [--output human|json] FILE");
    if (fmt_of(o->f, &f) < 0)
        return -1;
    bool json = output && !strcmp(output, "json");
    struct image *img = image_open(o->words[0], f, IMAGE_OPEN_RDONLY);
    struct image_check r = {0};
    if (!img)
        return -1;
    int rc = image_check(img, json ? NULL : ctx->out, &r);
    const char *fmt = image_format_name(image_get_format(img));
    image_close(img);
    if (rc < 0)
        return -1;
    if (json) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "image-end-offset",
                               json_object_new_int64((int64_t)r.image_end_offset));
        json_object_object_add(j, "total-clusters",
                               json_object_new_int64((int64_t)r.total_clusters));
        json_object_object_add(j, "check-errors", json_object_new_int(0));
        if (r.leaks)
            json_object_object_add(j, "leaks", json_object_new_int64((int64_t)r.leaks));
        if (r.corruptions)
            json_object_object_add(j, "corruptions", json_object_new_int64((int64_t)r.corruptions));
        json_object_object_add(j, "allocated-clusters",
                               json_object_new_int64((int64_t)r.allocated_clusters));
        json_object_object_add(j, "filename", json_object_new_string(o->words[0]));
        json_object_object_add(j, "format", json_object_new_string(fmt));
        json_object_object_add(j, "fragmented-clusters",
                               json_object_new_int64((int64_t)r.fragmented_clusters));
        json_object_object_add(j, "compressed-clusters",
                               json_object_new_int64((int64_t)r.compressed_clusters));
        fprintf(ctx->out, "%s\n",
                json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY |
                                                      JSON_C_TO_STRING_SPACED |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(j);
    } else {
        if (r.corruptions)
            fprintf(ctx->out,
                    "\n%llu errors were found on the image.\nData may be corrupted, or "
                    "further writes to the image may corrupt it.\n",
                    (unsigned long long)r.corruptions);
        if (r.leaks)
            fprintf(ctx->out,
                    "\n%llu leaked clusters were found on the image.\nThis means waste "
                    "of disk space, but no harm to data.\n",
                    (unsigned long long)r.leaks);
        if (!r.corruptions && !r.leaks)
            fputs("No errors were found on the image.\n", ctx->out);
        if (r.allocated_clusters && r.total_clusters)
            fprintf(ctx->out,
                    "%llu/%llu = %0.2f%% allocated, %0.2f%% fragmented, %0.2f%% compressed "
                    "clusters\n",
                    (unsigned long long)r.allocated_clusters, (unsigned long long)r.total_clusters,
                    r.allocated_clusters * 100.0 / r.total_clusters,
                    r.fragmented_clusters * 100.0 / r.allocated_clusters,
                    r.compressed_clusters * 100.0 / r.allocated_clusters);
        fprintf(ctx->out, "Image end offset: %llu\n", (unsigned long long)r.image_end_offset);
    }
    if (r.corruptions) {
        err_set("%s: %llu errors found", o->words[0], (unsigned long long)r.corruptions);
        *result = CMD_USAGE; /* exit 2, as qemu-img check */
        return -1;
    }
    if (r.leaks) {
        err_set("%s: %llu leaked clusters", o->words[0], (unsigned long long)r.leaks);
        *result = CMD_ERROR;
        return -1;
    }
    return 0;
}

/* img convert [-f FMT] -O FMT SRC DST: what SRC's chain reads, as one
 * standalone image, sparse. */
static int img_convert(const struct img_opts *o)
{
    enum image_format sf, df = IMAGE_FORMAT_RAW;
    if (o->nwords != 2)
        return err_set("usage: img convert [-c] [-f FMT] [-O raw|qcow2] SRC DST");
    if (fmt_of(o->f, &sf) < 0 || (o->O && image_format_parse(o->O, &df) < 0))
        return -1;
    if (o->c && df != IMAGE_FORMAT_QCOW2)
        return err_set("Compression not supported for this file format");
    struct image *in = image_open(o->words[0], sf, IMAGE_OPEN_RDONLY);
    if (!in)
        return -1;
    uint64_t size = image_get_size(in);
    int rc = df == IMAGE_FORMAT_QCOW2 ? image_create_qcow2(o->words[1], size, 0, NULL, 0)
                                      : image_create_raw(o->words[1], size);
    struct image *out = rc == 0 ? image_open(o->words[1], df, 0) : NULL;
    if (rc == 0 && !out)
        rc = -1;
    if (rc == 0)
        rc = o->c ? image_copy_compressed(in, out, NULL, NULL)
                  : image_copy(in, out, true, NULL, NULL);
    if (out && image_close(out) < 0)
        rc = -1;
    image_close(in);
    return rc;
}

/* qemu-img's snapshot table (block/qapi.c bdrv_snapshot_dump's columns). */
static void snapshot_table(FILE *f, const struct image_snapshot *s, size_t n)
{
    fputs("Snapshot list:\n", f);
    fprintf(f, "%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE", "VM CLOCK", "ICOUNT");
    for (size_t i = 0; i < n; i++) {
        char size[32], date[32], clock[48], icount[24] = "";
        time_t t = (time_t)s[i].date_sec;
        struct tm tm;
        strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
        uint64_t secs = s[i].vm_clock_nsec / 1000000000ull;
        snprintf(clock, sizeof(clock), "%02d:%02d:%02d.%03d", (int)(secs / 3600),
                 (int)((secs / 60) % 60), (int)(secs % 60),
                 (int)((s[i].vm_clock_nsec / 1000000) % 1000));
        if (s[i].icount != UINT64_MAX)
            snprintf(icount, sizeof(icount), "%llu", (unsigned long long)s[i].icount);
        fprintf(f, "%-9s %-16s %8s%20s%13s%11s\n", s[i].id, s[i].name,
                human(s[i].vm_state_size, size, sizeof(size)), date, clock, icount);
    }
}

/* img snapshot [-f FMT] -l|-c SNAP|-a SNAP|-d SNAP FILE */
static int img_snapshot(struct cmd_ctx *ctx, const struct cmd_args *a)
{
    const char *usage = "usage: img snapshot [-f qcow2] -l|-c SNAP|-a SNAP|-d SNAP FILE";
    const char *fmt = NULL, *file = NULL, *snap = NULL;
    char action = 0;
    for (int i = 1; i < a->argc; i++) {
        const char *w = a->argv[i];
        bool takes = !strcmp(w, "-c") || !strcmp(w, "-a") || !strcmp(w, "-d");
        if (takes || !strcmp(w, "-l")) {
            if (action)
                return err_set("img snapshot: cannot mix '-l', '-a', '-c', '-d'");
            action = w[1];
            if (takes && i + 1 >= a->argc)
                return err_set("img snapshot: option %s needs a snapshot name", w);
            if (takes)
                snap = a->argv[++i];
        } else if (!strcmp(w, "-f") && i + 1 < a->argc) {
            fmt = a->argv[++i];
        } else if (w[0] == '-' && w[1]) {
            return err_set("img snapshot: unknown option '%s'", w);
        } else if (!file) {
            file = w;
        } else {
            return err_set("%s", usage);
        }
    }
    enum image_format f;
    if (!file)
        return err_set("%s", usage);
    if (fmt_of(fmt, &f) < 0)
        return -1;
    if (!action)
        action = 'l';
    struct image *img = image_open(file, f, action == 'l' ? IMAGE_OPEN_RDONLY : 0);
    if (!img)
        return -1;
    int rc = 0;
    if (action == 'l') {
        struct image_snapshot *s;
        size_t n;
        rc = image_list_snapshots(img, &s, &n);
        if (rc == 0 && n)
            snapshot_table(ctx->out, s, n);
        if (rc == 0)
            image_snapshots_free(s, n);
    } else if (action == 'c') {
        rc = image_snapshot_create(img, snap, 0);
        if (rc < 0)
            err_prefix("Could not create snapshot '%s': ", snap);
    } else if (action == 'a') {
        rc = image_snapshot_apply(img, snap);
        if (rc < 0)
            err_prefix("Could not apply snapshot '%s': ", snap);
    } else {
        rc = image_snapshot_delete(img, snap);
        if (rc < 0)
            err_prefix("Could not delete snapshot '%s': ", snap);
    }
    if (image_close(img) < 0)
        rc = -1;
    return rc;
}

/* img resize [--shrink] [-f FMT] FILE [+|-]SIZE: as qemu-img, a leading
 * sign grows or shrinks by SIZE; shrinking needs --shrink (raw only). */
static int img_resize(struct cmd_ctx *ctx, const struct img_opts *o, bool shrink)
{
    enum image_format f;
    if (o->nwords != 2)
        return err_set("usage: img resize [--shrink] [-f FMT] FILE [+|-]SIZE");
    const char *text = o->words[1];
    int sign = *text == '+' ? 1 : *text == '-' ? -1 : 0;
    uint64_t n;
    if (fmt_of(o->f, &f) < 0 || cmd_parse_size(text + (sign != 0), "size", &n) < 0)
        return -1;
    struct image *img = image_open(o->words[0], f, 0);
    if (!img)
        return -1;
    uint64_t now = image_get_size(img), size = n;
    int rc = 0;
    if (sign < 0 && n > now)
        rc = err_set("img resize: %s has %llu bytes, fewer than the %llu to take off", o->words[0],
                     (unsigned long long)now, (unsigned long long)n);
    else if (sign > 0 && n > UINT64_MAX - now)
        rc = err_set("img resize: size too large");
    else if (sign)
        size = sign > 0 ? now + n : now - n;
    if (rc == 0 && size < now && !shrink)
        rc = err_set("img resize: use the --shrink option to perform a shrink operation "
                     "(data past %llu bytes would be lost)",
                     (unsigned long long)size);
    if (rc == 0)
        rc = image_resize(img, size, shrink);
    if (image_close(img) < 0)
        rc = -1;
    if (rc == 0)
        fprintf(ctx->out, "Image resized.\n");
    return rc;
}

/* qemu-img map's line for one run (qemu-img.c dump_map_entry). */
static int map_print(FILE *out, bool json, const struct image_map_entry *e, bool last)
{
    if (json) {
        fprintf(out,
                "{ \"start\": %llu, \"length\": %llu, \"depth\": %u, \"present\": %s, \"zero\": "
                "%s, \"data\": %s",
                (unsigned long long)e->start, (unsigned long long)e->length, e->depth,
                e->present ? "true" : "false", e->zero ? "true" : "false",
                e->data ? "true" : "false");
        if (e->has_offset)
            fprintf(out, ", \"offset\": %llu", (unsigned long long)e->offset);
        fputs(last ? "}" : "},\n", out);
        return 0;
    }
    if (e->data && !e->has_offset)
        return err_set("File contains external, encrypted or compressed clusters.");
    if (e->data && !e->zero) {
        char a[24], b[24], c[24];
        snprintf(a, sizeof(a), "%#llx", (unsigned long long)e->start);
        snprintf(b, sizeof(b), "%#llx", (unsigned long long)e->length);
        snprintf(c, sizeof(c), "%#llx", (unsigned long long)e->offset);
        fprintf(out, "%-16s%-16s%-16s%s\n", a, b, c, e->file);
    }
    return 0;
}

/* Runs qemu-img map would print as one (qemu-img.c entry_mergeable). */
static bool map_mergeable(const struct image_map_entry *a, const struct image_map_entry *b)
{
    return a->zero == b->zero && a->data == b->data && a->depth == b->depth &&
           a->present == b->present && !strcmp(a->file, b->file) &&
           a->has_offset == b->has_offset && (!a->has_offset || a->offset + a->length == b->offset);
}

/* img map [-f FMT] [--output human|json] FILE */
static int img_map(struct cmd_ctx *ctx, const struct img_opts *o, const char *output)
{
    enum image_format f;
    if (o->nwords != 1)
        return err_set("usage: img map [-f FMT] [--output human|json] FILE");
    if (output && strcmp(output, "json") && strcmp(output, "human"))
        return err_set("--output must be used with human or json as argument.");
    if (fmt_of(o->f, &f) < 0)
        return -1;
    struct image *img = image_open(o->words[0], f, IMAGE_OPEN_RDONLY);
    if (!img)
        return -1;
    bool json = output && !strcmp(output, "json");
    uint64_t size = image_get_size(img);
    if (json)
        fputs("[", ctx->out);
    else
        fprintf(ctx->out, "%-16s%-16s%-16s%s\n", "Offset", "Length", "Mapped to", "File");
    struct image_map_entry cur = {0}, next;
    int rc = 0;
    for (uint64_t off = 0; rc == 0 && off < size; off += next.length) {
        rc = image_map(img, off, size - off, &next);
        if (rc == 0 && cur.length && map_mergeable(&cur, &next)) {
            cur.length += next.length;
        } else if (rc == 0) {
            if (cur.length)
                rc = map_print(ctx->out, json, &cur, false);
            cur = next;
        }
    }
    /* An empty disk: qemu-img still prints its one empty run in json. */
    if (rc == 0 && (cur.length || json))
        rc = map_print(ctx->out, json, &cur, true);
    if (json)
        fputs("]\n", ctx->out);
    image_close(img);
    return rc;
}

/* img rebase [-f FMT] [-F BACKING_FMT] [-u] -b BACKING FILE ('' for none) */
static int img_rebase(const struct img_opts *o)
{
    enum image_format f, bf = IMAGE_FORMAT_AUTO;
    if (o->nwords != 1 || !o->b)
        return err_set("usage: img rebase [-f FMT] [-F BACKING_FMT] [-u] -b BACKING FILE");
    const char *backing = *o->b ? o->b : NULL;
    if (fmt_of(o->f, &f) < 0 || (o->F && image_format_parse(o->F, &bf) < 0))
        return -1;
    if (backing && !o->F)
        return err_set("img rebase: give the new backing file's format with -F (it is never "
                       "probed)");
    struct image *img = image_open(o->words[0], f, 0);
    if (!img)
        return -1;
    int rc = image_rebase(img, backing, bf, o->u);
    if (rc < 0 && errno == ENOTSUP)
        err_prefix("Could not change the backing file to '%s': ", o->b);
    if (image_close(img) < 0)
        rc = -1;
    return rc;
}

/* img commit [-f FMT] [-d] FILE */
static int img_commit(struct cmd_ctx *ctx, const struct img_opts *o)
{
    enum image_format f;
    if (o->nwords != 1)
        return err_set("usage: img commit [-f FMT] [-d] FILE");
    if (fmt_of(o->f, &f) < 0)
        return -1;
    struct image *img = image_open(o->words[0], f, 0);
    if (!img)
        return -1;
    int rc = image_commit(img, o->d);
    if (image_close(img) < 0)
        rc = -1;
    if (rc == 0)
        fprintf(ctx->out, "Image committed.\n");
    return rc;
}

static enum cmd_result img_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct img_opts o;
    const char *sub = args->argv[0];
    if (!strcmp(sub, "snapshot"))
        return img_snapshot(ctx, args) == 0 ? CMD_OK : CMD_ERROR;
    if (img_parse(args, &o) < 0)
        return CMD_USAGE;
    int rc;
    if (!strcmp(sub, "create"))
        rc = img_create(ctx, &o);
    else if (!strcmp(sub, "info"))
        rc = img_info(ctx, &o, cmd_get(args, "output"));
    else if (!strcmp(sub, "convert"))
        rc = img_convert(&o);
    else if (!strcmp(sub, "resize"))
        rc = img_resize(ctx, &o, cmd_has(args, "shrink"));
    else if (!strcmp(sub, "map"))
        rc = img_map(ctx, &o, cmd_get(args, "output"));
    else if (!strcmp(sub, "rebase"))
        rc = img_rebase(&o);
    else if (!strcmp(sub, "commit"))
        rc = img_commit(ctx, &o);
    else if (!strcmp(sub, "check")) {
        enum cmd_result r = CMD_ERROR;
        rc = img_check(ctx, &o, cmd_get(args, "output"), &r);
        if (rc < 0)
            return r;
    } else if (!strcmp(sub, "compare")) {
        bool same;
        if (o.nwords != 2) {
            err_set("usage: img compare [-f FMT] [-F FMT] [-s] A B");
            return CMD_USAGE;
        }
        if (cmd_img_compare(ctx->out, o.f, o.F, o.words[0], o.words[1], o.s, &same) < 0)
            return CMD_USAGE; /* exit 2, as qemu-img compare on an error */
        if (!same) {
            err_set("%s and %s differ", o.words[0], o.words[1]);
            return CMD_ERROR;
        }
        rc = 0;
    } else {
        err_set("img: unknown subcommand '%s' (create, info, check, convert, snapshot, resize, "
                "compare, map, rebase, commit)",
                sub);
        return CMD_USAGE;
    }
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_img_entry = {
    .name = "img",
    .usage =
        "img create [-f raw|qcow2] [-b BACKING -F FMT] FILE [SIZE] | img info [-f FMT] "
        "[--output json] FILE | img check [-f FMT] [--output json] FILE | img convert [-f "
        "FMT] [-O raw|qcow2] [-c] SRC DST | img snapshot [-f qcow2] -l|-c SNAP|-a SNAP|-d SNAP "
        "FILE | img resize [--shrink] [-f FMT] FILE [+|-]SIZE | img compare [-f FMT] [-F FMT] "
        "[-s] A B | img map [-f FMT] [--output human|json] FILE | img rebase [-f FMT] [-F "
        "BACKING_FMT] [-u] -b BACKING FILE | img commit [-f FMT] [-d] FILE",
    .summary = "offline work on raw and qcow2 images, as qemu-img spells it (tvm's own image "
               "layer; convert writes sparsely)",
    .opts = "output=,shrink",
    .min_args = 1,
    .max_args = -1,
    .exec = img_exec,
};
