/* Every SQL text the store runs, in one place.
 *
 * STORE_STATEMENTS is an X-macro list: each entry becomes an enum value
 * (STMT_<ID>) and a statement prepared once per connection and cached on
 * struct store. Values always go through bound parameters (?1, ?2 ...);
 * nothing here is ever pasted together with printf.
 *
 * Lookups by "name or uuid" bind the name as ?1 and the canonical uuid (or
 * NULL when the text is not uuid-shaped) as ?2; a uuid match wins over a
 * name match, as virsh resolves them.
 *
 * The schema migrations are at the end: one script per version, each run in
 * its own transaction, each ending by setting PRAGMA user_version.
 */
#ifndef TVM_STORE_SQL_H
#define TVM_STORE_SQL_H

/* The columns struct store_domain_row is filled from, in this order. */
#define DOMAIN_ROW_COLS                                                                            \
    "name, uuid, title, state, state_reason, vcpus, vcpus_current, memory_kib, "                   \
    "current_memory_kib, autostart, persistent, run_id"
#define BY_NAME_OR_UUID " WHERE name = ?1 OR uuid = ?2 ORDER BY uuid IS ?2 DESC LIMIT 1"
/* Domains also answer to their run id (virsh's "Id", ?3, NULL unless the key
 * is a number), which wins over uuid and name as in virsh. */
#define DOMAIN_BY_KEY                                                                              \
    " WHERE name = ?1 OR uuid = ?2 OR (run_id = ?3 AND run_id >= 0)"                               \
    " ORDER BY run_id IS ?3 DESC, uuid IS ?2 DESC LIMIT 1"

/* Columns for struct store_object_row: name, uuid, active, autostart, kind, detail, capacity,
 * allocation. */
#define NETWORK_ROW_COLS                                                                           \
    "name, uuid, active, autostart, CASE forward_mode WHEN '' THEN 'isolated' ELSE forward_mode "  \
    "END, bridge, 0, 0"
#define POOL_ROW_COLS "name, uuid, active, autostart, type, target_path, capacity, allocation"
#define VOLUME_ROW_COLS "name, '', 1, 0, format, path, capacity, allocation"

