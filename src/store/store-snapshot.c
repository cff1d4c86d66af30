/* Snapshot metadata: a tree per domain with at most one current snapshot.
 *
 * The tree lives twice: in the parent column (what lists and checks read)
 * and in each snapshot's XML (<parent><name>), which snapshot-dumpxml
 * prints. Re-parenting rewrites both in the same transaction. At most one
 * current per domain is enforced by the partial unique index
 * snapshots_one_current, so a bug here fails loudly instead of storing two.
 */
#include "store/store-internal.h"

#include "core/base/err.h"

#include <libxml/tree.h>
#include <stdlib.h>
#include <string.h>

/* One snapshot of a domain, as the tree code needs it. */
struct store_snapshot_node {
    int64_t id;
    char *parent; /* NULL for a root */
    bool current;
};

/* Returns 1 found (*node filled, parent malloc'd), 0 not found, -1 error. */
static int store_snapshot_find(struct store *st, int64_t dom, const char *name,
                               struct store_snapshot_node *node)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_SNAPSHOT_GET);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, dom);
    store_bind_text(stmt, 2, name);
    int rc = sqlite3_step(stmt), ret = 0;
    if (rc == SQLITE_ROW) {
        node->id = sqlite3_column_int64(stmt, 0);
        node->parent = NULL;
        node->current = sqlite3_column_int(stmt, 2) != 0;
        ret = 1;
        if (sqlite3_column_type(stmt, 1) != SQLITE_NULL && !(node->parent = store_dup_col(stmt, 1)))
            ret = -1;
    } else if (rc != SQLITE_DONE) {
        ret = store_sql_error(st, "cannot read snapshot");
    }
    store_done(stmt);
    return ret;
}

/* Clear dom's current snapshot and make name current (NULL: none). */
static int store_snapshot_make_current(struct store *st, int64_t dom, const char *name)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_SNAPSHOT_CLEAR_CURRENT);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, dom);
    if (store_step_done(st, stmt, "cannot clear the current snapshot") < 0)
        return -1;
    if (!name)
        return 0;
    if (!(stmt = store_stmt(st, STMT_SNAPSHOT_SET_CURRENT)))
        return -1;
    sqlite3_bind_int64(stmt, 1, dom);
    store_bind_text(stmt, 2, name);
    if (store_step_done(st, stmt, "cannot set the current snapshot") < 0)
        return -1;
    if (sqlite3_changes(st->db) == 0)
        return err_set("Domain snapshot not found: no domain snapshot with matching name '%s'",
                       name);
    return 0;
}

/* A snapshot that embeds its domain's definition belongs to that domain
 * only (virsh snapshot-create --redefine checks the same). */
static int store_snapshot_check_owner(struct store *st, const char *domain,
                                      const struct snapshot *s)
{
    struct store_domain_row row;
    if (!s->domain_uuid || !s->domain_uuid[0])
        return 0;
    if (store_domain_get_row(st, domain, &row) < 0)
        return -1;
    if (strcmp(row.uuid, s->domain_uuid) != 0)
        return err_set("snapshot '%s' belongs to the domain with uuid %s, not to '%s'", s->name,
                       s->domain_uuid, row.name);
    return 0;
}

/* The parent named in s must be a snapshot of the same domain. */
static int store_snapshot_check_parent(struct store *st, int64_t dom, const struct snapshot *s)
{
    struct store_snapshot_node parent;
    if (!s->parent || !s->parent[0])
        return 0;
    int found = store_snapshot_find(st, dom, s->parent, &parent);
    if (found == 0)
        return err_set("parent snapshot '%s' of '%s' not found", s->parent, s->name);
    if (found > 0)
        free(parent.parent);
    return found < 0 ? -1 : 0;
}

static int store_snapshot_insert_row(struct store *st, int64_t dom, const struct snapshot *s,
                                     bool current, const char *xml)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_SNAPSHOT_INSERT);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, dom);
    store_bind_text(stmt, 2, s->name);
    store_bind_text_or_null(stmt, 3, s->parent && s->parent[0] ? s->parent : NULL);
    sqlite3_bind_int(stmt, 4, current);
    sqlite3_bind_int64(stmt, 5, s->creation_time);
    store_bind_text(stmt, 6, s->state);
    store_bind_text(stmt, 7, xml);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        store_sql_error(st, "cannot store snapshot");
    store_done(stmt);
    if (store_is_unique_violation(rc))
        return err_set("snapshot '%s' already exists", s->name);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int store_snapshot_set_state_file(struct store *st, int64_t dom, const char *name,
                                         const char *state_file)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_SNAPSHOT_SET_STATE_FILE);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, dom);
    store_bind_text(stmt, 2, name);
    store_bind_text(stmt, 3, state_file);
    return store_step_done(st, stmt, "cannot store the snapshot's saved state");
}

int store_snapshot_insert(struct store *st, const char *domain_uuid, const struct snapshot *s,
                          bool make_current)
{
    return store_snapshot_insert_with_state(st, domain_uuid, s, make_current, NULL);
}

