/* Domains: the full XML plus the columns `list` and `dominfo` read. */
#include "store/store-internal.h"

#include "core/err.h"

#include <stdlib.h>
#include <string.h>

static int store_domain_check(const struct domain *d)
{
    if (store_check_name("domain", d->name) < 0)
        return -1;
    if (!d->uuid[0])
        return err_set("domain '%s' has no uuid", d->name);
    return 0;
}

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
    sqlite3_bind_int64(stmt, 9, store_now_ms());
    return 0;
}

/* Insert or update; both report a taken name the same way. */
static int store_domain_write(struct store *st, enum store_stmt_id id, const struct domain *d)
{
    if (store_domain_check(d) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, id);
    char *xml;
    if (!stmt || store_domain_bind(stmt, d, &xml) < 0)
        return -1;
    int rc = sqlite3_step(stmt);
    int changed = sqlite3_changes(st->db);
    if (rc != SQLITE_DONE)
        store_sql_error(st, "cannot store domain");
    store_done(stmt);
    free(xml);
    if (store_is_unique_violation(rc))
        return store_duplicate_error(st, STMT_DOMAIN_ID, "domain", d->name, d->uuid);
    if (rc != SQLITE_DONE)
        return err_prefix("domain '%s': ", d->name);
    if (id == STMT_DOMAIN_UPDATE && changed == 0)
        return err_set("domain '%s' not found", d->uuid);
    return 0;
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
    sqlite3_stmt *stmt = store_stmt(st, STMT_DOMAIN_XML);
    if (!stmt)
        return -1;
    store_bind_key(stmt, name_or_uuid);
    int found = store_fetch_xml(st, stmt, xml);
    if (found == 0)
        return err_set("domain '%s' not found", name_or_uuid);
    return found < 0 ? -1 : 0;
}

static void store_domain_row_fill(sqlite3_stmt *stmt, struct store_domain_row *row)
{
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
    sqlite3_stmt *stmt = store_stmt(st, STMT_DOMAIN_ROW);
    if (!stmt)
        return -1;
    store_bind_key(stmt, name_or_uuid);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        store_domain_row_fill(stmt, row);
    else if (rc == SQLITE_DONE)
        err_set("domain '%s' not found", name_or_uuid);
    else
        store_sql_error(st, "cannot read domain");
    store_done(stmt);
    return rc == SQLITE_ROW ? 0 : -1;
}

int store_domain_delete(struct store *st, const char *uuid)
{
    int64_t id;
    if (store_resolve(st, STMT_DOMAIN_ID, "domain", uuid, &id) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, STMT_DOMAIN_DELETE);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, id);
    /* its snapshots go with it (ON DELETE CASCADE), in the same statement */
    return store_step_done(st, stmt, "cannot delete domain");
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
    sqlite3_bind_int64(stmt, 5, store_now_ms());
    return store_step_done(st, stmt, "cannot set domain state");
}

int store_domain_set_autostart(struct store *st, const char *uuid, bool on)
{
    int64_t id;
    if (store_resolve(st, STMT_DOMAIN_ID, "domain", uuid, &id) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, STMT_DOMAIN_SET_AUTOSTART);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int(stmt, 2, on);
    sqlite3_bind_int64(stmt, 3, store_now_ms());
    return store_step_done(st, stmt, "cannot set domain autostart");
}

int store_domain_list(struct store *st, unsigned flags, struct store_domain_row **rows, size_t *n)
{
    unsigned which = flags & (STORE_LIST_ACTIVE | STORE_LIST_INACTIVE);
    sqlite3_stmt *stmt = store_stmt(st, STMT_DOMAIN_LIST);
    if (!stmt)
        return -1;
    /* both bits mean everything, like no bit */
    sqlite3_bind_int(stmt, 1, which == (STORE_LIST_ACTIVE | STORE_LIST_INACTIVE) ? 0 : (int)which);
    struct store_domain_row *out = NULL;
    size_t cap = 0, count = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (store_grow((void **)&out, &cap, count, sizeof(*out)) < 0)
            goto fail;
        store_domain_row_fill(stmt, &out[count++]);
    }
    if (rc != SQLITE_DONE) {
        store_sql_error(st, "cannot list domains");
        goto fail;
    }
    store_done(stmt);
    *rows = out;
    *n = count;
    return 0;
fail:
    store_done(stmt);
    free(out);
    return -1;
}
