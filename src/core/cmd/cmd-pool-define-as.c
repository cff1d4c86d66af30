/* pool-define-as, pool-create-as and pool-create: a pool from arguments
 * (the XML virsh builds from them) or, for pool-create, from a file; the
 * -create forms also build nothing but start the pool at once, as virsh's
 * do (a transient pool there; a persistent one here, since tvm has no
 * daemon to hold a transient one). */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/xml/xml-util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The positional order virsh gives these arguments. */
static const char *const positional[] = {"source-host", "source-path", "source-dev", "source-name",
                                         "target"};

static const char *arg(const struct cmd_args *a, const char *opt)
{
    const char *v = cmd_get(a, opt);
    for (size_t i = 0; !v && i < sizeof(positional) / sizeof(positional[0]); i++) {
        if (!strcmp(positional[i], opt) && a->argc > (int)i + 2)
            v = a->argv[i + 2];
    }
    /* "-" holds a positional place: pool-define-as NAME dir - - - - /images */
    return v && *v && strcmp(v, "-") != 0 ? v : NULL;
}

/* Appends <TAG ATTR='VALUE'/> (or <TAG>VALUE</TAG> when ATTR is NULL) with
 * the value escaped. */
static void put(FILE *f, const char *indent, const char *tag, const char *attr, const char *value)
{
    fprintf(f, "%s<%s%s%s%s", indent, tag, attr ? " " : "", attr ? attr : "", attr ? "='" : ">");
    xml_put_escaped(f, value, attr != NULL);
    if (attr)
        fputs("'/>\n", f);
    else
        fprintf(f, "</%s>\n", tag);
}

static char *pool_xml_from_args(const struct cmd_args *a)
{
    char *xml = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&xml, &len);
    if (!f)
        return NULL;
    const char *host = arg(a, "source-host"), *path = arg(a, "source-path"),
               *dev = arg(a, "source-dev"), *name = arg(a, "source-name"),
               *fmt = arg(a, "source-format"), *target = arg(a, "target");
    fputs("<pool type='", f);
    fputs(a->argv[1], f); /* checked by the parser against the known types */
    fputs("'>\n", f);
    put(f, "  ", "name", NULL, a->argv[0]);
    if (host || path || dev || name || fmt) {
        fputs("  <source>\n", f);
        if (host)
            put(f, "    ", "host", "name", host);
        if (path)
            put(f, "    ", "dir", "path", path);
        if (dev)
            put(f, "    ", "device", "path", dev);
        if (fmt)
            put(f, "    ", "format", "type", fmt);
        if (name)
            put(f, "    ", "name", NULL, name);
        fputs("  </source>\n", f);
    }
    if (target) {
        fputs("  <target>\n", f);
        put(f, "    ", "path", NULL, target);
        fputs("  </target>\n", f);
    }
    fputs("</pool>\n", f);
    fclose(f);
    return xml;
}

/* Parses and stores a new pool (a name or uuid already used is refused). */
static int define_new(struct cmd_ctx *ctx, const char *xml, size_t len, const char *origin,
                      struct pool **out)
{
    struct store_object_row row;
    if (!cmd_store(ctx) || pool_parse(xml, len, origin, out) < 0)
        return -1;
    if (store_pool_get_row(ctx->store, (*out)->name, &row) == 0)
        return err_set("pool '%s' already exists with uuid %s", (*out)->name, row.uuid);
    err_clear();
    return store_pool_insert(ctx->store, *out) < 0 ||
                   store_event_add(ctx->store, "pool", (*out)->name, "defined", origin) < 0
               ? -1
               : 0;
}

unsigned cmd_pool_build_flags(const struct cmd_args *a)
{
    return (cmd_has(a, "overwrite") ? POOL_BUILD_OVERWRITE : 0) |
           (cmd_has(a, "no-overwrite") ? POOL_BUILD_NO_OVERWRITE : 0);
}

/* Starts a just-defined pool (built first with --build, --overwrite or
 * --no-overwrite, as virsh's -create verbs do), then records its volumes. */
