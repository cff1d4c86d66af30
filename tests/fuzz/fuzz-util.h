/* Shared by the libFuzzer targets in tests/fuzz: a loud failure that names
 * the broken property (libFuzzer saves the input that caused it), and a
 * reader of input bytes for targets whose input is a script of decisions. */
#ifndef TVM_TESTS_FUZZ_UTIL_H
#define TVM_TESTS_FUZZ_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property that must hold for every input does not: abort, so libFuzzer
 * reports a crash and writes the input to crash-<sha1>. */
__attribute__((noreturn, format(printf, 1, 2))) static inline void fuzz_fail(const char *fmt, ...)
{
    /* To file descriptor 2 itself: the stderr stream may be muted. */
    va_list ap;
    va_start(ap, fmt);
    dprintf(2, "FUZZ PROPERTY BROKEN: ");
    vdprintf(2, fmt, ap);
    dprintf(2, "\n");
    va_end(ap);
    abort();
}

/* The input read as the answers to a generator's questions: below(n) is
 * the next answer in 0..n-1. An exhausted input answers 0, so every input,
 * however short, is a complete run (and a seeded generator's raw output is
 * a valid input: seeds are just its bytes). */
struct fuzz_in {
    const uint8_t *p;
    size_t left;
};

static inline uint64_t fuzz_bits(struct fuzz_in *in, unsigned bytes)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < bytes && in->left; i++, in->left--)
        v |= (uint64_t)*in->p++ << (8 * i);
    return v;
}

static inline uint64_t fuzz_below(struct fuzz_in *in, uint64_t n)
{
    if (n <= 1)
        return 0;
    unsigned bytes = n <= 0x100 ? 1 : n <= 0x10000 ? 2 : n <= 0x100000000ull ? 4 : 8;
    return fuzz_bits(in, bytes) % n;
}

static inline uint64_t fuzz_u64(struct fuzz_in *in)
{
    return fuzz_bits(in, 8);
}

static inline bool fuzz_done(const struct fuzz_in *in)
{
    return in->left == 0;
}

/* libFuzzer's -close_fd_mask does not cover stdio buffers; the code under
 * test writes its refusals to stderr by design (thousands of lines). Point
 * the stream at /dev/null unless FUZZ_LOUD is set: file descriptor 2 stays
 * open, so sanitizer and libFuzzer reports still reach the log. */
static inline void fuzz_mute_stderr(void)
{
    if (getenv("FUZZ_LOUD"))
        return;
    FILE *null = fopen("/dev/null", "we");
    if (null)
        stderr = null;
}

/* The open file descriptors, as a bitmap of the first 1024. */
struct fuzz_fds {
    uint64_t bits[16];
};

static inline void fuzz_fds_now(struct fuzz_fds *s)
{
    memset(s, 0, sizeof *s);
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        fuzz_fail("harness: cannot list /proc/self/fd");
    int own = dirfd(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        int fd = atoi(e->d_name);
        if (e->d_name[0] != '.' && fd != own && fd >= 0 && fd < 1024)
            s->bits[fd / 64] |= 1ull << (fd % 64);
    }
    closedir(d);
}

/* The lowest descriptor open now that was not in BEFORE, or -1. */
static inline int fuzz_fds_new(const struct fuzz_fds *before)
{
    struct fuzz_fds now;
    fuzz_fds_now(&now);
    for (int i = 0; i < 1024; i++)
        if ((now.bits[i / 64] & ~before->bits[i / 64]) >> (i % 64) & 1)
            return i;
    return -1;
}
#endif
