/* Helpers behind the pool and volume verbs: see cmd-pool.h. */
#include "core/cmd/cmd-pool.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/xml/units.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void cmd_pool_clear(struct cmd_pool *p)
{
    pool_free(p->def);
    p->def = NULL;
    p->be = NULL;
}

/* DATA_DIR/images beside the inventory file, as an absolute path. */
static int default_pool_dir(struct cmd_ctx *ctx, char *buf, size_t len)
{
    const char *db = ctx->db_path ? ctx->db_path : store_default_path();
    const char *slash = strrchr(db, '/');
    char cwd[1024] = "";
    if (db[0] != '/' && !getcwd(cwd, sizeof cwd))
        return err_errno("getcwd");
    int n = snprintf(buf, len, "%s%s%.*s%simages", cwd, *cwd ? "/" : "",
                     slash ? (int)(slash - db) : 0, db, slash ? "/" : "");
    if (n < 0 || (size_t)n >= len)
        return err_set("the inventory's directory is too long a path");
    return 0;
}

static char *xml_escape(const char *s);

static int make_default_pool(struct cmd_ctx *ctx)
{
    char dir[2048], *xml = NULL;
    if (default_pool_dir(ctx, dir, sizeof dir) < 0)
        return -1;
    char *path = xml_escape(dir);
    if (!path || asprintf(&xml,
                          "<pool type='dir'>\n  <name>default</name>\n  <target>\n"
                          "    <path>%s</path>\n  </target>\n</pool>\n",
                          path) < 0) {
        free(path);
        return err_set("out of memory");
    }
    free(path);
    struct pool *p = NULL;
    const struct pool_backend *be;
    int rc = pool_parse(xml, strlen(xml), "default pool", &p);
    free(xml);
    if (rc < 0 || store_begin(ctx->store) < 0) {
        pool_free(p);
        return err_prefix("cannot make the default pool: ");
    }
    rc = pool_backend_find("dir", &be);
    if (rc == 0)
        rc = be->build(p, 0);
    if (rc == 0)
        rc = store_pool_insert(ctx->store, p);
    if (rc == 0)
        rc = store_pool_set_active(ctx->store, p->uuid, true);
    if (rc == 0)
        rc = store_pool_set_autostart(ctx->store, p->uuid, true);
    if (rc == 0)
        rc = store_event_add(ctx->store, "pool", "default", "defined", dir);
    if (rc == 0)
        rc = store_commit(ctx->store);
    else
        store_rollback(ctx->store);
    pool_free(p);
    return rc < 0 ? err_prefix("cannot make the default pool: ") : 0;
}

int cmd_pool_load(struct cmd_ctx *ctx, const char *key, struct cmd_pool *out)
{
    memset(out, 0, sizeof(*out));
    struct store *st = cmd_store(ctx);
    if (!st)
        return -1;
    if (store_pool_get_row(st, key, &out->row) < 0) {
        if (strcmp(key, "default") != 0 || make_default_pool(ctx) < 0 ||
            store_pool_get_row(st, key, &out->row) < 0)
            return -1;
    }
    char *xml;
    if (store_pool_get_xml(st, out->row.uuid, &xml) < 0)
        return -1;
    char origin[300];
    snprintf(origin, sizeof origin, "pool '%s'", out->row.name);
    int rc = pool_parse(xml, strlen(xml), origin, &out->def);
    free(xml);
    if (rc == 0 && pool_backend_find(out->def->type, &out->be) < 0) {
        out->be = NULL;
        err_clear();
    }
    /* Recorded active, but its storage is gone (unmounted, a VG
     * deactivated, the host rebooted): it is not active, so no volume is
     * written into a bare mount point, and pool-start brings it back. */
    if (rc == 0 && out->row.active && out->be && !out->be->is_up(out->def))
        out->row.active = false;
    return rc;
}

int cmd_pool_backend(struct cmd_pool *p)
{
    return pool_backend_find(p->def->type, &p->be);
}

int cmd_pool_require_active(const struct cmd_pool *p)
{
    if (!p->row.active)
        return err_set("Requested operation is not valid: storage pool '%s' is not active "
                       "(tvm pool-start %s)",
                       p->row.name, p->row.name);
    return 0;
}

/* The text with XML's five special characters escaped; malloc'd. */
static char *xml_escape(const char *s)
{
    size_t n = 0;
    for (const char *c = s; *c; c++)
        n += strchr("&<>'\"", *c) ? 6 : 1;
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    for (const char *c = s; *c; c++) {
        const char *rep = *c == '&'    ? "&amp;"
                          : *c == '<'  ? "&lt;"
                          : *c == '>'  ? "&gt;"
                          : *c == '\'' ? "&apos;"
                          : *c == '"'  ? "&quot;"
                                       : NULL;
        if (rep) {
            strcpy(o, rep);
            o += strlen(rep);
        } else {
            *o++ = *c;
        }
    }
    *o = 0;
    return out;
}

