/* A small QMP client for tvm-vmm's control socket (see vmm-protocol.h).
 *
 * One JSON object per line. Every read waits at most the timeout given at
 * open, so a wedged VMM turns into an error message instead of a hung tvm.
 * Events that arrive while we wait for a reply are counted and skipped.
 */
#include "core/proto/qmp-client.h"

#include <stdbool.h>
#include "core/base/err.h"
#include "core/base/host.h"

#include <errno.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define QMP_LINE_MAX (1 << 20) /* a reply larger than this is a broken peer */
#define QMP_MAX_EVENT_KINDS 16

struct qmp_event_count {
    char name[48];
    unsigned n;
};

struct qmp {
    int fd;
    int timeout_ms;
    unsigned next_id;
    char *buf; /* bytes received but not yet consumed as lines */
    size_t len, cap;
    struct qmp_event_count events[QMP_MAX_EVENT_KINDS];
    char path[108];
};

static int not_answering(const struct qmp *q)
{
    return err_set("control socket not answering within %d ms (%s)", q->timeout_ms, q->path);
}

/* Waits for fd to become ready for `events` until the absolute deadline. */
static int wait_fd(const struct qmp *q, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - host_now_ms();
        if (left <= 0)
            return not_answering(q);
        struct pollfd p = {.fd = q->fd, .events = events};
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 0;
        if (r == 0)
            return not_answering(q);
        if (errno != EINTR)
            return err_errno("poll on control socket %s", q->path);
    }
}

static int connect_socket(struct qmp *q, const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return err_set("control socket path too long: %s", path);
    strcpy(sa.sun_path, path);
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (q->fd < 0)
        return err_errno("socket");
    if (connect(q->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
        return 0;
    if (errno != EAGAIN && errno != EINPROGRESS)
        return err_errno("cannot connect to control socket %s", path);
    /* A full listen backlog: wait for the server to accept. */
    if (wait_fd(q, POLLOUT, host_now_ms() + q->timeout_ms) < 0)
        return -1;
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    if (soerr) {
        errno = soerr;
        return err_errno("cannot connect to control socket %s", path);
    }
    return 0;
}

/* Next complete line (without '\n') into *line, malloc'd. */
static int read_line(struct qmp *q, char **line, int64_t deadline)
{
    for (;;) {
        char *nl = q->len ? memchr(q->buf, '\n', q->len) : NULL;
        if (nl) {
            size_t n = (size_t)(nl - q->buf);
            *line = strndup(q->buf, n);
            if (!*line)
                return err_set("out of memory");
            memmove(q->buf, nl + 1, q->len - n - 1);
            q->len -= n + 1;
            return 0;
        }
        if (q->len >= QMP_LINE_MAX)
            return err_set("control socket %s sent a line longer than %d bytes", q->path,
                           QMP_LINE_MAX);
        if (q->cap - q->len < 4096) {
            size_t cap = q->cap ? q->cap * 2 : 8192;
            char *b = realloc(q->buf, cap);
            if (!b)
                return err_set("out of memory");
            q->buf = b;
            q->cap = cap;
        }
        if (wait_fd(q, POLLIN, deadline) < 0)
            return -1;
        ssize_t r = recv(q->fd, q->buf + q->len, q->cap - q->len, 0);
        if (r == 0)
            return err_set("control socket %s closed the connection", q->path);
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return err_errno("cannot read control socket %s", q->path);
        }
        q->len += (size_t)r;
    }
}

/* Next JSON object from the peer. */
static int read_object(struct qmp *q, json_object **obj, int64_t deadline)
{
    for (;;) {
        char *line = NULL;
        if (read_line(q, &line, deadline) < 0)
            return -1;
        if (!line[0] || (line[0] == '\r' && !line[1])) { /* tolerate blank lines */
            free(line);
            continue;
        }
        enum json_tokener_error jerr;
        *obj = json_tokener_parse_verbose(line, &jerr);
        if (!*obj || !json_object_is_type(*obj, json_type_object)) {
            err_set("control socket %s sent malformed JSON (%s): %.80s", q->path,
                    *obj ? "not an object" : json_tokener_error_desc(jerr), line);
            json_object_put(*obj);
            free(line);
            return -1;
        }
        free(line);
        return 0;
    }
}

/* One send; FD >= 0 rides along (SCM_RIGHTS) on these bytes. */
static ssize_t send_some(struct qmp *q, const char *s, size_t n, int fd)
{
    if (fd < 0)
        return send(q->fd, s, n, MSG_NOSIGNAL);
    union {
        struct cmsghdr align;
        char b[CMSG_SPACE(sizeof(int))];
    } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {.iov_base = (void *)s, .iov_len = n};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.b, .msg_controllen = sizeof ctl.b};
    struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof(int));
    return sendmsg(q->fd, &mh, MSG_NOSIGNAL);
}

/* Sends all of s; FD (-1: none) goes with its first bytes. */
static int send_all(struct qmp *q, const char *s, size_t n, int fd)
{
    int64_t deadline = host_now_ms() + q->timeout_ms;
    while (n) {
        ssize_t w = send_some(q, s, n, fd);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                if (wait_fd(q, POLLOUT, deadline) < 0)
                    return -1;
                continue;
            }
            return err_errno("cannot write to control socket %s", q->path);
        }
        fd = -1; /* sent with the first bytes that went */
        s += w;
        n -= (size_t)w;
    }
    return 0;
}

