/* The QMP control server driven through real unix sockets and the VMM's
 * real event loop. The VM behind it is a recorder passed in struct
 * control_ops (the same interface main.c fills with the vm_* functions). */
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
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

#include "control.h"
#include "core/proto/qmp-client.h"
#include "core/base/err.h"

/* ---- the recorder VM ---- */

struct vm {
    enum vm_run_state state;
    int pauses, resumes, powerdowns, reboots, resets, quits;
    char quit_reason[32];
    bool fail_pause;
};

static struct vm fake;

static enum vm_run_state rec_run_state(struct vm *vm)
{
    return vm->state;
}

static int rec_pause(struct vm *vm)
{
    if (vm->fail_pause)
        return err_set("cannot pause: recorder says no");
    vm->pauses++;
    vm->state = VM_PAUSED;
    return 0;
}

static int rec_resume(struct vm *vm)
{
    vm->resumes++;
    vm->state = VM_RUNNING;
    return 0;
}

static int rec_powerdown(struct vm *vm, bool reboot)
{
    if (reboot)
        vm->reboots++;
    else
        vm->powerdowns++;
    return 0;
}

static int rec_reset(struct vm *vm)
{
    vm->resets++;
    return 0;
}

static int rec_quit(struct vm *vm, const char *reason)
{
    vm->quits++;
    snprintf(vm->quit_reason, sizeof(vm->quit_reason), "%s", reason);
    return 0;
}

static unsigned rec_vcpu_count(struct vm *vm)
{
    (void)vm;
    return 4;
}

static int rec_vcpu_info(struct vm *vm, unsigned i, int *thread_id, unsigned *apic_id)
{
    (void)vm;
    *thread_id = 1000 + (int)i;
    *apic_id = i;
    return 0;
}

static uint64_t rec_ram_size(struct vm *vm)
{
    (void)vm;
    return 512ULL << 20;
}

static const struct control_ops rec_ops = {
    .run_state = rec_run_state,
    .pause = rec_pause,
    .resume = rec_resume,
    .powerdown = rec_powerdown,
    .reset = rec_reset,
    .quit = rec_quit,
    .vcpu_count = rec_vcpu_count,
    .vcpu_info = rec_vcpu_info,
    .ram_size = rec_ram_size,
};

/* ---- harness ---- */

static struct loop *loop;
static char dir[64], sock[96];