/* A volume's XML as libvirt's vol-dumpxml writes it for what the host has. */
static char *volume_xml(const struct pool_vol *v)
{
    char *path = xml_escape(v->path), *bpath = v->backing_path ? xml_escape(v->backing_path) : NULL;
    char *backing = NULL, *xml = NULL;
    if (!path || (v->backing_path && !bpath))
        goto out;
    if (bpath &&
        asprintf(&backing, "  <backingStore>\n    <path>%s</path>\n%s%s%s  </backingStore>\n",
                 bpath, v->backing_format ? "    <format type='" : "",
                 v->backing_format ? v->backing_format : "", v->backing_format ? "'/>\n" : "") < 0)
        backing = NULL;
    if (asprintf(&xml,
                 "<volume type='%s'>\n  <name>%s</name>\n  <key>%s</key>\n"
                 "  <capacity unit='bytes'>%llu</capacity>\n"
                 "  <allocation unit='bytes'>%llu</allocation>\n"
                 "  <target>\n    <path>%s</path>\n    <format type='%s'/>\n  </target>\n%s"
                 "</volume>\n",
                 v->type, v->name, path, (unsigned long long)v->capacity,
                 (unsigned long long)v->allocation, path, v->format, backing ? backing : "") < 0)
        xml = NULL;
out:
    free(path);
    free(bpath);
    free(backing);
    return xml;
}

static int record(struct cmd_ctx *ctx, struct cmd_pool *p, const struct pool_vol *pv, bool update)
{
    char *xml = volume_xml(pv);
    if (!xml)
        return err_set("out of memory");
    struct volume *v = NULL;
    int rc = volume_parse(xml, strlen(xml), pv->path, &v);
    free(xml);
    if (rc == 0)
        rc = update ? store_volume_update(ctx->store, p->row.name, v)
                    : store_volume_insert(ctx->store, p->row.name, v);
    volume_free(v);
    return rc;
}

int cmd_pool_refresh(struct cmd_ctx *ctx, struct cmd_pool *p)
{
    struct pool_vol *vols;
    size_t n;
    if (cmd_pool_backend(p) < 0 || p->be->list(p->def, &vols, &n) < 0)
        return -1;
    int rc = store_volume_delete_pool(ctx->store, p->row.name);
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = record(ctx, p, &vols[i], false);
    pool_vols_free(vols, n);
    return rc;
}

int cmd_pool_record_volume(struct cmd_ctx *ctx, struct cmd_pool *p, const char *path)
{
    struct pool_vol pv;
    if (cmd_pool_backend(p) < 0 || p->be->vol_stat(p->def, path, &pv) < 0)
        return -1;
    struct store_object_row old;
    bool exists = store_volume_get_row(ctx->store, p->row.name, pv.name, &old) == 0;
    err_clear();
    int rc = record(ctx, p, &pv, exists);
    pool_vol_clear(&pv);
    return rc;
}

int cmd_pool_sizes(struct cmd_pool *p, struct pool_sizes *out)
{
    if (p->row.active && p->be && p->be->sizes(p->def, out) == 0)
        return 0;
    err_clear();
    out->capacity = p->def->capacity_bytes;
    out->allocation = p->def->allocation_bytes;
    out->available = p->def->available_bytes;
    return 0;
}

const char *cmd_vol_pool_arg(const struct cmd_args *args, int pos, bool *bad)
{
    const char *opt = cmd_get(args, "pool");
    const char *positional = args->argc > pos ? args->argv[pos] : NULL;
    *bad = opt && positional && strcmp(opt, positional) != 0;
    if (*bad)
        err_set("%s: give the pool once (POOL or --pool POOL)", args->entry->name);
    return opt ? opt : positional;
}

