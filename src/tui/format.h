/* Text helpers for drawing: display widths of UTF-8 text and sizes. */
#ifndef TVM_TUI_FORMAT_H
#define TVM_TUI_FORMAT_H

#include <stddef.h>
#include <stdint.h>

/* Display columns used by the longest prefix of s that fits in w columns. */
int fmt_fit(const char *s, int w);
/* Bytes of that prefix. */
size_t fmt_fit_bytes(const char *s, int w);
/* "1 disk", "2 disks": N and the noun in the number N takes. */
void fmt_count(char *buf, size_t len, unsigned long long n, const char *one, const char *many);
/* "512 MiB", "1.5 GiB" from KiB. */
void fmt_kib(char *buf, size_t len, uint64_t kib);

#endif
