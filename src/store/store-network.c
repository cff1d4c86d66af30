/* Virtual networks: XML plus bridge, forward mode and the active/autostart flags. */
#include "store/store-internal.h"

#include "core/err.h"

#include <stdlib.h>

static int store_network_write(struct store *st, enum store_stmt_id id, const struct network *n)
{
    if (store_check_name("network", n->name) < 0)
        return -1;
    if (!n->uuid[0])
        return err_set("network '%s' has no uuid", n->name);
    sqlite3_stmt *stmt = store_stmt(st, id);
    if (!stmt)
        return -1;
    char *xml = network_format(n);
    if (!xml)
        return err_prefix("network '%s': ", n->name);
    store_bind_text(stmt, 1, n->name);
    store_bind_text(stmt, 2, n->uuid);
    store_bind_text(stmt, 3, n->bridge);
    store_bind_text(stmt, 4, n->forward_mode);
    store_bind_text(stmt, 5, xml);
    sqlite3_bind_int64(stmt, 6, store_now_ms());
    int rc = sqlite3_step(stmt);
    int changed = sqlite3_changes(st->db);
    if (rc != SQLITE_DONE)
        store_sql_error(st, "cannot store network");
    store_done(stmt);
    free(xml);
    if (store_is_unique_violation(rc))
        return store_duplicate_error(st, STMT_NETWORK_ID, "network", n->name, n->uuid);
    if (rc != SQLITE_DONE)
        return err_prefix("network '%s': ", n->name);
    if (id == STMT_NETWORK_UPDATE && changed == 0)
        return err_set("network '%s' not found", n->uuid);
    return 0;
}

int store_network_insert(struct store *st, const struct network *n)
{
    return store_network_write(st, STMT_NETWORK_INSERT, n);
}

int store_network_update(struct store *st, const struct network *n)
{
    return store_network_write(st, STMT_NETWORK_UPDATE, n);
}

int store_network_get_xml(struct store *st, const char *name_or_uuid, char **xml)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_NETWORK_XML);
    if (!stmt)
        return -1;
    store_bind_key(stmt, name_or_uuid);
    int found = store_fetch_xml(st, stmt, xml);
    if (found == 0)
        return err_set("network '%s' not found", name_or_uuid);
    return found < 0 ? -1 : 0;
}

int store_network_get_row(struct store *st, const char *name_or_uuid, struct store_object_row *row)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_NETWORK_ROW);
    if (!stmt)
        return -1;
    store_bind_key(stmt, name_or_uuid);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        store_object_row_fill(stmt, row);
    else if (rc == SQLITE_DONE)
        err_set("network '%s' not found", name_or_uuid);
    else
        store_sql_error(st, "cannot read network");
    store_done(stmt);
    return rc == SQLITE_ROW ? 0 : -1;
}

int store_network_delete(struct store *st, const char *uuid)
{
    int64_t id;
    if (store_resolve(st, STMT_NETWORK_ID, "network", uuid, &id) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, STMT_NETWORK_DELETE);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, id);
    return store_step_done(st, stmt, "cannot delete network");
}

/* SET_ACTIVE and SET_AUTOSTART share the shape (id, flag, time). */
static int store_network_set_flag(struct store *st, enum store_stmt_id sid, const char *uuid,
                                  bool on)
{
    int64_t id;
    if (store_resolve(st, STMT_NETWORK_ID, "network", uuid, &id) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, sid);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, id);
    sqlite3_bind_int(stmt, 2, on);
    sqlite3_bind_int64(stmt, 3, store_now_ms());
    return store_step_done(st, stmt, "cannot update network");
}

int store_network_set_active(struct store *st, const char *uuid, bool active)
{
    return store_network_set_flag(st, STMT_NETWORK_SET_ACTIVE, uuid, active);
}

int store_network_set_autostart(struct store *st, const char *uuid, bool on)
{
    return store_network_set_flag(st, STMT_NETWORK_SET_AUTOSTART, uuid, on);
}

int store_network_list(struct store *st, struct store_object_row **rows, size_t *n)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_NETWORK_LIST);
    if (!stmt)
        return -1;
    return store_object_list(st, stmt, rows, n, "cannot list networks");
}
