/* tvm(1)'s key lists come from the TUI's key table (src/tui/keys.c), so
 * the page names every key the program binds, with the same words.
 *
 *   tvm-keys-roff --update man/tvm.1   rewrite each generated block
 *   tvm-keys-roff --check man/tvm.1    exit 1 naming a block that differs
 *
 * A block sits between the lines
 *   .\" keys: SECTION (generated from src/tui/keys.c: cmake --build build --target man-keys)
 *   .\" end of keys
 * with SECTION one of keys_roff()'s names. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"
#include "core/cmd/cmd-util.h"
#include "tui/app.h"

#define BEGIN_MARK ".\\\" keys: "
#define END_MARK ".\\\" end of keys"

/* The page with every block regenerated, in OUT; 0, or -1 naming the
 * first malformed block on stderr. *STALE: a block's text changed. */
static int regenerate(const char *path, const char *page, FILE *out, bool quiet, int *blocks,
                      int *stale)
{
    const char *p = page;
    int line = 1;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p + 1) : strlen(p);
        fwrite(p, 1, len, out);
        if (strncmp(p, BEGIN_MARK, strlen(BEGIN_MARK)) != 0) {
            p += len, line++;
            continue;
        }
        char section[32];
        if (sscanf(p + strlen(BEGIN_MARK), "%31s", section) != 1 || !eol) {
            fprintf(stderr, "%s:%d: a keys block without its section\n", path, line);
            return -1;
        }
        const char *end = strstr(p, "\n" END_MARK "\n");
        const char *next = strstr(eol, "\n" BEGIN_MARK);
        if (!end || (next && next < end)) {
            fprintf(stderr, "%s:%d: keys block '%s' has no '%s' line\n", path, line, section,
                    END_MARK);
            return -1;
        }
        char *fresh = NULL;
        size_t fresh_len = 0;
        FILE *m = open_memstream(&fresh, &fresh_len);
        if (!m || keys_roff(m, section) < 0) {
            fprintf(stderr, "%s:%d: no key table '%s'\n", path, line, section);
            if (m)
                fclose(m);
            free(fresh);
            return -1;
        }
        fclose(m);
        const char *old = eol + 1;
        size_t old_len = (size_t)(end + 1 - old);
        if (old_len != fresh_len || memcmp(old, fresh, old_len) != 0) {
            if (!quiet)
                fprintf(stderr, "%s:%d: the '%s' key list differs from src/tui/keys.c\n", path,
                        line, section);
            (*stale)++;
        }
        fwrite(fresh, 1, fresh_len, out);
        free(fresh);
        (*blocks)++;
        for (const char *c = p; c < end + 1; c++)
            line += *c == '\n';
        p = end + 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "--update") && strcmp(argv[1], "--check"))) {
        fprintf(stderr, "usage: tvm-keys-roff --update|--check PAGE\n");
        return 2;
    }
    const char *path = argv[2];
    char *page = NULL;
    size_t page_len;
    struct cmd_ctx ctx = {0}; /* a path, never stdin: no batch to share it with */
    if (cmd_read_input(&ctx, path, &page, &page_len) < 0) {
        fprintf(stderr, "%s\n", err_msg());
        return 2;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    int blocks = 0, stale = 0;
    bool update = !strcmp(argv[1], "--update");
    int rc = out && regenerate(path, page, out, update, &blocks, &stale) == 0 ? 0 : 2;
    if (out)
        fclose(out);
    if (rc == 0 && !blocks) {
        fprintf(stderr, "%s: no keys blocks\n", path);
        rc = 2;
    }
    if (rc == 0 && update && stale) {
        FILE *f = fopen(path, "we");
        if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
            perror(path);
            rc = 2;
        }
    } else if (rc == 0 && stale) {
        fprintf(stderr, "%s: run 'cmake --build build --target man-keys'\n", path);
        rc = 1;
    }
    free(text);
    free(page);
    return rc;
}
