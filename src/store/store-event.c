/* The event log: an append-only record of what happened to which object,
 * with a bounded history: the newest TVM_EVENTS_KEEP events (10,000) that
 * are at most TVM_EVENTS_MAX_DAYS days old (90). A stress test or a guest
 * stuck in a crash loop must not grow the inventory without limit. */
#include "store/store-internal.h"

#include "core/base/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define EVENTS_KEEP_DEFAULT 10000
#define EVENTS_MAX_DAYS_DEFAULT 90

/* A bound from the environment: a whole number from 1 up to MAX, or the
 * default when unset. */
static int event_bound(const char *var, long long def, long long max, long long *out)
{
    const char *s = getenv(var);
    if (!s || !*s) {
        *out = def;
        return 0;
    }
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < 1 || v > max)
        return err_set("%s='%s': want a whole number from 1 to %lld", var, s, max);
    *out = v;
    return 0;
}

static int store_event_prune(struct store *st, int64_t newest_id)
{
    long long keep, days;
    if (event_bound("TVM_EVENTS_KEEP", EVENTS_KEEP_DEFAULT, 1000000000LL, &keep) < 0 ||
        event_bound("TVM_EVENTS_MAX_DAYS", EVENTS_MAX_DAYS_DEFAULT, 100000, &days) < 0)
        return -1;
    sqlite3_stmt *stmt = store_stmt(st, STMT_EVENT_PRUNE);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, newest_id - keep);
    sqlite3_bind_int64(stmt, 2, host_wall_ms() - days * 86400LL * 1000);
    int rc = sqlite3_step(stmt);
    if (rc != SQLITE_DONE)
        store_sql_error(st, "cannot prune the event log");
    store_done(stmt);
    return rc == SQLITE_DONE ? 0 : -1;
}

int store_event_add(struct store *st, const char *kind, const char *name, const char *event,
                    const char *detail)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_EVENT_INSERT);
    if (!stmt)
        return -1;
    sqlite3_bind_int64(stmt, 1, host_wall_ms());
    store_bind_text(stmt, 2, kind);
    store_bind_text(stmt, 3, name);
    store_bind_text(stmt, 4, event);
    store_bind_text(stmt, 5, detail);
    int rc = sqlite3_step(stmt);
    if (rc == SQLITE_CONSTRAINT_CHECK)
        err_set("unknown event object kind '%s' (domain, network, pool, volume or snapshot)",
                kind ? kind : "");
    else if (rc != SQLITE_DONE)
        store_sql_error(st, "cannot record event");
    store_done(stmt);
    if (rc != SQLITE_DONE)
        return -1;
    return store_event_prune(st, sqlite3_last_insert_rowid(st->db));
}

static void store_event_row_fill(sqlite3_stmt *stmt, void *out)
{
    struct store_event_row *row = out;
    row->id = sqlite3_column_int64(stmt, 0);
    row->time_ms = sqlite3_column_int64(stmt, 1);
    store_copy_col(stmt, 2, row->object_kind, sizeof(row->object_kind));
    store_copy_col(stmt, 3, row->object_name, sizeof(row->object_name));
    store_copy_col(stmt, 4, row->event, sizeof(row->event));
    store_copy_col(stmt, 5, row->detail, sizeof(row->detail));
}

int store_event_list(struct store *st, const char *name_filter, size_t limit,
                     struct store_event_row **rows, size_t *n)
{
    sqlite3_stmt *stmt = store_stmt(st, STMT_EVENT_LIST);
    if (!stmt)
        return -1;
    store_bind_text_or_null(stmt, 1, name_filter && *name_filter ? name_filter : NULL);
    sqlite3_bind_int64(stmt, 2, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
    return store_collect_rows(st, stmt, sizeof(**rows), store_event_row_fill, (void **)rows, n,
                              "cannot list events");
}
