/* The SQLite inventory, on real database files in a fresh temporary
 * directory per test, with objects built by the real libvirt XML parsers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/model/domain.h"
#include "core/base/err.h"
#include "store/store.h"

#define UUID_WEB "1111aaaa-2222-4333-8444-5555bbbbcccc"
#define UUID_DB "22222222-3333-4444-8555-666666666666"

struct fixture {
    char dir[64];
    char path[128];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/tvm-test-store-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->path, sizeof(f->path), "%s/tvm.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    int rc = system(cmd);
    free(f);
    return rc == 0 ? 0 : -1;
}

static struct store *open_store(const char *path)
{
    struct store *st = NULL;
    if (store_open(path, &st) < 0)
        fail_msg("store_open(%s): %s", path ? path : "default path", err_msg());
    return st;
}

static void expect_error(int rc, const char *message)
{
    assert_int_equal(rc, -1);
    assert_string_equal(err_msg(), message);
}

static struct domain *make_domain(const char *name, const char *uuid, unsigned vcpus,
                                  unsigned mem_mib)
{
    char xml[1024];
    snprintf(xml, sizeof(xml),
             "<domain type='kvm'>\n"
             "  <name>%s</name>\n"
             "  <uuid>%s</uuid>\n"
             "  <title>the %s box</title>\n"
             "  <memory unit='MiB'>%u</memory>\n"
             "  <vcpu>%u</vcpu>\n"
             "  <os><type arch='x86_64'>hvm</type></os>\n"
             "</domain>\n",
             name, uuid, name, mem_mib, vcpus);
    struct domain *d = NULL;
    if (domain_parse(xml, strlen(xml), "test.xml", &d) < 0)
        fail_msg("domain_parse: %s", err_msg());
    return d;
}

static void insert_domain(struct store *st, const char *name, const char *uuid)
{
    struct domain *d = make_domain(name, uuid, 1, 256);
    if (store_domain_insert(st, d) < 0)
        fail_msg("insert %s: %s", name, err_msg());
    domain_free(d);
}

static struct snapshot *make_snapshot(const char *name, const char *parent, int64_t time)
{
    char xml[1024], parent_xml[300] = "";
    if (parent)
        snprintf(parent_xml, sizeof(parent_xml), "<parent><name>%s</name></parent>", parent);
    snprintf(xml, sizeof(xml),
             "<domainsnapshot><name>%s</name><description>snap %s</description>"
             "<state>shutoff</state>%s<creationTime>%lld</creationTime></domainsnapshot>",
             name, name, parent_xml, (long long)time);
    struct snapshot *s = NULL;
    if (snapshot_parse(xml, strlen(xml), "snap.xml", &s) < 0)
        fail_msg("snapshot_parse: %s", err_msg());
    return s;
}

static void insert_snapshot(struct store *st, const char *dom, const char *name, const char *parent,
                            int64_t time, bool current)
{
    struct snapshot *s = make_snapshot(name, parent, time);
    if (store_snapshot_insert(st, dom, s, current) < 0)
        fail_msg("snapshot insert %s: %s", name, err_msg());
    snapshot_free(s);
}

/* Run one SQL statement on a connection of the test's own, outside the store. */
static int raw_sql(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *stmt;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return v;
}

static size_t domain_count(struct store *st)
{
    struct store_domain_row *rows;
    size_t n;
    assert_int_equal(store_domain_list(st, STORE_LIST_ALL, &rows, &n), 0);
    free(rows);
    return n;
}

/* ---- opening ---- */

