/* Opening the inventory, schema migrations and transactions. */
#include "store/store-internal.h"

#include "core/base/err.h"
#include "core/base/paths.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STORE_BUSY_TIMEOUT_MS 5000

/* One step per schema version, applied in order in its own transaction.
 * A database at version N opens by running every step above N. */
struct store_migration {
    int version;
    const char *sql;
};

static const struct store_migration store_migrations[] = {
    {1, STORE_SCHEMA_V1},
    {2, STORE_SCHEMA_V2},
};
#define STORE_SCHEMA_LATEST                                                                        \
    (store_migrations[sizeof(store_migrations) / sizeof(store_migrations[0]) - 1].version)

static int store_read_version(struct store *st, int *version)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_USER_VERSION);
    if (!stmt)
        return -1;
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_ROW) {
        store_sql_error(st, "cannot read the schema version");
        store_done(stmt);
        return -1;
    }
    *version = sqlite3_column_int(stmt, 0);
    store_done(stmt);
    return 0;
}

static int store_exec(struct store *st, const char *sql, const char *what)
{
    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return store_sql_error(st, what);
    return 0;
}

/* Version read inside the write transaction, so two tvm processes opening a
 * fresh file at once do not both run a step. */
static int store_apply_migration(struct store *st, const struct store_migration *m)
{
    int version;
    if (store_begin(st) < 0)
        return -1;
    if (store_read_version(st, &version) < 0)
        goto fail;
    if (version >= m->version)
        return store_commit(st);
    if (store_exec(st, m->sql, "schema migration") < 0) {
        err_prefix("to version %d: ", m->version);
        goto fail;
    }
    return store_commit(st);
fail:
    store_rollback(st);
    return -1;
}

static int store_migrate(struct store *st)
{
    int version;
    if (store_read_version(st, &version) < 0)
        return -1;
    if (version > STORE_SCHEMA_LATEST)
        return err_set("database schema version %d is newer than this tvm supports (%d); "
                       "use a newer tvm",
                       version, STORE_SCHEMA_LATEST);
    for (size_t i = 0; i < sizeof(store_migrations) / sizeof(store_migrations[0]); i++)
        if (store_migrations[i].version > version &&
            store_apply_migration(st, &store_migrations[i]) < 0)
            return -1;
    return 0;
}

/* The directory is private (0700) and the file 0600: domain XML can hold
 * VNC passwords. SQLite gives its -wal and -shm files the database's mode. */
static int store_prepare_file(const char *path)
{
    char dir[PATH_MAX];
    if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
        return err_set("path too long");
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        if (access(dir, F_OK) < 0 && paths_mkdir_p(dir, 0700) < 0)
            return -1;
    }
    /* Only a missing file is created here: closing any descriptor of an
     * open database drops every POSIX lock this process holds on it, so a
     * second connection (another thread's) would take the first one's
     * SHARED lock away, and another process closing the database would
     * then delete the WAL under it. */
    if (access(path, F_OK) == 0)
        return 0;
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno == EEXIST)
        return 0;
    if (fd < 0)
        return err_errno("cannot open");
    close(fd);
    return 0;
}

/* Switching a fresh file to WAL needs a moment of exclusive access, and
 * SQLite answers BUSY at once there instead of calling the busy handler:
 * when several tvm processes open a new file together, retry for as long as
 * the busy timeout would have waited. */
static int store_enable_wal(struct store *st)
{
    for (int waited_ms = 0;; waited_ms += 5) {
        sqlite3_stmt *stmt;
        if (sqlite3_prepare_v2(st->db, STORE_SQL_WAL, -1, &stmt, NULL) != SQLITE_OK)
            return store_sql_error(st, "cannot enable WAL");
        int rc = sqlite3_step(stmt);
        bool wal =
            rc == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(stmt, 0), "wal") == 0;
        if (rc != SQLITE_ROW)
            store_sql_error(st, "cannot enable WAL");
        sqlite3_finalize(stmt);
        if ((rc & 0xff) == SQLITE_BUSY && waited_ms < STORE_BUSY_TIMEOUT_MS) {
            usleep(5000);
            continue;
        }
        if (rc != SQLITE_ROW)
            return -1;
        return wal ? 0 : err_set("cannot enable WAL journal mode");
    }
}

static int store_configure(struct store *st)
{
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
    if (store_exec(st, STORE_SQL_PRAGMAS, "pragma") < 0)
        return -1;
    return store_enable_wal(st);
}

/* "file:PATH?mode=ro[&immutable=1]" with PATH percent-encoded where a URI
 * would read it otherwise. */
