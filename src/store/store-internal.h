/* What the store's files share: the connection, the statement cache and
 * small helpers around sqlite3 that turn its failures into err_set()
 * messages. Not for use outside src/store/. */
#ifndef TVM_STORE_INTERNAL_H
#define TVM_STORE_INTERNAL_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/base/host.h"
#include "core/base/uuid.h"
#include "store/store-sql.h"
#include "store/store.h"

enum store_stmt_id {
#define STORE_STMT_ENUM(id, sql) STMT_##id,
    STORE_STATEMENTS(STORE_STMT_ENUM)
#undef STORE_STMT_ENUM
        STMT_COUNT
};

struct store {
    sqlite3 *db;
    char *path;
    int depth;    /* store_begin() nesting; 0 outside a transaction */
    bool aborted; /* SQLite rolled the outer transaction back on its own */
    bool read_only; /* this user may read the file but not write it */
    sqlite3_stmt *stmt[STMT_COUNT];
};

/* The cached statement, reset and with its bindings cleared; NULL with a
 * message if it cannot be prepared. Callers end with store_done(). */
sqlite3_stmt *store_stmt(struct store *st, enum store_stmt_id id);
/* Reset so that no read transaction stays open behind a cached statement. */
void store_done(sqlite3_stmt *stmt);
/* err_set("what: sqlite message"); returns -1. */
int store_sql_error(struct store *st, const char *what);
/* Step a statement that returns no rows; resets it. */
int store_step_done(struct store *st, sqlite3_stmt *stmt, const char *what);

void store_bind_text(sqlite3_stmt *stmt, int idx, const char *s); /* NULL binds '' */
void store_bind_text_or_null(sqlite3_stmt *stmt, int idx, const char *s);
void store_bind_u64(sqlite3_stmt *stmt, int idx, uint64_t v);
/* Copy a text column into a fixed buffer, cut at a UTF-8 character boundary. */
void store_copy_col(sqlite3_stmt *stmt, int col, char *dst, size_t size);
/* Column as a malloc'd string ("" for NULL); NULL with a message on ENOMEM. */
char *store_dup_col(sqlite3_stmt *stmt, int col);

/* A constraint failure means "already exists" to the caller. */
bool store_is_unique_violation(int rc);

/* Row id of the object named or uuid'd by key in a *_ID lookup statement.
 * Returns 1 found, 0 not found, -1 error. */
int store_lookup_id(struct store *st, enum store_stmt_id id, const char *key, int64_t *row_id);
/* Like store_lookup_id, but "KIND 'KEY' not found" when missing. */
int store_resolve(struct store *st, enum store_stmt_id id, const char *kind, const char *key,
                  int64_t *row_id);
/* Bind ?1 = key, ?2 = its canonical uuid (or NULL) and, in domain lookups,
 * ?3 = the key as a run id (or NULL). */
void store_bind_key(sqlite3_stmt *stmt, const char *key);
/* Run a one-column xml query (already bound): 1 found with *xml set, 0 not found, -1 error. */
int store_fetch_xml(struct store *st, sqlite3_stmt *stmt, char **xml);

/* After a failed insert/rename: which of name or uuid collided? Sets the
 * "KIND 'NAME' already exists" or "KIND with uuid UUID already exists"
 * message; returns -1. */
int store_duplicate_error(struct store *st, enum store_stmt_id id_stmt, const char *kind,
                          const char *name, const char *uuid);
/* Names are copied into fixed 256-byte rows; refuse longer ones on the way in. */
int store_check_name(const char *kind, const char *name);

/* Grow *rows (of elem_size) so that index n fits. */
int store_grow(void **rows, size_t *cap, size_t n, size_t elem_size);

/* Copies the current row of stmt into *row (a struct of the caller's type). */
typedef void (*store_row_fill_fn)(sqlite3_stmt *stmt, void *row);
/* Fill a struct store_object_row from the 8 *_ROW_COLS columns. */
void store_object_row_fill(sqlite3_stmt *stmt, void *row);
int store_object_list(struct store *st, sqlite3_stmt *stmt, struct store_object_row **rows,
                      size_t *n, const char *what);
/* Step a bound statement to the end, filling one elem_size row per result
 * row; *rows is malloc'd (NULL when empty). "WHAT: sqlite message" on error. */
int store_collect_rows(struct store *st, sqlite3_stmt *stmt, size_t elem_size,
                       store_row_fill_fn fill, void **rows, size_t *n, const char *what);
/* Step a bound statement once: 1 with *row filled, 0 no row, -1 error (WHAT). */
int store_read_row(struct store *st, sqlite3_stmt *stmt, store_row_fill_fn fill, void *row,
                   const char *what);
/* One row of a *_ROW statement looked up by store_bind_key(key); -1 with
 * "KIND 'KEY' not found" when missing. */
int store_get_row_by_key(struct store *st, enum store_stmt_id sid, const char *kind,
                         const char *key, store_row_fill_fn fill, void *row);
int store_get_object_row(struct store *st, enum store_stmt_id sid, const char *kind,
                         const char *key, struct store_object_row *row);
/* The xml of a *_XML statement looked up by store_bind_key(key); -1 with
 * "KIND 'KEY' not found" when missing. */
int store_get_xml_by_key(struct store *st, enum store_stmt_id sid, const char *kind,
                         const char *key, char **xml);

/* A named, uuid'd object may be written: name fits, uuid is set. */
int store_check_named(const char *kind, const char *name, const char *uuid);
/* Step a bound insert or update of a named object and free xml. A taken
 * name or uuid (looked up through id_stmt) and, on update, a missing uuid
 * are reported as such. */
int store_write_named(struct store *st, sqlite3_stmt *stmt, char *xml, enum store_stmt_id id_stmt,
                      const char *kind, const char *name, const char *uuid, bool update);
/* Run sid with ?1 = the row id of KIND key (resolved through id_stmt). */
int store_delete_by_key(struct store *st, enum store_stmt_id id_stmt, const char *kind,
                        const char *key, enum store_stmt_id sid, const char *what);
/* Run sid with (?1 row id, ?2 on, ?3 now), the shape of the SET_ACTIVE and
 * SET_AUTOSTART statements. */
int store_set_flag_by_key(struct store *st, enum store_stmt_id id_stmt, const char *kind,
                          const char *key, enum store_stmt_id sid, bool on, const char *what);

#endif
