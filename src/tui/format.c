/* Display widths (so multibyte names do not break the columns) and sizes. */
#include "tui/format.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

/* Walk s until w columns are used; report bytes and columns. Invalid bytes count as one column. */
static void fit(const char *s, int w, size_t *bytes, int *cols)
{
    mbstate_t st;
    memset(&st, 0, sizeof(st));
    size_t i = 0, len = strlen(s);
    int used = 0;
    while (i < len) {
        wchar_t wc;
        size_t n = mbrtowc(&wc, s + i, len - i, &st);
        int cw = 1;
        if (n == (size_t)-1 || n == (size_t)-2) {
            memset(&st, 0, sizeof(st));
            n = 1;
        } else {
            cw = wcwidth(wc);
            if (cw < 0)
                cw = 1;
        }
        if (used + cw > w)
            break;
        used += cw;
        i += n;
    }
    *bytes = i;
    *cols = used;
}

int fmt_fit(const char *s, int w)
{
    size_t b;
    int c;
    fit(s, w, &b, &c);
    return c;
}

size_t fmt_fit_bytes(const char *s, int w)
{
    size_t b;
    int c;
    fit(s, w, &b, &c);
    return b;
}

void fmt_kib(char *buf, size_t len, uint64_t kib)
{
    if (kib >= 1024ull * 1024 * 1024)
        snprintf(buf, len, "%.1f TiB", (double)kib / (1024.0 * 1024 * 1024));
    else if (kib >= 1024 * 1024 && kib % (1024 * 1024) == 0)
        snprintf(buf, len, "%llu GiB", (unsigned long long)(kib / (1024 * 1024)));
    else if (kib >= 1024 * 1024)
        snprintf(buf, len, "%.1f GiB", (double)kib / (1024.0 * 1024));
    else if (kib >= 1024)
        snprintf(buf, len, "%llu MiB", (unsigned long long)(kib / 1024));
    else
        snprintf(buf, len, "%llu KiB", (unsigned long long)kib);
}

void fmt_count(char *buf, size_t len, unsigned long long n, const char *one, const char *many)
{
    snprintf(buf, len, "%llu %s", n, n == 1 ? one : many);
}
