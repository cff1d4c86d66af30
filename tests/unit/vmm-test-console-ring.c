/* The console's queue between the guest's vCPUs and the loop costs work in
 * proportion to the bytes that pass, not to the queue's size: a full
 * megabyte of pending output is handed out without shifting the queue
 * (memmove is counted by defining it here, ahead of the C library's),
 * and a guest that keeps overrunning the queue does not make every write
 * shift it either. The bytes still come out in order, newest kept.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "console.h"
#include "core/base/err.h"

static size_t moved;

/* volatile: the compiler must not turn this loop back into memmove(). */
void *memmove(void *dst, const void *src, size_t n)
{
    volatile unsigned char *d = dst;
    const volatile unsigned char *s = src;
    moved += n;
    if (d < s) {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    } else {
        for (size_t i = n; i > 0; i--)
            d[i - 1] = s[i - 1];
    }
    return dst;
}

struct h {
    struct loop *loop;
    struct console *con;
    char dir[64], log[96];
};

static int setup(void **state)
{
    static struct h h;
    memset(&h, 0, sizeof h);
    snprintf(h.dir, sizeof h.dir, "/tmp/vmm-console-ring-XXXXXX");
    assert_non_null(mkdtemp(h.dir));
    snprintf(h.log, sizeof h.log, "%s/console.log", h.dir);
    h.loop = loop_new();
    assert_non_null(h.loop);
    h.con = console_new(h.loop, NULL, h.log);
    if (!h.con)
        fail_msg("console_new: %s", err_msg());
    *state = &h;
    return 0;
}

static int teardown(void **state)
{
    struct h *h = *state;
    console_free(h->con);
    loop_free(h->loop);
    unlink(h->log);
    rmdir(h->dir);
    return 0;
}

static void run_loop(struct h *h)
{
    for (int i = 0; i < 4; i++)
        assert_int_equal(loop_run_once(h->loop, 0), 0);
}

static uint8_t *pattern(size_t n, unsigned seed)
{
    uint8_t *p = malloc(n);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(i * 7 + seed + i / 251);
    return p;
}

/* The log holds exactly WANT. */
static void log_is(struct h *h, const uint8_t *want, size_t n)
{
    int fd = open(h->log, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal((size_t)st.st_size, n);
    uint8_t *got = malloc(n);
    assert_non_null(got);
    assert_int_equal(read(fd, got, n), (ssize_t)n);
    close(fd);
    assert_memory_equal(got, want, n);
    free(got);
}

static void test_full_queue_drained_without_shifting(void **state)
{
    struct h *h = *state;
    uint8_t *p = pattern(CONSOLE_PENDING_MAX, 1);
    moved = 0;
    console_output(h->con, p, CONSOLE_PENDING_MAX);
    run_loop(h);
    /* was ~8 MiB: the queue shifted down after every 64 KiB chunk */
    assert_true(moved <= 4096);
    log_is(h, p, CONSOLE_PENDING_MAX);
    free(p);
}

static void test_overrun_keeps_newest_without_shifting(void **state)
{
    struct h *h = *state;
    size_t step = 4096, n = CONSOLE_PENDING_MAX + 64 * step;
    uint8_t *p = pattern(n, 2);
    moved = 0;
    /* The loop does not run: the guest overruns the queue page by page. */
    for (size_t off = 0; off < n; off += step)
        console_output(h->con, p + off, step);
    run_loop(h);
    /* was ~64 MiB: every write past the limit shifted the whole queue */
    assert_true(moved <= 4096);
    log_is(h, p + n - CONSOLE_PENDING_MAX, CONSOLE_PENDING_MAX);
    free(p);
}

static void test_wraps_in_order(void **state)
{
    struct h *h = *state;
    size_t total = 3 * CONSOLE_PENDING_MAX + 12345, done = 0;
    uint8_t *p = pattern(total, 3);
    /* odd-sized bursts, drained in between, so the queue wraps often */
    while (done < total) {
        size_t k = total - done < 300007 ? total - done : 300007;
        console_output(h->con, p + done, k);
        done += k;
        run_loop(h);
    }
    /* the log rotates past CONSOLE_LOG_MAX: its tail is the newest bytes */
    int fd = open(h->log, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_true(st.st_size > 0 && (size_t)st.st_size <= total);
    uint8_t *got = malloc((size_t)st.st_size);
    assert_non_null(got);
    assert_int_equal(read(fd, got, (size_t)st.st_size), st.st_size);
    close(fd);
    assert_memory_equal(got, p + total - (size_t)st.st_size, (size_t)st.st_size);
    free(got);
    free(p);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_full_queue_drained_without_shifting),
        T(test_overrun_keeps_newest_without_shifting),
        T(test_wraps_in_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