static int readonly_uri(const char *path, bool immutable, char *buf, size_t len)
{
    size_t used = 0;
    int w = snprintf(buf, len, "file:");
    used = (size_t)w;
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        bool plain = *p > 0x20 && *p < 0x7f && !strchr("%?#", *p);
        w = plain ? snprintf(buf + used, len - used, "%c", *p)
                  : snprintf(buf + used, len - used, "%%%02X", *p);
        if (w < 0 || used + (size_t)w >= len)
            return err_set("path too long");
        used += (size_t)w;
    }
    w = snprintf(buf + used, len - used, "?mode=ro%s", immutable ? "&immutable=1" : "");
    return w < 0 || used + (size_t)w >= len ? err_set("path too long") : 0;
}

/* An inventory this user may read but not change: every reading verb works
 * and every change is refused by store_begin(). SQLite reads a WAL database
 * read-only only when its -shm file exists or can be created; when neither
 * (a clean, closed inventory in a directory we cannot write), nobody has
 * changes pending in a WAL, so reading the file as immutable is exact. */
static int open_read_only(struct store *st)
{
    char uri[PATH_MAX * 3 + 32];
    int flags = SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
    int version = 0;
    for (int immutable = 0; immutable < 2; immutable++) {
        if (readonly_uri(st->path, immutable, uri, sizeof(uri)) < 0)
            return -1;
        sqlite3_close_v2(st->db);
        st->db = NULL;
        if (sqlite3_open_v2(uri, &st->db, flags, NULL) != SQLITE_OK)
            continue;
        sqlite3_extended_result_codes(st->db, 1);
        sqlite3_busy_timeout(st->db, STORE_BUSY_TIMEOUT_MS);
        if (store_read_version(st, &version) == 0)
            break;
        for (int i = 0; i < STMT_COUNT; i++) {
            sqlite3_finalize(st->stmt[i]);
            st->stmt[i] = NULL;
        }
        if (immutable)
            return -1;
    }
    if (!st->db)
        return store_sql_error(st, "cannot open read-only");
    if (version < STORE_SCHEMA_LATEST)
        return err_set("schema version %d needs an upgrade to %d, which needs write access; "
                       "open it once as a user who may write it",
                       version, STORE_SCHEMA_LATEST);
    if (version > STORE_SCHEMA_LATEST)
        return err_set("database schema version %d is newer than this tvm supports (%d); "
                       "use a newer tvm",
                       version, STORE_SCHEMA_LATEST);
    st->read_only = true;
    return 0;
}

/* An existing inventory this user cannot write (its mode, or a read-only
 * mount): opened for reading instead of refused. */
static bool only_readable(const char *path)
{
    return access(path, F_OK) == 0 && access(path, W_OK) < 0 &&
           (errno == EACCES || errno == EROFS) && access(path, R_OK) == 0;
}

int store_open(const char *path, struct store **out)
{
    if (!path || !*path)
        path = store_default_path();
    struct store *st = calloc(1, sizeof(*st));
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return err_set("%s: out of memory", path);
    }
    if (only_readable(path)) {
        if (open_read_only(st) < 0)
            goto fail;
        *out = st;
        return 0;
    }
    if (store_prepare_file(path) < 0)
        goto fail;
    /* NOMUTEX: a struct store is used by one thread at a time (it keeps a
     * statement cache and a nesting count), so SQLite's per-call locking
     * only costs time -- a fifth of a 10,000-row list. */
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path, &st->db, flags, NULL) != SQLITE_OK) {
        store_sql_error(st, "cannot open");
        goto fail;
    }
    if (store_configure(st) < 0 || store_migrate(st) < 0)
        goto fail;
    *out = st;
    return 0;
fail:
    err_prefix("%s: ", path);
    store_close(st);
    return -1;
}

bool store_read_only(const struct store *st)
{
    return st->read_only;
}

void store_close(struct store *st)
{
    if (!st)
        return;
    while (st->depth > 0)
        store_rollback(st);
    for (int i = 0; i < STMT_COUNT; i++)
        sqlite3_finalize(st->stmt[i]);
    sqlite3_close_v2(st->db);
    free(st->path);
    free(st);
}

int store_schema_version(struct store *st)
{
    int version;
    return store_read_version(st, &version) < 0 ? -1 : version;
}

int store_set_busy_timeout(struct store *st, int ms)
{
    if (sqlite3_busy_timeout(st->db, ms) != SQLITE_OK)
        return store_sql_error(st, "busy timeout");
    return 0;
}

/* ---- transactions ----
 * The outermost level is BEGIN IMMEDIATE: taking the write lock up front
 * means a read never has to be upgraded (which WAL refuses with BUSY at
 * once, without waiting). Inner levels are savepoints, so a failed inner
 * change undoes only itself. */