static void test_open_creates_private_dir_and_file(void **state)
{
    struct fixture *f = *state;
    char path[256], dir[200];
    snprintf(dir, sizeof(dir), "%s/a/tvm", f->dir);
    snprintf(path, sizeof(path), "%s/tvm.db", dir);
    struct store *st = open_store(path);
    assert_int_equal(store_schema_version(st), 2);
    store_close(st);

    struct stat sb;
    assert_int_equal(stat(dir, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0700);
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    /* WAL is a property of the file: a fresh connection sees it */
    sqlite3 *db;
    sqlite3_stmt *stmt;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void test_open_default_path(void **state)
{
    struct fixture *f = *state;
    char xdg[128], expect[200];
    snprintf(xdg, sizeof(xdg), "%s/xdg", f->dir);
    setenv("XDG_DATA_HOME", xdg, 1);
    snprintf(expect, sizeof(expect), "%s/tvm/tvm.db", xdg);
    assert_string_equal(store_default_path(), expect);
    struct store *st = open_store(NULL);
    insert_domain(st, "web", UUID_WEB);
    store_close(st);
    assert_int_equal(raw_int(expect, "SELECT count(*) FROM domains"), 1);
    unsetenv("XDG_DATA_HOME");
}

static void test_reopen_keeps_data(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    insert_domain(st, "web", UUID_WEB);
    assert_int_equal(store_event_add(st, "domain", "web", "defined", "from web.xml"), 0);
    store_close(st);

    st = open_store(f->path);
    struct store_domain_row row;
    assert_int_equal(store_domain_get_row(st, "web", &row), 0);
    assert_string_equal(row.uuid, UUID_WEB);
    struct store_event_row *ev;
    size_t n;
    assert_int_equal(store_event_list(st, NULL, 0, &ev, &n), 0);
    assert_int_equal(n, 1);
    assert_string_equal(ev[0].detail, "from web.xml");
    free(ev);
    store_close(st);
}

static void test_refuses_newer_schema(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(raw_sql(f->path, "CREATE TABLE future (x); PRAGMA user_version = 99;"),
                     SQLITE_OK);
    struct store *st = NULL;
    assert_int_equal(store_open(f->path, &st), -1);
    assert_null(st);
    assert_non_null(strstr(err_msg(), f->path));
    assert_non_null(strstr(err_msg(), "schema version 99 is newer than this tvm supports"));
    /* left as it was */
    assert_int_equal(raw_int(f->path, "PRAGMA user_version"), 99);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM sqlite_master WHERE name = 'domains'"),
                     0);
}

static void test_refuses_non_database(void **state)
{
    struct fixture *f = *state;
    FILE *fp = fopen(f->path, "w");
    assert_non_null(fp);
    for (int i = 0; i < 200; i++)
        fputs("this is not an SQLite database\n", fp);
    fclose(fp);
    struct store *st = NULL;
    assert_int_equal(store_open(f->path, &st), -1);
    assert_non_null(strstr(err_msg(), f->path));
    assert_non_null(strstr(err_msg(), "not a database"));
}

/* A database written by the first tvm release, frozen here on purpose: when
 * a later schema version is added, this file must still open and its rows
 * must still read. Do not update it along with the migrations. */
static const char v1_database[] =
    "CREATE TABLE domains (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " uuid TEXT NOT NULL UNIQUE, title TEXT NOT NULL DEFAULT '',"
    " state INTEGER NOT NULL DEFAULT 5, state_reason INTEGER NOT NULL DEFAULT 0,"
    " run_id INTEGER NOT NULL DEFAULT -1, vcpus INTEGER NOT NULL,"
    " vcpus_current INTEGER NOT NULL, memory_kib INTEGER NOT NULL,"
    " current_memory_kib INTEGER NOT NULL, autostart INTEGER NOT NULL DEFAULT 0,"
    " persistent INTEGER NOT NULL DEFAULT 1, xml TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE INDEX domains_list ON domains (name, uuid, title, state, state_reason, vcpus,"
    " vcpus_current, memory_kib, current_memory_kib, autostart, persistent, run_id);"
    "CREATE INDEX domains_running ON domains (run_id) WHERE run_id >= 0;"
    "CREATE TABLE networks (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " uuid TEXT NOT NULL UNIQUE, bridge TEXT NOT NULL DEFAULT '',"
    " forward_mode TEXT NOT NULL DEFAULT '', active INTEGER NOT NULL DEFAULT 0,"
    " autostart INTEGER NOT NULL DEFAULT 0, xml TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE TABLE pools (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " uuid TEXT NOT NULL UNIQUE, type TEXT NOT NULL DEFAULT '',"
    " target_path TEXT NOT NULL DEFAULT '', capacity INTEGER NOT NULL DEFAULT 0,"
    " allocation INTEGER NOT NULL DEFAULT 0, available INTEGER NOT NULL DEFAULT 0,"
    " active INTEGER NOT NULL DEFAULT 0, autostart INTEGER NOT NULL DEFAULT 0,"
    " xml TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE TABLE volumes (id INTEGER PRIMARY KEY, pool_id INTEGER NOT NULL REFERENCES pools (id),"
    " name TEXT NOT NULL, path TEXT NOT NULL DEFAULT '', format TEXT NOT NULL DEFAULT '',"
    " capacity INTEGER NOT NULL DEFAULT 0, allocation INTEGER NOT NULL DEFAULT 0,"
    " xml TEXT NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
    " UNIQUE (pool_id, name));"
    "CREATE TABLE snapshots (id INTEGER PRIMARY KEY,"
    " domain_id INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,"
    " name TEXT NOT NULL, parent TEXT,"
    " is_current INTEGER NOT NULL DEFAULT 0 CHECK (is_current IN (0, 1)),"
    " creation_time INTEGER NOT NULL, state TEXT NOT NULL DEFAULT '', xml TEXT NOT NULL,"
    " UNIQUE (domain_id, name),"
    " FOREIGN KEY (domain_id, parent) REFERENCES snapshots (domain_id, name));"
    "CREATE UNIQUE INDEX snapshots_one_current ON snapshots (domain_id) WHERE is_current;"
    "CREATE INDEX snapshots_by_time ON snapshots (domain_id, creation_time);"
    "CREATE INDEX snapshots_by_parent ON snapshots (domain_id, parent);"
    "CREATE TABLE events (id INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
    " object_kind TEXT NOT NULL"
    " CHECK (object_kind IN ('domain', 'network', 'pool', 'volume', 'snapshot')),"
    " object_name TEXT NOT NULL, event TEXT NOT NULL, detail TEXT NOT NULL DEFAULT '');"
    "CREATE INDEX events_by_name ON events (object_name, id);"
    "INSERT INTO domains (name, uuid, title, state, vcpus, vcpus_current, memory_kib,"
    " current_memory_kib, autostart, xml, created_ms, updated_ms) VALUES ('old',"
    " '33333333-4444-4555-8666-777777777777', 'kept', 5, 2, 1, 524288, 262144, 1,"
    " '<domain type=''kvm''><name>old</name></domain>', 1700000000000, 1700000000000);"
    "INSERT INTO snapshots (domain_id, name, parent, is_current, creation_time, state, xml)"
    " VALUES (1, 's1', NULL, 1, 1700000000, 'shutoff', '<domainsnapshot/>');"
    "PRAGMA user_version = 1;";

static void test_opens_v1_database(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(raw_sql(f->path, "PRAGMA journal_mode = DELETE;"), SQLITE_OK);
    assert_int_equal(raw_sql(f->path, v1_database), SQLITE_OK);
    struct store *st = open_store(f->path);
    assert_true(store_schema_version(st) >= 1);
    struct store_domain_row row;
    assert_int_equal(store_domain_get_row(st, "33333333-4444-4555-8666-777777777777", &row), 0);
    assert_string_equal(row.name, "old");
    assert_string_equal(row.title, "kept");
    assert_int_equal(row.vcpus, 2);
    assert_int_equal(row.vcpus_current, 1);
    assert_int_equal(row.memory_kib, 524288);
    assert_int_equal(row.current_memory_kib, 262144);
    assert_true(row.autostart);
    assert_int_equal(row.state, DOMAIN_SHUTOFF);
    assert_int_equal(row.id, -1);
    char *xml;
    assert_int_equal(store_domain_get_xml(st, "old", &xml), 0);
    assert_string_equal(xml, "<domain type='kvm'><name>old</name></domain>");
    free(xml);
    struct store_snapshot_row *snaps;
    size_t n;
    assert_int_equal(store_snapshot_list(st, "old", &snaps, &n), 0);
    assert_int_equal(n, 1);
    assert_true(snaps[0].current);
    free(snaps);
    /* version 2: a snapshot from before owns no saved state */
    assert_int_equal(store_schema_version(st), 2);
    char *state_file;
    assert_int_equal(store_snapshot_state_file(st, "old", "s1", &state_file), 0);
    assert_string_equal(state_file, "");
    free(state_file);
    /* and the upgraded file takes new rows */
    insert_domain(st, "web", UUID_WEB);
    assert_int_equal(domain_count(st), 2);
    store_close(st);
}

/* ---- domains ---- */

static void test_domain_crud(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    struct domain *d = make_domain("web", UUID_WEB, 4, 2048);
    assert_int_equal(store_domain_insert(st, d), 0);

    struct store_domain_row row;
    assert_int_equal(store_domain_get_row(st, "web", &row), 0);
    assert_string_equal(row.name, "web");
    assert_string_equal(row.uuid, UUID_WEB);
    assert_string_equal(row.title, "the web box");
    assert_int_equal(row.vcpus, 4);
    assert_int_equal(row.vcpus_current, 4);
    assert_int_equal(row.memory_kib, 2048 * 1024);
    assert_int_equal(row.current_memory_kib, 2048 * 1024);
    assert_int_equal(row.state, DOMAIN_SHUTOFF);
    assert_int_equal(row.id, -1);
    assert_false(row.autostart);
    assert_true(row.persistent);

    /* by uuid, in any case and hyphenation libvirt accepts */
    assert_int_equal(store_domain_get_row(st,
                                          "1111aaaa222243338444"
                                          "5555bbbbcccc",
                                          &row),
                     0);
    assert_string_equal(row.name, "web");
    assert_int_equal(store_domain_get_row(st, "1111AAAA-2222-4333-8444-5555BBBBCCCC", &row), 0);
    assert_string_equal(row.name, "web");
    char *xml;
    assert_int_equal(store_domain_get_xml(st, "1111AAAA-2222-4333-8444-5555BBBBCCCC", &xml), 0);
    char *expect = domain_format(d);
    assert_string_equal(xml, expect);
    free(expect);
    free(xml);
    expect_error(store_domain_get_row(st, "1111aaaa-2222-4333-8444-5555bbbbcccd", &row),
                 "domain '1111aaaa-2222-4333-8444-5555bbbbcccd' not found");

    /* update: rename and resize; state and autostart stay */
    assert_int_equal(store_domain_set_autostart(st, UUID_WEB, true), 0);
    assert_int_equal(store_domain_set_state(st, UUID_WEB, DOMAIN_RUNNING, 1, 7), 0);
    assert_int_equal(domain_set_name(d, "www"), 0);
    assert_int_equal(domain_set_vcpus_current(d, 2), 0);
    assert_int_equal(store_domain_update(st, d), 0);
    expect_error(store_domain_get_row(st, "web", &row), "domain 'web' not found");
    assert_int_equal(store_domain_get_row(st, "www", &row), 0);
    assert_int_equal(row.vcpus_current, 2);
    assert_int_equal(row.state, DOMAIN_RUNNING);
    assert_int_equal(row.state_reason, 1);
    assert_int_equal(row.id, 7);
    assert_true(row.autostart);
    assert_int_equal(store_domain_get_xml(st, "www", &xml), 0);
    assert_non_null(strstr(xml, "<name>www</name>"));
    free(xml);

    assert_int_equal(store_domain_delete(st, UUID_WEB), 0);
    expect_error(store_domain_get_row(st, "www", &row), "domain 'www' not found");
    expect_error(store_domain_get_xml(st, UUID_WEB, &xml), "domain '" UUID_WEB "' not found");
    expect_error(store_domain_delete(st, UUID_WEB), "domain '" UUID_WEB "' not found");
    expect_error(store_domain_set_state(st, UUID_WEB, DOMAIN_SHUTOFF, 0, -1),
                 "domain '" UUID_WEB "' not found");
    expect_error(store_domain_update(st, d), "domain '" UUID_WEB "' not found");
    assert_int_equal(domain_count(st), 0);
    domain_free(d);
    store_close(st);
}

static void test_domain_duplicates_refused(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    insert_domain(st, "web", UUID_WEB);
    insert_domain(st, "db", UUID_DB);
    char *before;
    assert_int_equal(store_domain_get_xml(st, "web", &before), 0);

    struct domain *d = make_domain("web", "99999999-2222-4333-8444-555555555555", 8, 64);
    expect_error(store_domain_insert(st, d), "domain 'web' already exists");
    domain_free(d);
    d = make_domain("other", UUID_WEB, 8, 64);
    expect_error(store_domain_insert(st, d), "domain with uuid " UUID_WEB " already exists");
    domain_free(d);
    /* renaming db onto web is refused too */
    d = make_domain("web", UUID_DB, 8, 64);
    expect_error(store_domain_update(st, d), "domain 'web' already exists");
    domain_free(d);

    assert_int_equal(domain_count(st), 2);
    char *after;
    assert_int_equal(store_domain_get_xml(st, "web", &after), 0);
    assert_string_equal(before, after);
    struct store_domain_row row;
    assert_int_equal(store_domain_get_row(st, "db", &row), 0);
    assert_int_equal(row.vcpus, 1);
    free(before);
    free(after);
    store_close(st);
}

static void test_domain_list_filters_and_order(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    const char *names[] = {"mango", "apple", "zebra", "kiwi", "Banana"};
    const char *uuids[] = {
        "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-000000000003", "00000000-0000-4000-8000-000000000004",
        "00000000-0000-4000-8000-000000000005"};
    for (int i = 0; i < 5; i++)
        insert_domain(st, names[i], uuids[i]);
    assert_int_equal(store_domain_set_state(st, "kiwi", DOMAIN_RUNNING, 1, 3), 0);
    assert_int_equal(store_domain_set_state(st, "zebra", DOMAIN_PAUSED, 1, 4), 0);
    assert_int_equal(store_domain_set_state(st, "apple", DOMAIN_CRASHED, 0, -1), 0);

    struct store_domain_row *rows;
    size_t n;
    assert_int_equal(store_domain_list(st, STORE_LIST_ALL, &rows, &n), 0);
    assert_int_equal(n, 5);
    const char *sorted[] = {"Banana", "apple", "kiwi", "mango", "zebra"};
    for (size_t i = 0; i < n; i++)
        assert_string_equal(rows[i].name, sorted[i]);
    free(rows);

    assert_int_equal(store_domain_list(st, STORE_LIST_ACTIVE, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].name, "kiwi");
    assert_int_equal(rows[0].id, 3);
    assert_string_equal(rows[1].name, "zebra");
    assert_int_equal(rows[1].state, DOMAIN_PAUSED);
    free(rows);

    assert_int_equal(store_domain_list(st, STORE_LIST_INACTIVE, &rows, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(rows[0].name, "Banana");
    assert_string_equal(rows[1].name, "apple");
    assert_int_equal(rows[1].state, DOMAIN_CRASHED);
    assert_string_equal(rows[2].name, "mango");
    free(rows);

    assert_int_equal(store_domain_list(st, STORE_LIST_ACTIVE | STORE_LIST_INACTIVE, &rows, &n), 0);
    assert_int_equal(n, 5);
    free(rows);
    store_close(st);
}

/* virsh resolves a number as a running domain's Id first, then uuid, then name. */
static void test_domain_lookup_by_run_id(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    insert_domain(st, "web", UUID_WEB);
    insert_domain(st, "4", UUID_DB);
    struct store_domain_row row;
    assert_int_equal(store_domain_get_row(st, "4", &row), 0);
    assert_string_equal(row.name, "4");

    assert_int_equal(store_domain_set_state(st, "web", DOMAIN_RUNNING, 1, 4), 0);
    assert_int_equal(store_domain_get_row(st, "4", &row), 0);
    assert_string_equal(row.name, "web");
    char *xml;
    assert_int_equal(store_domain_get_xml(st, "4", &xml), 0);
    assert_non_null(strstr(xml, "<name>web</name>"));
    free(xml);
    expect_error(store_domain_get_row(st, "5", &row), "domain '5' not found");

    /* once stopped, its old id means nothing and the name answers again */
    assert_int_equal(store_domain_set_state(st, UUID_WEB, DOMAIN_SHUTOFF, 1, -1), 0);
    assert_int_equal(store_domain_get_row(st, "4", &row), 0);
    assert_string_equal(row.name, "4");
    expect_error(store_domain_get_row(st, "-1", &row), "domain '-1' not found");
    store_close(st);
}

/* 10,000 rows come back complete and in name order. */
static void test_domain_list_10000(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    struct domain *d = make_domain("seed", UUID_WEB, 1, 128);
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (unsigned i = 0; i < 10000; i++) {
        char name[32], uuid[UUID_STR_LEN];
        /* inserted out of order: a permutation of 0..9999 */
        unsigned k = (i * 7919u) % 10000u;
        snprintf(name, sizeof(name), "vm-%05u", k);
        snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012u", k);
        assert_int_equal(domain_set_name(d, name), 0);
        assert_int_equal(domain_set_uuid(d, uuid), 0);
        if (store_domain_insert(st, d) < 0)
            fail_msg("insert %s: %s", name, err_msg());
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    struct store_domain_row *rows;
    size_t n;
    assert_int_equal(store_domain_list(st, STORE_LIST_ALL, &rows, &n), 0);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    assert_int_equal(n, 10000);
    for (size_t i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof(name), "vm-%05zu", i);
        assert_string_equal(rows[i].name, name);
    }
    free(rows);
    double ins = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    double lst = (double)(t2.tv_sec - t1.tv_sec) + (t2.tv_nsec - t1.tv_nsec) / 1e9;
    print_message("10000 inserts (one transaction each): %.3f s (%.0f/s); list: %.1f ms\n", ins,
                  10000 / ins, lst * 1000);
    domain_free(d);
    store_close(st);
}

/* ---- networks ---- */

static struct network *make_network(const char *name, const char *uuid, const char *bridge,
                                    const char *forward)
{
    char xml[1024], fwd[128] = "";
    if (forward)
        snprintf(fwd, sizeof(fwd), "<forward mode='%s'/>", forward);
    snprintf(xml, sizeof(xml),
             "<network><name>%s</name><uuid>%s</uuid>%s<bridge name='%s' stp='on'/>"
             "<ip address='192.168.100.1' netmask='255.255.255.0'>"
             "<dhcp><range start='192.168.100.2' end='192.168.100.254'/></dhcp></ip></network>",
             name, uuid, fwd, bridge);
    struct network *n = NULL;
    if (network_parse(xml, strlen(xml), "net.xml", &n) < 0)
        fail_msg("network_parse: %s", err_msg());
    return n;
}

static void test_network_crud(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    struct network *def = make_network("default", UUID_WEB, "virbr0", "nat");
    struct network *iso = make_network("isolated", UUID_DB, "virbr1", NULL);
    assert_int_equal(store_network_insert(st, def), 0);
    assert_int_equal(store_network_insert(st, iso), 0);

    struct network *dup =
        make_network("default", "99999999-2222-4333-8444-555555555555", "virbr9", NULL);
    expect_error(store_network_insert(st, dup), "network 'default' already exists");
    network_free(dup);
    dup = make_network("third", UUID_WEB, "virbr9", NULL);
    expect_error(store_network_insert(st, dup), "network with uuid " UUID_WEB " already exists");
    network_free(dup);

    struct store_object_row row;
    assert_int_equal(store_network_get_row(st, UUID_WEB, &row), 0);
    assert_string_equal(row.name, "default");
    assert_string_equal(row.kind, "nat");
    assert_string_equal(row.detail, "virbr0");
    assert_false(row.active);
    assert_int_equal(store_network_set_active(st, "default", true), 0);
    assert_int_equal(store_network_set_autostart(st, UUID_WEB, true), 0);

    struct store_object_row *rows;
    size_t n;
    assert_int_equal(store_network_list(st, &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].name, "default");
    assert_true(rows[0].active);
    assert_true(rows[0].autostart);
    assert_string_equal(rows[1].name, "isolated");
    assert_string_equal(rows[1].kind, "isolated");
    assert_false(rows[1].active);
    free(rows);

    char *xml, *expect = network_format(def);
    assert_int_equal(store_network_get_xml(st, "default", &xml), 0);
    assert_string_equal(xml, expect);
    free(xml);
    free(expect);

    /* update keeps the flags */
    network_free(def);
    def = make_network("default", UUID_WEB, "virbr7", "route");
    assert_int_equal(store_network_update(st, def), 0);
    assert_int_equal(store_network_get_row(st, "default", &row), 0);
    assert_string_equal(row.kind, "route");
    assert_string_equal(row.detail, "virbr7");
    assert_true(row.active);

    assert_int_equal(store_network_delete(st, UUID_DB), 0);
    expect_error(store_network_get_row(st, "isolated", &row), "network 'isolated' not found");
    expect_error(store_network_get_xml(st, "nope", &xml), "network 'nope' not found");
    expect_error(store_network_update(st, iso), "network '" UUID_DB "' not found");
    network_free(def);
    network_free(iso);
    store_close(st);
}

/* ---- pools and volumes ---- */

static struct pool *make_pool(const char *name, const char *uuid, const char *path)
{
    char xml[1024];
    snprintf(xml, sizeof(xml),
             "<pool type='dir'><name>%s</name><uuid>%s</uuid>"
             "<capacity unit='bytes'>1000000</capacity><allocation unit='bytes'>4000</allocation>"
             "<available unit='bytes'>996000</available>"
             "<target><path>%s</path></target></pool>",
             name, uuid, path);
    struct pool *p = NULL;
    if (pool_parse(xml, strlen(xml), "pool.xml", &p) < 0)
        fail_msg("pool_parse: %s", err_msg());
    return p;
}

static struct volume *make_volume(const char *name, const char *dir, const char *format,
                                  const char *capacity)
{
    char xml[1024];
    snprintf(xml, sizeof(xml),
             "<volume type='file'><name>%s</name><key>%s/%s</key>"
             "<capacity unit='%s'>1</capacity><allocation>0</allocation>"
             "<target><path>%s/%s</path><format type='%s'/></target></volume>",
             name, dir, name, capacity, dir, name, format);
    struct volume *v = NULL;
    if (volume_parse(xml, strlen(xml), "vol.xml", &v) < 0)
        fail_msg("volume_parse: %s", err_msg());
    return v;
}

static void test_pool_and_volumes(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    struct pool *p = make_pool("images", UUID_WEB, "/var/lib/tvm/images");
    struct pool *q = make_pool("iso", UUID_DB, "/srv/iso");
    assert_int_equal(store_pool_insert(st, p), 0);
    assert_int_equal(store_pool_insert(st, q), 0);
    struct pool *dup = make_pool("images", "99999999-2222-4333-8444-555555555555", "/x");
    expect_error(store_pool_insert(st, dup), "pool 'images' already exists");
    pool_free(dup);
    dup = make_pool("other", UUID_DB, "/x");
    expect_error(store_pool_insert(st, dup), "pool with uuid " UUID_DB " already exists");
    pool_free(dup);

    struct store_object_row row;
    assert_int_equal(store_pool_get_row(st, "images", &row), 0);
    assert_string_equal(row.kind, "dir");
    assert_string_equal(row.detail, "/var/lib/tvm/images");
    assert_int_equal(row.capacity_bytes, 1000000);
    assert_int_equal(row.allocation_bytes, 4000);

    struct volume *a = make_volume("a.qcow2", "/var/lib/tvm/images", "qcow2", "GiB");
    struct volume *b = make_volume("b.raw", "/var/lib/tvm/images", "raw", "MiB");
    assert_int_equal(store_volume_insert(st, "images", b), 0);
    assert_int_equal(store_volume_insert(st, UUID_WEB, a), 0);
    expect_error(store_volume_insert(st, "images", a),
                 "volume 'a.qcow2' already exists in pool 'images'");
    /* the same name in another pool is a different volume */
    assert_int_equal(store_volume_insert(st, "iso", a), 0);
    expect_error(store_volume_insert(st, "nopool", a), "pool 'nopool' not found");

    struct store_object_row *rows;
    size_t n;
    assert_int_equal(store_volume_list(st, "images", &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].name, "a.qcow2");
    assert_string_equal(rows[0].kind, "qcow2");
    assert_string_equal(rows[0].detail, "/var/lib/tvm/images/a.qcow2");
    assert_int_equal(rows[0].capacity_bytes, 1073741824ull);
    assert_string_equal(rows[1].name, "b.raw");
    assert_int_equal(rows[1].capacity_bytes, 1048576ull);
    free(rows);

    char *xml, *expect = volume_format(b);
    assert_int_equal(store_volume_get_xml(st, "images", "b.raw", &xml), 0);
    assert_string_equal(xml, expect);
    free(xml);
    free(expect);
    expect_error(store_volume_get_xml(st, "images", "c.raw", &xml),
                 "volume 'c.raw' not found in pool 'images'");

    /* a pool with volumes stays */
    expect_error(store_pool_delete(st, UUID_WEB), "pool '" UUID_WEB "' still has 2 volumes");
    assert_int_equal(store_pool_get_row(st, "images", &row), 0);
    assert_int_equal(store_volume_delete(st, "images", "a.qcow2"), 0);
    assert_int_equal(store_volume_delete(st, "images", "b.raw"), 0);
    expect_error(store_volume_delete(st, "images", "b.raw"),
                 "volume 'b.raw' not found in pool 'images'");
    assert_int_equal(store_pool_delete(st, UUID_WEB), 0);
    expect_error(store_pool_get_row(st, "images", &row), "pool 'images' not found");

    assert_int_equal(store_pool_set_active(st, "iso", true), 0);
    assert_int_equal(store_pool_list(st, &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_true(rows[0].active);
    assert_false(rows[0].autostart);
    free(rows);
    volume_free(a);
    volume_free(b);
    pool_free(p);
    pool_free(q);
    store_close(st);
}

/* ---- snapshots ---- */

static void assert_snapshot(struct store_snapshot_row *rows, size_t n, const char *name,
                            const char *parent, bool current)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(rows[i].name, name) == 0) {
            assert_string_equal(rows[i].parent, parent);
            assert_int_equal(rows[i].current, current);
            return;
        }
    }
    fail_msg("snapshot %s not listed", name);
}

static size_t count_current(struct store_snapshot_row *rows, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += rows[i].current;
    return c;
}

static void test_snapshot_tree(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    insert_domain(st, "web", UUID_WEB);
    insert_domain(st, "db", UUID_DB);
    /* a -> b -> c, a -> d; creation times out of name order */
    insert_snapshot(st, "web", "a", NULL, 1000, true);
    insert_snapshot(st, UUID_WEB, "b", "a", 2000, true);
    insert_snapshot(st, "web", "d", "a", 1500, false);
    insert_snapshot(st, "web", "c", "b", 3000, false);
    insert_snapshot(st, "db", "a", NULL, 10, true); /* same name, other domain */

    struct snapshot *s = make_snapshot("x", "missing", 5);
    expect_error(store_snapshot_insert(st, "web", s, false),
                 "parent snapshot 'missing' of 'x' not found");
    snapshot_free(s);
    s = make_snapshot("x", "a", 5);
    expect_error(store_snapshot_insert(st, "nodom", s, false), "domain 'nodom' not found");
    snapshot_free(s);
    /* a parent must belong to the same domain */
    insert_snapshot(st, "db", "db-only", "a", 20, false);
    s = make_snapshot("x", "db-only", 5);
    expect_error(store_snapshot_insert(st, "web", s, false),
                 "parent snapshot 'db-only' of 'x' not found");
    snapshot_free(s);
    s = make_snapshot("c", NULL, 5);
    expect_error(store_snapshot_insert(st, "web", s, true), "snapshot 'c' already exists");
    snapshot_free(s);

    struct store_snapshot_row *rows;
    size_t n;
    assert_int_equal(store_snapshot_list(st, "web", &rows, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(rows[0].name, "a");
    assert_string_equal(rows[1].name, "d");
    assert_string_equal(rows[2].name, "b");
    assert_string_equal(rows[3].name, "c");
    assert_int_equal(rows[2].creation_time, 2000);
    assert_string_equal(rows[0].state, "shutoff");
    /* the refused insert of c as current did not steal "current" from b */
    assert_snapshot(rows, n, "b", "a", true);
    assert_int_equal(count_current(rows, n), 1);
    free(rows);

    assert_int_equal(store_snapshot_set_current(st, "web", "d"), 0);
    expect_error(store_snapshot_set_current(st, "web", "zz"),
                 "Domain snapshot not found: no domain snapshot with matching name 'zz'");
    assert_int_equal(store_snapshot_list(st, "web", &rows, &n), 0);
    assert_snapshot(rows, n, "d", "a", true);
    assert_int_equal(count_current(rows, n), 1);
    free(rows);

    /* the database itself refuses a second current */
    assert_int_equal(raw_sql(f->path, "UPDATE snapshots SET is_current = 1"), SQLITE_CONSTRAINT);

    /* deleting b hands c to a, in the row and in c's XML */
    assert_int_equal(store_snapshot_set_current(st, "web", "b"), 0);
    assert_int_equal(store_snapshot_delete(st, "web", "b"), 0);
    assert_int_equal(store_snapshot_list(st, "web", &rows, &n), 0);
    assert_int_equal(n, 3);
    assert_snapshot(rows, n, "c", "a", false);
    assert_snapshot(rows, n, "a", "", true); /* b was current: its parent takes over */
    assert_int_equal(count_current(rows, n), 1);
    free(rows);
    char *xml;
    assert_int_equal(store_snapshot_get_xml(st, "web", "c", &xml), 0);
    struct snapshot *c;
    assert_int_equal(snapshot_parse(xml, strlen(xml), "c.xml", &c), 0);
    assert_string_equal(c->parent, "a");
    assert_string_equal(c->description, "snap c");
    assert_int_equal(c->creation_time, 3000);
    snapshot_free(c);
    free(xml);
    expect_error(store_snapshot_get_xml(st, "web", "b", &xml),
                 "Domain snapshot not found: no domain snapshot with matching name 'b'");
    expect_error(store_snapshot_delete(st, "web", "b"),
                 "Domain snapshot not found: no domain snapshot with matching name 'b'");

    /* deleting the root a makes c and d roots, with no <parent> left */
    assert_int_equal(store_snapshot_delete(st, "web", "a"), 0);
    assert_int_equal(store_snapshot_list(st, "web", &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_snapshot(rows, n, "c", "", false);
    assert_snapshot(rows, n, "d", "", false);
    free(rows);
    assert_int_equal(store_snapshot_get_xml(st, "web", "d", &xml), 0);
    assert_null(strstr(xml, "<parent>"));
    free(xml);

    /* the other domain's tree was not touched; undefine takes the snapshots along */
    assert_int_equal(store_snapshot_list(st, "db", &rows, &n), 0);
    assert_int_equal(n, 2);
    assert_snapshot(rows, n, "a", "", true);
    assert_snapshot(rows, n, "db-only", "a", false);
    free(rows);
    assert_int_equal(store_domain_delete(st, UUID_WEB), 0);
    assert_int_equal(raw_int(f->path, "SELECT count(*) FROM snapshots"), 2);
    store_close(st);
}

/* A snapshot whose embedded <domain> names another guest is refused. */
static void test_snapshot_of_other_domain_refused(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    insert_domain(st, "web", UUID_WEB);
    insert_domain(st, "db", UUID_DB);
    const char *xml = "<domainsnapshot><name>s1</name><state>shutoff</state>"
                      "<creationTime>100</creationTime>"
                      "<domain type='kvm'><name>web</name><uuid>" UUID_WEB "</uuid>"
                      "<memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>"
                      "</domainsnapshot>";
    struct snapshot *s;
    assert_int_equal(snapshot_parse(xml, strlen(xml), "s1.xml", &s), 0);
    expect_error(store_snapshot_insert(st, "db", s, true),
                 "snapshot 's1' belongs to the domain with uuid " UUID_WEB ", not to 'db'");
    struct store_snapshot_row *rows;
    size_t n;
    assert_int_equal(store_snapshot_list(st, "db", &rows, &n), 0);
    assert_int_equal(n, 0);
    free(rows);
    assert_int_equal(store_snapshot_insert(st, "web", s, true), 0);
    assert_int_equal(store_snapshot_list(st, "web", &rows, &n), 0);
    assert_int_equal(n, 1);
    assert_true(rows[0].current);
    free(rows);
    snapshot_free(s);
    store_close(st);
}

/* A checkpoint's row names its saved state; others name none. */
static void test_snapshot_state_file(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    insert_domain(st, "web", UUID_WEB);
    insert_snapshot(st, "web", "disk", NULL, 1, true);
    const char *xml = "<domainsnapshot><name>ckpt</name><state>running</state>"
                      "<parent><name>disk</name></parent><creationTime>2</creationTime>"
                      "<memory snapshot='internal'/></domainsnapshot>";
    struct snapshot *s;
    assert_int_equal(snapshot_parse(xml, strlen(xml), "ckpt.xml", &s), 0);
    assert_int_equal(store_snapshot_insert_with_state(st, "web", s, true, "/d/ckpt.save"), 0);
    snapshot_free(s);
    char *path;
    assert_int_equal(store_snapshot_state_file(st, "web", "ckpt", &path), 0);
    assert_string_equal(path, "/d/ckpt.save");
    free(path);
    assert_int_equal(store_snapshot_state_file(st, "web", "disk", &path), 0);
    assert_string_equal(path, "");
    free(path);
    expect_error(store_snapshot_state_file(st, "web", "nope", &path),
                 "Domain snapshot not found: no domain snapshot with matching name 'nope'");
    /* a parent that is not there: no row, so no row names the file */
    xml = "<domainsnapshot><name>orphan</name><parent><name>gone</name></parent>"
          "<creationTime>3</creationTime></domainsnapshot>";
    assert_int_equal(snapshot_parse(xml, strlen(xml), "orphan.xml", &s), 0);
    expect_error(store_snapshot_insert_with_state(st, "web", s, true, "/d/orphan.save"),
                 "parent snapshot 'gone' of 'orphan' not found");
    snapshot_free(s);
    expect_error(store_snapshot_state_file(st, "web", "orphan", &path),
                 "Domain snapshot not found: no domain snapshot with matching name 'orphan'");
    store_close(st);
}

/* A chain deleted from the middle, with a deeper tree under it. */
static void test_snapshot_delete_with_grandchildren(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    insert_domain(st, "web", UUID_WEB);
    insert_snapshot(st, "web", "r", NULL, 1, false);
    insert_snapshot(st, "web", "m", "r", 2, false);
    insert_snapshot(st, "web", "k1", "m", 3, false);
    insert_snapshot(st, "web", "k2", "m", 4, true);
    insert_snapshot(st, "web", "g", "k1", 5, false);
    assert_int_equal(store_snapshot_delete(st, "web", "m"), 0);
    struct store_snapshot_row *rows;
    size_t n;
    assert_int_equal(store_snapshot_list(st, "web", &rows, &n), 0);
    assert_int_equal(n, 4);
    assert_snapshot(rows, n, "k1", "r", false);
    assert_snapshot(rows, n, "k2", "r", true);
    assert_snapshot(rows, n, "g", "k1", false);
    free(rows);
    store_close(st);
}

/* A re-parenting that fails half-way (the second child's stored XML is
 * unreadable) changes nothing: not the first child, not the deleted one. */
static void test_snapshot_delete_failure_changes_nothing(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    insert_domain(st, "web", UUID_WEB);
    insert_snapshot(st, "web", "a", NULL, 1, false);
    insert_snapshot(st, "web", "b", "a", 2, true);
    insert_snapshot(st, "web", "c1", "b", 3, false);
    insert_snapshot(st, "web", "c2", "b", 4, false);
    char *c1_before;
    assert_int_equal(store_snapshot_get_xml(st, "web", "c1", &c1_before), 0);
    assert_int_equal(
        raw_sql(f->path, "UPDATE snapshots SET xml = '<domainsnapshot><name>' WHERE name = 'c2'"),
        SQLITE_OK);

    assert_int_equal(store_snapshot_delete(st, "web", "b"), -1);
    assert_non_null(strstr(err_msg(), "stored snapshot"));
    struct store_snapshot_row *rows;
    size_t n;
    assert_int_equal(store_snapshot_list(st, "web", &rows, &n), 0);
    assert_int_equal(n, 4);
    assert_snapshot(rows, n, "b", "a", true);
    assert_snapshot(rows, n, "c1", "b", false);
    assert_snapshot(rows, n, "c2", "b", false);
    free(rows);
    char *c1_after;
    assert_int_equal(store_snapshot_get_xml(st, "web", "c1", &c1_after), 0);
    assert_string_equal(c1_before, c1_after);
    free(c1_before);
    free(c1_after);
    store_close(st);
}

/* ---- events ---- */

static void test_events(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    assert_int_equal(store_event_add(st, "domain", "web", "defined", ""), 0);
    assert_int_equal(store_event_add(st, "domain", "db", "defined", ""), 0);
    assert_int_equal(store_event_add(st, "domain", "web", "started", "booted"), 0);
    assert_int_equal(store_event_add(st, "network", "default", "started", ""), 0);
    assert_int_equal(store_event_add(st, "domain", "web", "stopped", "shutdown"), 0);
    expect_error(store_event_add(st, "gizmo", "x", "defined", ""),
                 "unknown event object kind 'gizmo' (domain, network, pool, volume or snapshot)");

    struct store_event_row *ev;
    size_t n;
    assert_int_equal(store_event_list(st, NULL, 0, &ev, &n), 0);
    assert_int_equal(n, 5);
    assert_string_equal(ev[0].event, "defined");
    assert_string_equal(ev[0].object_name, "web");
    assert_string_equal(ev[3].object_kind, "network");
    assert_string_equal(ev[4].detail, "shutdown");
    for (size_t i = 1; i < n; i++) {
        assert_true(ev[i].id > ev[i - 1].id);
        assert_true(ev[i].time_ms >= ev[i - 1].time_ms);
    }
    assert_true(ev[0].time_ms > 1600000000000LL);
    free(ev);

    /* the latest two for web, oldest first */
    assert_int_equal(store_event_list(st, "web", 2, &ev, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ev[0].event, "started");
    assert_string_equal(ev[1].event, "stopped");
    free(ev);
    assert_int_equal(store_event_list(st, "nothing", 0, &ev, &n), 0);
    assert_int_equal(n, 0);
    free(ev);
    store_close(st);
}

/* ---- transactions and concurrency ---- */

static void test_nested_transaction(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    assert_int_equal(store_begin(st), 0);
    insert_domain(st, "web", UUID_WEB);
    /* an inner group that fails undoes only itself */
    assert_int_equal(store_begin(st), 0);
    insert_domain(st, "db", UUID_DB);
    store_rollback(st);
    assert_int_equal(domain_count(st), 1);
    assert_int_equal(store_commit(st), 0);
    expect_error(store_commit(st), "commit without a transaction");
    store_close(st);
    st = open_store(f->path);
    assert_int_equal(domain_count(st), 1);

    /* a rolled back outer transaction leaves nothing */
    assert_int_equal(store_begin(st), 0);
    insert_domain(st, "db", UUID_DB);
    store_rollback(st);
    assert_int_equal(domain_count(st), 1);
    store_close(st);
}

/* The child dies by SIGKILL in the middle of multi-row changes; the parent
 * must find exactly the state from before the transaction, and the write
 * lock the child held must be gone. */
static void test_killed_transaction_leaves_old_state(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    insert_domain(st, "web", UUID_WEB);
    insert_snapshot(st, "web", "a", NULL, 1, false);
    insert_snapshot(st, "web", "b", "a", 2, true);
    insert_snapshot(st, "web", "c", "b", 3, false);
    store_close(st);

    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *cst;
        if (store_open(f->path, &cst) < 0 || store_begin(cst) < 0)
            _exit(2);
        struct domain *d = make_domain("db", UUID_DB, 2, 64);
        if (store_domain_insert(cst, d) < 0 || store_snapshot_delete(cst, "web", "b") < 0 ||
            store_snapshot_set_current(cst, "web", "c") < 0 ||
            store_domain_set_state(cst, "web", DOMAIN_RUNNING, 1, 5) < 0)
            _exit(3);
        kill(getpid(), SIGKILL);
        _exit(4);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);

    st = open_store(f->path);
    assert_int_equal(domain_count(st), 1);
    struct store_domain_row row;
    assert_int_equal(store_domain_get_row(st, "web", &row), 0);
    assert_int_equal(row.state, DOMAIN_SHUTOFF);
    struct store_snapshot_row *rows;
    size_t n;
    assert_int_equal(store_snapshot_list(st, "web", &rows, &n), 0);
    assert_int_equal(n, 3);
    assert_snapshot(rows, n, "b", "a", true);
    assert_snapshot(rows, n, "c", "b", false);
    free(rows);
    /* and the store is writable again at once */
    assert_int_equal(store_set_busy_timeout(st, 100), 0);
    insert_domain(st, "db", UUID_DB);
    store_close(st);
}

static void test_second_connection(void **state)
{
    struct fixture *f = *state;
    struct store *a = open_store(f->path);
    struct store *b = open_store(f->path);
    insert_domain(a, "web", UUID_WEB);
    struct store_domain_row row;
    assert_int_equal(store_domain_get_row(b, "web", &row), 0);

    /* an open write transaction: b still reads the committed state (WAL) */
    assert_int_equal(store_begin(a), 0);
    insert_domain(a, "db", UUID_DB);
    assert_int_equal(store_domain_set_state(a, "web", DOMAIN_RUNNING, 1, 1), 0);
    assert_int_equal(domain_count(b), 1);
    assert_int_equal(store_domain_get_row(b, "web", &row), 0);
    assert_int_equal(row.state, DOMAIN_SHUTOFF);

    /* b cannot write while a holds the lock: an error after the timeout, no crash */
    assert_int_equal(store_set_busy_timeout(b, 200), 0);
    struct domain *d = make_domain("third", "99999999-2222-4333-8444-555555555555", 1, 64);
    assert_int_equal(store_domain_insert(b, d), -1);
    assert_non_null(strstr(err_msg(), "database is locked"));
    assert_int_equal(store_begin(b), -1);
    assert_non_null(strstr(err_msg(), "database is locked"));

    assert_int_equal(store_commit(a), 0);
    assert_int_equal(domain_count(b), 2);
    assert_int_equal(store_domain_get_row(b, "web", &row), 0);
    assert_int_equal(row.state, DOMAIN_RUNNING);
    /* and once the lock is free, b writes */
    assert_int_equal(store_domain_insert(b, d), 0);
    assert_int_equal(domain_count(a), 3);
    domain_free(d);
    store_close(a);
    store_close(b);
}

/* Several tvm processes opening a fresh file at once: one creates the
 * schema, the others wait for it; every one of them can then write. The
 * race is short, so it is run on several fresh files. */
static void race_first_open(const char *path, int nproc)
{
    pid_t pids[16];
    for (int i = 0; i < nproc; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            char name[16], uuid[UUID_STR_LEN];
            snprintf(name, sizeof(name), "vm%d", i);
            snprintf(uuid, sizeof(uuid), "00000000-0000-4000-8000-%012d", i);
            struct store *st;
            if (store_open(path, &st) < 0) {
                fprintf(stderr, "child %d: %s\n", i, err_msg());
                _exit(1);
            }
            struct domain *d = make_domain(name, uuid, 1, 64);
            int rc = store_domain_insert(st, d);
            if (rc < 0)
                fprintf(stderr, "child %d: %s\n", i, err_msg());
            domain_free(d);
            store_close(st);
            _exit(rc < 0 ? 2 : 0);
        }
    }
    for (int i = 0; i < nproc; i++) {
        int status;
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    struct store *st = open_store(path);
    assert_int_equal(store_schema_version(st), 2);
    assert_int_equal(domain_count(st), (size_t)nproc);
    store_close(st);
}

static void test_concurrent_first_open(void **state)
{
    struct fixture *f = *state;
    for (int round = 0; round < 12; round++) {
        char path[160];
        snprintf(path, sizeof(path), "%s/race%d/tvm.db", f->dir, round);
        race_first_open(path, 8);
    }
}

static void test_name_too_long(void **state)
{
    struct fixture *f = *state;
    struct store *st = open_store(f->path);
    char name[301];
    memset(name, 'n', 300);
    name[300] = '\0';
    struct domain *d = make_domain(name, UUID_WEB, 1, 64);
    assert_int_equal(store_domain_insert(st, d), -1);
    assert_non_null(strstr(err_msg(), "is too long (at most 255 bytes)"));
    assert_int_equal(domain_count(st), 0);
    domain_free(d);
    store_close(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open_creates_private_dir_and_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_default_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_keeps_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_newer_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuses_non_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_opens_v1_database, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_duplicates_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_list_filters_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_lookup_by_run_id, setup, teardown),
        cmocka_unit_test_setup_teardown(test_domain_list_10000, setup, teardown),
        cmocka_unit_test_setup_teardown(test_network_crud, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pool_and_volumes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_tree, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_of_other_domain_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_state_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_delete_with_grandchildren, setup, teardown),
        cmocka_unit_test_setup_teardown(test_snapshot_delete_failure_changes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_events, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nested_transaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_killed_transaction_leaves_old_state, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_connection, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_first_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_name_too_long, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
