/* The console socket through real unix sockets and the VMM's real event
 * loop: backlog and fan-out to every reader, one writer at a time with
 * promotion, the log file and its rotation, and slow readers dropped. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "console.h"
#include "core/base/err.h"
#include "core/proto/vmm-protocol.h"

static struct loop *loop;
static char dir[64], sock[96], logp[96];

/* What the "UART" received from the writer. */
static char input[4096];
static size_t input_len;

static void on_input(void *opaque, const uint8_t *buf, size_t len)
{
    assert_ptr_equal(opaque, input);
    assert_true(input_len + len < sizeof(input));
    memcpy(input + input_len, buf, len);
    input_len += len;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "/tmp/vmm-test-console-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(sock, sizeof(sock), "%s/console.sock", dir);
    snprintf(logp, sizeof(logp), "%s/console.log", dir);
    input_len = 0;
    loop = loop_new();
    if (!loop || console_init(loop, sock, logp) < 0)
        return -1;
    console_set_input_handler(on_input, input);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    console_close();
    loop_free(loop);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pump(int rounds)
{
    for (int i = 0; i < rounds; i++)
        assert_int_equal(loop_run_once(loop, 5), 0);
}

static int connect_console(void)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    pump(3);
    return fd;
}

static void out(const char *s)
{
    console_guest_output((const uint8_t *)s, strlen(s));
}

/* Read exactly n bytes (pumping the loop), or fail after a timeout. */
static void expect_bytes(int fd, const void *want, size_t n)
{
    char *got = malloc(n + 1);
    size_t have = 0;
    double end = now() + 5;
    while (have < n && now() < end) {
        pump(1);
        ssize_t r = recv(fd, got + have, n - have, MSG_DONTWAIT);
        if (r == 0)
            break;
        if (r > 0)
            have += (size_t)r;
    }
    if (have != n)
        fail_msg("got %zu of %zu bytes", have, n);
    assert_memory_equal(got, want, n);
    free(got);
}

static void expect_text(int fd, const char *s)
{
    expect_bytes(fd, s, strlen(s));
}

static void expect_nothing(int fd)
{
    pump(5);
    char c;
    assert_int_equal(recv(fd, &c, 1, MSG_DONTWAIT), -1);
    assert_int_equal(errno, EAGAIN);
}

static void send_text(int fd, const char *s)
{
    assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
    pump(3);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 65536 > cap) {
            cap = cap ? cap * 2 : 65536 * 2;
            buf = realloc(buf, cap + 1);
        }
        size_t r = fread(buf + *len, 1, 65536, f);
        *len += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[*len] = 0;
    return buf;
}

static void test_readers_get_backlog_and_output(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat(sock, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    out("boot banner\r\n");
    pump(3);
    int a = connect_console();
    expect_text(a, "boot banner\r\n");
    out("login: ");
    expect_text(a, "login: ");
    int b = connect_console();
    expect_text(b, "boot banner\r\nlogin: ");
    out("more");
    expect_text(a, "more");
    expect_text(b, "more");
    expect_nothing(a);
    close(a);
    close(b);
}

static void test_only_first_client_writes_then_promotion(void **state)
{
    (void)state;
    int a = connect_console();
    int b = connect_console();
    int c = connect_console();
    send_text(b, "from-b");
    send_text(a, "from-a");
    send_text(c, "from-c");
    assert_int_equal(input_len, 6);
    assert_memory_equal(input, "from-a", 6);
    /* The writer leaves: the oldest remaining client (b) takes over. */
    close(a);
    pump(3);
    send_text(c, "c-again");
    send_text(b, "b-now");
    assert_int_equal(input_len, 11);
    assert_memory_equal(input, "from-ab-now", 11);
    close(b);
    pump(3);
    send_text(c, "!");
    assert_int_equal(input_len, 12);
    assert_int_equal(input[11], '!');
    close(c);
    /* With nobody connected, the next client is the writer at once. */
    pump(3);
    int d = connect_console();
    send_text(d, "d");
    assert_int_equal(input_len, 13);
    close(d);
}

static void test_backlog_is_bounded(void **state)
{
    (void)state;
    size_t n = VMM_CONSOLE_BACKLOG + 10000;
    uint8_t *buf = malloc(n);
    for (size_t i = 0; i < n; i++)
        buf[i] = (uint8_t)(i * 7 + i / 251);
    console_guest_output(buf, n);
    pump(3);
    int a = connect_console();
    expect_bytes(a, buf + n - VMM_CONSOLE_BACKLOG, VMM_CONSOLE_BACKLOG);
    expect_nothing(a);
    free(buf);
    close(a);
}

static void *vcpu_thread(void *arg)
{
    (void)arg;
    /* A UART emits byte by byte. */
    const char *s = "TVM-GUEST-UP cpus=1\r\n";
    for (const char *p = s; *p; p++)
        console_guest_output((const uint8_t *)p, 1);
    return NULL;
}

static void test_output_from_other_thread_and_log(void **state)
{
    (void)state;
    out("early\n"); /* before any client: only the log and backlog see it */
    int a = connect_console();
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, vcpu_thread, NULL), 0);
    pthread_join(t, NULL);
    expect_text(a, "early\nTVM-GUEST-UP cpus=1\r\n");
    out("last words");
    console_close(); /* flushes what is queued into the log */
    size_t len;
    char *log = slurp(logp, &len);
    assert_non_null(log);
    assert_string_equal(log, "early\nTVM-GUEST-UP cpus=1\r\nlast words");
    free(log);
    assert_int_equal(access(sock, F_OK), -1); /* socket removed */
    close(a);
    /* Restarting truncates the log. */
    assert_int_equal(console_init(loop, sock, logp), 0);
    out("second run\n");
    pump(3);
    log = slurp(logp, &len);
    assert_string_equal(log, "second run\n");
    free(log);
}

