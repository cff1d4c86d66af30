/* Word splitting and option parsing: the two parsers every verb, batch
 * line and TUI prompt goes through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "core/cmd/cmd.h"
#include "core/base/err.h"

/* Splits `line` and checks it gives exactly the NULL-terminated `want`. */
static void expect_words(const char *line, const char *const *want)
{
    char **argv;
    int argc = cmd_split_words(line, &argv);
    int n = 0;
    while (want[n])
        n++;
    if (argc != n)
        fail_msg("'%s': %d words, want %d (%s)", line, argc, n, argc < 0 ? err_msg() : "");
    for (int i = 0; i < n; i++)
        assert_string_equal(argv[i], want[i]);
    assert_null(argv[argc]);
    cmd_free_words(argc, argv);
}

static void expect_split_error(const char *line, const char *msg)
{
    char **argv = (char **)1;
    assert_int_equal(cmd_split_words(line, &argv), -1);
    assert_null(argv);
    assert_non_null(strstr(err_msg(), msg));
}

static void test_split_plain(void **state)
{
    (void)state;
    expect_words("", (const char *[]){NULL});
    expect_words("   \t ", (const char *[]){NULL});
    expect_words("list --all", (const char *[]){"list", "--all", NULL});
    expect_words("  define\t web.xml  \r\n", (const char *[]){"define", "web.xml", NULL});
}

static void test_split_quotes(void **state)
{
    (void)state;
    expect_words("desc web 'a  b' \"c d\"", (const char *[]){"desc", "web", "a  b", "c d", NULL});
    expect_words("x '' \"\"", (const char *[]){"x", "", "", NULL});
    expect_words("x 'a\\b\"c'", (const char *[]){"x", "a\\b\"c", NULL}); /* no escapes in '' */
    expect_words("x \"say \\\"hi\\\" \\\\ \\$HOME \\n\"",
                 (const char *[]){"x", "say \"hi\" \\ $HOME \\n", NULL});
    expect_words("x a'b'\"c\"d", (const char *[]){"x", "abcd", NULL});
    expect_words("x '#not' \"#a comment\"", (const char *[]){"x", "#not", "#a comment", NULL});
    expect_words("x $HOME '$HOME'", (const char *[]){"x", "$HOME", "$HOME", NULL});
}

static void test_split_backslash_and_comments(void **state)
{
    (void)state;
    expect_words("x a\\ b \\'c\\\"", (const char *[]){"x", "a b", "'c\"", NULL});
    expect_words("# a comment", (const char *[]){NULL});
    expect_words("list --all # trailing", (const char *[]){"list", "--all", NULL});
    expect_words("x a#b", (const char *[]){"x", "a#b", NULL});
    expect_words("define \\\n  web.xml", (const char *[]){"define", "web.xml", NULL});
    expect_words("x ab\\\ncd", (const char *[]){"x", "abcd", NULL});
    expect_words("x 'multi\nline'", (const char *[]){"x", "multi\nline", NULL});
}

static void test_split_errors(void **state)
{
    (void)state;
    expect_split_error("x 'open", "unterminated single quote");
    expect_split_error("x \"open", "unterminated double quote");
    expect_split_error("x \"a\\\"", "unterminated double quote");
    expect_split_error("x \\", "backslash at end");
}

static void test_complete(void **state)
{
    (void)state;
    assert_true(cmd_words_complete("list --all\n"));
    assert_true(cmd_words_complete("# it's a comment \\\n"));
    assert_false(cmd_words_complete("define \\\n"));
    assert_false(cmd_words_complete("desc web 'a\n"));
    assert_false(cmd_words_complete("desc web \"a\n"));
    assert_true(cmd_words_complete("desc web \"a\nb\"\n"));
    assert_true(cmd_words_complete("x \\\\\n")); /* an escaped backslash does not continue */
}

