/* Batch scripts: one command per logical line, run through the same
 * table as one-shot verbs. Errors are reported as FILE:LINE: message with
 * the line where the command started, so continued lines point at the
 * command the user wrote. Syntax is described in tvm-batch(5).
 */
#include "core/cmd/cmd.h"
#include "core/base/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct batch {
    FILE *in;
    const char *name; /* as shown in messages */
    long line;        /* physical lines read so far */
    char *text;       /* the logical line being assembled */
    size_t len, cap;
};

static int batch_append(struct batch *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->text, cap);
        if (!p)
            return err_set("out of memory");
        b->text = p;
        b->cap = cap;
    }
    memcpy(b->text + b->len, s, n);
    b->len += n;
    b->text[b->len] = '\0';
    return 0;
}

/* Reads the next logical line into b->text. Returns 1 with *start set to
 * its first physical line, 0 at end of file, -1 on a read error. A quote or
 * continuation still open at end of file is left for the splitter to report. */
static int batch_next(struct batch *b, long *start)
{
    char *buf = NULL;
    size_t bufcap = 0;
    ssize_t n;
    b->len = 0;
    if (b->text)
        b->text[0] = '\0';
    *start = b->line + 1;
    int got = 0;
    errno = 0;
    while ((n = getline(&buf, &bufcap, b->in)) >= 0) {
        b->line++;
        got = 1;
        /* Editors on other systems start UTF-8 files with a byte order
         * mark; it is not part of the first command. */
        size_t skip = b->line == 1 && n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
        if (batch_append(b, buf + skip, (size_t)n - skip) < 0) {
            free(buf);
            return -1;
        }
        if (cmd_words_complete(b->text))
            break;
    }
    free(buf);
    if (n < 0 && ferror(b->in))
        return err_errno("%s: read error", b->name);
    return got;
}

static void batch_report(const struct batch *b, long line, FILE *out)
{
    fflush(out);
    fprintf(stderr, "%s:%ld: %s\n", b->name, line, err_msg());
    fflush(stderr);
}

int cmd_run_batch(struct cmd_ctx *ctx, const char *path, bool keep_going)
{
    struct batch b = {.name = path};
    bool from_stdin = strcmp(path, "-") == 0;
    if (from_stdin) {
        b.in = stdin;
        b.name = "<stdin>";
    } else if (!(b.in = fopen(path, "r"))) {
        err_errno("cannot open batch file '%s'", path);
        fprintf(stderr, "tvm: %s\n", err_msg());
        return CMD_ERROR;
    } else {
        /* fopen() opens a directory too; reading it then fails at "line 0". */
        struct stat sb;
        if (fstat(fileno(b.in), &sb) == 0 && S_ISDIR(sb.st_mode)) {
            fclose(b.in);
            fprintf(stderr, "tvm: cannot read batch file '%s': it is a directory\n", path);
            return CMD_ERROR;
        }
    }
    bool was_busy = ctx->stdin_busy;
    ctx->stdin_busy = ctx->stdin_busy || from_stdin;

    int worst = CMD_OK;
    long start;
    int more;
    while ((more = batch_next(&b, &start)) > 0) {
        enum cmd_result r = cmd_run_line(ctx, b.text);
        if (r == CMD_OK)
            continue;
        batch_report(&b, start, ctx->out);
        if ((int)r > worst)
            worst = r;
        if (!keep_going)
            break;
    }
    if (more < 0) {
        batch_report(&b, b.line, ctx->out);
        worst = CMD_ERROR;
    }
    ctx->stdin_busy = was_busy;
    free(b.text);
    if (!from_stdin)
        fclose(b.in);
    return worst;
}