#define STORE_STATEMENTS(X)                                                                        \
    /* transactions */                                                                             \
    X(BEGIN, "BEGIN IMMEDIATE")                                                                    \
    X(COMMIT, "COMMIT")                                                                            \
    X(ROLLBACK, "ROLLBACK")                                                                        \
    X(SAVEPOINT, "SAVEPOINT store_nested")                                                         \
    X(RELEASE, "RELEASE store_nested")                                                             \
    X(ROLLBACK_TO, "ROLLBACK TO store_nested")                                                     \
    X(USER_VERSION, "PRAGMA user_version")                                                         \
                                                                                                   \
    /* domains */                                                                                  \
    X(DOMAIN_INSERT, "INSERT INTO domains (name, uuid, title, vcpus, vcpus_current, memory_kib, "  \
                     "current_memory_kib, xml, created_ms, updated_ms) "                           \
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)")                            \
    X(DOMAIN_UPDATE,                                                                               \
      "UPDATE domains SET name = ?1, title = ?3, vcpus = ?4, vcpus_current = ?5, "                 \
      "memory_kib = ?6, current_memory_kib = ?7, xml = ?8, updated_ms = ?9 WHERE uuid = ?2")       \
    X(DOMAIN_ID, "SELECT id FROM domains" DOMAIN_BY_KEY)                                           \
    X(DOMAIN_XML, "SELECT xml FROM domains" DOMAIN_BY_KEY)                                         \
    X(DOMAIN_ROW, "SELECT " DOMAIN_ROW_COLS " FROM domains" DOMAIN_BY_KEY)                         \
    X(DOMAIN_DELETE, "DELETE FROM domains WHERE id = ?1")                                          \
    X(DOMAIN_SET_STATE,                                                                            \
      "UPDATE domains SET state = ?2, state_reason = ?3, run_id = ?4, updated_ms = ?5 "            \
      "WHERE id = ?1")                                                                             \
    X(DOMAIN_SET_AUTOSTART, "UPDATE domains SET autostart = ?2, updated_ms = ?3 WHERE id = ?1")    \
    X(DOMAIN_SET_PERSISTENT, "UPDATE domains SET persistent = ?2, updated_ms = ?3 WHERE id = ?1")  \
    /* ?1: 0 all, 1 active only, 2 inactive only (states as in store_domain_list) */               \
    X(DOMAIN_LIST,                                                                                 \
      "SELECT " DOMAIN_ROW_COLS " FROM domains WHERE ?1 = 0 "                                      \
      "OR (?1 = 1 AND state IN (1, 2, 3, 4, 7)) OR (?1 = 2 AND state NOT IN (1, 2, 3, 4, 7)) "     \
      "ORDER BY name")                                                                             \
                                                                                                   \
    /* networks */                                                                                 \
    X(NETWORK_INSERT,                                                                              \
      "INSERT INTO networks (name, uuid, bridge, forward_mode, xml, created_ms, updated_ms) "      \
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)")                                                       \
    X(NETWORK_UPDATE,                                                                              \
      "UPDATE networks SET name = ?1, bridge = ?3, forward_mode = ?4, xml = ?5, updated_ms = ?6 "  \
      "WHERE uuid = ?2")                                                                           \
    X(NETWORK_ID, "SELECT id FROM networks" BY_NAME_OR_UUID)                                       \
    X(NETWORK_XML, "SELECT xml FROM networks" BY_NAME_OR_UUID)                                     \
    X(NETWORK_ROW, "SELECT " NETWORK_ROW_COLS " FROM networks" BY_NAME_OR_UUID)                    \
    X(NETWORK_DELETE, "DELETE FROM networks WHERE id = ?1")                                        \
    X(NETWORK_SET_ACTIVE, "UPDATE networks SET active = ?2, updated_ms = ?3 WHERE id = ?1")        \
    X(NETWORK_SET_AUTOSTART, "UPDATE networks SET autostart = ?2, updated_ms = ?3 WHERE id = ?1")  \
    X(NETWORK_LIST, "SELECT " NETWORK_ROW_COLS " FROM networks ORDER BY name")                     \
                                                                                                   \
    /* pools */                                                                                    \
    X(POOL_INSERT,                                                                                 \
      "INSERT INTO pools (name, uuid, type, target_path, capacity, allocation, available, xml, "   \
      "created_ms, updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)")                   \
    X(POOL_UPDATE,                                                                                 \
      "UPDATE pools SET name = ?1, type = ?3, target_path = ?4, capacity = ?5, allocation = ?6, "  \
      "available = ?7, xml = ?8, updated_ms = ?9 WHERE uuid = ?2")                                 \
    X(POOL_ID, "SELECT id FROM pools" BY_NAME_OR_UUID)                                             \
    X(POOL_XML, "SELECT xml FROM pools" BY_NAME_OR_UUID)                                           \
    X(POOL_ROW, "SELECT " POOL_ROW_COLS " FROM pools" BY_NAME_OR_UUID)                             \
    X(POOL_DELETE, "DELETE FROM pools WHERE id = ?1")                                              \
    X(POOL_VOLUME_COUNT, "SELECT count(*) FROM volumes WHERE pool_id = ?1")                        \
    X(POOL_SET_ACTIVE, "UPDATE pools SET active = ?2, updated_ms = ?3 WHERE id = ?1")              \
    X(POOL_SET_AUTOSTART, "UPDATE pools SET autostart = ?2, updated_ms = ?3 WHERE id = ?1")        \
    X(POOL_LIST, "SELECT " POOL_ROW_COLS " FROM pools ORDER BY name")                              \
                                                                                                   \
    /* volumes: ?1 pool id, ?2 volume name */                                                      \
    X(VOLUME_INSERT,                                                                               \
      "INSERT INTO volumes (pool_id, name, path, format, capacity, allocation, xml, created_ms, "  \
      "updated_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)")                                   \
    X(VOLUME_UPDATE,                                                                               \
      "UPDATE volumes SET path = ?3, format = ?4, capacity = ?5, allocation = ?6, xml = ?7, "      \
      "updated_ms = ?8 WHERE pool_id = ?1 AND name = ?2")                                          \
    X(VOLUME_XML, "SELECT xml FROM volumes WHERE pool_id = ?1 AND name = ?2")                      \
    X(VOLUME_ROW, "SELECT " VOLUME_ROW_COLS " FROM volumes WHERE pool_id = ?1 AND name = ?2")      \
    X(VOLUME_DELETE, "DELETE FROM volumes WHERE pool_id = ?1 AND name = ?2")                       \
    X(VOLUME_LIST, "SELECT " VOLUME_ROW_COLS " FROM volumes WHERE pool_id = ?1 ORDER BY name")     \
    X(VOLUME_DELETE_POOL, "DELETE FROM volumes WHERE pool_id = ?1")                                \
    X(VOLUME_BY_PATH, "SELECT p.name, v.name FROM volumes v JOIN pools p ON p.id = v.pool_id "    \
                      "WHERE v.path = ?1 ORDER BY p.name LIMIT 1")                                 \
                                                                                                   \
    /* snapshots: ?1 domain id, ?2 snapshot name */                                                \
    X(SNAPSHOT_INSERT,                                                                             \
      "INSERT INTO snapshots (domain_id, name, parent, is_current, creation_time, state, xml) "    \
      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)")                                                       \
    X(SNAPSHOT_GET,                                                                                \
      "SELECT id, parent, is_current FROM snapshots WHERE domain_id = ?1 AND name = ?2")           \
    X(SNAPSHOT_XML, "SELECT xml FROM snapshots WHERE domain_id = ?1 AND name = ?2")                \
    X(SNAPSHOT_STATE_FILE, "SELECT state_file FROM snapshots WHERE domain_id = ?1 AND name = ?2")  \
    X(SNAPSHOT_SET_XML, "UPDATE snapshots SET xml = ?3 WHERE domain_id = ?1 AND name = ?2")        \
    X(SNAPSHOT_SET_STATE_FILE,                                                                     \
      "UPDATE snapshots SET state_file = ?3 WHERE domain_id = ?1 AND name = ?2")                   \
    X(SNAPSHOT_CHILDREN,                                                                           \
      "SELECT id, xml FROM snapshots WHERE domain_id = ?1 AND parent = ?2 ORDER BY id")            \
    X(SNAPSHOT_REPARENT, "UPDATE snapshots SET parent = ?2, xml = ?3 WHERE id = ?1")               \
    X(SNAPSHOT_DELETE, "DELETE FROM snapshots WHERE id = ?1")                                      \
    X(SNAPSHOT_CLEAR_CURRENT,                                                                      \
      "UPDATE snapshots SET is_current = 0 WHERE domain_id = ?1 AND is_current")                   \
    X(SNAPSHOT_SET_CURRENT,                                                                        \
      "UPDATE snapshots SET is_current = 1 WHERE domain_id = ?1 AND name = ?2")                    \
    X(SNAPSHOT_LIST, "SELECT name, parent, state, creation_time, is_current FROM snapshots "       \
                     "WHERE domain_id = ?1 ORDER BY creation_time, id")                            \
                                                                                                   \
    /* events */                                                                                   \
    X(EVENT_INSERT, "INSERT INTO events (time_ms, object_kind, object_name, event, detail) "       \
                    "VALUES (?1, ?2, ?3, ?4, ?5)")                                                 \
    /* The history's bounds: ?1 the newest id to drop by count; ?2 the age                         \
     * cut-off, applied to the oldest 256 rows only, so a prune costs the                          \
     * same however long the log is (ids grow with time). */                                       \
    X(EVENT_PRUNE, "DELETE FROM events WHERE id <= ?1 OR (id IN (SELECT id FROM events "           \
                   "ORDER BY id LIMIT 256) AND time_ms < ?2)")                                     \
    /* ?1 name or NULL for all, ?2 limit (-1: all); newest last */                                 \
    X(EVENT_LIST,                                                                                  \
      "SELECT id, time_ms, object_kind, object_name, event, detail FROM ("                         \
      "SELECT * FROM events WHERE ?1 IS NULL OR object_name = ?1 ORDER BY id DESC LIMIT ?2) "      \
      "ORDER BY id")

