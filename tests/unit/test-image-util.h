/* Helpers for the image-layer tests: a private temp dir, running qemu-img /
 * qemu-io as the oracle, and deterministic data patterns. Header-only so each
 * cmocka program stays one file. */
#ifndef TVM_TEST_IMAGE_UTIL_H
#define TVM_TEST_IMAGE_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tdir[256];

static inline int rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(p);
}

static inline void tdir_make(void)
{
    snprintf(tdir, sizeof(tdir), "/tmp/tvm-image-test-XXXXXX");
    if (!mkdtemp(tdir)) {
        perror("mkdtemp");
        abort();
    }
}

static inline void tdir_remove(void)
{
    if (tdir[0] && !getenv("TVM_KEEP_TEST_DIR"))
        nftw(tdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* cmocka fixtures: the test (or group) gets its private directory, removed after. */
static inline int tdir_setup(void **state)
{
    (void)state;
    tdir_make();
    return 0;
}

static inline int tdir_teardown(void **state)
{
    (void)state;
    tdir_remove();
    return 0;
}

/* "$tdir/name" in a rotating set of static inline buffers. */
static inline const char *tpath(const char *name)
{
    static char bufs[8][512];
    static int next;
    char *b = bufs[next++ % 8];
    snprintf(b, sizeof(bufs[0]), "%s/%s", tdir, name);
    return b;
}

/* Runs a shell command (printf-style) in tdir; returns its exit status. */
static inline int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int sh(const char *fmt, ...)
{
    char cmd[4096], full[4800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "cd '%s' && ( %s ) >>'%s/log' 2>&1", tdir, cmd, tdir);
    int st = system(full);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* Like sh() but returns the command's stdout (malloc'd). */
static inline char *sh_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *sh_out(const char *fmt, ...)
{
    char cmd[4096], full[4800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    snprintf(full, sizeof(full), "cd '%s' && ( %s ) 2>>'%s/log'", tdir, cmd, tdir);
    FILE *f = popen(full, "r");
    if (!f)
        return strdup("");
    size_t cap = 4096, n = 0;
    char *out = malloc(cap);
    size_t r;
    while ((r = fread(out + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap)
            out = realloc(out, cap *= 2);
    }
    out[n] = '\0';
    pclose(f);
    return out;
}

/* Deterministic, position-dependent bytes so misplaced data is caught. */
static inline void fill_pattern(uint8_t *buf, size_t len, uint64_t off, uint32_t seed)
{
    for (size_t i = 0; i < len; i++) {
        uint64_t x = (off + i) * 0x9e3779b97f4a7c15ull + seed;
        buf[i] = (uint8_t)(x >> 29);
    }
}

static inline int all_bytes(const uint8_t *buf, size_t len, uint8_t v)
{
    for (size_t i = 0; i < len; i++)
        if (buf[i] != v)
            return 0;
    return 1;
}

static inline void raw_pwrite(const char *path, const void *buf, size_t len, uint64_t off)
{
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    if (fd < 0 || pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
        abort();
    close(fd);
}

static inline void file_poke(const char *path, uint64_t off, const void *buf, size_t len)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0 || pwrite(fd, buf, len, (off_t)off) != (ssize_t)len)
        abort();
    close(fd);
}

static inline void file_peek(const char *path, uint64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0 || pread(fd, buf, len, (off_t)off) != (ssize_t)len)
        abort();
    close(fd);
}

static inline void poke_be64(const char *path, uint64_t off, uint64_t v)
{
    uint8_t b[8];
    for (int i = 7; i >= 0; i--, v >>= 8)
        b[i] = (uint8_t)v;
    file_poke(path, off, b, 8);
}

static inline void poke_be32(const char *path, uint64_t off, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    file_poke(path, off, b, 4);
}

static inline uint64_t peek_be64(const char *path, uint64_t off)
{
    uint8_t b[8];
    file_peek(path, off, b, 8);
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | b[i];
    return v;
}

/* sha256 of a file, for "the backing file did not change". */
static inline char *file_sum(const char *path)
{
    char *out = sh_out("sha256sum '%s' | cut -c1-64", path);
    return out;
}

#endif