/* Quotes `w` for the splitter in one of three styles, chosen by `style`. */
static void quote_word(const char *w, int style, char *out, size_t len)
{
    size_t n = 0;
#define PUT(c)                                                                                     \
    do {                                                                                           \
        if (n + 1 < len)                                                                           \
            out[n++] = (c);                                                                        \
    } while (0)
    if (style == 0) { /* '...' with ' as '\'' */
        PUT('\'');
        for (const char *p = w; *p; p++) {
            if (*p == '\'') {
                PUT('\'');
                PUT('\\');
                PUT('\'');
            }
            PUT(*p);
        }
        PUT('\'');
    } else if (style == 1) { /* "..." with \ before " \ $ ` */
        PUT('"');
        for (const char *p = w; *p; p++) {
            if (strchr("\"\\$`", *p))
                PUT('\\');
            PUT(*p);
        }
        PUT('"');
    } else { /* bare, every character backslashed except newline, which must be quoted */
        if (!*w) {
            PUT('"');
            PUT('"');
        }
        for (const char *p = w; *p; p++) {
            if (*p == '\n') {
                PUT('\'');
                PUT('\n');
                PUT('\'');
                continue;
            }
            PUT('\\');
            PUT(*p);
        }
    }
    out[n] = '\0';
#undef PUT
}

/* Random words, quoted at random and joined, split back to the same words. */
static void test_split_roundtrip(void **state)
{
    (void)state;
    static const char alphabet[] = "ab #'\"\\$`\t\n;|&*~=-x";
    unsigned seed = 12345;
    for (int round = 0; round < 2000; round++) {
        char words[6][16], line[1024] = "";
        int nwords = 1 + (int)((seed = seed * 1103515245u + 12345u) >> 16) % 6;
        for (int i = 0; i < nwords; i++) {
            int len = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 12;
            for (int k = 0; k < len; k++)
                words[i][k] =
                    alphabet[((seed = seed * 1103515245u + 12345u) >> 16) % (sizeof(alphabet) - 1)];
            words[i][len] = '\0';
            char q[128];
            quote_word(words[i], (int)((seed = seed * 1103515245u + 12345u) >> 16) % 3, q,
                       sizeof(q));
            strcat(line, i ? " " : "");
            strcat(line, q);
        }
        char **argv;
        int argc = cmd_split_words(line, &argv);
        if (argc != nwords)
            fail_msg("round %d: '%s' gave %d words, want %d (%s)", round, line, argc, nwords,
                     argc < 0 ? err_msg() : "");
        for (int i = 0; i < nwords; i++)
            if (strcmp(argv[i], words[i]) != 0)
                fail_msg("round %d: '%s': word %d is '%s', want '%s'", round, line, i, argv[i],
                         words[i]);
        assert_true(cmd_words_complete(line));
        cmd_free_words(argc, argv);
    }
}

/* Every prefix of a valid line either splits or is reported incomplete/bad,
 * never crashes; completeness agrees with the splitter. */
static void test_split_prefixes(void **state)
{
    (void)state;
    const char *line = "desc 'a b' \"c \\\" d\" e\\ f # x\n";
    char buf[128];
    for (size_t n = 0; n <= strlen(line); n++) {
        memcpy(buf, line, n);
        buf[n] = '\0';
        char **argv;
        int argc = cmd_split_words(buf, &argv);
        assert_true(argc >= 0 || !cmd_words_complete(buf));
        if (argc >= 0)
            cmd_free_words(argc, argv);
    }
}

static enum cmd_result dummy_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    (void)ctx;
    (void)args;
    return CMD_OK;
}

static const struct cmd_entry dummy = {
    .name = "vol-dumpxml",
    .usage = "vol-dumpxml VOL --pool POOL",
    .summary = "test entry",
    .opts = "pool=,all,name,file=",
    .min_args = 1,
    .max_args = 2,
    .exec = dummy_exec,
};

/* Parses a NULL-terminated argv against `dummy`. */
static enum cmd_result parse(struct cmd_args *a, const char **words)
{
    int argc = 0;
    while (words[argc])
        argc++;
    return cmd_parse_args(&dummy, argc, (char **)words, a);
}

