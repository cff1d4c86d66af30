/* Storage pools and the volumes that belong to them. */
#include "store/store-internal.h"

#include "core/base/err.h"

#include <stdio.h>
#include <stdlib.h>

static int store_pool_write(struct store *st, enum store_stmt_id id, const struct pool *p)
{
    if (store_check_named("pool", p->name, p->uuid) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, id);
    if (!stmt)
        return -1;
    char *xml = pool_format(p);
    if (!xml)
        return err_prefix("pool '%s': ", p->name);
    store_bind_text(stmt, 1, p->name);
    store_bind_text(stmt, 2, p->uuid);
    store_bind_text(stmt, 3, p->type);
    store_bind_text(stmt, 4, p->target_path);
    store_bind_u64(stmt, 5, p->capacity_bytes);
    store_bind_u64(stmt, 6, p->allocation_bytes);
    store_bind_u64(stmt, 7, p->available_bytes);
    store_bind_text(stmt, 8, xml);
    sqlite3_bind_int64(stmt, 9, host_wall_ms());
    return store_write_named(st, stmt, xml, STMT_POOL_ID, "pool", p->name, p->uuid,
                             id == STMT_POOL_UPDATE);
}

int store_pool_insert(struct store *st, const struct pool *p)
{
    return store_pool_write(st, STMT_POOL_INSERT, p);
}

int store_pool_update(struct store *st, const struct pool *p)
{
    return store_pool_write(st, STMT_POOL_UPDATE, p);
}

int store_pool_get_xml(struct store *st, const char *name_or_uuid, char **xml)
{
    return store_get_xml_by_key(st, STMT_POOL_XML, "pool", name_or_uuid, xml);
}

int store_pool_get_row(struct store *st, const char *name_or_uuid, struct store_object_row *row)
{
    return store_get_object_row(st, STMT_POOL_ROW, "pool", name_or_uuid, row);
}

static int store_pool_volume_count(struct store *st, int64_t pool_id, int64_t *count)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_POOL_VOLUME_COUNT);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, pool_id);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *count = sqlite3_column_int64(stmt, 0);
    else
        store_sql_error(st, "cannot count volumes");
    store_done(stmt);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Count and delete in one transaction, so no volume slips in between. */
int store_pool_delete(struct store *st, const char *uuid)
{
    int64_t id, count;
    if (store_begin(st) < 0)
        return -1;
    if (store_resolve(st, STMT_POOL_ID, "pool", uuid, &id) < 0 ||
        store_pool_volume_count(st, id, &count) < 0)
        goto fail;
    if (count > 0) {
        err_set("pool '%s' still has %lld volume%s", uuid, (long long)count, count == 1 ? "" : "s");
        goto fail;
    }
    sqlite3_stmt *stmt = store_stmt(st, STMT_POOL_DELETE);
    if (!stmt)
        goto fail;
    sqlite3_bind_int64(stmt, 1, id);
    if (store_step_done(st, stmt, "cannot delete pool") < 0)
        goto fail;
    return store_commit(st);
fail:
    store_rollback(st);
    return -1;
}

static int store_pool_set_flag(struct store *st, enum store_stmt_id sid, const char *uuid, bool on)
{
    return store_set_flag_by_key(st, STMT_POOL_ID, "pool", uuid, sid, on, "cannot update pool");
}

int store_pool_set_active(struct store *st, const char *uuid, bool active)
{
    return store_pool_set_flag(st, STMT_POOL_SET_ACTIVE, uuid, active);
}

int store_pool_set_autostart(struct store *st, const char *uuid, bool on)
{
    return store_pool_set_flag(st, STMT_POOL_SET_AUTOSTART, uuid, on);
}

int store_pool_list(struct store *st, struct store_object_row **rows, size_t *n)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_POOL_LIST);
    if (!stmt)
        return -1;
    return store_object_list(st, stmt, rows, n, "cannot list pools");
}

/* ---- volumes ---- */

