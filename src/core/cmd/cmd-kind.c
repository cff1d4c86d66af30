/* The object-kind table and the verbs that run over it (cmd-kind.h). */
#include "core/cmd/cmd-kind.h"
#include "core/base/err.h"
#include "core/cmd/cmd-util.h"
#include "core/model/domain.h"
#include "core/model/network.h"
#include "core/model/pool.h"
#include "core/virt/network-run.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the kinds ---- */

/* The model's typed functions seen through the table's untyped slots. */
#define KIND_MODEL_OPS(T)                                                                          \
    static int T##_kind_parse(const char *xml, size_t len, const char *origin, void **obj)         \
    {                                                                                              \
        struct T *o = NULL;                                                                        \
        int rc = T##_parse(xml, len, origin, &o);                                                  \
        *obj = o;                                                                                  \
        return rc;                                                                                 \
    }                                                                                              \
    static void T##_kind_free(void *obj)                                                           \
    {                                                                                              \
        T##_free(obj);                                                                             \
    }                                                                                              \
    static const char *T##_kind_name(const void *obj)                                              \
    {                                                                                              \
        return ((const struct T *)obj)->name;                                                      \
    }                                                                                              \
    static const char *T##_kind_uuid(const void *obj)                                              \
    {                                                                                              \
        return ((const struct T *)obj)->uuid;                                                      \
    }                                                                                              \
    static int T##_kind_insert(struct cmd_ctx *ctx, const void *obj)                               \
    {                                                                                              \
        return store_##T##_insert(ctx->store, obj);                                                \
    }                                                                                              \
    static int T##_kind_update(struct cmd_ctx *ctx, const void *obj)                               \
    {                                                                                              \
        return store_##T##_update(ctx->store, obj);                                                \
    }                                                                                              \
    static int T##_kind_get_xml(struct cmd_ctx *ctx, const char *key, char **xml)                  \
    {                                                                                              \
        return store_##T##_get_xml(ctx->store, key, xml);                                          \
    }                                                                                              \
    static int T##_kind_delete(struct cmd_ctx *ctx, const char *uuid)                              \
    {                                                                                              \
        return store_##T##_delete(ctx->store, uuid);                                               \
    }

KIND_MODEL_OPS(domain)
KIND_MODEL_OPS(network)
KIND_MODEL_OPS(pool)

static void kind_row_set(struct cmd_kind_row *row, const char *name, const char *uuid, bool active)
{
    snprintf(row->name, sizeof(row->name), "%s", name);
    snprintf(row->uuid, sizeof(row->uuid), "%s", uuid);
    row->active = active;
}

static int domain_kind_get_row(struct cmd_ctx *ctx, const char *key, struct cmd_kind_row *row)
{
    struct store_domain_row r;
    if (store_domain_get_row(ctx->store, key, &r) < 0)
        return -1;
    kind_row_set(row, r.name, r.uuid, cmd_domain_is_active(&r));
    return 0;
}

static int network_kind_get_row(struct cmd_ctx *ctx, const char *key, struct cmd_kind_row *row)
{
    struct store_object_row r;
    if (store_network_get_row(ctx->store, key, &r) < 0)
        return -1;
    kind_row_set(row, r.name, r.uuid, r.active);
    return 0;
}

/* A network whose bridge vanished is inactive, whatever the store says. */
static int network_kind_refresh(struct cmd_ctx *ctx, struct cmd_kind_row *row)
{
    struct store_object_row r;
    if (store_network_get_row(ctx->store, row->uuid, &r) < 0 ||
        network_reconcile(ctx->store, &r) < 0)
        return -1;
    row->active = r.active;
    return 0;
}

static int pool_kind_get_row(struct cmd_ctx *ctx, const char *key, struct cmd_kind_row *row)
{
    struct store_object_row r;
    if (store_pool_get_row(ctx->store, key, &r) < 0)
        return -1;
    kind_row_set(row, r.name, r.uuid, r.active);
    return 0;
}