int cmd_vol_lookup(struct cmd_ctx *ctx, const char *vol, const char *pool, struct cmd_pool *p,
                   struct volume **v)
{
    char pname[256], vname[256];
    *v = NULL;
    memset(p, 0, sizeof(*p));
    if (!cmd_store(ctx))
        return -1;
    if (!pool) {
        /* virsh: without a pool the volume is its key (the path here) */
        if (store_volume_find_path(ctx->store, vol, pname, vname) < 0)
            return err_set("failed to get vol '%s' (give its pool with --pool, or its path)", vol);
        pool = pname;
        vol = vname;
    }
    if (cmd_pool_load(ctx, pool, p) < 0 || cmd_pool_require_active(p) < 0)
        return -1;
    char *xml;
    if (store_volume_get_xml(ctx->store, p->row.name, vol, &xml) < 0) {
        /* a path given with --pool */
        if (vol[0] != '/' || store_volume_find_path(ctx->store, vol, pname, vname) < 0 ||
            strcmp(pname, p->row.name) != 0 ||
            store_volume_get_xml(ctx->store, p->row.name, vname, &xml) < 0) {
            err_set("Storage volume not found: no storage vol with matching name '%s' in pool "
                    "'%s'",
                    vol, p->row.name);
            return -1;
        }
    }
    int rc = volume_parse(xml, strlen(xml), vol, v);
    free(xml);
    return rc;
}

int cmd_parse_size(const char *text, const char *what, uint64_t *bytes)
{
    char *end;
    errno = 0;
    if (!text || !*text || *text == '-')
        return err_set("invalid %s '%s'", what, text ? text : "");
    unsigned long long n = strtoull(text, &end, 10);
    if (errno || end == text)
        return err_set("invalid %s '%s'", what, text);
    if (units_to_bytes(n, end, 1, UINT64_MAX, bytes) < 0)
        return err_prefix("invalid %s '%s': ", what, text);
    return 0;
}

/* The volume behind one disk: its pool and name, from type='volume' or
 * from the path of a file or block disk. 0 when found, 1 when no pool holds it. */
static int disk_volume(struct cmd_ctx *ctx, const struct domain_disk *disk, char pool[256],
                       char name[256])
{
    if (disk->type && !strcmp(disk->type, "volume")) {
        snprintf(pool, 256, "%s", disk->source_pool);
        snprintf(name, 256, "%s", disk->source_volume);
        return 0;
    }
    if (!disk->source || store_volume_find_path(ctx->store, disk->source, pool, name) < 0) {
        err_clear();
        return 1;
    }
    return 0;
}

/* Whether DISK is named in the comma-separated LIST (target or source). */
static bool disk_listed(const struct domain_disk *disk, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    bool found = false;
    for (char *w = copy ? strtok_r(copy, ",", &save) : NULL; w && !found;
         w = strtok_r(NULL, ",", &save)) {
        found = (disk->target_dev && !strcmp(w, disk->target_dev)) ||
                (disk->source && !strcmp(w, disk->source)) ||
                (disk->source_volume && !strcmp(w, disk->source_volume));
    }
    free(copy);
    return found;
}

int cmd_storage_check_list(const struct domain *d, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    int rc = copy ? 0 : err_set("out of memory");
    for (char *w = copy ? strtok_r(copy, ",", &save) : NULL; w && rc == 0;
         w = strtok_r(NULL, ",", &save)) {
        bool found = false;
        for (size_t i = 0; i < d->ndisks && !found; i++)
            found = disk_listed(&d->disks[i], w);
        if (!found)
            rc = err_set("Volume '%s' was not found in domain's definition", w);
    }
    free(copy);
    return rc;
}

int cmd_remove_domain_storage(struct cmd_ctx *ctx, const struct domain *d, const char *list,
                              bool remove)
{
    int rc = 0;
    for (size_t i = 0; i < d->ndisks; i++) {
        const struct domain_disk *disk = &d->disks[i];
        const char *target = disk->target_dev ? disk->target_dev : "";
        if (list && !disk_listed(disk, list))
            continue;
        char pool[256], name[256];
        const char *shown = disk->source ? disk->source : disk->source_volume;
        if (disk_volume(ctx, disk, pool, name) == 1) {
            if (shown && !remove)
                fprintf(stderr,
                        "tvm: Storage volume '%s'(%s) is not managed by tvm. Remove it "
                        "manually.\n",
                        target, shown);
            continue;
        }
        if (!remove)
            continue;
        struct cmd_pool p;
        struct volume *v = NULL;
        int one = cmd_vol_lookup(ctx, name, pool, &p, &v);
        if (one == 0)
            one = cmd_pool_backend(&p);
        if (one == 0)
            one = p.be->vol_delete(p.def, v->target_path ? v->target_path : v->key);
        if (one == 0)
            one = store_volume_delete(ctx->store, p.row.name, v->name);
        if (one == 0)
            fprintf(ctx->out, "Volume '%s'(%s) removed.\n", target,
                    v->target_path ? v->target_path : v->key);
        else
            rc = err_prefix("Failed to remove storage volume '%s'(%s): ", target,
                            shown ? shown : name);
        volume_free(v);
        cmd_pool_clear(&p);
    }
    return rc;
}
