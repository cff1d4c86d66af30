/* Shell-like word splitting for command lines and batch scripts.
 *
 * The rules are a small subset of POSIX sh, enough to quote paths and
 * descriptions: blanks separate words; '#' at the start of a word starts a
 * comment to the end of the line; 'single quotes' are literal; "double
 * quotes" honour \" \\ \$ \` and backslash-newline; outside quotes a
 * backslash takes the next character literally and backslash-newline joins
 * lines. Nothing is expanded: '$' is just a character.
 */
#include "core/cmd/cmd.h"
#include "core/base/err.h"

#include <stdlib.h>
#include <string.h>

enum scan_status {
    SCAN_OK,
    SCAN_OPEN_SINGLE,
    SCAN_OPEN_DOUBLE,
    SCAN_CONTINUED, /* ends with backslash-newline or a lone backslash */
};

struct word_list {
    char **argv;
    int argc, cap;
    char *cur; /* the word being built */
    size_t len, cur_cap;
    bool in_word;
    bool oom;
};

static void word_putc(struct word_list *w, char c)
{
    if (!w || w->oom)
        return;
    w->in_word = true;
    if (w->len + 2 > w->cur_cap) {
        size_t cap = w->cur_cap ? w->cur_cap * 2 : 32;
        char *p = realloc(w->cur, cap);
        if (!p) {
            w->oom = true;
            return;
        }
        w->cur = p;
        w->cur_cap = cap;
    }
    w->cur[w->len++] = c;
    w->cur[w->len] = '\0';
}

/* A quoted empty string is still a word: make sure it has a buffer. */
static void word_start(struct word_list *w)
{
    if (!w || w->oom)
        return;
    if (!w->cur) {
        w->cur = calloc(1, 32);
        if (!w->cur) {
            w->oom = true;
            return;
        }
        w->cur_cap = 32;
        w->len = 0;
    }
    w->in_word = true;
}

static void word_end(struct word_list *w)
{
    if (!w || w->oom || !w->in_word)
        return;
    if (w->argc + 2 > w->cap) {
        int cap = w->cap ? w->cap * 2 : 8;
        char **p = realloc(w->argv, (size_t)cap * sizeof(*p));
        if (!p) {
            w->oom = true;
            return;
        }
        w->argv = p;
        w->cap = cap;
    }
    w->argv[w->argc++] = w->cur;
    w->argv[w->argc] = NULL;
    w->cur = NULL;
    w->len = w->cur_cap = 0;
    w->in_word = false;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Walks s once; fills w when it is not NULL. */
static enum scan_status words_scan(const char *s, struct word_list *w)
{
    bool started = false; /* a word is open (even an empty quoted one) */
    for (const char *p = s; *p;) {
        char c = *p;
        if (is_blank(c)) {
            if (started)
                word_end(w);
            started = false;
            p++;
        } else if (c == '#' && !started) {
            while (*p && *p != '\n')
                p++;
        } else if (c == '\\') {
            if (p[1] == '\0')
                return SCAN_CONTINUED;
            if (p[1] == '\n') {
                if (p[2] == '\0')
                    return SCAN_CONTINUED;
                p += 2;
                continue;
            }
            started = true;
            word_putc(w, p[1]);
            p += 2;
        } else if (c == '\'') {
            started = true;
            word_start(w);
            const char *end = strchr(p + 1, '\'');
            if (!end)
                return SCAN_OPEN_SINGLE;
            for (p++; p < end; p++)
                word_putc(w, *p);
            p = end + 1;
        } else if (c == '"') {
            started = true;
            word_start(w);
            for (p++;; p++) {
                if (*p == '\0')
                    return SCAN_OPEN_DOUBLE;
                if (*p == '"')
                    break;
                if (*p == '\\' && p[1] == '\n') {
                    p++;
                    continue;
                }
                if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
                    p++;
                word_putc(w, *p);
            }
            p++;
        } else {
            started = true;
            word_putc(w, c);
            p++;
        }
    }
    if (started)
        word_end(w);
    return SCAN_OK;
}

bool cmd_words_complete(const char *text)
{
    return words_scan(text, NULL) == SCAN_OK;
}

int cmd_split_words(const char *line, char ***argv)
{
    struct word_list w = {0};
    enum scan_status st = words_scan(line, &w);
    if (w.oom || st != SCAN_OK) {
        free(w.cur);
        cmd_free_words(w.argc, w.argv);
        *argv = NULL;
        if (w.oom)
            return err_set("out of memory");
        if (st == SCAN_CONTINUED)
            return err_set("backslash at end of input");
        return err_set("unterminated %s quote", st == SCAN_OPEN_SINGLE ? "single" : "double");
    }
    if (!w.argv) {
        w.argv = calloc(1, sizeof(*w.argv));
        if (!w.argv)
            return err_set("out of memory");
    }
    *argv = w.argv;
    return w.argc;
}

void cmd_free_words(int argc, char **argv)
{
    if (!argv)
        return;
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    free(argv);
}