static int setup(void **state)
{
    (void)state;
    memset(&fake, 0, sizeof(fake));
    fake.state = VM_RUNNING;
    snprintf(dir, sizeof(dir), "/tmp/vmm-test-control-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(sock, sizeof(sock), "%s/control.sock", dir);
    loop = loop_new();
    if (!loop)
        return -1;
    struct control_config cfg = {.name = "web1", .cores_per_socket = 2, .threads_per_core = 1};
    if (control_start(loop, &fake, &rec_ops, &cfg, sock) < 0) {
        fprintf(stderr, "control_start: %s\n", err_msg());
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    control_close();
    loop_free(loop);
    rmdir(dir);
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(const char *path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    return fd;
}

/* Per-fd receive buffers, so several clients can be read line by line. */
struct rbuf {
    int fd;
    char data[1 << 16];
    size_t len;
};
static struct rbuf rbufs[32];

static struct rbuf *rbuf_of(int fd)
{
    for (size_t i = 0; i < 32; i++)
        if (rbufs[i].fd == fd && rbufs[i].len)
            return &rbufs[i];
    for (size_t i = 0; i < 32; i++)
        if (rbufs[i].len == 0) {
            rbufs[i].fd = fd;
            return &rbufs[i];
        }
    fail_msg("out of receive buffers");
    return NULL;
}

/* Pump the loop until a full line arrives on fd; NULL on EOF or timeout.
 * The caller frees the line. */
static char *read_line_timeout(int fd, double timeout)
{
    struct rbuf *b = rbuf_of(fd);
    double end = now() + timeout;
    for (;;) {
        char *nl = memchr(b->data, '\n', b->len);
        if (nl) {
            size_t n = (size_t)(nl - b->data);
            char *line = strndup(b->data, n);
            memmove(b->data, nl + 1, b->len - n - 1);
            b->len -= n + 1;
            return line;
        }
        if (now() > end)
            return NULL;
        assert_int_equal(loop_run_once(loop, 10), 0);
        ssize_t r = recv(fd, b->data + b->len, sizeof(b->data) - b->len, MSG_DONTWAIT);
        if (r == 0)
            return NULL;
        if (r > 0)
            b->len += (size_t)r;
    }
}

static struct json_object *read_msg(int fd)
{
    char *line = read_line_timeout(fd, 5.0);
    assert_non_null(line);
    struct json_object *o = json_tokener_parse(line);
    if (!o)
        fail_msg("not JSON: %s", line);
    free(line);
    return o;
}

static void send_text(int fd, const char *text)
{
    size_t n = strlen(text);
    while (n > 0) {
        ssize_t w = send(fd, text, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno == EAGAIN) {
            loop_run_once(loop, 10);
            continue;
        }
        assert_true(w > 0);
        text += w;
        n -= (size_t)w;
    }
}

static struct json_object *get(struct json_object *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *k = strtok(buf, "."); k && o; k = strtok(NULL, "."))
        o = json_object_object_get_ex(o, k, &o) ? o : NULL;
    return o;
}

static const char *get_str(struct json_object *o, const char *path)
{
    struct json_object *v = get(o, path);
    if (!v)
        fail_msg("no %s in %s", path, json_object_to_json_string(o));
    return json_object_get_string(v);
}

/* Send a request, return the reply (events in between are skipped). */
static struct json_object *execute(int fd, const char *request)
{
    send_text(fd, request);
    send_text(fd, "\n");
    for (;;) {
        struct json_object *m = read_msg(fd);
        if (!get(m, "event"))
            return m;
        json_object_put(m);
    }
}

static void expect_error(int fd, const char *request, const char *cls, const char *desc_part)
{
    struct json_object *r = execute(fd, request);
    assert_string_equal(get_str(r, "error.class"), cls);
    if (!strstr(get_str(r, "error.desc"), desc_part))
        fail_msg("'%s' not in '%s'", desc_part, get_str(r, "error.desc"));
    json_object_put(r);
}

static void expect_return(int fd, const char *request)
{
    struct json_object *r = execute(fd, request);
    if (!get(r, "return"))
        fail_msg("%s -> %s", request, json_object_to_json_string(r));
    json_object_put(r);
}

/* Connect, check the greeting, negotiate. */
static int client(void)
{
    int fd = connect_to(sock);
    struct json_object *g = read_msg(fd);
    assert_non_null(get(g, "QMP.capabilities"));
    json_object_put(g);
    expect_return(fd, "{\"execute\": \"qmp_capabilities\"}");
    return fd;
}

/* ---- tests ---- */

static void test_greeting(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(stat(sock, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0600);
    int fd = connect_to(sock);
    char *line = read_line_timeout(fd, 5.0);
    assert_non_null(line);
    /* The exact text QEMU clients expect (layout included). */
    assert_string_equal(line,
                        "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 0, "
                        "\"major\": 0}, \"package\": \"tvm-vmm 0.1\"}, \"capabilities\": []}}");
    free(line);
    close(fd);
}

static void test_negotiation_required(void **state)
{
    (void)state;
    int fd = connect_to(sock);
    json_object_put(read_msg(fd));
    expect_error(fd, "{\"execute\": \"query-status\"}", "CommandNotFound",
                 "Expecting capabilities negotiation with 'qmp_capabilities'");
    expect_error(fd, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": [\"oob\"]}}",
                 "GenericError", "oob");
    expect_return(fd, "{\"execute\": \"qmp_capabilities\", \"arguments\": {\"enable\": []}}");
    expect_error(fd, "{\"execute\": \"qmp_capabilities\"}", "CommandNotFound", "already complete");
    expect_return(fd, "{\"execute\": \"query-status\"}");
    close(fd);
}

static void test_query_status_stop_cont(void **state)
{
    (void)state;
    int fd = client();
    struct json_object *r = execute(fd, "{\"execute\": \"query-status\"}");
    assert_string_equal(get_str(r, "return.status"), "running");
    assert_true(json_object_get_boolean(get(r, "return.running")));
    assert_false(json_object_get_boolean(get(r, "return.singlestep")));
    json_object_put(r);

    expect_return(fd, "{\"execute\": \"stop\"}");
    assert_int_equal(fake.pauses, 1);
    r = execute(fd, "{\"execute\": \"query-status\"}");
    assert_string_equal(get_str(r, "return.status"), "paused");
    assert_false(json_object_get_boolean(get(r, "return.running")));
    json_object_put(r);

    expect_return(fd, "{\"execute\": \"cont\"}");
    assert_int_equal(fake.resumes, 1);
    fake.state = VM_STOPPED;
    r = execute(fd, "{\"execute\": \"query-status\"}");
    assert_string_equal(get_str(r, "return.status"), "shutdown");
    json_object_put(r);
    fake.state = VM_SHUTTING_DOWN; /* on its way out */
    r = execute(fd, "{\"execute\": \"query-status\"}");
    assert_string_equal(get_str(r, "return.status"), "shutdown");
    assert_false(json_object_get_boolean(get(r, "return.running")));
    json_object_put(r);
    close(fd);
}

static void test_actions_and_errors_from_vm(void **state)
{
    (void)state;
    int fd = client();
    expect_return(fd, "{\"execute\": \"system_powerdown\"}");
    expect_return(fd, "{\"execute\": \"system_reset\"}");
    assert_int_equal(fake.powerdowns, 1);
    assert_int_equal(fake.resets, 1);
    assert_int_equal(fake.reboots, 0);
    expect_return(fd, "{\"execute\": \"x-system-reboot\"}");
    assert_int_equal(fake.reboots, 1);
    assert_int_equal(fake.powerdowns, 1);
    fake.fail_pause = true;
    expect_error(fd, "{\"execute\": \"stop\"}", "GenericError", "recorder says no");
    expect_error(fd, "{\"execute\": \"stop\", \"arguments\": {\"x\": 1}}", "GenericError",
                 "Parameter 'x' is unexpected");
    expect_error(fd, "{\"execute\": \"stop\", \"arguments\": [1]}", "GenericError",
                 "'arguments' must be an object");
    expect_error(fd, "{\"exec\": \"stop\"}", "GenericError", "'exec' is unexpected");
    expect_error(fd, "{\"arguments\": {}}", "GenericError", "lacks member 'execute'");
    expect_error(fd, "{\"execute\": 5}", "GenericError", "'execute' must be a string");
    expect_error(fd, "[1, 2]", "GenericError", "must be a JSON object");
    assert_int_equal(fake.pauses, 0);
    close(fd);
}

static void test_query_cpus_memory_name_version(void **state)
{
    (void)state;
    int fd = client();
    struct json_object *r = execute(fd, "{\"execute\": \"query-cpus-fast\"}");
    struct json_object *list = get(r, "return");
    assert_int_equal(json_object_array_length(list), 4);
    for (int i = 0; i < 4; i++) {
        struct json_object *cpu = json_object_array_get_idx(list, (size_t)i);
        char qom[64];
        snprintf(qom, sizeof(qom), "/machine/unattached/device[%d]", i);
        assert_int_equal(json_object_get_int(get(cpu, "cpu-index")), i);
        assert_int_equal(json_object_get_int(get(cpu, "thread-id")), 1000 + i);
        assert_string_equal(get_str(cpu, "qom-path"), qom);
        assert_string_equal(get_str(cpu, "target"), "x86_64");
        /* 2 cores per socket, 1 thread per core */
        assert_int_equal(json_object_get_int(get(cpu, "props.core-id")), i % 2);
        assert_int_equal(json_object_get_int(get(cpu, "props.socket-id")), i / 2);
        assert_int_equal(json_object_get_int(get(cpu, "props.thread-id")), 0);
    }
    json_object_put(r);

    r = execute(fd, "{\"execute\": \"query-memory-size-summary\"}");
    assert_int_equal(json_object_get_int64(get(r, "return.base-memory")), 512LL << 20);
    json_object_put(r);
    r = execute(fd, "{\"execute\": \"query-name\"}");
    assert_string_equal(get_str(r, "return.name"), "web1");
    json_object_put(r);
    r = execute(fd, "{\"execute\": \"query-version\"}");
    assert_string_equal(get_str(r, "return.package"), "tvm-vmm 0.1");
    assert_int_equal(json_object_get_int(get(r, "return.qemu.major")), 0);
    json_object_put(r);
    r = execute(fd, "{\"execute\": \"query-commands\"}");
    assert_true(json_object_array_length(get(r, "return")) >= 10);
    json_object_put(r);
    close(fd);
}

static void test_id_echoed(void **state)
{
    (void)state;
    int fd = client();
    struct json_object *r = execute(fd, "{\"execute\": \"query-status\", \"id\": 42}");
    assert_int_equal(json_object_get_int(get(r, "id")), 42);
    json_object_put(r);
    r = execute(fd, "{\"id\": {\"tag\": \"a/b\"}, \"execute\": \"nope\"}");
    assert_string_equal(get_str(r, "id.tag"), "a/b");
    assert_string_equal(get_str(r, "error.class"), "CommandNotFound");
    json_object_put(r);
    close(fd);
}

static void test_malformed_json_keeps_connection(void **state)
{
    (void)state;
    int fd = client();
    expect_error(fd, "{\"execute\": query-status}", "GenericError", "JSON parse error");
    expect_error(fd, "}}}", "GenericError", "JSON parse error");
    /* One request split over two writes, and two in one write. */
    send_text(fd, "{\"execute\":");
    struct json_object *r = execute(fd, " \"query-name\", \"id\": 1}");
    assert_string_equal(get_str(r, "return.name"), "web1");
    json_object_put(r);
    send_text(fd, "{\"execute\": \"query-name\", \"id\": 2}{\"execute\": \"query-status\", "
                  "\"id\": 3}\n");
    r = read_msg(fd);
    assert_int_equal(json_object_get_int(get(r, "id")), 2);
    json_object_put(r);
    r = read_msg(fd);
    assert_int_equal(json_object_get_int(get(r, "id")), 3);
    json_object_put(r);
    close(fd);
}

static void test_unknown_command(void **state)
{
    (void)state;
    int fd = client();
    expect_error(fd, "{\"execute\": \"frobnicate\"}", "CommandNotFound",
                 "The command frobnicate has not been found");
    close(fd);
}

/* A device's command: echoes its "value" argument, fails without one. */
static int x_echo(struct json_object *args, struct json_object **ret)
{
    struct json_object *v;
    if (!args || !json_object_object_get_ex(args, "value", &v))
        return err_set("x-echo: no value");
    *ret = json_object_new_object();
    json_object_object_add(*ret, "value", json_object_get(v));
    return 0;
}

static void test_device_command_registered(void **state)
{
    (void)state;
    assert_int_equal(control_register("x-echo", x_echo), 0);
    assert_int_equal(control_register("x-echo", x_echo), -1);
    assert_non_null(strstr(err_msg(), "already"));
    assert_int_equal(control_register("query-status", x_echo), -1);
    int fd = client();
    struct json_object *r =
        execute(fd, "{\"execute\": \"x-echo\", \"arguments\": {\"value\": 42}}");
    assert_int_equal(json_object_get_int(get(r, "return.value")), 42);
    json_object_put(r);
    expect_error(fd, "{\"execute\": \"x-echo\"}", "GenericError", "x-echo: no value");
    r = execute(fd, "{\"execute\": \"query-commands\"}");
    struct json_object *list = get(r, "return");
    bool found = false;
    for (size_t i = 0; i < json_object_array_length(list); i++)
        found |= strcmp(get_str(json_object_array_get_idx(list, i), "name"), "x-echo") == 0;
    assert_true(found);
    json_object_put(r);
    close(fd);
}

static void test_oversize_line_refused(void **state)
{
    (void)state;
    int fd = client();
    size_t n = CONTROL_MAX_LINE + 1000;
    char *big = malloc(n + 64);
    strcpy(big, "{\"execute\": \"query-status\", \"id\": \"");
    size_t at = strlen(big);
    memset(big + at, 'x', n);
    strcpy(big + at + n, "\"}");
    expect_error(fd, big, "GenericError", "too long");
    free(big);
    /* Still usable afterwards. */
    struct json_object *r = execute(fd, "{\"execute\": \"query-status\", \"id\": 7}");
    assert_int_equal(json_object_get_int(get(r, "id")), 7);
    assert_string_equal(get_str(r, "return.status"), "running");
    json_object_put(r);
    close(fd);
}

/* Random bytes (NULs, braces, quotes, high bytes) never take the server
 * down or wedge the connection: after a newline it answers again. */
static void test_garbage_input_survives(void **state)
{
    (void)state;
    int fd = client();
    unsigned seed = 12345;
    char *junk = malloc(20000);
    for (int i = 0; i < 20000; i++) {
        seed = seed * 1103515245 + 12345;
        junk[i] = (char)(seed >> 16);
        if (junk[i] == '\n')
            junk[i] = '{';
    }
    for (int i = 0; i < 20000; i += 1000) {
        ssize_t w = send(fd, junk + i, 1000, MSG_NOSIGNAL);
        assert_int_equal(w, 1000);
        loop_run_once(loop, 0);
    }
    free(junk);
    send_text(fd, "\n{\"execute\": \"query-status\", \"id\": \"after-junk\"}\n");
    for (;;) {
        struct json_object *m = read_msg(fd);
        struct json_object *id = get(m, "id");
        bool done = id && strcmp(json_object_get_string(id), "after-junk") == 0;
        if (done)
            assert_string_equal(get_str(m, "return.status"), "running");
        json_object_put(m);
        if (done)
            break;
    }
    close(fd);
}

static void *emit_from_thread(void *arg)
{
    (void)arg;
    control_emit_event("POWERDOWN", NULL);
    control_emit_event("SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
    return NULL;
}

static void test_events_broadcast(void **state)
{
    (void)state;
    int a = client(), b = client();
    int quiet = connect_to(sock); /* not negotiated: gets no events */
    json_object_put(read_msg(quiet));
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, emit_from_thread, NULL), 0);
    pthread_join(t, NULL);
    int fds[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        struct json_object *e = read_msg(fds[i]);
        assert_string_equal(get_str(e, "event"), "POWERDOWN");
        assert_int_equal(json_object_object_length(get(e, "data")), 0);
        assert_true(json_object_get_int64(get(e, "timestamp.seconds")) > 1600000000);
        assert_non_null(get(e, "timestamp.microseconds"));
        json_object_put(e);
        e = read_msg(fds[i]);
        assert_string_equal(get_str(e, "event"), "SHUTDOWN");
        assert_string_equal(get_str(e, "data.reason"), "guest-shutdown");
        json_object_put(e);
    }
    char *line = read_line_timeout(quiet, 0.3);
    assert_null(line);
    close(a);
    close(b);
    close(quiet);
}

static void test_quit_replies_then_quits(void **state)
{
    (void)state;
    int fd = client();
    struct json_object *r = execute(fd, "{\"execute\": \"quit\", \"id\": \"q\"}");
    assert_non_null(get(r, "return"));
    assert_string_equal(get_str(r, "id"), "q");
    json_object_put(r);
    assert_int_equal(fake.quits, 1);
    assert_string_equal(fake.quit_reason, "destroyed");
    close(fd);
}

static void test_client_that_does_not_read_is_dropped(void **state)
{
    (void)state;
    int slow = client();
    int fast = client();
    /* Well past the slow client's socket buffer plus CONTROL_MAX_OUTBUF. */
    for (int round = 0; round < 40; round++) {
        for (int i = 0; i < 1000; i++)
            control_emit_event("RESUME", "{\"padding\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}");
        for (int i = 0; i < 5; i++)
            loop_run_once(loop, 0);
        /* the fast client keeps up */
        char buf[1 << 16];
        while (recv(fast, buf, sizeof(buf), MSG_DONTWAIT) > 0)
            ;
    }
    /* The slow one was cut off: draining it ends in EOF. */
    double end = now() + 10;
    char buf[1 << 16];
    ssize_t r;
    while ((r = recv(slow, buf, sizeof(buf), MSG_DONTWAIT)) != 0 && now() < end)
        loop_run_once(loop, 1);
    assert_int_equal(r, 0);
    /* The fast one still gets answers. */
    memset(rbufs, 0, sizeof(rbufs));
    while (recv(fast, buf, sizeof(buf), MSG_DONTWAIT) > 0)
        ;
    struct json_object *reply = execute(fast, "{\"execute\": \"query-status\", \"id\": 9}");
    assert_int_equal(json_object_get_int(get(reply, "id")), 9);
    json_object_put(reply);
    close(slow);
    close(fast);
}

static void test_client_limit(void **state)
{
    (void)state;
    int fds[CONTROL_MAX_CLIENTS + 1];
    for (int i = 0; i < CONTROL_MAX_CLIENTS; i++)
        fds[i] = client();
    fds[CONTROL_MAX_CLIENTS] = connect_to(sock);
    assert_null(read_line_timeout(fds[CONTROL_MAX_CLIENTS], 2.0)); /* closed, no greeting */
    close(fds[CONTROL_MAX_CLIENTS]);
    close(fds[0]);
    for (int i = 0; i < 10; i++) /* let the server see the hangup */
        loop_run_once(loop, 10);
    /* A freed slot is usable again. */
    int again = client();
    close(again);
    for (int i = 1; i < CONTROL_MAX_CLIENTS; i++)
        close(fds[i]);
    memset(rbufs, 0, sizeof(rbufs));
}

static void test_stale_socket_replaced_and_bad_path(void **state)
{
    (void)state;
    control_close();
    assert_int_equal(access(sock, F_OK), -1); /* close removes it */
    /* A stale file where the socket goes is replaced. */
    FILE *f = fopen(sock, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(control_start(loop, &fake, &rec_ops, NULL, sock), 0);
    int fd = client();
    struct json_object *r = execute(fd, "{\"execute\": \"query-name\"}");
    assert_null(get(r, "return.name")); /* no name configured */
    json_object_put(r);
    close(fd);
    control_close();
    char longpath[200];
    memset(longpath, 'a', sizeof(longpath) - 1);
    longpath[sizeof(longpath) - 1] = 0;
    assert_int_equal(control_start(loop, &fake, &rec_ops, NULL, longpath), -1);
    assert_non_null(strstr(err_msg(), "too long"));
    /* teardown closes again: harmless */
}

/* ---- named descriptors: getfd, closefd, control_take_fd ---- */

/* Sends REQUEST with descriptor FD attached (SCM_RIGHTS), as QEMU's
 * clients do, and returns the reply. */
static struct json_object *execute_with_fd(int sock_fd, const char *request, int fd)
{
    char text[512];
    snprintf(text, sizeof text, "%s\n", request);
    union {
        struct cmsghdr align;
        char b[CMSG_SPACE(sizeof(int))];
    } cm;
    memset(&cm, 0, sizeof cm);
    struct iovec iov = {.iov_base = text, .iov_len = strlen(text)};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof cm.b};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    assert_int_equal(sendmsg(sock_fd, &mh, MSG_NOSIGNAL), (ssize_t)strlen(text));
    for (;;) {
        struct json_object *m = read_msg(sock_fd);
        if (!get(m, "event"))
            return m;
        json_object_put(m);
    }
}

/* A pipe whose write end only the server holds: *rd is ours (nonblocking),
 * the returned write end is to be sent and then closed by the caller. */
static int pipe_to_send(int *rd)
{
    int p[2];
    assert_int_equal(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
    *rd = p[0];
    return p[1];
}

/* True once nobody holds the pipe's write end any more (read gives EOF). */
static bool writer_closed(int rd)
{
    char b[64];
    for (int i = 0; i < 50; i++) {
        loop_run_once(loop, 2);
        ssize_t n = read(rd, b, sizeof b);
        if (n == 0)
            return true;
    }
    return false;
}

static void getfd_ok(int fd, const char *name, int send_fd)
{
    char req[256];
    snprintf(req, sizeof req,
             "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"%s\"}, \"id\": 1}", name);
    struct json_object *r = execute_with_fd(fd, req, send_fd);
    if (!get(r, "return"))
        fail_msg("getfd %s -> %s", name, json_object_to_json_string(r));
    json_object_put(r);
}

static void getfd_refused(int fd, const char *args, int send_fd, const char *desc_part)
{
    char req[256];
    snprintf(req, sizeof req, "{\"execute\": \"getfd\", \"arguments\": %s}", args);
    struct json_object *r = execute_with_fd(fd, req, send_fd);
    assert_string_equal(get_str(r, "error.class"), "GenericError");
    if (!strstr(get_str(r, "error.desc"), desc_part))
        fail_msg("'%s' not in '%s'", desc_part, get_str(r, "error.desc"));
    json_object_put(r);
}

/* A device command that takes a named descriptor, as add_client or
 * change-media do: it writes its argument into it. */
static int x_write_to_fd(struct json_object *args, struct json_object **ret)
{
    (void)ret;
    struct json_object *v;
    if (!json_object_object_get_ex(args, "fdname", &v))
        return err_set("x-write-to-fd: no fdname");
    int fd = control_take_fd(json_object_get_string(v));
    if (fd < 0)
        return -1;
    ssize_t w = write(fd, "hello", 5);
    close(fd);
    return w == 5 ? 0 : err_errno("x-write-to-fd");
}

static void test_getfd_then_a_command_takes_it(void **state)
{
    (void)state;
    assert_int_equal(control_register("x-write-to-fd", x_write_to_fd), 0);
    int fd = client(), rd;
    int wr = pipe_to_send(&rd);
    getfd_ok(fd, "vnc-client.0", wr);
    close(wr);
    assert_int_equal(control_named_fds(), 1);
    assert_false(writer_closed(rd)); /* the server holds it under its name */
    expect_return(fd, "{\"execute\": \"x-write-to-fd\", \"arguments\": {\"fdname\": "
                      "\"vnc-client.0\"}}");
    char b[8] = {0};
    assert_int_equal(read(rd, b, sizeof b), 5);
    assert_string_equal(b, "hello");
    assert_true(writer_closed(rd)); /* taken, used, closed by its taker */
    assert_int_equal(control_named_fds(), 0);
    expect_error(fd,
                 "{\"execute\": \"x-write-to-fd\", \"arguments\": {\"fdname\": "
                 "\"vnc-client.0\"}}",
                 "GenericError", "'vnc-client.0' not found");
    close(rd);
    close(fd);
}

static void test_getfd_refusals_close_the_descriptor(void **state)
{
    (void)state;
    int fd = client();
    expect_error(fd, "{\"execute\": \"getfd\", \"arguments\": {\"fdname\": \"cd\"}}",
                 "GenericError", "No file descriptor supplied via SCM_RIGHTS");
    static const struct {
        const char *args, *why;
    } bad[] = {
        {"{\"fdname\": \"0cd\"}", "may not start with a digit"},
        {"{\"fdname\": \"cd rom\"}", "only letters, digits"},
        {"{\"fdname\": \"cd\\nrom\"}", "only letters, digits"},
        {"{\"fdname\": \"\"}", "1 to 31 characters"},
        {"{\"fdname\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}", "1 to 31 characters"},
        {"{\"fdname\": 7}", "expected: string"},
        {"{}", "'fdname' is missing"},
        {"{\"fdname\": \"cd\", \"fd\": 3}", "'fd' is unexpected"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rd, wr = pipe_to_send(&rd);
        getfd_refused(fd, bad[i].args, wr, bad[i].why);
        close(wr);
        assert_true(writer_closed(rd)); /* never kept */
        close(rd);
    }
    assert_int_equal(control_named_fds(), 0);
    close(fd);
}

/* A descriptor sent with any other request is closed once it has run. */
static void test_unclaimed_descriptor_closed(void **state)
{
    (void)state;
    int fd = client(), rd;
    int wr = pipe_to_send(&rd);
    struct json_object *r = execute_with_fd(fd, "{\"execute\": \"query-status\"}", wr);
    assert_string_equal(get_str(r, "return.status"), "running");
    json_object_put(r);
    close(wr);
    assert_true(writer_closed(rd));
    assert_int_equal(control_named_fds(), 0);
    close(rd);
    close(fd);
}

static void test_closefd_and_table_bound(void **state)
{
    (void)state;
    int fd = client();
    int rds[CONTROL_MAX_FDS];
    for (int i = 0; i < CONTROL_MAX_FDS; i++) {
        char name[16];
        snprintf(name, sizeof name, "fd%d", i);
        int wr = pipe_to_send(&rds[i]);
        getfd_ok(fd, name, wr);
        close(wr);
    }
    assert_int_equal(control_named_fds(), CONTROL_MAX_FDS);
    int rd, wr = pipe_to_send(&rd);
    getfd_refused(fd, "{\"fdname\": \"one-too-many\"}", wr, "too many named file descriptors");
    close(wr);
    assert_true(writer_closed(rd));
    close(rd);
    /* The same name again replaces the old descriptor, which is closed. */
    wr = pipe_to_send(&rd);
    getfd_ok(fd, "fd3", wr);
    close(wr);
    assert_true(writer_closed(rds[3]));
    assert_false(writer_closed(rd));
    close(rds[3]);
    rds[3] = rd;
    expect_return(fd, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"fd0\"}}");
    assert_true(writer_closed(rds[0]));
    expect_error(fd, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"fd0\"}}",
                 "GenericError", "'fd0' not found");
    expect_error(fd, "{\"execute\": \"closefd\", \"arguments\": {\"fdname\": \"1x\"}}",
                 "GenericError", "may not start with a digit");
    /* Named descriptors outlive the client that sent them... */
    close(fd);
    for (int i = 0; i < 10; i++)
        loop_run_once(loop, 5);
    assert_int_equal(control_named_fds(), CONTROL_MAX_FDS - 1);
    assert_false(writer_closed(rds[1]));
    /* ...but not the server. */
    control_close();
    for (int i = 1; i < CONTROL_MAX_FDS; i++) {
        assert_true(writer_closed(rds[i]));
        close(rds[i]);
    }
    close(rds[0]);
    assert_int_equal(control_start(loop, &fake, &rec_ops, NULL, sock), 0);
    assert_int_equal(control_named_fds(), 0);
    memset(rbufs, 0, sizeof(rbufs));
}

/* tvm's own QMP client (core/proto) sends a descriptor with qmp_getfd. */
struct client_job {
    int send_fd;
    int rc;
    char err[256];
    volatile bool done;
};

static void *client_thread(void *arg)
{
    struct client_job *j = arg;
    struct qmp *q;
    j->rc = qmp_open(sock, 5000, &q);
    if (j->rc == 0) {
        j->rc = qmp_getfd(q, "cdrom-iso", j->send_fd);
        if (j->rc == 0)
            j->rc = qmp_getfd(q, "9bad", j->send_fd) == 0 ? -2 : 0;
        if (j->rc == 0 && !strstr(err_msg(), "may not start with a digit"))
            j->rc = -3;
        qmp_close(q);
    }
    snprintf(j->err, sizeof j->err, "%s", err_msg());
    j->done = true;
    return NULL;
}

static void test_qmp_client_sends_descriptor(void **state)
{
    (void)state;
    int rd, wr = pipe_to_send(&rd);
    struct client_job job = {.send_fd = wr};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, client_thread, &job), 0);
    double end = now() + 10;
    while (!job.done && now() < end)
        loop_run_once(loop, 5);
    pthread_join(t, NULL);
    if (job.rc != 0)
        fail_msg("client: rc %d: %s", job.rc, job.err);
    close(wr); /* ours: the client never closes what it sends */
    assert_int_equal(control_named_fds(), 1);
    int got = control_take_fd("cdrom-iso");
    assert_true(got >= 0);
    assert_int_equal(write(got, "x", 1), 1);
    char b;
    assert_int_equal(read(rd, &b, 1), 1);
    close(got);
    assert_true(writer_closed(rd));
    close(rd);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_greeting),
        T(test_negotiation_required),
        T(test_query_status_stop_cont),
        T(test_actions_and_errors_from_vm),
        T(test_query_cpus_memory_name_version),
        T(test_id_echoed),
        T(test_malformed_json_keeps_connection),
        T(test_unknown_command),
        T(test_device_command_registered),
        T(test_oversize_line_refused),
        T(test_garbage_input_survives),
        T(test_events_broadcast),
        T(test_getfd_then_a_command_takes_it),
        T(test_getfd_refusals_close_the_descriptor),
        T(test_unclaimed_descriptor_closed),
        T(test_closefd_and_table_bound),
        T(test_qmp_client_sends_descriptor),
        T(test_quit_replies_then_quits),
        T(test_client_that_does_not_read_is_dropped),
        T(test_client_limit),
        T(test_stale_socket_replaced_and_bad_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