static int store_run(struct store *st, enum store_stmt_id id, const char *what)
{
    sqlite3_stmt *stmt = store_stmt(st, id);
    if (!stmt)
        return -1;
    return store_step_done(st, stmt, what);
}

/* SQLite rolls a transaction back by itself after some errors (full disk,
 * I/O error, out of memory); the nesting count must notice. */
static void store_check_aborted(struct store *st)
{
    if (st->depth > 0 && sqlite3_get_autocommit(st->db))
        st->aborted = true;
}

int store_begin(struct store *st)
{
    if (st->read_only)
        return err_set("%s is read-only for this user: nothing can be changed", st->path);
    store_check_aborted(st);
    if (st->depth > 0 && st->aborted)
        return err_set("transaction was rolled back after an earlier error");
    if (store_run(st, st->depth == 0 ? STMT_BEGIN : STMT_SAVEPOINT, "begin transaction") < 0)
        return -1;
    if (st->depth == 0)
        st->aborted = false;
    st->depth++;
    return 0;
}

int store_commit(struct store *st)
{
    if (st->depth == 0)
        return err_set("commit without a transaction");
    store_check_aborted(st);
    if (st->aborted) {
        if (--st->depth == 0)
            st->aborted = false;
        return err_set("transaction was rolled back after an earlier error");
    }
    if (st->depth > 1) {
        if (store_run(st, STMT_RELEASE, "commit") < 0)
            return -1;
        st->depth--;
        return 0;
    }
    if (store_run(st, STMT_COMMIT, "commit") < 0) {
        store_rollback(st);
        return -1;
    }
    st->depth = 0;
    return 0;
}

/* Keeps the message of the failure that led here. */
void store_rollback(struct store *st)
{
    if (st->depth == 0)
        return;
    char saved[ERR_MSG_MAX];
    snprintf(saved, sizeof(saved), "%s", err_msg());
    store_check_aborted(st);
    if (!st->aborted) {
        if (st->depth > 1) {
            store_run(st, STMT_ROLLBACK_TO, "rollback");
            store_run(st, STMT_RELEASE, "rollback");
        } else {
            store_run(st, STMT_ROLLBACK, "rollback");
        }
    }
    if (--st->depth == 0)
        st->aborted = false;
    err_set("%s", saved);
}

/* ---- helpers shared by the object files ---- */

static const char *const store_sql_text[STMT_COUNT] = {
#define STORE_STMT_TEXT(id, sql) [STMT_##id] = sql,
    STORE_STATEMENTS(STORE_STMT_TEXT)
#undef STORE_STMT_TEXT
};

sqlite3_stmt *store_stmt(struct store *st, enum store_stmt_id id)
{
    sqlite3_stmt *stmt = st->stmt[id];
    if (stmt) {
        sqlite3_reset(stmt);
        sqlite3_clear_bindings(stmt);
        return stmt;
    }
    if (sqlite3_prepare_v3(st->db, store_sql_text[id], -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                           NULL) != SQLITE_OK) {
        store_sql_error(st, "cannot prepare statement");
        return NULL;
    }
    st->stmt[id] = stmt;
    return stmt;
}

void store_done(sqlite3_stmt *stmt)
{
    sqlite3_reset(stmt);
}

int store_sql_error(struct store *st, const char *what)
{
    return err_set("%s: %s", what, st->db ? sqlite3_errmsg(st->db) : "out of memory");
}