int store_snapshot_insert_with_state(struct store *st, const char *domain_uuid,
                                     const struct snapshot *s, bool make_current,
                                     const char *state_file)
{
    int64_t dom;
    if (store_check_name("snapshot", s->name) < 0)
        return -1;
    char *xml = snapshot_format(s);
    if (!xml)
        return err_prefix("snapshot '%s': ", s->name);
    int rc = store_begin(st);
    if (rc == 0) {
        rc = store_resolve(st, STMT_DOMAIN_ID, "domain", domain_uuid, &dom);
        if (rc == 0)
            rc = store_snapshot_check_owner(st, domain_uuid, s);
        if (rc == 0)
            rc = store_snapshot_check_parent(st, dom, s);
        if (rc == 0 && make_current)
            rc = store_snapshot_make_current(st, dom, NULL);
        if (rc == 0)
            rc = store_snapshot_insert_row(st, dom, s, make_current, xml);
        if (rc == 0 && state_file && *state_file)
            rc = store_snapshot_set_state_file(st, dom, s->name, state_file);
        if (rc == 0)
            rc = store_commit(st);
        else
            store_rollback(st);
    }
    free(xml);
    return rc;
}

int store_snapshot_get_xml(struct store *st, const char *domain_uuid, const char *name, char **xml)
{
    int64_t dom;
    if (store_resolve(st, STMT_DOMAIN_ID, "domain", domain_uuid, &dom) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, STMT_SNAPSHOT_XML);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, dom);
    store_bind_text(stmt, 2, name);
    int found = store_fetch_xml(st, stmt, xml);
    if (found == 0)
        return err_set("Domain snapshot not found: no domain snapshot with matching name '%s'",
                       name);
    return found < 0 ? -1 : 0;
}

int store_snapshot_state_file(struct store *st, const char *domain_uuid, const char *name,
                              char **path)
{
    int64_t dom;
    *path = NULL;
    if (store_resolve(st, STMT_DOMAIN_ID, "domain", domain_uuid, &dom) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, STMT_SNAPSHOT_STATE_FILE);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, dom);
    store_bind_text(stmt, 2, name);
    int found = store_fetch_xml(st, stmt, path);
    if (found == 0)
        return err_set("Domain snapshot not found: no domain snapshot with matching name '%s'",
                       name);
    return found < 0 ? -1 : 0;
}

int store_snapshot_set_xml(struct store *st, const char *domain_uuid, const char *name,
                           const char *xml)
{
    int64_t dom;
    if (store_resolve(st, STMT_DOMAIN_ID, "domain", domain_uuid, &dom) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, STMT_SNAPSHOT_SET_XML);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, dom);
    store_bind_text(stmt, 2, name);
    store_bind_text(stmt, 3, xml);
    if (store_step_done(st, stmt, "cannot store the snapshot") < 0)
        return -1;
    return sqlite3_changes(st->db) == 1
               ? 0
               : err_set("Domain snapshot not found: no domain snapshot with matching name '%s'",
                         name);
}

/* The element after which <parent> goes, in libvirt's order
 * (name, description, state, parent, creationTime ...). */
static xmlNodePtr store_snapshot_parent_anchor(xmlNodePtr root)
{
    static const char *const before[] = {"state", "description", "name"};
    for (size_t i = 0; i < sizeof(before) / sizeof(before[0]); i++)
        for (xmlNodePtr c = root->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST before[i]))
                return c;
    return NULL;
}

/* Point the document's <parent><name> at parent (NULL: a root, no <parent>). */
static int store_snapshot_doc_set_parent(xmlDocPtr doc, const char *parent)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root)
        return err_set("snapshot document has no root element");
    for (xmlNodePtr c = root->children; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && xmlStrEqual(c->name, BAD_CAST "parent")) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
            break;
        }
    }
    if (!parent)
        return 0;
    xmlNodePtr node = xmlNewDocNode(doc, NULL, BAD_CAST "parent", NULL);
    if (!node || !xmlNewTextChild(node, NULL, BAD_CAST "name", BAD_CAST parent)) {
        xmlFreeNode(node);
        return err_set("out of memory");
    }
    xmlNodePtr anchor = store_snapshot_parent_anchor(root);
    if (anchor)
        xmlAddNextSibling(anchor, node);
    else if (root->children)
        xmlAddPrevSibling(root->children, node);
    else
        xmlAddChild(root, node);
    return 0;
}

/* The stored XML of a child, rewritten to name its new parent. */
static char *store_snapshot_xml_reparent(const char *xml, const char *parent)
{
    struct snapshot *s;
    if (snapshot_parse(xml, strlen(xml), "stored snapshot", &s) < 0)
        return NULL;
    char *out = NULL;
    if (store_snapshot_doc_set_parent(s->doc, parent) == 0)
        out = snapshot_format(s);
    snapshot_free(s);
    return out;
}