static int store_volume_write(struct store *st, enum store_stmt_id id, const char *pool,
                              const struct volume *v)
{
    int64_t pool_id;
    if (store_check_name("volume", v->name) < 0 ||
        store_resolve(st, STMT_POOL_ID, "pool", pool, &pool_id) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, id);
    if (!stmt)
        return -1;
    char *xml = volume_format(v);
    if (!xml)
        return err_prefix("volume '%s': ", v->name);
    sqlite3_bind_int64(stmt, 1, pool_id);
    store_bind_text(stmt, 2, v->name);
    store_bind_text(stmt, 3, v->target_path ? v->target_path : v->key);
    store_bind_text(stmt, 4, v->format);
    store_bind_u64(stmt, 5, v->capacity_bytes);
    store_bind_u64(stmt, 6, v->allocation_bytes);
    store_bind_text(stmt, 7, xml);
    sqlite3_bind_int64(stmt, 8, host_wall_ms());
    int rc = sqlite3_step(stmt);
    int changed = sqlite3_changes(st->db);
    if (rc != SQLITE_DONE)
        store_sql_error(st, "cannot store volume");
    store_done(stmt);
    free(xml);
    if (store_is_unique_violation(rc))
        return err_set("volume '%s' already exists in pool '%s'", v->name, pool);
    if (rc != SQLITE_DONE)
        return err_prefix("volume '%s': ", v->name);
    if (id == STMT_VOLUME_UPDATE && changed == 0)
        return err_set("volume '%s' not found in pool '%s'", v->name, pool);
    return 0;
}

int store_volume_insert(struct store *st, const char *pool, const struct volume *v)
{
    return store_volume_write(st, STMT_VOLUME_INSERT, pool, v);
}

int store_volume_update(struct store *st, const char *pool, const struct volume *v)
{
    return store_volume_write(st, STMT_VOLUME_UPDATE, pool, v);
}

/* Resolve the pool and bind (pool id, volume name) to a volume statement. */
static sqlite3_stmt *store_volume_stmt(struct store *st, enum store_stmt_id sid, const char *pool,
                                       const char *name)
{
    int64_t pool_id;
    if (store_resolve(st, STMT_POOL_ID, "pool", pool, &pool_id) < 0)
        return NULL;
    sqlite3_stmt *stmt = store_stmt(st, sid);
    if (!stmt)
        return NULL;
    sqlite3_bind_int64(stmt, 1, pool_id);
    store_bind_text(stmt, 2, name);
    return stmt;
}

int store_volume_get_xml(struct store *st, const char *pool, const char *name, char **xml)
{
    sqlite3_stmt *stmt = store_volume_stmt(st, STMT_VOLUME_XML, pool, name);
    if (!stmt)
        return -1;
    int found = store_fetch_xml(st, stmt, xml);
    if (found == 0)
        return err_set("volume '%s' not found in pool '%s'", name, pool);
    return found < 0 ? -1 : 0;
}

int store_volume_get_row(struct store *st, const char *pool, const char *name,
                         struct store_object_row *row)
{
    sqlite3_stmt *stmt = store_volume_stmt(st, STMT_VOLUME_ROW, pool, name);
    if (!stmt)
        return -1;
    int found = store_read_row(st, stmt, store_object_row_fill, row, "cannot read volume");
    if (found == 0)
        return err_set("volume '%s' not found in pool '%s'", name, pool);
    return found < 0 ? -1 : 0;
}

int store_volume_delete(struct store *st, const char *pool, const char *name)
{
    sqlite3_stmt *stmt = store_volume_stmt(st, STMT_VOLUME_DELETE, pool, name);
    if (!stmt)
        return -1;
    if (store_step_done(st, stmt, "cannot delete volume") < 0)
        return -1;
    if (sqlite3_changes(st->db) == 0)
        return err_set("volume '%s' not found in pool '%s'", name, pool);
    return 0;
}

int store_volume_list(struct store *st, const char *pool, struct store_object_row **rows, size_t *n)
{
    int64_t pool_id;
    if (store_resolve(st, STMT_POOL_ID, "pool", pool, &pool_id) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, STMT_VOLUME_LIST);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, pool_id);
    return store_object_list(st, stmt, rows, n, "cannot list volumes");
}

int store_volume_delete_pool(struct store *st, const char *pool)
{
    int64_t pool_id;
    if (store_resolve(st, STMT_POOL_ID, "pool", pool, &pool_id) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, STMT_VOLUME_DELETE_POOL);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, pool_id);
    return store_step_done(st, stmt, "cannot forget the pool's volumes");
}

int store_volume_find_path(struct store *st, const char *path, char pool[256], char name[256])
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_VOLUME_BY_PATH);
    if (!stmt)
        return -1;
    store_bind_text(stmt, 1, path);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW) {
        snprintf(pool, 256, "%s", (const char *)sqlite3_column_text(stmt, 0));
        snprintf(name, 256, "%s", (const char *)sqlite3_column_text(stmt, 1));
    } else if (rc != SQLITE_DONE) {
        store_sql_error(st, "cannot look up volume");
    }
    store_done(stmt);
    if (rc == SQLITE_DONE)
        return err_set("volume '%s' not found", path);
    return rc == SQLITE_ROW ? 0 : -1;
}