int store_step_done(struct store *st, sqlite3_stmt *stmt, const char *what)
{
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        store_sql_error(st, what);
    store_done(stmt);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

void store_bind_text(sqlite3_stmt *stmt, int idx, const char *s)
{
    sqlite3_bind_text(stmt, idx, s ? s : "", -1, SQLITE_STATIC);
}

void store_bind_text_or_null(sqlite3_stmt *stmt, int idx, const char *s)
{
    if (s)
        sqlite3_bind_text(stmt, idx, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(stmt, idx);
}

void store_bind_u64(sqlite3_stmt *stmt, int idx, uint64_t v)
{
    sqlite3_bind_int64(stmt, idx, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

void store_copy_col(sqlite3_stmt *stmt, int col, char *dst, size_t size)
{
    const char *s = (const char *)sqlite3_column_text(stmt, col);
    size_t len = s ? (size_t)sqlite3_column_bytes(stmt, col) : 0;
    if (len >= size) {
        len = size - 1;
        /* back up over UTF-8 continuation bytes so no character is cut in two */
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    if (len)
        memcpy(dst, s, len);
    dst[len] = '\0';
}

char *store_dup_col(sqlite3_stmt *stmt, int col)
{
    const char *s = (const char *)sqlite3_column_text(stmt, col);
    char *dup = strdup(s ? s : "");
    if (!dup)
        err_set("out of memory");
    return dup;
}

bool store_is_unique_violation(int rc)
{
    return rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY;
}

/* A run id as virsh prints it: a plain non-negative decimal number. */
static bool store_parse_run_id(const char *key, int64_t *id)
{
    size_t len = strlen(key);
    if (len == 0 || len > 9 || strspn(key, "0123456789") != len)
        return false;
    *id = strtoll(key, NULL, 10);
    return true;
}

void store_bind_key(sqlite3_stmt *stmt, const char *key)
{
    char uuid[UUID_STR_LEN];
    int64_t run_id;
    store_bind_text(stmt, 1, key);
    if (uuid_canonical(key, uuid))
        sqlite3_bind_text(stmt, 2, uuid, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(stmt, 2);
    /* only domain lookups have ?3 */
    if (sqlite3_bind_parameter_count(stmt) < 3)
        return;
    if (store_parse_run_id(key, &run_id))
        sqlite3_bind_int64(stmt, 3, run_id);
    else
        sqlite3_bind_null(stmt, 3);
}

int store_lookup_id(struct store *st, enum store_stmt_id id, const char *key, int64_t *row_id)
{
    sqlite3_stmt *stmt = store_stmt(st, id);
    if (!stmt)
        return -1;
    store_bind_key(stmt, key);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_ROW)
        *row_id = sqlite3_column_int64(stmt, 0);
    else if (rc != SQLITE_DONE)
        store_sql_error(st, "lookup");
    store_done(stmt);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

int store_resolve(struct store *st, enum store_stmt_id id, const char *kind, const char *key,
                  int64_t *row_id)
{
    int found = store_lookup_id(st, id, key, row_id);
    if (found == 0)
        return err_set("%s '%s' not found", kind, key);
    return found < 0 ? -1 : 0;
}

int store_fetch_xml(struct store *st, sqlite3_stmt *stmt, char **xml)
{
    int rc = sqlite3_step(stmt);
    int ret = 0;
    if (rc == SQLITE_ROW)
        ret = (*xml = store_dup_col(stmt, 0)) ? 1 : -1;
    else if (rc != SQLITE_DONE)
        ret = store_sql_error(st, "read xml");
    store_done(stmt);
    return ret;
}

int store_duplicate_error(struct store *st, enum store_stmt_id id_stmt, const char *kind,
                          const char *name, const char *uuid)
{
    sqlite3_stmt *stmt = store_stmt(st, id_stmt);
    if (!stmt)
        return -1;
    /* by name only: ?2 stays NULL */
    store_bind_text(stmt, 1, name);
    int rc = sqlite3_step(stmt);
    store_done(stmt);
    if (rc == SQLITE_ROW)
        return err_set("%s '%s' already exists", kind, name);
    return err_set("%s with uuid %s already exists", kind, uuid);
}

int store_check_name(const char *kind, const char *name)
{
    if (!name || !*name)
        return err_set("%s name is empty", kind);
    if (strlen(name) > 255)
        return err_set("%s name '%.40s...' is too long (at most 255 bytes)", kind, name);
    return 0;
}

int store_grow(void **rows, size_t *cap, size_t n, size_t elem_size)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 64;
    void *p = realloc(*rows, ncap * elem_size);
    if (!p)
        return err_set("out of memory");
    *rows = p;
    *cap = ncap;
    return 0;
}

void store_object_row_fill(sqlite3_stmt *stmt, void *out)
{
    struct store_object_row *row = out;
    store_copy_col(stmt, 0, row->name, sizeof(row->name));
    store_copy_col(stmt, 1, row->uuid, sizeof(row->uuid));
    row->active = sqlite3_column_int(stmt, 2) != 0;
    row->autostart = sqlite3_column_int(stmt, 3) != 0;
    store_copy_col(stmt, 4, row->kind, sizeof(row->kind));
    store_copy_col(stmt, 5, row->detail, sizeof(row->detail));
    row->capacity_bytes = (uint64_t)sqlite3_column_int64(stmt, 6);
    row->allocation_bytes = (uint64_t)sqlite3_column_int64(stmt, 7);
}

int store_collect_rows(struct store *st, sqlite3_stmt *stmt, size_t elem_size,
                       store_row_fill_fn fill, void **rows, size_t *n, const char *what)
{
    char *out = NULL;
    size_t cap = 0, count = 0;
    int rc;
    while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        if (store_grow((void **)&out, &cap, count, elem_size) < 0)
            goto fail;
        fill(stmt, out + count++ * elem_size);
    }
    if (rc != SQLITE_DONE) {
        store_sql_error(st, what);
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

int store_object_list(struct store *st, sqlite3_stmt *stmt, struct store_object_row **rows,
                      size_t *n, const char *what)
{
    return store_collect_rows(st, stmt, sizeof(**rows), store_object_row_fill, (void **)rows, n,
                              what);
}

int store_read_row(struct store *st, sqlite3_stmt *stmt, store_row_fill_fn fill, void *row,
                   const char *what)
{
    int rc = sqlite3_step(stmt);
    int ret = 0;
    if (rc == SQLITE_ROW) {
        fill(stmt, row);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = store_sql_error(st, what);
    }
    store_done(stmt);
    return ret;
}

int store_get_row_by_key(struct store *st, enum store_stmt_id sid, const char *kind,
                         const char *key, store_row_fill_fn fill, void *row)
{
    sqlite3_stmt *stmt = store_stmt(st, sid);
    if (!stmt)
        return -1;
    store_bind_key(stmt, key);
    char what[64];
    snprintf(what, sizeof(what), "cannot read %s", kind);
    int found = store_read_row(st, stmt, fill, row, what);
    if (found == 0)
        return err_set("%s '%s' not found", kind, key);
    return found < 0 ? -1 : 0;
}

int store_get_object_row(struct store *st, enum store_stmt_id sid, const char *kind,
                         const char *key, struct store_object_row *row)
{
    return store_get_row_by_key(st, sid, kind, key, store_object_row_fill, row);
}

int store_get_xml_by_key(struct store *st, enum store_stmt_id sid, const char *kind,
                         const char *key, char **xml)
{
    sqlite3_stmt *stmt = store_stmt(st, sid);
    if (!stmt)
        return -1;
    store_bind_key(stmt, key);
    int found = store_fetch_xml(st, stmt, xml);
    if (found == 0)
        return err_set("%s '%s' not found", kind, key);
    return found < 0 ? -1 : 0;
}

int store_check_named(const char *kind, const char *name, const char *uuid)
{
    if (store_check_name(kind, name) < 0)
        return -1;
    if (!uuid[0])
        return err_set("%s '%s' has no uuid", kind, name);
    return 0;
}

int store_write_named(struct store *st, sqlite3_stmt *stmt, char *xml, enum store_stmt_id id_stmt,
                      const char *kind, const char *name, const char *uuid, bool update)
{
    int rc = sqlite3_step(stmt);
    int changed = sqlite3_changes(st->db);
    if (rc != SQLITE_DONE) {
        char what[64];
        snprintf(what, sizeof(what), "cannot store %s", kind);
        store_sql_error(st, what);
    }
    store_done(stmt);
    free(xml);
    if (store_is_unique_violation(rc))
        return store_duplicate_error(st, id_stmt, kind, name, uuid);
    if (rc != SQLITE_DONE)
        return err_prefix("%s '%s': ", kind, name);
    if (update && changed == 0)
        return err_set("%s '%s' not found", kind, uuid);
    return 0;
}

/* The statement sid with ?1 bound to the row id of the object KIND named
 * or uuid'd by key; NULL with "KIND 'KEY' not found" or an SQL error. */
static sqlite3_stmt *store_stmt_on_key(struct store *st, enum store_stmt_id id_stmt,
                                       const char *kind, const char *key, enum store_stmt_id sid)
{
    int64_t id;
    if (store_resolve(st, id_stmt, kind, key, &id) < 0)
        return NULL;
    sqlite3_stmt *stmt = store_stmt(st, sid);
    if (stmt)
        sqlite3_bind_int64(stmt, 1, id);
    return stmt;
}

int store_delete_by_key(struct store *st, enum store_stmt_id id_stmt, const char *kind,
                        const char *key, enum store_stmt_id sid, const char *what)
{
    sqlite3_stmt *stmt = store_stmt_on_key(st, id_stmt, kind, key, sid);
    if (!stmt)
        return -1;
    return store_step_done(st, stmt, what);
}

int store_set_flag_by_key(struct store *st, enum store_stmt_id id_stmt, const char *kind,
                          const char *key, enum store_stmt_id sid, bool on, const char *what)
{
    sqlite3_stmt *stmt = store_stmt_on_key(st, id_stmt, kind, key, sid);
    if (!stmt)
        return -1;
    sqlite3_bind_int(stmt, 2, on);
    sqlite3_bind_int64(stmt, 3, host_wall_ms());
    return store_step_done(st, stmt, what);
}