struct store_snapshot_child {
    int64_t id;
    char *xml;
};

static void store_snapshot_children_free(struct store_snapshot_child *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(c[i].xml);
    free(c);
}

/* Read all children first: the rows are rewritten after the SELECT ends. */
static int store_snapshot_children(struct store *st, int64_t dom, const char *name,
                                   struct store_snapshot_child **out, size_t *n)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_SNAPSHOT_CHILDREN);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, dom);
    store_bind_text(stmt, 2, name);
    struct store_snapshot_child *c = NULL;
    size_t cap = 0, count = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (store_grow((void **)&c, &cap, count, sizeof(*c)) < 0)
            goto fail;
        c[count].id = sqlite3_column_int64(stmt, 0);
        if (!(c[count].xml = store_dup_col(stmt, 1)))
            goto fail;
        count++;
    }
    if (rc != SQLITE_DONE) {
        store_sql_error(st, "cannot read snapshot children");
        goto fail;
    }
    store_done(stmt);
    *out = c;
    *n = count;
    return 0;
fail:
    store_done(stmt);
    store_snapshot_children_free(c, count);
    return -1;
}

static int store_snapshot_reparent_children(struct store *st, int64_t dom, const char *name,
                                            const char *new_parent)
{
    struct store_snapshot_child *c;
    size_t n;
    if (store_snapshot_children(st, dom, name, &c, &n) < 0)
        return -1;
    int ret = 0;
    for (size_t i = 0; i < n && ret == 0; i++) {
        char *xml = store_snapshot_xml_reparent(c[i].xml, new_parent);
        sqlite3_stmt *stmt = xml ? store_stmt(st, STMT_SNAPSHOT_REPARENT) : NULL;
        if (!stmt) {
            free(xml);
            ret = -1;
            break;
        }
        sqlite3_bind_int64(stmt, 1, c[i].id);
        store_bind_text_or_null(stmt, 2, new_parent);
        store_bind_text(stmt, 3, xml);
        ret = store_step_done(st, stmt, "cannot re-parent snapshot");
        free(xml);
    }
    store_snapshot_children_free(c, n);
    return ret;
}

/* Children move up to the deleted snapshot's parent, and if it was the
 * current one its parent becomes current (libvirt does both). */
static int store_snapshot_delete_in(struct store *st, int64_t dom, const char *name)
{
    struct store_snapshot_node node;
    int found = store_snapshot_find(st, dom, name, &node);
    if (found <= 0)
        return found == 0
                   ? err_set(
                         "Domain snapshot not found: no domain snapshot with matching name '%s'",
                         name)
                   : -1;
    int rc = store_snapshot_reparent_children(st, dom, name, node.parent);
    sqlite3_stmt *stmt = rc == 0 ? store_stmt(st, STMT_SNAPSHOT_DELETE) : NULL;
    if (stmt) {
        sqlite3_bind_int64(stmt, 1, node.id);
        rc = store_step_done(st, stmt, "cannot delete snapshot");
    } else {
        rc = -1;
    }
    if (rc == 0 && node.current && node.parent)
        rc = store_snapshot_make_current(st, dom, node.parent);
    free(node.parent);
    return rc;
}

int store_snapshot_delete(struct store *st, const char *domain_uuid, const char *name)
{
    int64_t dom;
    if (store_begin(st) < 0)
        return -1;
    if (store_resolve(st, STMT_DOMAIN_ID, "domain", domain_uuid, &dom) < 0 ||
        store_snapshot_delete_in(st, dom, name) < 0) {
        store_rollback(st);
        return -1;
    }
    return store_commit(st);
}

int store_snapshot_set_current(struct store *st, const char *domain_uuid, const char *name)
{
    int64_t dom;
    if (store_begin(st) < 0)
        return -1;
    if (store_resolve(st, STMT_DOMAIN_ID, "domain", domain_uuid, &dom) < 0 ||
        store_snapshot_make_current(st, dom, name) < 0) {
        store_rollback(st);
        return -1;
    }
    return store_commit(st);
}

static void store_snapshot_row_fill(sqlite3_stmt *stmt, void *out)
{
    struct store_snapshot_row *row = out;
    store_copy_col(stmt, 0, row->name, sizeof(row->name));
    store_copy_col(stmt, 1, row->parent, sizeof(row->parent));
    store_copy_col(stmt, 2, row->state, sizeof(row->state));
    row->creation_time = sqlite3_column_int64(stmt, 3);
    row->current = sqlite3_column_int(stmt, 4) != 0;
}

int store_snapshot_list(struct store *st, const char *domain_uuid, struct store_snapshot_row **rows,
                        size_t *n)
{
    int64_t dom;
    if (store_resolve(st, STMT_DOMAIN_ID, "domain", domain_uuid, &dom) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, STMT_SNAPSHOT_LIST);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, dom);
    return store_collect_rows(st, stmt, sizeof(**rows), store_snapshot_row_fill, (void **)rows, n,
                              "cannot list snapshots");
}