#define KIND_OPS(T)                                                                                \
    .parse = T##_kind_parse, .free = T##_kind_free, .name = T##_kind_name, .uuid = T##_kind_uuid,  \
    .get_row = T##_kind_get_row, .get_xml = T##_kind_get_xml, .insert = T##_kind_insert,           \
    .update = T##_kind_update, .delete = T##_kind_delete

/* define and edit refuse a guest tvm-vmm cannot run, as libvirt checks a
 * definition against its driver's capabilities. */
static int domain_kind_parse_runnable(const char *xml, size_t len, const char *origin, void **obj)
{
    if (domain_kind_parse(xml, len, origin, obj) < 0)
        return -1;
    if (domain_drop_generated_ifnames(*obj) < 0 || domain_check_runnable(*obj, origin) < 0) {
        domain_free(*obj);
        *obj = NULL;
        return -1;
    }
    return 0;
}

/* A definition written over a running transient domain (define, edit)
 * makes it persistent, as libvirt does: it stays once it stops. */
static int domain_kind_update_persistent(struct cmd_ctx *ctx, const void *obj)
{
    const struct domain *d = obj;
    if (domain_kind_update(ctx, obj) < 0)
        return -1;
    return store_domain_set_persistent(ctx->store, d->uuid, true);
}

const struct cmd_kind cmd_kind_domain = {
    .kind = "domain",
    .label = "Domain '%s'",
    .parse = domain_kind_parse_runnable,
    .free = domain_kind_free,
    .name = domain_kind_name,
    .uuid = domain_kind_uuid,
    .get_row = domain_kind_get_row,
    .get_xml = domain_kind_get_xml,
    .insert = domain_kind_insert,
    .update = domain_kind_update_persistent,
    .delete = domain_kind_delete,
};

const struct cmd_kind cmd_kind_network = {
    .kind = "network",
    .label = "Network %s",
    .busy_noun = "network",
    .stop_verb = "net-destroy",
    KIND_OPS(network),
    .refresh = network_kind_refresh,
};

const struct cmd_kind cmd_kind_pool = {
    .kind = "pool",
    .label = "Pool %s",
    .busy_noun = "storage pool",
    KIND_OPS(pool),
};

/* ---- the verbs ---- */

static void print_label(FILE *out, const struct cmd_kind *k, const char *name)
{
    fprintf(out, k->label, name);
}

/* Decides between insert and update; refuses a clash of name or uuid. */
static int define_store(struct cmd_ctx *ctx, const struct cmd_kind *k, const void *obj,
                        bool *updated)
{
    const char *name = k->name(obj), *uuid = k->uuid(obj);
    struct cmd_kind_row by_uuid, by_name;
    bool have_uuid = k->get_row(ctx, uuid, &by_uuid) == 0;
    bool have_name = k->get_row(ctx, name, &by_name) == 0;
    err_clear();
    if (have_uuid && strcmp(by_uuid.name, name) != 0)
        return err_set("%s '%s' is already defined with uuid %s", k->kind, by_uuid.name, uuid);
    if (have_name && strcmp(by_name.uuid, uuid) != 0)
        return err_set("%s '%s' already exists with uuid %s", k->kind, name, by_name.uuid);
    *updated = have_uuid;
    return have_uuid ? k->update(ctx, obj) : k->insert(ctx, obj);
}

enum cmd_result cmd_kind_define_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const struct cmd_kind *k = args->entry->data;
    const char *path = args->argv[0];
    void *obj = NULL;
    char *xml;
    size_t len;
    bool updated = false;
    if (!cmd_store(ctx) || cmd_read_input(ctx, path, &xml, &len) < 0)
        return CMD_ERROR;
    int rc = k->parse(xml, len, cmd_input_origin(path), &obj);
    free(xml);
    if (rc == 0)
        rc = define_store(ctx, k, obj, &updated);
    if (rc == 0)
        rc = store_event_add(ctx->store, k->kind, k->name(obj), "defined",
                             updated ? "updated" : "added");
    if (rc == 0) {
        print_label(ctx->out, k, k->name(obj));
        fprintf(ctx->out, " defined from %s\n\n", path);
    }
    if (obj)
        k->free(obj);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

