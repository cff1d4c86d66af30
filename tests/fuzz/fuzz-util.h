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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A property that must hold for every input does not: abort, so libFuzzer
 * reports a crash and writes the input to crash-<sha1>. */
__attribute__((noreturn, format(printf, 1, 2))) static inline void fuzz_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FUZZ PROPERTY BROKEN: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
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

#endif
