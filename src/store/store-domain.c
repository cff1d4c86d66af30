/* Domains: the full XML plus the columns `list` and `dominfo` read. */
#include "store/store-internal.h"

#include "core/base/err.h"

#include <stdlib.h>
#include <string.h>

/* Binds ?1..?9 of DOMAIN_INSERT / DOMAIN_UPDATE; the caller frees *xml. */
static int store_domain_bind(sqlite3_stmt *stmt, const struct domain *d, char **xml)
{
    *xml = domain_format(d);
    if (!*xml)
        return err_prefix("domain '%s': ", d->name);
    store_bind_text(stmt, 1, d->name);
    store_bind_text(stmt, 2, d->uuid);
    store_bind_text(stmt, 3, d->title);
    sqlite3_bind_int64(stmt, 4, d->vcpus);
    sqlite3_bind_int64(stmt, 5, d->vcpus_current);
    store_bind_u64(stmt, 6, d->memory_kib);
    store_bind_u64(stmt, 7, d->current_memory_kib);
    store_bind_text(stmt, 8, *xml);
    sqlite3_bind_int64(stmt, 9, host_wall_ms());
    return 0;
}

/* Insert or update; both report a taken name the same way. */
static int store_domain_write(struct store *st, enum store_stmt_id id, const struct domain *d)
{
    if (store_check_named("domain", d->name, d->uuid) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, id);
    char *xml;
    if (!stmt || store_domain_bind(stmt, d, &xml) < 0)
        return -1;
    return store_write_named(st, stmt, xml, STMT_DOMAIN_ID, "domain", d->name, d->uuid,
                             id == STMT_DOMAIN_UPDATE);
}

int store_domain_insert(struct store *st, const struct domain *d)
{
    return store_domain_write(st, STMT_DOMAIN_INSERT, d);
}

int store_domain_update(struct store *st, const struct domain *d)
{
    return store_domain_write(st, STMT_DOMAIN_UPDATE, d);
}

int store_domain_get_xml(struct store *st, const char *name_or_uuid, char **xml)
{
    return store_get_xml_by_key(st, STMT_DOMAIN_XML, "domain", name_or_uuid, xml);
}

static void store_domain_row_fill(sqlite3_stmt *stmt, void *out)
{
    struct store_domain_row *row = out;
    store_copy_col(stmt, 0, row->name, sizeof(row->name));
    store_copy_col(stmt, 1, row->uuid, sizeof(row->uuid));
    store_copy_col(stmt, 2, row->title, sizeof(row->title));
    row->state = (enum domain_state)sqlite3_column_int(stmt, 3);
    row->state_reason = sqlite3_column_int(stmt, 4);
    row->vcpus = (unsigned)sqlite3_column_int64(stmt, 5);
    row->vcpus_current = (unsigned)sqlite3_column_int64(stmt, 6);
    row->memory_kib = (uint64_t)sqlite3_column_int64(stmt, 7);
    row->current_memory_kib = (uint64_t)sqlite3_column_int64(stmt, 8);
    row->autostart = sqlite3_column_int(stmt, 9) != 0;
    row->persistent = sqlite3_column_int(stmt, 10) != 0;
    row->id = sqlite3_column_int64(stmt, 11);
}

int store_domain_get_row(struct store *st, const char *name_or_uuid, struct store_domain_row *row)
{
    return store_get_row_by_key(st, STMT_DOMAIN_ROW, "domain", name_or_uuid, store_domain_row_fill,
                                row);
}

int store_domain_delete(struct store *st, const char *uuid)
{
    /* its snapshots go with it (ON DELETE CASCADE), in the same statement */
    return store_delete_by_key(st, STMT_DOMAIN_ID, "domain", uuid, STMT_DOMAIN_DELETE,
                               "cannot delete domain");
}

int store_domain_set_state(struct store *st, const char *uuid, enum domain_state s, int reason,
                           int64_t run_id)
{
    int64_t id;
    if (store_resolve(st, STMT_DOMAIN_ID, "domain", uuid, &id) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, STMT_DOMAIN_SET_STATE);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int(stmt, 2, (int)s);
    sqlite3_bind_int(stmt, 3, reason);
    sqlite3_bind_int64(stmt, 4, run_id);
    sqlite3_bind_int64(stmt, 5, host_wall_ms());
    return store_step_done(st, stmt, "cannot set domain state");
}

int store_domain_set_autostart(struct store *st, const char *uuid, bool on)
{
    return store_set_flag_by_key(st, STMT_DOMAIN_ID, "domain", uuid, STMT_DOMAIN_SET_AUTOSTART, on,
                                 "cannot set domain autostart");
}

int store_domain_set_persistent(struct store *st, const char *uuid, bool on)
{
    return store_set_flag_by_key(st, STMT_DOMAIN_ID, "domain", uuid, STMT_DOMAIN_SET_PERSISTENT, on,
                                 "cannot set domain persistence");
}

int store_domain_list(struct store *st, unsigned flags, struct store_domain_row **rows, size_t *n)
{
    unsigned which = flags & (STORE_LIST_ACTIVE | STORE_LIST_INACTIVE);
    sqlite3_stmt *stmt = store_stmt(st, STMT_DOMAIN_LIST);
    if (!stmt)
        return -1;
    /* both bits mean everything, like no bit */
    sqlite3_bind_int(stmt, 1, which == (STORE_LIST_ACTIVE | STORE_LIST_INACTIVE) ? 0 : (int)which);
    return store_collect_rows(st, stmt, sizeof(**rows), store_domain_row_fill, (void **)rows, n,
                              "cannot list domains");
}
