/* Batch scripts (tvm --batch FILE, the TUI's ':' prompt): the input is a
 * script. It is cut into logical lines exactly as cmd_run_batch() does
 * (getline, then append physical lines while cmd_words_complete() says a
 * quote or a backslash is still open; batch.c keeps that reader private,
 * so it is mirrored here rather than exported), and each line goes
 * through everything cmd_run_line() does before a command runs: the word
 * splitter, the command lookup and the option parser. No command is
 * executed, so nothing touches the host.
 *
 * Properties, for every script:
 *  - the reader and the splitter agree: a line the reader calls complete
 *    splits, one it calls incomplete (only possible at end of file) is
 *    refused with a message;
 *  - splitting is faithful: the words, each re-quoted in single quotes,
 *    split back to the same words;
 *  - the option parser's positional arguments respect the entry's bounds
 *    and every option it returns is one the entry's spec names.
 */
#include <stdbool.h>

#include "fuzz-util.h"

#include "core/base/err.h"
#include "core/cmd/cmd.h"

/* WORDS joined, each in single quotes (a quote inside as '\''). */
static char *requote(int argc, char **argv)
{
    size_t n = 1;
    for (int i = 0; i < argc; i++)
        n += 4 * strlen(argv[i]) + 3;
    char *s = malloc(n), *p = s;
    if (!s)
        fuzz_fail("out of memory");
    for (int i = 0; i < argc; i++) {
        *p++ = '\'';
        for (const char *c = argv[i]; *c; c++) {
            if (*c == '\'') {
                memcpy(p, "'\\''", 4);
                p += 4;
            } else {
                *p++ = *c;
            }
        }
        *p++ = '\'';
        *p++ = ' ';
    }
    *p = '\0';
    return s;
}

static bool in_spec(const char *spec, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = spec; p && *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0 && p[len - 1] == '=')
            len--;
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p = end ? end + 1 : NULL;
    }
    return false;
}

static void one_line(const char *text, bool complete)
{
    char **argv = NULL;
    err_clear();
    int argc = cmd_split_words(text, &argv);
    if (argc < 0) {
        if (complete)
            fuzz_fail("a complete line does not split: %s\n[%s]", err_msg(), text);
        if (!err_msg()[0])
            fuzz_fail("split refused without a message");
        return;
    }
    if (!complete)
        fuzz_fail("an incomplete line split into %d words\n[%s]", argc, text);
    if (!argv || argv[argc] != NULL)
        fuzz_fail("argv is not NULL-terminated");

    char *again_text = requote(argc, argv);
    char **again = NULL;
    int again_argc = cmd_split_words(again_text, &again);
    if (again_argc != argc)
        fuzz_fail("re-quoted words split into %d words, not %d\n[%s]", again_argc, argc,
                  again_text);
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], again[i]) != 0)
            fuzz_fail("word %d changed when re-quoted: [%s] -> [%s]", i, argv[i], again[i]);
    cmd_free_words(again_argc, again);
    free(again_text);

    if (argc > 0) {
        const struct cmd_entry *e = cmd_find(argv[0]);
        if (!e && !err_msg()[0])
            fuzz_fail("unknown command without a message");
        if (e) {
            struct cmd_args args;
            enum cmd_result r = cmd_parse_args(e, argc, argv, &args);
            if (r == CMD_OK) {
                if (args.argc < e->min_args || (e->max_args >= 0 && args.argc > e->max_args))
                    fuzz_fail("%s: %d arguments accepted (bounds %d..%d)", e->name, args.argc,
                              e->min_args, e->max_args);
                for (int i = 0; i < args.nopts; i++)
                    if (!in_spec(e->opts, args.opt_names[i]) || !args.opt_values[i])
                        fuzz_fail("%s: option --%s accepted, not in '%s'", e->name,
                                  args.opt_names[i], e->opts ? e->opts : "");
                cmd_free_args(&args);
            } else if (!err_msg()[0]) {
                fuzz_fail("%s: usage error without a message", e->name);
            }
        }
    }
    cmd_free_words(argc, argv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* As batch.c reads a file: getline() on a stream (NUL bytes included,
     * which then end the C string the splitter sees). */
    FILE *in = fmemopen((void *)data, size, "r");
    if (!in)
        return 0; /* size 0: fmemopen refuses an empty buffer */
    char *text = NULL, *buf = NULL;
    size_t len = 0, cap = 0, bufcap = 0;
    ssize_t n;
    bool complete = true;
    for (;;) {
        n = getline(&buf, &bufcap, in);
        if (n >= 0) {
            if (len + (size_t)n + 1 > cap) {
                cap = (len + (size_t)n + 1) * 2;
                text = realloc(text, cap);
                if (!text)
                    fuzz_fail("out of memory");
            }
            memcpy(text + len, buf, (size_t)n);
            len += (size_t)n;
            text[len] = '\0';
            complete = cmd_words_complete(text);
            if (!complete)
                continue;
        } else if (len == 0) {
            break;
        }
        one_line(text, complete);
        len = 0;
        if (n < 0)
            break;
    }
    free(buf);
    free(text);
    fclose(in);
    return 0;
}
