/* Virtual networks: XML plus bridge, forward mode and the active/autostart flags. */
#include "store/store-internal.h"

#include "core/base/err.h"

#include <stdlib.h>

static int store_network_write(struct store *st, enum store_stmt_id id, const struct network *n)
{
    if (store_check_named("network", n->name, n->uuid) < 0)
        return -1;
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
    sqlite3_bind_int64(stmt, 6, host_wall_ms());
    return store_write_named(st, stmt, xml, STMT_NETWORK_ID, "network", n->name, n->uuid,
                             id == STMT_NETWORK_UPDATE);
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
    return store_get_xml_by_key(st, STMT_NETWORK_XML, "network", name_or_uuid, xml);
}

int store_network_get_row(struct store *st, const char *name_or_uuid, struct store_object_row *row)
{
    return store_get_object_row(st, STMT_NETWORK_ROW, "network", name_or_uuid, row);
}

int store_network_delete(struct store *st, const char *uuid)
{
    return store_delete_by_key(st, STMT_NETWORK_ID, "network", uuid, STMT_NETWORK_DELETE,
                               "cannot delete network");
}

static int store_network_set_flag(struct store *st, enum store_stmt_id sid, const char *uuid,
                                  bool on)
{
    return store_set_flag_by_key(st, STMT_NETWORK_ID, "network", uuid, sid, on,
                                 "cannot update network");
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
