/* The QMP client against small scripted QMP servers running in a thread on
 * a real unix socket: greeting, negotiation, event skipping, error replies,
 * ids, malformed input and timeouts on a silent or vanished server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/virt/vm.h"

enum script {
    SCRIPT_NORMAL, /* greeting, negotiation, replies with events in between */
    SCRIPT_SILENT, /* accepts and says nothing */
    SCRIPT_BAD_GREETING,
    SCRIPT_CLOSE,       /* greets, then hangs up on the first command */
    SCRIPT_GARBAGE,     /* greets, negotiates, then answers with a non-JSON line */
    SCRIPT_STALL_REPLY, /* greets, negotiates, then never answers */
};

struct server {
    char dir[64];
    char path[96];
    int lfd;
    enum script script;
    pthread_t thread;
    char received[16][64]; /* command names in the order they arrived */
    int nreceived;
    bool negotiated_first;
};

static void send_line(int fd, const char *s)
{
    size_t n = strlen(s);
    assert_int_equal(write(fd, s, n), (ssize_t)n);
    assert_int_equal(write(fd, "\n", 1), 1);
}

/* One request line -> its parsed object, NULL at EOF. */
static json_object *recv_request(FILE *in)
{
    char line[4096];
    if (!fgets(line, sizeof(line), in))
        return NULL;
    return json_tokener_parse(line);
}

static void reply(int fd, json_object *req, const char *body_fmt, const char *value)
{
    json_object *id = NULL;
    json_object_object_get_ex(req, "id", &id);
    char buf[1024];
    snprintf(buf, sizeof(buf), body_fmt, value);
    json_object *r = json_tokener_parse(buf);
    assert_non_null(r);
    if (id)
        json_object_object_add(r, "id", json_object_get(id));
    send_line(fd, json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
    json_object_put(r);
}

static void serve_normal(struct server *s, int fd, FILE *in)
{
    json_object *req;
    while ((req = recv_request(in))) {
        json_object *v;
        assert_true(json_object_object_get_ex(req, "execute", &v));
        const char *cmd = json_object_get_string(v);
        if (s->nreceived < 16)
            snprintf(s->received[s->nreceived++], 64, "%s", cmd);
        if (s->nreceived == 1)
            s->negotiated_first = !strcmp(cmd, "qmp_capabilities");
        if (!strcmp(cmd, "qmp_capabilities")) {
            reply(fd, req, "{\"return\": {}}%s", "");
        } else if (!strcmp(cmd, "query-status")) {
            /* Events and a stale reply for another id come first. */
            send_line(fd, "{\"event\": \"STOP\", \"data\": {}, \"timestamp\": {\"seconds\": 1, "
                          "\"microseconds\": 2}}");
            send_line(fd, "{\"event\": \"STOP\", \"data\": {}}");
            send_line(fd, "{\"event\": \"RESET\"}");
            send_line(fd, "{\"return\": {\"status\": \"stale\"}, \"id\": 999999}");
            reply(fd, req, "{\"return\": {\"status\": \"%s\", \"running\": false}}", "paused");
        } else if (!strcmp(cmd, "echo")) {
            json_object *args = NULL;
            json_object_object_get_ex(req, "arguments", &args);
            const char *txt =
                args ? json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN) : "null";
            reply(fd, req, "{\"return\": %s}", txt);
        } else {
            reply(fd, req,
                  "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command %s has "
                  "not been found\"}}",
                  cmd);
        }
        json_object_put(req);
    }
}