/* ---- connection set-up (store_open) ---- */
#define STORE_SQL_PRAGMAS "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;"
#define STORE_SQL_WAL "PRAGMA journal_mode = WAL"

/* ---- schema migrations ---- */

/* Version 1: the first schema. Never edit it once released: add a new step. */
#define STORE_SCHEMA_V1                                                                            \
    "CREATE TABLE domains ("                                                                       \
    "  id INTEGER PRIMARY KEY,"                                                                    \
    "  name TEXT NOT NULL UNIQUE,"                                                                 \
    "  uuid TEXT NOT NULL UNIQUE,"                                                                 \
    "  title TEXT NOT NULL DEFAULT '',"                                                            \
    "  state INTEGER NOT NULL DEFAULT 5,"                                                          \
    "  state_reason INTEGER NOT NULL DEFAULT 0,"                                                   \
    "  run_id INTEGER NOT NULL DEFAULT -1,"                                                        \
    "  vcpus INTEGER NOT NULL,"                                                                    \
    "  vcpus_current INTEGER NOT NULL,"                                                            \
    "  memory_kib INTEGER NOT NULL,"                                                               \
    "  current_memory_kib INTEGER NOT NULL,"                                                       \
    "  autostart INTEGER NOT NULL DEFAULT 0,"                                                      \
    "  persistent INTEGER NOT NULL DEFAULT 1,"                                                     \
    "  xml TEXT NOT NULL,"                                                                         \
    "  created_ms INTEGER NOT NULL,"                                                               \
    "  updated_ms INTEGER NOT NULL"                                                                \
    ");" /* covering index: list reads it alone, in name order, never the wide xml rows */         \
    "CREATE INDEX domains_list ON domains (name, uuid, title, state, state_reason, vcpus,"         \
    " vcpus_current, memory_kib, current_memory_kib, autostart, persistent, run_id);"              \
    "CREATE INDEX domains_running ON domains (run_id) WHERE run_id >= 0;"                          \
    "CREATE TABLE networks ("                                                                      \
    "  id INTEGER PRIMARY KEY,"                                                                    \
    "  name TEXT NOT NULL UNIQUE,"                                                                 \
    "  uuid TEXT NOT NULL UNIQUE,"                                                                 \
    "  bridge TEXT NOT NULL DEFAULT '',"                                                           \
    "  forward_mode TEXT NOT NULL DEFAULT '',"                                                     \
    "  active INTEGER NOT NULL DEFAULT 0,"                                                         \
    "  autostart INTEGER NOT NULL DEFAULT 0,"                                                      \
    "  xml TEXT NOT NULL,"                                                                         \
    "  created_ms INTEGER NOT NULL,"                                                               \
    "  updated_ms INTEGER NOT NULL"                                                                \
    ");"                                                                                           \
    "CREATE TABLE pools ("                                                                         \
    "  id INTEGER PRIMARY KEY,"                                                                    \
    "  name TEXT NOT NULL UNIQUE,"                                                                 \
    "  uuid TEXT NOT NULL UNIQUE,"                                                                 \
    "  type TEXT NOT NULL DEFAULT '',"                                                             \
    "  target_path TEXT NOT NULL DEFAULT '',"                                                      \
    "  capacity INTEGER NOT NULL DEFAULT 0,"                                                       \
    "  allocation INTEGER NOT NULL DEFAULT 0,"                                                     \
    "  available INTEGER NOT NULL DEFAULT 0,"                                                      \
    "  active INTEGER NOT NULL DEFAULT 0,"                                                         \
    "  autostart INTEGER NOT NULL DEFAULT 0,"                                                      \
    "  xml TEXT NOT NULL,"                                                                         \
    "  created_ms INTEGER NOT NULL,"                                                               \
    "  updated_ms INTEGER NOT NULL"                                                                \
    ");"                                                                                           \
    "CREATE TABLE volumes ("                                                                       \
    "  id INTEGER PRIMARY KEY,"                                                                    \
    "  pool_id INTEGER NOT NULL REFERENCES pools (id),"                                            \
    "  name TEXT NOT NULL,"                                                                        \
    "  path TEXT NOT NULL DEFAULT '',"                                                             \
    "  format TEXT NOT NULL DEFAULT '',"                                                           \
    "  capacity INTEGER NOT NULL DEFAULT 0,"                                                       \
    "  allocation INTEGER NOT NULL DEFAULT 0,"                                                     \
    "  xml TEXT NOT NULL,"                                                                         \
    "  created_ms INTEGER NOT NULL,"                                                               \
    "  updated_ms INTEGER NOT NULL,"                                                               \
    "  UNIQUE (pool_id, name)"                                                                     \
    ");"                                                                                           \
    "CREATE TABLE snapshots ("                                                                     \
    "  id INTEGER PRIMARY KEY,"                                                                    \
    "  domain_id INTEGER NOT NULL REFERENCES domains (id) ON DELETE CASCADE,"                      \
    "  name TEXT NOT NULL,"                                                                        \
    "  parent TEXT,"                                                                               \
    "  is_current INTEGER NOT NULL DEFAULT 0 CHECK (is_current IN (0, 1)),"                        \
    "  creation_time INTEGER NOT NULL,"                                                            \
    "  state TEXT NOT NULL DEFAULT '',"                                                            \
    "  xml TEXT NOT NULL,"                                                                         \
    "  UNIQUE (domain_id, name),"                                                                  \
    "  FOREIGN KEY (domain_id, parent) REFERENCES snapshots (domain_id, name)"                     \
    ");"                                                                                           \
    "CREATE UNIQUE INDEX snapshots_one_current ON snapshots (domain_id) WHERE is_current;"         \
    "CREATE INDEX snapshots_by_time ON snapshots (domain_id, creation_time);"                      \
    "CREATE INDEX snapshots_by_parent ON snapshots (domain_id, parent);"                           \
    "CREATE TABLE events ("                                                                        \
    "  id INTEGER PRIMARY KEY,"                                                                    \
    "  time_ms INTEGER NOT NULL,"                                                                  \
    "  object_kind TEXT NOT NULL"                                                                  \
    "    CHECK (object_kind IN ('domain', 'network', 'pool', 'volume', 'snapshot')),"              \
    "  object_name TEXT NOT NULL,"                                                                 \
    "  event TEXT NOT NULL,"                                                                       \
    "  detail TEXT NOT NULL DEFAULT ''"                                                            \
    ");"                                                                                           \
    "CREATE INDEX events_by_name ON events (object_name, id);"                                     \
    "PRAGMA user_version = 1;"

/* A checkpoint's saved state (RAM and devices): the file it owns, '' none. */
#define STORE_SCHEMA_V2                                                                            \
    "ALTER TABLE snapshots ADD COLUMN state_file TEXT NOT NULL DEFAULT '';"                        \
    "PRAGMA user_version = 2;"

#endif