static void count_event(struct qmp *q, const char *name)
{
    for (int i = 0; i < QMP_MAX_EVENT_KINDS; i++) {
        struct qmp_event_count *e = &q->events[i];
        if (!e->name[0])
            snprintf(e->name, sizeof(e->name), "%s", name);
        if (!strcmp(e->name, name)) {
            e->n++;
            return;
        }
    }
}

unsigned qmp_events_seen(const struct qmp *q, const char *event)
{
    for (int i = 0; i < QMP_MAX_EVENT_KINDS && q->events[i].name[0]; i++)
        if (!strcmp(q->events[i].name, event))
            return q->events[i].n;
    return 0;
}

/* Turns an {"error": {...}} reply into the message. */
static int reply_error(const char *cmd, json_object *err)
{
    json_object *desc = NULL;
    if (json_object_object_get_ex(err, "desc", &desc))
        return err_set("%s", json_object_get_string(desc));
    return err_set("%s failed: %s", cmd, json_object_to_json_string(err));
}

int qmp_execute(struct qmp *q, const char *cmd, const char *args_json, char **reply_json)
{
    return qmp_execute_fd(q, cmd, args_json, -1, reply_json);
}

int qmp_execute_fd(struct qmp *q, const char *cmd, const char *args_json, int fd, char **reply_json)
{
    json_object *req = json_object_new_object();
    json_object_object_add(req, "execute", json_object_new_string(cmd));
    if (args_json) {
        json_object *args = json_tokener_parse(args_json);
        if (!args || !json_object_is_type(args, json_type_object)) {
            json_object_put(args);
            json_object_put(req);
            return err_set("%s: arguments are not a JSON object: %s", cmd, args_json);
        }
        json_object_object_add(req, "arguments", args);
    }
    unsigned id = ++q->next_id;
    json_object_object_add(req, "id", json_object_new_int64(id));
    const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN);
    int rc = send_all(q, text, strlen(text), fd);
    if (rc == 0)
        rc = send_all(q, "\n", 1, -1);
    json_object_put(req);
    if (rc < 0)
        return -1;

    int64_t deadline = host_now_ms() + q->timeout_ms;
    for (;;) {
        json_object *reply, *v;
        if (read_object(q, &reply, deadline) < 0)
            return -1;
        if (json_object_object_get_ex(reply, "event", &v)) {
            count_event(q, json_object_get_string(v));
            json_object_put(reply);
            continue;
        }
        /* A reply to an earlier command we gave up on: not ours. */
        if (json_object_object_get_ex(reply, "id", &v) && json_object_get_int64(v) != id) {
            json_object_put(reply);
            continue;
        }
        if (json_object_object_get_ex(reply, "error", &v)) {
            reply_error(cmd, v);
            json_object_put(reply);
            return -1;
        }
        if (!json_object_object_get_ex(reply, "return", &v)) {
            err_set("control socket %s: reply to %s has neither return nor error", q->path, cmd);
            json_object_put(reply);
            return -1;
        }
        rc = 0;
        if (reply_json) {
            *reply_json = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
            if (!*reply_json)
                rc = err_set("out of memory");
        }
        json_object_put(reply);
        return rc;
    }
}

static int read_greeting(struct qmp *q)
{
    json_object *g;
    if (read_object(q, &g, host_now_ms() + q->timeout_ms) < 0)
        return -1;
    bool ok = json_object_object_get_ex(g, "QMP", NULL);
    json_object_put(g);
    if (!ok)
        return err_set("control socket %s did not greet with QMP", q->path);
    return 0;
}

int qmp_open(const char *sock_path, int timeout_ms, struct qmp **out)
{
    struct qmp *q = calloc(1, sizeof(*q));
    if (!q)
        return err_set("out of memory");
    q->fd = -1;
    q->timeout_ms = timeout_ms > 0 ? timeout_ms : 2000;
    snprintf(q->path, sizeof(q->path), "%s", sock_path);
    if (connect_socket(q, sock_path) < 0 || read_greeting(q) < 0 ||
        qmp_execute(q, "qmp_capabilities", NULL, NULL) < 0) {
        qmp_close(q);
        return -1;
    }
    *out = q;
    return 0;
}

int qmp_getfd(struct qmp *q, const char *fdname, int fd)
{
    if (fd < 0)
        return err_set("getfd %s: no descriptor to send", fdname);
    json_object *args = json_object_new_object();
    json_object_object_add(args, "fdname", json_object_new_string(fdname));
    int rc = qmp_execute_fd(q, "getfd", json_object_to_json_string(args), fd, NULL);
    json_object_put(args);
    return rc;
}

void qmp_close(struct qmp *q)
{
    if (!q)
        return;
    if (q->fd >= 0)
        close(q->fd);
    free(q->buf);
    free(q);
}

int qmp_command(const char *sock_path, int timeout_ms, const char *cmd, const char *args_json,
                char **reply_json)
{
    struct qmp *q;
    if (qmp_open(sock_path, timeout_ms, &q) < 0)
        return -1;
    int rc = qmp_execute(q, cmd, args_json, reply_json);
    qmp_close(q);
    return rc;
}
