/* template DOMAIN [--off] [--force]: mark a domain a template, the base
 * linked clones are made from. The mark is tvm metadata in the domain XML
 * (<metadata><tvm:template/>), so it goes wherever the definition goes
 * (dumpxml, define, edit). A template is never started (vm_start refuses
 * it); while it has linked clones it cannot be undefined, nor unmarked
 * without --force, since a write to its disks would change theirs. */
#include "core/cmd/cmd-template.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/image/image.h"
#include "core/model/domain.h"
#include "store/store.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct file_id {
    dev_t dev;
    ino_t ino;
};

static bool same_file(const char *path, const struct file_id *ids, size_t n)
{
    struct stat st;
    if (!path || stat(path, &st) < 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ids[i].dev == st.st_dev && ids[i].ino == st.st_ino)
            return true;
    return false;
}

/* Whether a disk of D is layered on one of the files IDS: its backing
 * chain, read from the images (formats as declared, never probed). */
static bool layered_on(const struct domain *d, const struct file_id *ids, size_t n)
{
    for (size_t i = 0; i < d->ndisks; i++) {
        const struct domain_disk *disk = &d->disks[i];
        if (!disk->source || !disk->driver_type || strcmp(disk->driver_type, "qcow2") != 0)
            continue;
        struct image *img = image_open(disk->source, IMAGE_FORMAT_QCOW2,
                                       IMAGE_OPEN_RDONLY | IMAGE_OPEN_FORCE_SHARE);
        bool found = false;
        for (struct image *b = img ? image_backing(img) : NULL; b && !found; b = image_backing(b))
            found = same_file(image_path(b), ids, n);
        image_close(img);
        err_clear(); /* a disk that cannot be opened backs nothing we know of */
        if (found)
            return true;
    }
    return false;
}

static void append_name(char *names, size_t len, const char *name)
{
    size_t used = strlen(names);
    if (used + strlen(name) + 6 >= len) {
        if (!strstr(names, "..."))
            snprintf(names + used, len - used, ", ...");
        return;
    }
    snprintf(names + used, len - used, "%s%s", used ? ", " : "", name);
}

size_t cmd_linked_clones(struct cmd_ctx *ctx, const struct domain *d, char *names, size_t len)
{
    names[0] = '\0';
    struct file_id ids[64];
    size_t nids = 0;
    for (size_t i = 0; i < d->ndisks && nids < 64; i++) {
        struct stat st;
        if (d->disks[i].source && stat(d->disks[i].source, &st) == 0)
            ids[nids++] = (struct file_id){st.st_dev, st.st_ino};
    }
    struct store_domain_row *rows = NULL;
    size_t nrows = 0, found = 0;
    if (nids == 0 || store_domain_list(ctx->store, STORE_LIST_ALL, &rows, &nrows) < 0) {
        err_clear();
        return 0;
    }
    for (size_t r = 0; r < nrows; r++) {
        struct domain *other = NULL;
        if (!strcmp(rows[r].uuid, d->uuid) ||
            cmd_domain_load(ctx, rows[r].uuid, NULL, &other) < 0) {
            err_clear();
            continue;
        }
        if (layered_on(other, ids, nids)) {
            append_name(names, len, other->name);
            found++;
        }
        domain_free(other);
    }
    free(rows);
    return found;
}

static enum cmd_result template_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool on = !cmd_has(args, "off");
    struct store_domain_row row;
    struct domain *d = NULL;
    if (!cmd_store(ctx) || cmd_domain_load(ctx, args->argv[0], &row, &d) < 0)
        return CMD_ERROR;
    char clones[1024];
    int rc = 0;
    if (on && cmd_domain_is_active(&row))
        rc = err_set("Requested operation is not valid: domain '%s' is %s; shut it down before "
                     "making it a template",
                     row.name, domain_state_name(row.state));
    else if (!on && d->is_template && !cmd_has(args, "force") &&
             cmd_linked_clones(ctx, d, clones, sizeof clones) > 0)
        rc = err_set("Requested operation is not valid: template '%s' backs the disks of its "
                     "linked clones (%s); started, it would change them (--force to unmark it "
                     "anyway)",
                     row.name, clones);
    else if (d->is_template != on) {
        rc = domain_set_template(d, on);
        if (rc == 0)
            rc = store_domain_update(ctx->store, d);
        if (rc == 0)
            rc = store_event_add(ctx->store, "domain", row.name, on ? "template" : "untemplate",
                                 on ? "marked a template" : "no longer a template");
    }
    domain_free(d);
    if (rc < 0)
        return CMD_ERROR;
    fprintf(ctx->out, on ? "Domain '%s' is a template\n\n" : "Domain '%s' is not a template\n\n",
            row.name);
    return CMD_OK;
}

const struct cmd_entry cmd_template_entry = {
    .name = "template",
    .usage = "template DOMAIN [--off] [--force]",
    .summary = "mark a shut-off domain a template (never started; the base of linked clones)",
    .opts = "off,force",
    .min_args = 1,
    .max_args = 1,
    .exec = template_exec,
    .flags = CMD_F_WRITES,
};