struct edit_target {
    const struct cmd_kind *k;
    struct cmd_kind_row row; /* the object as it was before the edit */
};

/* Applies an edited document in its own transaction: the store is not held
 * while the editor runs. The uuid is the key and stays; a new name must be free. */
static int edit_apply(struct cmd_ctx *ctx, const char *xml, size_t len, const char *origin,
                      void *opaque)
{
    const struct edit_target *t = opaque;
    const struct cmd_kind *k = t->k;
    struct cmd_kind_row other;
    void *obj = NULL;
    if (!cmd_store(ctx) || k->parse(xml, len, origin, &obj) < 0)
        return -1;
    const char *name = k->name(obj), *uuid = k->uuid(obj);
    int rc = 0;
    if (strcmp(uuid, t->row.uuid) != 0)
        rc = err_set("%s: the uuid cannot be changed by edit (was %s)", origin, t->row.uuid);
    else if (strcmp(name, t->row.name) != 0 && k->get_row(ctx, name, &other) == 0)
        rc = err_set("%s: %s '%s' already exists with uuid %s", origin, k->kind, name, other.uuid);
    else if (store_begin(ctx->store) < 0)
        rc = -1;
    else if (k->update(ctx, obj) < 0 ||
             store_event_add(ctx->store, k->kind, name, "updated", "edited") < 0) {
        store_rollback(ctx->store);
        rc = -1;
    } else {
        rc = store_commit(ctx->store);
    }
    if (rc == 0) {
        print_label(ctx->out, k, name);
        fputs(" XML configuration edited.\n\n", ctx->out);
    }
    k->free(obj);
    return rc;
}

enum cmd_result cmd_kind_edit_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct edit_target t = {.k = args->entry->data};
    char *xml;
    if (!cmd_store(ctx) || t.k->get_row(ctx, args->argv[0], &t.row) < 0 ||
        t.k->get_xml(ctx, t.row.uuid, &xml) < 0)
        return CMD_ERROR;
    char what[300];
    snprintf(what, sizeof(what), t.k->label, t.row.name);
    bool changed;
    int rc = cmd_edit_xml(ctx, xml, what, edit_apply, &t, &changed);
    free(xml);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

enum cmd_result cmd_kind_dumpxml_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const struct cmd_kind *k = args->entry->data;
    char *xml;
    if (!cmd_store(ctx) || k->get_xml(ctx, args->argv[0], &xml) < 0)
        return CMD_ERROR;
    int rc = cmd_print_xml_selected(ctx->out, args, xml);
    free(xml);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

enum cmd_result cmd_kind_undefine_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const struct cmd_kind *k = args->entry->data;
    struct cmd_kind_row row;
    if (!cmd_store(ctx) || k->get_row(ctx, args->argv[0], &row) < 0 ||
        (k->refresh && k->refresh(ctx, &row) < 0))
        return CMD_ERROR;
    if (row.active) {
        if (k->stop_verb)
            err_set("Requested operation is not valid: %s '%s' is active (tvm %s %s)",
                    k->busy_noun, row.name, k->stop_verb, row.name);
        else
            err_set("Requested operation is not valid: %s '%s' is active", k->busy_noun,
                    row.name);
        return CMD_ERROR;
    }
    if (k->delete (ctx, row.uuid) < 0 ||
        store_event_add(ctx->store, k->kind, row.name, "undefined", "removed") < 0)
        return CMD_ERROR;
    print_label(ctx->out, k, row.name);
    fputs(" has been undefined\n\n", ctx->out);
    return CMD_OK;
}