static int start_new(struct cmd_ctx *ctx, const char *name, const struct cmd_args *a)
{
    struct cmd_pool p;
    unsigned flags = cmd_pool_build_flags(a);
    int rc = cmd_pool_load(ctx, name, &p);
    if (rc == 0)
        rc = cmd_pool_backend(&p);
    if (rc == 0 && (flags || cmd_has(a, "build")))
        rc = p.be->build(p.def, flags);
    if (rc == 0)
        rc = p.be->start(p.def);
    if (rc == 0)
        rc = store_pool_set_active(ctx->store, p.row.uuid, true);
    if (rc == 0) {
        p.row.active = true;
        rc = cmd_pool_refresh(ctx, &p);
        if (rc < 0 && p.be->stop(p.def) < 0)
            err_clear();
    }
    if (rc == 0)
        rc = store_event_add(ctx->store, "pool", name, "started", "");
    cmd_pool_clear(&p);
    return rc;
}

static int check_build_flags(const struct cmd_args *a)
{
    if (cmd_has(a, "overwrite") && cmd_has(a, "no-overwrite"))
        return err_set("--overwrite and --no-overwrite exclude each other");
    return 0;
}

static enum cmd_result define_as(struct cmd_ctx *ctx, struct cmd_args *args, bool start)
{
    if (check_build_flags(args) < 0)
        return CMD_USAGE;
    char *xml = pool_xml_from_args(args);
    if (!xml) {
        err_set("out of memory");
        return CMD_ERROR;
    }
    struct pool *p = NULL;
    int rc = define_new(ctx, xml, strlen(xml), args->entry->name, &p);
    free(xml);
    if (rc == 0 && start)
        rc = start_new(ctx, p->name, args);
    if (rc == 0)
        fprintf(ctx->out, "Pool %s %s\n\n", p->name, start ? "created" : "defined");
    pool_free(p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

static enum cmd_result pool_define_as_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return define_as(ctx, args, false);
}

static enum cmd_result pool_create_as_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return define_as(ctx, args, true);
}

static enum cmd_result pool_create_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    if (check_build_flags(args) < 0)
        return CMD_USAGE;
    const char *path = args->argv[0];
    char *xml;
    size_t len;
    struct pool *p = NULL;
    if (cmd_read_input(ctx, path, &xml, &len) < 0)
        return CMD_ERROR;
    int rc = define_new(ctx, xml, len, cmd_input_origin(path), &p);
    free(xml);
    if (rc == 0)
        rc = start_new(ctx, p->name, args);
    if (rc == 0)
        fprintf(ctx->out, "Pool %s created from %s\n\n", p->name, path);
    pool_free(p);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

#define AS_OPTS "source-host=,source-path=,source-dev=,source-name=,target=,source-format="
#define AS_USAGE                                                                                   \
    " NAME TYPE [--source-host H] [--source-path P] [--source-dev D] [--source-name N] "           \
    "[--target DIR] [--source-format F]"

const struct cmd_entry cmd_pool_define_as_entry = {
    .name = "pool-define-as",
    .usage = "pool-define-as" AS_USAGE,
    .summary = "define a storage pool from arguments (positional: NAME TYPE SOURCE-HOST "
               "SOURCE-PATH SOURCE-DEV SOURCE-NAME TARGET, as virsh)",
    .opts = AS_OPTS,
    .min_args = 2,
    .max_args = 7,
    .exec = pool_define_as_exec,
    .flags = CMD_F_WRITES,
};

const struct cmd_entry cmd_pool_create_as_entry = {
    .name = "pool-create-as",
    .usage = "pool-create-as" AS_USAGE " [--build] [--overwrite|--no-overwrite]",
    .summary = "define a storage pool from arguments and start it",
    .opts = AS_OPTS ",build,overwrite,no-overwrite",
    .min_args = 2,
    .max_args = 7,
    .exec = pool_create_as_exec,
    .flags = CMD_F_WRITES,
};

const struct cmd_entry cmd_pool_create_entry = {
    .name = "pool-create",
    .usage = "pool-create FILE [--build] [--overwrite|--no-overwrite]",
    .summary = "define a storage pool from an XML file and start it",
    .opts = "build,overwrite,no-overwrite",
    .min_args = 1,
    .max_args = 1,
    .exec = pool_create_exec,
    .flags = CMD_F_WRITES,
};
