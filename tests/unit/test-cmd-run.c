/* The command runner against a real SQLite store: lookup rules of the
 * table, one transaction per CMD_F_WRITES command (a failing command leaves
 * nothing behind), output through ctx->out, and batch scripts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cmd/cmd.h"
#include "core/model/domain.h"
#include "core/base/err.h"
#include "store/store.h"

struct fixture {
    char dir[64];
    char db[128];
    struct cmd_ctx ctx;
    char *out_buf;
    size_t out_len;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    strcpy(f->dir, "/tmp/tvm-test-cmd-run.XXXXXX");
    if (!f || !mkdtemp(f->dir))
        return -1;
    snprintf(f->db, sizeof(f->db), "%s/tvm.db", f->dir);
    setenv("TVM_RUNDIR", f->dir, 1);
    f->ctx.db_path = f->db;
    f->ctx.out = open_memstream(&f->out_buf, &f->out_len);
    *state = f;
    return f->ctx.out ? 0 : -1;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->ctx.store)
        store_close(f->ctx.store);
    fclose(f->ctx.out);
    free(f->out_buf);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* What the commands printed since the last call; starts a fresh stream. */
static const char *output(struct fixture *f)
{
    static char copy[65536];
    fclose(f->ctx.out);
    snprintf(copy, sizeof(copy), "%s", f->out_buf ? f->out_buf : "");
    free(f->out_buf);
    f->out_buf = NULL;
    f->ctx.out = open_memstream(&f->out_buf, &f->out_len);
    assert_non_null(f->ctx.out);
    return copy;
}

static const char *minimal_xml(const char *name, const char *uuid)
{
    static char xml[512];
    snprintf(xml, sizeof(xml),
             "<domain type='kvm'><name>%s</name><uuid>%s</uuid>"
             "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
             "<os><type arch='x86_64'>hvm</type></os></domain>",
             name, uuid);
    return xml;
}

/* ---- table lookup ---- */

static void test_find(void **state)
{
    (void)state;
    const struct cmd_entry *e = cmd_find("list");
    assert_non_null(e);
    assert_string_equal(e->name, "list");
    /* no abbreviation runs a command; the error names what it abbreviates */
    assert_null(cmd_find("domre"));
    assert_string_equal(err_msg(), "unknown command: 'domre' (did you mean domrename?)");
    /* the TUI prompt's lookup completes a unique prefix */
    e = cmd_find_prefix("domre");
    assert_non_null(e);
    assert_string_equal(e->name, "domrename");
    assert_null(cmd_find_prefix("dom"));
    assert_non_null(strstr(err_msg(), "ambiguous command 'dom': "));
    assert_non_null(strstr(err_msg(), "dominfo"));
    assert_null(cmd_find("nosuchcommand"));
    assert_string_equal(err_msg(), "unknown command: 'nosuchcommand'");
    assert_null(cmd_find(""));
    /* every entry is well formed and unique */
    for (size_t i = 0; cmd_table[i]; i++) {
        const struct cmd_entry *a = cmd_table[i];
        assert_non_null(a->exec);
        assert_non_null(a->usage);
        assert_non_null(a->summary);
        assert_int_equal(strncmp(a->usage, a->name, strlen(a->name)), 0);
        assert_true(a->max_args < 0 || a->max_args >= a->min_args);
        assert_ptr_equal(cmd_find(a->name), a);
        for (size_t j = i + 1; cmd_table[j]; j++)
            assert_string_not_equal(a->name, cmd_table[j]->name);
    }
}

/* ---- transactions ---- */

/* Inserts a domain, then fails or succeeds as its first argument says. */
static enum cmd_result insert_then_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct domain *d;
    const char *xml = minimal_xml(args->argv[1], "5b1e2f4c-0d3a-4e55-8a6b-7c8d9e0f1a2b");
    if (domain_parse(xml, strlen(xml), "test", &d) < 0)
        return CMD_ERROR;
    int rc = store_domain_insert(cmd_store(ctx), d);
    domain_free(d);
    if (rc < 0)
        return CMD_ERROR;
    if (strcmp(args->argv[0], "fail") == 0) {
        err_set("failing on purpose after the insert");
        return CMD_ERROR;
    }
    return CMD_OK;
}

static const struct cmd_entry insert_entry = {
    .name = "insert-then",
    .usage = "insert-then fail|ok NAME",
    .summary = "test",
    .opts = "",
    .min_args = 2,
    .max_args = 2,
    .exec = insert_then_exec,
    .flags = CMD_F_WRITES,
};

static bool domain_exists(struct fixture *f, const char *name)
{
    struct store_domain_row row;
    return store_domain_get_row(cmd_store(&f->ctx), name, &row) == 0;
}