static void test_log_rotates(void **state)
{
    (void)state;
    size_t chunk = 256 * 1024;
    char *buf = malloc(chunk);
    memset(buf, 'x', chunk);
    for (size_t done = 0; done < CONSOLE_LOG_MAX + chunk; done += chunk) {
        console_guest_output((uint8_t *)buf, chunk);
        pump(2);
    }
    out("tail");
    pump(3);
    char old[160];
    snprintf(old, sizeof(old), "%s.old", logp);
    struct stat st_old, st_cur;
    assert_int_equal(stat(old, &st_old), 0);
    assert_int_equal(stat(logp, &st_cur), 0);
    assert_true(st_old.st_size <= CONSOLE_LOG_MAX && st_old.st_size > CONSOLE_LOG_MAX / 2);
    assert_true(st_cur.st_size < CONSOLE_LOG_MAX);
    assert_int_equal(st_old.st_size + st_cur.st_size, CONSOLE_LOG_MAX + chunk + 4);
    free(buf);
}

/* Rotation works on the descriptors opened at start-up alone: a sandboxed
 * tvm-vmm may not reach the log's directory (root owns it, landlock hides
 * it). Here the directory is moved away, so no path to the log works. */
static void test_log_rotates_without_its_directory(void **state)
{
    (void)state;
    char moved[96];
    snprintf(moved, sizeof moved, "%s-moved", dir);
    assert_int_equal(rename(dir, moved), 0);
    size_t chunk = 256 * 1024;
    char *buf = malloc(chunk);
    memset(buf, 'z', chunk);
    for (size_t done = 0; done < CONSOLE_LOG_MAX + chunk; done += chunk) {
        console_guest_output((uint8_t *)buf, chunk);
        pump(2);
    }
    out("after rotation");
    pump(3);
    free(buf);
    char old[160], cur[160];
    snprintf(old, sizeof old, "%s/console.log.old", moved);
    snprintf(cur, sizeof cur, "%s/console.log", moved);
    struct stat st_old;
    assert_int_equal(stat(old, &st_old), 0);
    assert_true(st_old.st_size > CONSOLE_LOG_MAX / 2 && st_old.st_size <= CONSOLE_LOG_MAX);
    size_t len;
    char *log = slurp(cur, &len);
    assert_true(len < CONSOLE_LOG_MAX);
    assert_non_null(strstr(log, "after rotation"));
    free(log);
    assert_int_equal(rename(moved, dir), 0);
}

static void test_slow_reader_dropped(void **state)
{
    (void)state;
    int slow = connect_console();
    int fast = connect_console();
    char *buf = malloc(64 * 1024), sink[65536];
    memset(buf, 'y', 64 * 1024);
    for (int i = 0; i < 64; i++) { /* 4 MiB */
        console_guest_output((uint8_t *)buf, 64 * 1024);
        for (int k = 0; k < 4; k++) {
            pump(1);
            while (recv(fast, sink, sizeof(sink), MSG_DONTWAIT) > 0)
                ;
        }
    }
    double end = now() + 10;
    ssize_t r;
    while ((r = recv(slow, sink, sizeof(sink), MSG_DONTWAIT)) != 0 && now() < end)
        pump(1);
    assert_int_equal(r, 0); /* EOF: dropped */
    while (recv(fast, sink, sizeof(sink), MSG_DONTWAIT) > 0)
        ;
    out("still here");
    expect_text(fast, "still here");
    /* The slow reader was the writer; the fast one took over. */
    send_text(fast, "k");
    assert_int_equal(input_len, 1);
    free(buf);
    close(slow);
    close(fast);
}

static void test_no_socket_log_only(void **state)
{
    (void)state;
    console_close();
    assert_int_equal(console_init(loop, NULL, logp), 0);
    out("log only");
    pump(3);
    size_t len;
    char *log = slurp(logp, &len);
    assert_string_equal(log, "log only");
    free(log);
    /* A bad log path is a clear error. */
    console_close();
    assert_int_equal(console_init(loop, sock, "/nonexistent/dir/console.log"), -1);
    assert_non_null(strstr(err_msg(), "/nonexistent/dir/console.log"));
    assert_int_equal(access(sock, F_OK), -1);
    assert_int_equal(console_init(loop, sock, logp), 0);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_readers_get_backlog_and_output),
        T(test_only_first_client_writes_then_promotion),
        T(test_backlog_is_bounded),
        T(test_output_from_other_thread_and_log),
        T(test_log_rotates),
        T(test_log_rotates_without_its_directory),
        T(test_slow_reader_dropped),
        T(test_no_socket_log_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
