/* The host inventory: one SQLite file (WAL, foreign keys, busy timeout).
 *
 * Every SQL statement lives in src/store/ with bound parameters; the schema
 * is versioned by PRAGMA user_version and migrated in code on open, so a
 * database from any earlier version opens. Every multi-row change is one
 * transaction: a killed process leaves the old state or the new one.
 * Objects are stored as their full XML plus the columns lists are drawn from.
 * Lookups accept a name or a uuid wherever virsh does; domain lookups also
 * take the run id of a running domain (virsh's "Id"), which wins, then uuid,
 * then name.
 */
#ifndef TVM_STORE_STORE_H
#define TVM_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model/domain.h"
#include "core/model/network.h"
#include "core/model/pool.h"
#include "core/model/snapshot.h"

struct store;

/* Default path: $XDG_DATA_HOME/tvm/tvm.db (~/.local/share/tvm/tvm.db), or
 * /var/lib/tvm/tvm.db as root. Returns a static buffer. */
const char *store_default_path(void);
/* Opens (creating the file and its directory if needed) and migrates.
 * An existing file this user may read but not write opens read-only:
 * reads work, and every change fails with a message saying why.
 * A struct store serves one thread at a time; open one per thread. */
int store_open(const char *path, struct store **out);
bool store_read_only(const struct store *st);
void store_close(struct store *st);
int store_schema_version(struct store *st);
/* How long a change waits for another process's write lock before failing
 * with "database is locked" (default 5000 ms). */
int store_set_busy_timeout(struct store *st, int ms);

/* Explicit transactions for callers that group several changes (batch
 * define of many objects uses one per command; the bench relies on that
 * being cheap). Nesting is counted; only the outermost commits. */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);

/* ---- domains ---- */
struct store_domain_row {
    char name[256];
    char uuid[UUID_STR_LEN];
    char title[256];
    enum domain_state state;
    int state_reason; /* virDomain*Reason numbering of the state */
    unsigned vcpus;
    unsigned vcpus_current;
    uint64_t memory_kib;
    uint64_t current_memory_kib;
    bool autostart;
    bool persistent;
    int64_t id; /* run id (virsh list "Id"), -1 when not running */
};

/* Refuses a duplicate name or uuid with "domain 'x' already exists". */
int store_domain_insert(struct store *st, const struct domain *d);
/* Replace the definition of the domain with d's uuid (virsh define over an existing one). */
int store_domain_update(struct store *st, const struct domain *d);
/* Name or uuid. Returns -1 with "domain 'x' not found". xml is malloc'd. */
int store_domain_get_xml(struct store *st, const char *name_or_uuid, char **xml);
int store_domain_get_row(struct store *st, const char *name_or_uuid, struct store_domain_row *row);
int store_domain_delete(struct store *st, const char *uuid);
int store_domain_set_state(struct store *st, const char *uuid, enum domain_state s, int reason,
                           int64_t run_id);
int store_domain_set_autostart(struct store *st, const char *uuid, bool on);
/* A transient domain (persistent off) exists only while it runs: whoever
 * records its stop removes it instead (core/virt, vm.h). */
int store_domain_set_persistent(struct store *st, const char *uuid, bool on);

enum store_list_flags {
    STORE_LIST_ALL = 0,
    STORE_LIST_ACTIVE = 1 << 0,   /* running, paused, ... */
    STORE_LIST_INACTIVE = 1 << 1, /* shut off, crashed */
};
/* Rows ordered by name. *rows malloc'd; n rows. Reads indexed columns only. */
int store_domain_list(struct store *st, unsigned flags, struct store_domain_row **rows, size_t *n);

/* ---- networks, pools, volumes ---- */
struct store_object_row {
    char name[256];
    char uuid[UUID_STR_LEN]; /* volumes: empty */
    bool active;
    bool autostart;
    char kind[64];    /* network forward mode / pool type / volume format */
    char detail[512]; /* bridge name / target path / volume path */
    uint64_t capacity_bytes;
    uint64_t allocation_bytes;
};