static void test_args_options(void **state)
{
    (void)state;
    struct cmd_args a;
    const char *w1[] = {"vol-dumpxml", "v1", "--pool", "p1", "--all", NULL};
    assert_int_equal(parse(&a, w1), CMD_OK);
    assert_int_equal(a.argc, 1);
    assert_string_equal(a.argv[0], "v1");
    assert_string_equal(cmd_get(&a, "pool"), "p1");
    assert_true(cmd_has(&a, "all"));
    assert_string_equal(cmd_get(&a, "all"), "");
    assert_false(cmd_has(&a, "name"));
    assert_null(cmd_get(&a, "file"));
    cmd_free_args(&a);

    const char *w2[] = {"vol-dumpxml", "--pool=p=2", "--file=", "--", "--name", "-", NULL};
    assert_int_equal(parse(&a, w2), CMD_OK);
    assert_string_equal(cmd_get(&a, "pool"), "p=2");
    assert_string_equal(cmd_get(&a, "file"), "");
    assert_false(cmd_has(&a, "name"));
    assert_int_equal(a.argc, 2);
    assert_string_equal(a.argv[0], "--name");
    assert_string_equal(a.argv[1], "-");
    cmd_free_args(&a);

    /* "pool" must not match a prefix of another spec entry or vice versa. */
    const char *w3[] = {"vol-dumpxml", "v", "--poo", "x", NULL};
    assert_int_equal(parse(&a, w3), CMD_USAGE);
    assert_non_null(strstr(err_msg(), "command 'vol-dumpxml' doesn't support option --poo"));
    assert_non_null(strstr(err_msg(), "usage: vol-dumpxml VOL --pool POOL"));
}

static void test_args_errors(void **state)
{
    (void)state;
    struct cmd_args a;
    const char *none[] = {"vol-dumpxml", NULL};
    assert_int_equal(parse(&a, none), CMD_USAGE);
    assert_non_null(strstr(err_msg(), "command 'vol-dumpxml' requires <vol> option"));

    const char *many[] = {"vol-dumpxml", "a", "b", "c", NULL};
    assert_int_equal(parse(&a, many), CMD_USAGE);
    assert_non_null(strstr(err_msg(), "unexpected data 'c'"));

    const char *novalue[] = {"vol-dumpxml", "a", "--pool", NULL};
    assert_int_equal(parse(&a, novalue), CMD_USAGE);
    assert_non_null(strstr(err_msg(), "option --pool needs a value"));

    const char *flagvalue[] = {"vol-dumpxml", "a", "--all=yes", NULL};
    assert_int_equal(parse(&a, flagvalue), CMD_USAGE);
    assert_non_null(strstr(err_msg(), "option --all takes no value"));

    const char *twice[] = {"vol-dumpxml", "a", "--all", "--all", NULL};
    assert_int_equal(parse(&a, twice), CMD_USAGE);
    assert_non_null(strstr(err_msg(), "option --all already seen (it takes one value)"));
}

/* An option marked '=*' may be repeated, each value kept in order; the
 * others may not. */
static void test_args_repeated(void **state)
{
    (void)state;
    static const struct cmd_entry e = {
        .name = "rep", .usage = "rep [--file PATH]... [--one X]", .opts = "file=*,one=,flag"};
    const char *argv[] = {"rep", "--file", "a", "--one", "x", "--file=b,c", "--file", "d", NULL};
    struct cmd_args a;
    assert_int_equal(cmd_parse_args(&e, 8, (char **)argv, &a), CMD_OK);
    const char *v[4];
    assert_int_equal(cmd_get_all(&a, "file", v, 4), 3);
    assert_string_equal(v[0], "a");
    assert_string_equal(v[1], "b,c");
    assert_string_equal(v[2], "d");
    assert_string_equal(cmd_get(&a, "file"), "a");
    assert_int_equal(cmd_get_all(&a, "one", v, 4), 1);
    assert_int_equal(cmd_get_all(&a, "flag", v, 4), 0);
    assert_int_equal(cmd_get_all(&a, "file", v, 2), 2); /* bounded by max */
    cmd_free_args(&a);

    const char *one[] = {"rep", "--one", "x", "--one=y", NULL};
    assert_int_equal(cmd_parse_args(&e, 4, (char **)one, &a), CMD_USAGE);
    assert_non_null(strstr(err_msg(), "rep: option --one already seen (it takes one value)"));
    const char *flag[] = {"rep", "--flag", "--flag", NULL};
    assert_int_equal(cmd_parse_args(&e, 3, (char **)flag, &a), CMD_USAGE);
    assert_non_null(strstr(err_msg(), "option --flag already seen"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_plain),
        cmocka_unit_test(test_split_quotes),
        cmocka_unit_test(test_split_backslash_and_comments),
        cmocka_unit_test(test_split_errors),
        cmocka_unit_test(test_complete),
        cmocka_unit_test(test_split_roundtrip),
        cmocka_unit_test(test_split_prefixes),
        cmocka_unit_test(test_args_options),
        cmocka_unit_test(test_args_errors),
        cmocka_unit_test(test_args_repeated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
