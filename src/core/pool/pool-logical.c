/* logical pools: an LVM volume group whose logical volumes are the
 * volumes (raw, block devices under /dev/VG). Debian's lvm2 tools do the
 * work (pvcreate, vgcreate, vgchange, lvcreate, lvs ...), as libvirt's
 * logical backend runs them. */
#include "core/pool/pool-priv.h"
#include "core/base/err.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *vg_name(const struct pool *p)
{
    return p->source_name && *p->source_name ? p->source_name : p->name;
}

/* LVM's own rule for VG and LV names: [A-Za-z0-9+_.-], not starting with '-'. */
static int check_lvm_name(const char *what, const char *n)
{
    if (!n || !*n || n[0] == '-' || strlen(n) > 127)
        return err_set("%s '%s' is not a valid LVM name", what, n ? n : "");
    for (const char *c = n; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr("+_.-", *c)))
            return err_set("%s '%s': character '%c' is not allowed by LVM", what, n, *c);
    }
    return 0;
}

static int check_pool(const struct pool *p)
{
    return check_lvm_name("volume group", vg_name(p));
}

static int check_device(const struct pool *p)
{
    struct stat st;
    if (!p->source_device || p->source_device[0] != '/')
        return err_set("pool '%s': building a volume group needs <source><device path=...>",
                       p->name);
    if (stat(p->source_device, &st) < 0 || !S_ISBLK(st.st_mode))
        return err_set("pool '%s': source device '%s' is not a block device", p->name,
                       p->source_device);
    return 0;
}

static int lv_ref(const struct pool *p, const char *path, char *buf, size_t len)
{
    const char *slash = strrchr(path, '/');
    const char *lv = slash ? slash + 1 : path;
    if (check_lvm_name("logical volume", lv) < 0)
        return -1;
    snprintf(buf, len, "%s/%s", vg_name(p), lv);
    return 0;
}

static int lvm_build(const struct pool *p, unsigned flags)
{
    if (check_pool(p) < 0 || check_device(p) < 0)
        return -1;
    if (flags & POOL_BUILD_NO_OVERWRITE) {
        char *out = NULL;
        const char *probe[] = {"blkid", "-p", "-o", "value", "-s", "TYPE", p->source_device, NULL};
        if (pool_run(probe, &out) == 0 && out && *out) {
            out[strcspn(out, "\n")] = 0;
            err_set("pool '%s': device '%s' already holds %s (--overwrite replaces it)", p->name,
                    p->source_device, out);
            free(out);
            return -1;
        }
        free(out);
        err_clear();
    }
    const char *pv_force[] = {"pvcreate", "-ff", "-y", p->source_device, NULL};
    const char *pv[] = {"pvcreate", p->source_device, NULL};
    const char *vg[] = {"vgcreate", vg_name(p), p->source_device, NULL};
    if (pool_run((flags & POOL_BUILD_OVERWRITE) ? pv_force : pv, NULL) < 0)
        return -1;
    return pool_run(vg, NULL);
}

static int lvm_start(const struct pool *p)
{
    const char *argv[] = {"vgchange", "-aly", vg_name(p), NULL};
    return check_pool(p) < 0 ? -1 : pool_run(argv, NULL);
}

static int lvm_stop(const struct pool *p)
{
    const char *argv[] = {"vgchange", "-aln", vg_name(p), NULL};
    return check_pool(p) < 0 ? -1 : pool_run(argv, NULL);
}

static int lvm_remove(const struct pool *p)
{
    const char *vg[] = {"vgremove", "-f", vg_name(p), NULL};
    if (check_pool(p) < 0 || pool_run(vg, NULL) < 0)
        return -1;
    if (!p->source_device)
        return 0;
    const char *pv[] = {"pvremove", p->source_device, NULL};
    return pool_run(pv, NULL);
}

static bool lvm_is_up(const struct pool *p)
{
    const char *argv[] = {"vgs", "--noheadings", "-o", "vg_name", vg_name(p), NULL};
    bool up = check_pool(p) == 0 && pool_run(argv, NULL) == 0;
    err_clear();
    return up;
}

static int lvm_sizes(const struct pool *p, struct pool_sizes *out)
{
    char *text = NULL;
    const char *argv[] = {"vgs", "--noheadings",    "--units",     "b", "--nosuffix",
                          "-o",  "vg_size,vg_free", "--separator", "#", vg_name(p),
                          NULL};
    if (check_pool(p) < 0 || pool_run(argv, &text) < 0)
        return -1;
    uint64_t size = 0, free_b = 0;
    int n = sscanf(text, " %" SCNu64 "#%" SCNu64, &size, &free_b);
    free(text);
    if (n != 2)
        return err_set("vgs: cannot read the size of volume group '%s'", vg_name(p));
    out->capacity = size;
    out->available = free_b;
    out->allocation = size - free_b;
    return 0;
}

