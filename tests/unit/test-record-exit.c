/* A guest's exit is recorded as one change (issue 10, finding 12): the
 * state it ended in and the event that says why, both or neither. When
 * the event cannot be written (here a trigger refuses it, as a full disk
 * or a locked database would) the domain keeps its recorded state and its
 * run directory, so the next reconcile records the exit whole; before, the
 * state said "shut off" with no event to say why. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/model/domain.h"
#include "core/virt/vm-priv.h"
#include "store/store.h"

#define UUID "8c4f2a1e-5d3b-4e7a-9f60-1b2c3d4e5f60"

static int raw_sql(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static size_t count_events(struct store *st, const char *event)
{
    struct store_event_row *ev = NULL;
    size_t n = 0, found = 0;
    assert_int_equal(store_event_list(st, NULL, 0, &ev, &n), 0);
    for (size_t i = 0; i < n; i++)
        found += !strcmp(ev[i].event, event);
    free(ev);
    return found;
}

static void test_exit_state_and_event_together(void **state)
{
    (void)state;
    char dir[] = "/tmp/tvm-test-record-exit.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char db[128], run[128], rundir[256], path[300];
    snprintf(db, sizeof db, "%s/tvm.db", dir);
    snprintf(run, sizeof run, "%s/run", dir);
    snprintf(rundir, sizeof rundir, "%s/%s", run, UUID);
    setenv("TVM_RUNDIR", run, 1);
    assert_int_equal(mkdir(run, 0700), 0);

    struct store *st;
    assert_int_equal(store_open(db, &st), 0);
    const char *xml = "<domain type='kvm'><name>g</name><uuid>" UUID "</uuid>"
                      "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
                      "<os><type arch='x86_64'>hvm</type></os></domain>";
    struct domain *d;
    assert_int_equal(domain_parse(xml, strlen(xml), "test", &d), 0);
    assert_int_equal(store_domain_insert(st, d), 0);
    domain_free(d);
    assert_int_equal(store_domain_set_state(st, UUID, DOMAIN_RUNNING, 1, 7), 0);

    /* The VMM has gone, saying why, as tvm-vmm leaves its run directory. */
    assert_int_equal(mkdir(rundir, 0700), 0);
    snprintf(path, sizeof path, "%s/exit.json", rundir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"reason\": \"shutdown\", \"detail\": \"\", \"exit_code\": 0}\n", f);
    fclose(f);

    assert_int_equal(raw_sql(db, "CREATE TRIGGER no_events BEFORE INSERT ON events "
                                 "BEGIN SELECT RAISE(ABORT, 'events refused by the test'); END;"),
                     SQLITE_OK);
    struct store_domain_row row;
    assert_int_equal(store_domain_get_row(st, UUID, &row), 0);
    assert_int_equal(vm_reconcile_row(st, &row), -1);
    assert_int_equal(store_domain_get_row(st, UUID, &row), 0);
    if (row.state != DOMAIN_RUNNING)
        fail_msg("the exit's state was recorded (%s) without its event",
                 domain_state_name(row.state));
    assert_int_equal(access(rundir, F_OK), 0); /* kept for the next try */

    assert_int_equal(raw_sql(db, "DROP TRIGGER no_events;"), SQLITE_OK);
    assert_int_equal(vm_reconcile_row(st, &row), 0);
    assert_int_equal(store_domain_get_row(st, UUID, &row), 0);
    assert_int_equal(row.state, DOMAIN_SHUTOFF);
    assert_int_equal(count_events(st, "shutdown"), 1);
    assert_int_equal(access(rundir, F_OK), -1);

    store_close(st);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_state_and_event_together),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