static void *server_main(void *opaque)
{
    struct server *s = opaque;
    int fd = accept(s->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    FILE *in = fdopen(dup(fd), "r");
    const char *greeting = "{\"QMP\": {\"version\": {\"tvm\": \"test\"}, \"capabilities\": []}}";
    json_object *req;
    switch (s->script) {
    case SCRIPT_NORMAL:
        send_line(fd, greeting);
        serve_normal(s, fd, in);
        break;
    case SCRIPT_SILENT:
        while ((req = recv_request(in)))
            json_object_put(req);
        break;
    case SCRIPT_BAD_GREETING:
        send_line(fd, "{\"hello\": 1}");
        while ((req = recv_request(in)))
            json_object_put(req);
        break;
    case SCRIPT_CLOSE:
        send_line(fd, greeting);
        json_object_put(recv_request(in));
        break;
    case SCRIPT_GARBAGE:
    case SCRIPT_STALL_REPLY:
        send_line(fd, greeting);
        req = recv_request(in);
        reply(fd, req, "{\"return\": {}}%s", "");
        json_object_put(req);
        req = recv_request(in);
        json_object_put(req);
        if (s->script == SCRIPT_GARBAGE)
            send_line(fd, "this is not json {");
        while ((req = recv_request(in)))
            json_object_put(req);
        break;
    }
    fclose(in);
    close(fd);
    return NULL;
}

static struct server *server_start(enum script script)
{
    struct server *s = calloc(1, sizeof(*s));
    s->script = script;
    snprintf(s->dir, sizeof(s->dir), "/tmp/tvm-qmp-test-XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    snprintf(s->path, sizeof(s->path), "%s/control.sock", s->dir);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->path);
    s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(s->lfd >= 0);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(s->lfd, 4), 0);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
    return s;
}

/* The client must have hung up first (or never connected) for the join. */
static void server_stop(struct server *s)
{
    shutdown(s->lfd, SHUT_RDWR);
    pthread_join(s->thread, NULL);
    close(s->lfd);
    unlink(s->path);
    rmdir(s->dir);
    free(s);
}

static int64_t ms_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_negotiates_then_skips_events(void **state)
{
    (void)state;
    struct server *s = server_start(SCRIPT_NORMAL);
    struct qmp *q;
    assert_int_equal(qmp_open(s->path, 2000, &q), 0);
    char *reply = NULL;
    assert_int_equal(qmp_execute(q, "query-status", NULL, &reply), 0);
    /* The stale reply (other id) was skipped as well as the events. */
    json_object *r = json_tokener_parse(reply);
    json_object *status;
    assert_true(json_object_object_get_ex(r, "status", &status));
    assert_string_equal(json_object_get_string(status), "paused");
    json_object_put(r);
    free(reply);
    assert_int_equal(qmp_events_seen(q, "STOP"), 2);
    assert_int_equal(qmp_events_seen(q, "RESET"), 1);
    assert_int_equal(qmp_events_seen(q, "SHUTDOWN"), 0);
    qmp_close(q);
    assert_true(s->negotiated_first);
    assert_int_equal(s->nreceived, 2);
    assert_string_equal(s->received[1], "query-status");
    server_stop(s);
}

static void test_arguments_and_return_value(void **state)
{
    (void)state;
    struct server *s = server_start(SCRIPT_NORMAL);
    struct qmp *q;
    assert_int_equal(qmp_open(s->path, 2000, &q), 0);
    char *reply = NULL;
    assert_int_equal(qmp_execute(q, "echo", "{\"a\": 1, \"b\": \"x y\"}", &reply), 0);
    json_object *r = json_tokener_parse(reply), *v;
    assert_true(json_object_object_get_ex(r, "a", &v));
    assert_int_equal(json_object_get_int(v), 1);
    assert_true(json_object_object_get_ex(r, "b", &v));
    assert_string_equal(json_object_get_string(v), "x y");
    json_object_put(r);
    free(reply);
    /* Several commands on one connection keep working. */
    assert_int_equal(qmp_execute(q, "echo", NULL, NULL), 0);
    /* Arguments that are not an object are refused before sending. */
    assert_int_equal(qmp_execute(q, "echo", "[1, 2]", NULL), -1);
    assert_non_null(strstr(err_msg(), "not a JSON object"));
    qmp_close(q);
    server_stop(s);
}

static void test_error_reply_gives_desc(void **state)
{
    (void)state;
    struct server *s = server_start(SCRIPT_NORMAL);
    assert_int_equal(qmp_command(s->path, 2000, "no-such-command", NULL, NULL), -1);
    assert_string_equal(err_msg(), "The command no-such-command has not been found");
    server_stop(s);
}

static void test_silent_server_times_out(void **state)
{
    (void)state;
    struct server *s = server_start(SCRIPT_SILENT);
    struct qmp *q = NULL;
    int64_t t0 = ms_now();
    assert_int_equal(qmp_open(s->path, 300, &q), -1);
    int64_t took = ms_now() - t0;
    assert_null(q);
    assert_true(took >= 250 && took < 5000); /* generous: CI machines are busy */
    assert_non_null(strstr(err_msg(), "control socket not answering within 300 ms"));
    server_stop(s);
}

static void test_stalled_reply_times_out(void **state)
{
    (void)state;
    struct server *s = server_start(SCRIPT_STALL_REPLY);
    struct qmp *q;
    assert_int_equal(qmp_open(s->path, 300, &q), 0);
    int64_t t0 = ms_now();
    assert_int_equal(qmp_execute(q, "query-status", NULL, NULL), -1);
    assert_true(ms_now() - t0 < 5000);
    assert_non_null(strstr(err_msg(), "not answering"));
    qmp_close(q);
    server_stop(s);
}

static void test_bad_greeting(void **state)
{
    (void)state;
    struct server *s = server_start(SCRIPT_BAD_GREETING);
    struct qmp *q;
    assert_int_equal(qmp_open(s->path, 1000, &q), -1);
    assert_non_null(strstr(err_msg(), "did not greet with QMP"));
    server_stop(s);
}

static void test_server_hangs_up(void **state)
{
    (void)state;
    struct server *s = server_start(SCRIPT_CLOSE);
    struct qmp *q;
    assert_int_equal(qmp_open(s->path, 1000, &q), -1);
    assert_non_null(strstr(err_msg(), "closed the connection"));
    server_stop(s);
}

static void test_malformed_reply(void **state)
{
    (void)state;
    struct server *s = server_start(SCRIPT_GARBAGE);
    struct qmp *q;
    assert_int_equal(qmp_open(s->path, 1000, &q), 0);
    assert_int_equal(qmp_execute(q, "query-status", NULL, NULL), -1);
    assert_non_null(strstr(err_msg(), "malformed JSON"));
    assert_non_null(strstr(err_msg(), "this is not json"));
    qmp_close(q);
    server_stop(s);
}

static void test_no_socket(void **state)
{
    (void)state;
    struct qmp *q;
    assert_int_equal(qmp_open("/nonexistent/tvm/control.sock", 500, &q), -1);
    assert_non_null(strstr(err_msg(), "cannot connect to control socket /nonexistent/tvm/"));
    assert_non_null(strstr(err_msg(), "No such file or directory"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiates_then_skips_events),
        cmocka_unit_test(test_arguments_and_return_value),
        cmocka_unit_test(test_error_reply_gives_desc),
        cmocka_unit_test(test_silent_server_times_out),
        cmocka_unit_test(test_stalled_reply_times_out),
        cmocka_unit_test(test_bad_greeting),
        cmocka_unit_test(test_server_hangs_up),
        cmocka_unit_test(test_malformed_reply),
        cmocka_unit_test(test_no_socket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