/* "name#size" lines from lvs into volumes. */
static int parse_lvs(const struct pool *p, char *text, struct pool_vol **vols, size_t *n)
{
    size_t cap = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char name[128];
        uint64_t size;
        if (sscanf(line, " %127[^#]#%" SCNu64, name, &size) != 2)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            struct pool_vol *nv = realloc(*vols, cap * sizeof(**vols));
            if (!nv)
                return err_set("out of memory");
            *vols = nv;
        }
        struct pool_vol *v = &(*vols)[(*n)++];
        memset(v, 0, sizeof(*v));
        v->name = strdup(name);
        if (asprintf(&v->path, "/dev/%s/%s", vg_name(p), name) < 0)
            v->path = NULL;
        v->type = strdup("block");
        v->format = strdup("raw");
        v->capacity = v->allocation = size;
        if (!v->name || !v->path || !v->type || !v->format)
            return err_set("out of memory");
    }
    return 0;
}

static int lvs(const struct pool *p, const char *which, struct pool_vol **vols, size_t *n)
{
    char *text = NULL;
    const char *argv[] = {"lvs", "--noheadings",    "--units",     "b", "--nosuffix",
                          "-o",  "lv_name,lv_size", "--separator", "#", which,
                          NULL};
    *vols = NULL;
    *n = 0;
    if (pool_run(argv, &text) < 0)
        return -1;
    int rc = parse_lvs(p, text, vols, n);
    free(text);
    if (rc < 0) {
        pool_vols_free(*vols, *n);
        *vols = NULL;
        *n = 0;
    }
    return rc;
}

static int lvm_list(const struct pool *p, struct pool_vol **vols, size_t *n)
{
    return check_pool(p) < 0 ? -1 : lvs(p, vg_name(p), vols, n);
}

static int lvm_vol_create(const struct pool *p, const struct pool_vol_spec *s, char **path)
{
    if (check_pool(p) < 0 || pool_check_vol_name(s->name) < 0 ||
        check_lvm_name("logical volume", s->name) < 0)
        return -1;
    if ((s->format && strcmp(s->format, "raw")) || s->backing_path || s->prealloc_metadata)
        return err_set("volume '%s': logical volumes are raw (no qcow2, backing volume or "
                       "preallocation)",
                       s->name);
    if (s->capacity == 0)
        return err_set("volume '%s': a logical volume needs a size", s->name);
    char size[32];
    snprintf(size, sizeof size, "%" PRIu64 "b", s->capacity);
    const char *argv[] = {"lvcreate", "--yes", "-n", s->name, "-L", size, vg_name(p), NULL};
    if (pool_run(argv, NULL) < 0)
        return err_prefix("volume '%s': ", s->name);
    if (asprintf(path, "/dev/%s/%s", vg_name(p), s->name) < 0)
        return err_set("out of memory");
    return 0;
}

static int lvm_vol_delete(const struct pool *p, const char *path)
{
    char ref[300];
    if (lv_ref(p, path, ref, sizeof ref) < 0)
        return -1;
    const char *argv[] = {"lvremove", "-f", ref, NULL};
    return pool_run(argv, NULL);
}

static int lvm_vol_resize(const struct pool *p, const char *path, const char *format, uint64_t size,
                          bool shrink)
{
    (void)format;
    char ref[300], sz[32];
    if (lv_ref(p, path, ref, sizeof ref) < 0)
        return -1;
    snprintf(sz, sizeof sz, "%" PRIu64 "b", size);
    const char *grow[] = {"lvresize", "-L", sz, ref, NULL};
    const char *cut[] = {"lvresize", "-f", "-L", sz, ref, NULL};
    return pool_run(shrink ? cut : grow, NULL);
}

static int lvm_vol_stat(const struct pool *p, const char *path, struct pool_vol *out)
{
    char ref[300];
    struct pool_vol *v;
    size_t n;
    if (lv_ref(p, path, ref, sizeof ref) < 0 || lvs(p, ref, &v, &n) < 0)
        return -1;
    if (n != 1) {
        pool_vols_free(v, n);
        return err_set("logical volume '%s' not found", ref);
    }
    *out = v[0];
    free(v);
    return 0;
}

const struct pool_backend pool_backend_logical = {
    .type = "logical",
    .build = lvm_build,
    .start = lvm_start,
    .stop = lvm_stop,
    .remove = lvm_remove,
    .is_up = lvm_is_up,
    .sizes = lvm_sizes,
    .list = lvm_list,
    .vol_create = lvm_vol_create,
    .vol_delete = lvm_vol_delete,
    .vol_resize = lvm_vol_resize,
    .vol_stat = lvm_vol_stat,
};