int store_network_insert(struct store *st, const struct network *n);
int store_network_update(struct store *st, const struct network *n);
int store_network_get_xml(struct store *st, const char *name_or_uuid, char **xml);
int store_network_get_row(struct store *st, const char *name_or_uuid, struct store_object_row *row);
int store_network_delete(struct store *st, const char *uuid);
int store_network_set_active(struct store *st, const char *uuid, bool active);
int store_network_set_autostart(struct store *st, const char *uuid, bool on);
int store_network_list(struct store *st, struct store_object_row **rows, size_t *n);

int store_pool_insert(struct store *st, const struct pool *p);
int store_pool_update(struct store *st, const struct pool *p);
int store_pool_get_xml(struct store *st, const char *name_or_uuid, char **xml);
int store_pool_get_row(struct store *st, const char *name_or_uuid, struct store_object_row *row);
int store_pool_delete(struct store *st, const char *uuid); /* refuses while it has volumes */
int store_pool_set_active(struct store *st, const char *uuid, bool active);
int store_pool_set_autostart(struct store *st, const char *uuid, bool on);
int store_pool_list(struct store *st, struct store_object_row **rows, size_t *n);

/* Volumes belong to a pool (name or uuid); names are unique within a pool. */
int store_volume_insert(struct store *st, const char *pool, const struct volume *v);
/* Replace the definition of the volume named v->name in pool (after a resize, ...). */
int store_volume_update(struct store *st, const char *pool, const struct volume *v);
int store_volume_get_xml(struct store *st, const char *pool, const char *name, char **xml);
/* kind = format, detail = path; uuid is empty. */
int store_volume_get_row(struct store *st, const char *pool, const char *name,
                         struct store_object_row *row);
int store_volume_delete(struct store *st, const char *pool, const char *name);
int store_volume_list(struct store *st, const char *pool, struct store_object_row **rows,
                      size_t *n);
/* Forgets every volume of the pool (a stopped pool lists none; a refresh
 * records what it finds afresh). */
int store_volume_delete_pool(struct store *st, const char *pool);
/* The pool and volume whose path (virsh's volume key) is PATH; -1 with
 * "volume 'PATH' not found" when no active pool has it. */
int store_volume_find_path(struct store *st, const char *path, char pool[256], char name[256]);

/* ---- snapshots: a tree per domain, with at most one current ---- */
struct store_snapshot_row {
    char name[256];
    char parent[256]; /* "" for a root */
    char state[32];
    int64_t creation_time;
    bool current;
};

/* The parent named in s must exist for the same domain. */
int store_snapshot_insert(struct store *st, const char *domain_uuid, const struct snapshot *s,
                          bool make_current);
/* store_snapshot_insert() for a checkpoint: the row also names STATE_FILE,
 * the saved state (RAM and devices) it owns, which must be complete and
 * synced before: a row never names a file that is not whole. */
int store_snapshot_insert_with_state(struct store *st, const char *domain_uuid,
                                     const struct snapshot *s, bool make_current,
                                     const char *state_file);
int store_snapshot_get_xml(struct store *st, const char *domain_uuid, const char *name, char **xml);
/* Replaces snapshot NAME's XML (snapshot-edit; its name, parent and state
 * columns are the caller's to keep unchanged). */
int store_snapshot_set_xml(struct store *st, const char *domain_uuid, const char *name,
                           const char *xml);
/* *PATH: the saved state snapshot NAME owns, "" when it has none (free it). */
int store_snapshot_state_file(struct store *st, const char *domain_uuid, const char *name,
                              char **path);
/* Children of a deleted snapshot are re-parented to its parent (as virsh does). */
int store_snapshot_delete(struct store *st, const char *domain_uuid, const char *name);
int store_snapshot_set_current(struct store *st, const char *domain_uuid, const char *name);
/* Ordered by creation time. */
int store_snapshot_list(struct store *st, const char *domain_uuid, struct store_snapshot_row **rows,
                        size_t *n);

/* ---- event log ---- */
struct store_event_row {
    int64_t id;
    int64_t time_ms;      /* ms since the epoch */
    char object_kind[16]; /* domain | network | pool | volume | snapshot */
    char object_name[256];
    char event[64]; /* defined, started, stopped, crashed, ... */
    char detail[512];
};
int store_event_add(struct store *st, const char *kind, const char *name, const char *event,
                    const char *detail);
/* Newest last; at most `limit` of the latest events (0: all). */
int store_event_list(struct store *st, const char *name_filter, size_t limit,
                     struct store_event_row **rows, size_t *n);

#endif
