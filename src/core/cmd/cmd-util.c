/* Helpers shared by the inventory verbs. */
#include "core/cmd/cmd-util.h"
#include "core/model/domain.h"
#include "core/base/err.h"
#include "core/xml/xml-util.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <errno.h>
#include <locale.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

const char *cmd_input_origin(const char *path)
{
    return strcmp(path, "-") == 0 ? "<stdin>" : path;
}

static int read_stream(FILE *f, const char *origin, char **buf, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    if (!p)
        return err_set("out of memory");
    for (;;) {
        if (n + 1 >= cap) {
            char *q = realloc(p, cap * 2);
            if (!q) {
                free(p);
                return err_set("out of memory");
            }
            p = q;
            cap *= 2;
        }
        size_t got = fread(p + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(p);
        return err_errno("failed to read '%s'", origin);
    }
    p[n] = '\0';
    *buf = p;
    *len = n;
    return 0;
}

int cmd_read_input(struct cmd_ctx *ctx, const char *path, char **buf, size_t *len)
{
    if (strcmp(path, "-") == 0) {
        if (ctx->stdin_busy)
            return err_set("cannot read XML from stdin: it carries the batch script");
        return read_stream(stdin, "<stdin>", buf, len);
    }
    FILE *f = fopen(path, "r");
    if (!f)
        return err_errno("Failed to open file '%s'", path);
    int rc = read_stream(f, path, buf, len);
    fclose(f);
    return rc;
}

/* ---- tables ---- */

struct cmd_tbl {
    int ncols;
    char **cells; /* row-major, header first */
    size_t nrows, cap;
};

static int tbl_push_row(struct cmd_tbl *t, va_list ap)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        char **p = realloc(t->cells, cap * (size_t)t->ncols * sizeof(*p));
        if (!p)
            return -1;
        t->cells = p;
        t->cap = cap;
    }
    char **row = t->cells + t->nrows * (size_t)t->ncols;
    for (int i = 0; i < t->ncols; i++) {
        const char *s = va_arg(ap, const char *);
        row[i] = strdup(s ? s : "");
    }
    t->nrows++;
    return 0;
}

struct cmd_tbl *cmd_tbl_new(int ncols, ...)
{
    struct cmd_tbl *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->ncols = ncols;
    va_list ap;
    va_start(ap, ncols);
    tbl_push_row(t, ap);
    va_end(ap);
    return t;
}

void cmd_tbl_add(struct cmd_tbl *t, ...)
{
    va_list ap;
    va_start(ap, t);
    tbl_push_row(t, ap);
    va_end(ap);
}

/* Terminal columns of a UTF-8 string, as virsh counts them (wcwidth: wide
 * CJK characters take two, combining marks none), in C.UTF-8 whatever the
 * user's locale, so a script's output does not depend on LANG. A byte that
 * is not UTF-8, or a character without a width, counts as one column. */
static locale_t utf8;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_open(void)
{
    utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
}

static int text_width(const char *s)
{
    pthread_once(&utf8_once, utf8_open);
    locale_t saved = utf8 ? uselocale(utf8) : (locale_t)0;
    int w = 0;
    mbstate_t st = {0};
    size_t left = s ? strlen(s) : 0;
    while (left > 0) {
        wchar_t wc;
        size_t n = utf8 ? mbrtowc(&wc, s, left, &st) : (size_t)-1;
        if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
            memset(&st, 0, sizeof(st));
            n = 1;
            w++;
        } else {
            int cw = wcwidth(wc);
            w += cw < 0 ? 1 : cw;
        }
        s += n;
        left -= n;
    }
    if (utf8)
        uselocale(saved);
    return w;
}

/* As virsh's vshTable: a leading blank, cells padded to the column width
 * and three blanks apart, the last cell unpadded (so an empty last cell
 * leaves the separator's blanks, exactly as virsh prints them). */
static void tbl_print_row(const struct cmd_tbl *t, char **row, const int *width, FILE *out)
{
    fputc(' ', out);
    for (int i = 0; i < t->ncols; i++) {
        const char *cell = row[i] ? row[i] : "";
        if (i == t->ncols - 1) {
            fputs(cell, out);
            break;
        }
        int pad = width[i] - text_width(cell);
        fprintf(out, "%s%*s   ", cell, pad > 0 ? pad : 0, "");
    }
    fputc('\n', out);
}