static void test_failing_command_changes_nothing(void **state)
{
    struct fixture *f = *state;
    char *fail_argv[] = {"insert-then", "fail", "ghost", NULL};
    assert_int_equal(cmd_run_entry(&f->ctx, &insert_entry, 3, fail_argv), CMD_ERROR);
    assert_string_equal(err_msg(), "failing on purpose after the insert");
    assert_false(domain_exists(f, "ghost"));

    char *ok_argv[] = {"insert-then", "ok", "real", NULL};
    assert_int_equal(cmd_run_entry(&f->ctx, &insert_entry, 3, ok_argv), CMD_OK);
    assert_true(domain_exists(f, "real"));

    /* Committed for real: another connection sees it. */
    struct store *other;
    struct store_domain_row row;
    assert_int_equal(store_open(f->db, &other), 0);
    assert_int_equal(store_domain_get_row(other, "real", &row), 0);
    assert_int_not_equal(store_domain_get_row(other, "ghost", &row), 0);
    store_close(other);

    /* A usage error never reaches exec. */
    char *bad_argv[] = {"insert-then", "ok", NULL};
    assert_int_equal(cmd_run_entry(&f->ctx, &insert_entry, 2, bad_argv), CMD_USAGE);
    assert_non_null(strstr(err_msg(), "usage: insert-then fail|ok NAME"));
}

/* ---- real verbs through cmd_run_line, output to ctx->out ---- */

static void test_verbs_through_lines(void **state)
{
    struct fixture *f = *state;
    char path[160];
    snprintf(path, sizeof(path), "%s/web.xml", f->dir);
    FILE *x = fopen(path, "w");
    assert_non_null(x);
    fputs(minimal_xml("web", "6a2f3e5d-1e4b-4f66-9b7c-8d9e0f1a2b3c"), x);
    fclose(x);

    char line[256];
    snprintf(line, sizeof(line), "define '%s'", path);
    assert_int_equal(cmd_run_line(&f->ctx, line), CMD_OK);
    char want[256];
    snprintf(want, sizeof(want), "Domain 'web' defined from %s\n\n", path);
    assert_string_equal(output(f), want);

    assert_int_equal(cmd_run_line(&f->ctx, "list --all --name # comment"), CMD_OK);
    assert_string_equal(output(f), "web\n\n");
    assert_int_equal(cmd_run_line(&f->ctx, "desc web --title \"a b\""), CMD_OK);
    assert_string_equal(output(f), "Domain title updated successfully\n");
    assert_int_equal(cmd_run_line(&f->ctx, "desc web --title"), CMD_OK);
    assert_string_equal(output(f), "a b\n");
    assert_int_equal(cmd_run_line(&f->ctx, "dominfo 'no such'"), CMD_ERROR);
    assert_string_equal(err_msg(), "domain 'no such' not found");
    assert_int_equal(cmd_run_line(&f->ctx, "desc web 'open"), CMD_USAGE);
    assert_string_equal(err_msg(), "unterminated single quote");
    assert_int_equal(cmd_run_line(&f->ctx, "   # only a comment"), CMD_OK);
    assert_int_equal(cmd_run_line(&f->ctx, "list --help"), CMD_OK);
    assert_non_null(strstr(output(f), "usage: list"));
}

/* ---- batch ---- */

static void test_batch_stops_at_first_failure(void **state)
{
    struct fixture *f = *state;
    char xml[160], script[160];
    snprintf(xml, sizeof(xml), "%s/a.xml", f->dir);
    snprintf(script, sizeof(script), "%s/s.tvm", f->dir);
    FILE *x = fopen(xml, "w");
    assert_non_null(x);
    fputs(minimal_xml("alpha", "7b3f4e6d-2e5b-4f77-8c8d-9e0f1a2b3c4d"), x);
    fclose(x);
    FILE *s = fopen(script, "w");
    assert_non_null(s);
    fprintf(s, "define \\\n  %s\n\nundefine nosuch\nundefine alpha\n", xml);
    fclose(s);

    /* stderr gets "FILE:4: ..."; the undefine on line 5 must not run. */
    assert_int_equal(cmd_run_batch(&f->ctx, script, false), CMD_ERROR);
    assert_true(domain_exists(f, "alpha"));
    output(f);
    /* with keep_going, line 5 runs too; the worst result is still 1 */
    assert_int_equal(cmd_run_batch(&f->ctx, script, true), CMD_ERROR);
    assert_false(domain_exists(f, "alpha"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test_setup_teardown(test_failing_command_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verbs_through_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_stops_at_first_failure, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