void cmd_tbl_print(struct cmd_tbl *t, FILE *out)
{
    if (!t)
        return;
    int width[32] = {0}, total = 0;
    for (size_t r = 0; r < t->nrows; r++)
        for (int c = 0; c < t->ncols && c < 32; c++) {
            int w = text_width(t->cells[r * (size_t)t->ncols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (int c = 0; c < t->ncols; c++)
        total += width[c] + 3;
    tbl_print_row(t, t->cells, width, out);
    for (int i = 0; i < total; i++)
        fputc('-', out);
    fputc('\n', out);
    for (size_t r = 1; r < t->nrows; r++)
        tbl_print_row(t, t->cells + r * (size_t)t->ncols, width, out);
    fputc('\n', out);
}

void cmd_tbl_free(struct cmd_tbl *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->nrows * (size_t)t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

void cmd_print_xml(FILE *out, const char *xml)
{
    size_t n = strlen(xml);
    fprintf(out, "%s%s\n", xml, n > 0 && xml[n - 1] == '\n' ? "" : "\n");
}

int cmd_print_xml_selected(FILE *out, const struct cmd_args *args, const char *xml)
{
    const char *expr = cmd_get(args, "xpath");
    if (!expr) {
        cmd_print_xml(out, xml);
        return 0;
    }
    char *nodes = xml_xpath_dump(xml, expr, cmd_has(args, "wrap"));
    if (!nodes)
        return -1;
    fprintf(out, "%s\n", nodes);
    free(nodes);
    return 0;
}

const char *cmd_format_size(uint64_t bytes, char *buf, size_t len)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double v = (double)bytes;
    size_t u = 0;
    while (v >= 1024.0 && u + 1 < sizeof(units) / sizeof(units[0])) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, len, "%.2f %s", v, units[u]);
    return buf;
}

/* ---- domains ---- */

static int load_stored(struct store *st, const char *name, struct domain **d)
{
    char *xml;
    if (store_domain_get_xml(st, name, &xml) < 0)
        return -1;
    int rc = domain_parse(xml, strlen(xml), name, d);
    free(xml);
    if (rc < 0)
        err_prefix("stored definition of domain '%s': ", name);
    return rc;
}

int cmd_domain_load(struct cmd_ctx *ctx, const char *name, struct store_domain_row *row,
                    struct domain **d)
{
    struct store *st = cmd_store(ctx);
    if (!st)
        return -1;
    struct store_domain_row tmp;
    cmd_reconcile(ctx);
    if (store_domain_get_row(st, name, row ? row : &tmp) < 0)
        return -1;
    return d ? load_stored(st, name, d) : 0;
}

int cmd_domain_load_view(struct cmd_ctx *ctx, const char *name, bool inactive,
                         struct store_domain_row *row, struct domain **d)
{
    struct store_domain_row tmp;
    if (!row)
        row = &tmp;
    if (cmd_domain_load(ctx, name, row, NULL) < 0)
        return -1;
    if (!inactive && cmd_domain_is_active(row)) {
        if (vm_live_view(row->uuid, d) == 0)
            return 0;
        /* Gone since we looked: its stored definition is all there is now. */
        if (cmd_domain_is_active(row))
            return err_prefix("live definition of domain '%s': ", row->name);
        err_clear();
    }
    return load_stored(ctx->store, name, d);
}

void cmd_reconcile(struct cmd_ctx *ctx)
{
    struct store *st = cmd_store(ctx);
    if (!st)
        return; /* the caller meets the same error and reports it */
    if (vm_reconcile(st) < 0) {
        fprintf(stderr, "tvm: warning: %s\n", err_msg());
        err_clear();
    }
}

bool cmd_domain_is_active(const struct store_domain_row *row)
{
    /* The run directory is the truth (vm.h); the state column may lag. */
    return vm_is_active(row->uuid);
}

int cmd_affect_resolve(const struct store_domain_row *row, bool *live, bool *config)
{
    bool active = cmd_domain_is_active(row);
    if (!*live && !*config) {
        *live = active;
        *config = !active;
    }
    return *live && !active ? err_set(VM_ERR_NOT_RUNNING) : 0;
}

/* virsh's filters combine: the state (--all, --inactive), then --autostart
 * or --no-autostart, then --persistent or --transient (every network and
 * pool tvm knows is persistent: it has no transient ones). */
bool cmd_object_wanted(const struct cmd_args *args, const struct store_object_row *r)
{
    if (cmd_has(args, "autostart") && !r->autostart)
        return false;
    if (cmd_has(args, "no-autostart") && r->autostart)
        return false;
    if (cmd_has(args, "transient") && !cmd_has(args, "persistent"))
        return false;
    if (cmd_has(args, "all"))
        return true;
    if (cmd_has(args, "inactive"))
        return !r->active;
    return r->active;
}
