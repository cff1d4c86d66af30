/* QMP control server; see control.h and src/core/vmm-protocol.h.
 *
 * Input is parsed as a stream of JSON objects (json-c's incremental
 * tokener), so requests may be split across reads or lines; after a parse
 * error the rest of that line is skipped so the connection stays usable.
 * Each request runs to completion on the loop thread and its reply is
 * queued on the client before the next one is read.
 *
 * Clients live in a fixed table of slots and are never freed while the loop
 * may still hold an event for them: a closed slot has fd -1 and ignores
 * stale events.
 */
#include "control.h"
#include "sockserv.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/base/err.h"
#include "sandbox.h"

#define CONTROL_PACKAGE "tvm-vmm 0.1"
#define CONTROL_MAX_EVENTS 4096 /* queued, not yet broadcast */

struct ctl_client {
    int fd; /* -1: free slot */
    bool negotiated;
    bool discarding;  /* skipping the rest of a bad line */
    size_t obj_bytes; /* bytes of the request being parsed */
    struct json_tokener *tok;
    char *out;
    size_t out_len, out_cap;
    bool want_out; /* EPOLLOUT armed */
    /* Descriptors that came with the bytes being parsed (SCM_RIGHTS),
     * waiting for a getfd among the requests in them; closed once those
     * requests have run without claiming them. */
    int pending[CONTROL_MAX_CLIENT_FDS];
    int npending;
};

/* A descriptor a client named with getfd, until a command takes it or
 * closefd closes it. */
struct named_fd {
    char name[CONTROL_FDNAME_MAX];
    int fd; /* -1: free */
};

struct ctl_event {
    struct ctl_event *next;
    char *line;
};

static struct control {
    bool up;
    struct loop *loop;
    struct vm *vm;
    const struct control_ops *ops;
    char *name;
    unsigned cores, threads;
    char *sock_path;
    int listen_fd;
    int event_fd;
    struct ctl_client clients[CONTROL_MAX_CLIENTS];
    struct ctl_client *current; /* whose request runs now (getfd) */
    struct named_fd fds[CONTROL_MAX_FDS];
    /* Event queue: the only state touched from other threads. */
    pthread_mutex_t lock;
    bool accepting_events;
    struct ctl_event *ev_head, *ev_tail;
    unsigned ev_count;
} ctl = {.listen_fd = -1, .event_fd = -1, .lock = PTHREAD_MUTEX_INITIALIZER};

/* ---- output ---- */

/* JSON text in QEMU's layout ({"a": 1, "b": [1, 2]}), so replies read the
 * same as QEMU's to people and to grep. */
static void json_emit_to(FILE *f, struct json_object *o)
{
    switch (json_object_get_type(o)) {
    case json_type_object: {
        bool first = true;
        fputc('{', f);
        json_object_object_foreach(o, key, val)
        {
            struct json_object *k = json_object_new_string(key);
            fputs(first ? "" : ", ", f);
            fputs(json_object_to_json_string_ext(k, JSON_C_TO_STRING_NOSLASHESCAPE), f);
            fputs(": ", f);
            json_object_put(k);
            json_emit_to(f, val);
            first = false;
        }
        fputc('}', f);
        break;
    }
    case json_type_array: {
        size_t n = json_object_array_length(o);
        fputc('[', f);
        for (size_t i = 0; i < n; i++) {
            fputs(i ? ", " : "", f);
            json_emit_to(f, json_object_array_get_idx(o, i));
        }
        fputc(']', f);
        break;
    }
    default:
        fputs(json_object_to_json_string_ext(o, JSON_C_TO_STRING_NOSLASHESCAPE), f);
        break;
    }
}

/* One '\n'-terminated line of JSON text; NULL on allocation failure. */
static char *json_line(struct json_object *o)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    json_emit_to(f, o);
    fputc('\n', f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void close_pending(struct ctl_client *c)
{
    for (int i = 0; i < c->npending; i++)
        close(c->pending[i]);
    c->npending = 0;
}

static void client_close(struct ctl_client *c)
{
    if (c->fd < 0)
        return;
    close_pending(c);
    loop_del(ctl.loop, c->fd);
    close(c->fd);
    c->fd = -1;
    if (c->tok)
        json_tokener_free(c->tok);
    c->tok = NULL;
    free(c->out);
    c->out = NULL;
    c->out_len = c->out_cap = 0;
}

static void client_arm(struct ctl_client *c, bool want_out)
{
    if (c->want_out == want_out)
        return;
    c->want_out = want_out;
    loop_mod(ctl.loop, c->fd, EPOLLIN | (want_out ? EPOLLOUT : 0));
}

static void client_flush(struct ctl_client *c)
{
    if (sockserv_flush(c->fd, c->out, &c->out_len) < 0) {
        client_close(c);
        return;
    }
    client_arm(c, c->out_len > 0);
}

/* Queue text for the client; a client that lets CONTROL_MAX_OUTBUF pile up
 * is not reading and is dropped rather than holding memory or the VMM. */
static void client_send_text(struct ctl_client *c, const char *text)
{
    if (c->fd < 0)
        return;
    size_t n = strlen(text);
    if (c->out_len + n > CONTROL_MAX_OUTBUF) {
        fprintf(stderr, "tvm-vmm: control: dropping a client that does not read\n");
        client_close(c);
        return;
    }
    if (c->out_len + n > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < c->out_len + n)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p) {
            client_close(c);
            return;
        }
        c->out = p;
        c->out_cap = cap;
    }
    memcpy(c->out + c->out_len, text, n);
    c->out_len += n;
    client_flush(c);
}

static void client_send(struct ctl_client *c, struct json_object *o)
{
    char *line = json_line(o);
    if (line)
        client_send_text(c, line);
    else
        client_close(c);
    free(line);
}

/* {"return": ret, "id": id}; takes ret. */
static void reply_return(struct ctl_client *c, struct json_object *ret, struct json_object *id)
{
    struct json_object *r = json_object_new_object();
    json_object_object_add(r, "return", ret ? ret : json_object_new_object());
    if (id)
        json_object_object_add(r, "id", json_object_get(id));
    client_send(c, r);
    json_object_put(r);
}

static void reply_error(struct ctl_client *c, const char *cls, struct json_object *id,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void reply_error(struct ctl_client *c, const char *cls, struct json_object *id,
                        const char *fmt, ...)
{
    char desc[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "class", json_object_new_string(cls));
    json_object_object_add(e, "desc", json_object_new_string(desc));
    struct json_object *r = json_object_new_object();
    json_object_object_add(r, "error", e);
    if (id)
        json_object_object_add(r, "id", json_object_get(id));
    client_send(c, r);
    json_object_put(r);
}

/* ---- commands ---- */

/* A command fills *ret (NULL means {}) and returns 0, or returns -1 with
 * err_msg() set (sent as GenericError). */
typedef control_cmd_fn qmp_fn;

/* VM_SHUTTING_DOWN is the VMM on its way out (vCPUs parked, exit.json
 * next): QEMU calls that "shutdown" too. */
static const char *run_state_name(enum vm_run_state s)
{
    switch (s) {
    case VM_RUNNING:
        return "running";
    case VM_PAUSED:
        return "paused";
    case VM_SHUTTING_DOWN:
    case VM_STOPPED:
    default:
        return "shutdown";
    }
}

static int qmp_query_status(struct json_object *args, struct json_object **ret)
{
    (void)args;
    enum vm_run_state s = ctl.ops->run_state(ctl.vm);
    *ret = json_object_new_object();
    json_object_object_add(*ret, "status", json_object_new_string(run_state_name(s)));
    json_object_object_add(*ret, "singlestep", json_object_new_boolean(0));
    json_object_object_add(*ret, "running", json_object_new_boolean(s == VM_RUNNING));
    return 0;
}

static int qmp_stop(struct json_object *args, struct json_object **ret)
{
    (void)args;
    (void)ret;
    return ctl.ops->pause(ctl.vm);
}

static int qmp_cont(struct json_object *args, struct json_object **ret)
{
    (void)args;
    (void)ret;
    return ctl.ops->resume(ctl.vm);
}

static int qmp_system_powerdown(struct json_object *args, struct json_object **ret)
{
    (void)args;
    (void)ret;
    return ctl.ops->powerdown(ctl.vm, false);
}

/* tvm's extension (QEMU has none: libvirt resets the guest itself when the
 * SHUTDOWN event comes, but tvm has no daemon to wait for it): press the
 * power button and boot the guest again once it has powered off. */
static int qmp_x_system_reboot(struct json_object *args, struct json_object **ret)
{
    (void)args;
    (void)ret;
    return ctl.ops->powerdown(ctl.vm, true);
}

static int qmp_system_reset(struct json_object *args, struct json_object **ret)
{
    (void)args;
    (void)ret;
    return ctl.ops->reset(ctl.vm);
}

/* The reply goes out first; the quit itself runs after it (see run_cmd). */
static int qmp_quit(struct json_object *args, struct json_object **ret)
{
    (void)args;
    (void)ret;
    return 0;
}

static int qmp_query_cpus_fast(struct json_object *args, struct json_object **ret)
{
    (void)args;
    unsigned n = ctl.ops->vcpu_count(ctl.vm);
    unsigned threads = ctl.threads, cores = ctl.cores;
    struct json_object *list = json_object_new_array();
    for (unsigned i = 0; i < n; i++) {
        int tid = 0;
        unsigned apic = 0;
        if (ctl.ops->vcpu_info(ctl.vm, i, &tid, &apic) < 0) {
            json_object_put(list);
            return -1;
        }
        struct json_object *props = json_object_new_object();
        json_object_object_add(props, "core-id", json_object_new_int((int)((i / threads) % cores)));
        json_object_object_add(props, "socket-id",
                               json_object_new_int((int)(i / (threads * cores))));
        json_object_object_add(props, "thread-id", json_object_new_int((int)(i % threads)));
        char qom[64];
        snprintf(qom, sizeof(qom), "/machine/unattached/device[%u]", i);
        struct json_object *cpu = json_object_new_object();
        json_object_object_add(cpu, "cpu-index", json_object_new_int((int)i));
        json_object_object_add(cpu, "thread-id", json_object_new_int(tid));
        json_object_object_add(cpu, "props", props);
        json_object_object_add(cpu, "qom-path", json_object_new_string(qom));
        json_object_object_add(cpu, "target", json_object_new_string("x86_64"));
        json_object_array_add(list, cpu);
    }
    *ret = list;
    return 0;
}

static int qmp_query_memory_size_summary(struct json_object *args, struct json_object **ret)
{
    (void)args;
    *ret = json_object_new_object();
    json_object_object_add(*ret, "base-memory", json_object_new_uint64(ctl.ops->ram_size(ctl.vm)));
    return 0;
}

static int qmp_query_name(struct json_object *args, struct json_object **ret)
{
    (void)args;
    *ret = json_object_new_object();
    if (ctl.name)
        json_object_object_add(*ret, "name", json_object_new_string(ctl.name));
    return 0;
}

static struct json_object *version_object(void)
{
    struct json_object *v = json_object_new_object();
    json_object_object_add(v, "micro", json_object_new_int(0));
    json_object_object_add(v, "minor", json_object_new_int(0));
    json_object_object_add(v, "major", json_object_new_int(0));
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "qemu", v);
    json_object_object_add(o, "package", json_object_new_string(CONTROL_PACKAGE));
    return o;
}

static int qmp_query_version(struct json_object *args, struct json_object **ret)
{
    (void)args;
    *ret = version_object();
    return 0;
}

/* ---- named descriptors: getfd, closefd, control_take_fd ---- */

/* QEMU's rule (a name may not start with a digit, which would read as a
 * descriptor number) plus a safe alphabet and length, since names end up
 * in messages and logs. */
static int check_fdname(const char *name)
{
    size_t n = strlen(name);
    if (n == 0 || n >= CONTROL_FDNAME_MAX)
        return err_set("Parameter 'fdname' must be 1 to %d characters", CONTROL_FDNAME_MAX - 1);
    if (name[0] >= '0' && name[0] <= '9')
        return err_set("Parameter 'fdname' may not start with a digit");
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
        if (!ok)
            return err_set("Parameter 'fdname' may hold only letters, digits, '-', '_' and '.'");
    }
    return 0;
}

/* The one argument of getfd/closefd: {"fdname": NAME}, checked. */
static const char *fdname_arg(struct json_object *args)
{
    struct json_object *v = NULL;
    json_object_object_foreach(args, key, val)
    {
        (void)val;
        if (strcmp(key, "fdname") != 0) {
            err_set("Parameter '%s' is unexpected", key);
            return NULL;
        }
    }
    if (!json_object_object_get_ex(args, "fdname", &v)) {
        err_set("Parameter 'fdname' is missing");
        return NULL;
    }
    if (!json_object_is_type(v, json_type_string)) {
        err_set("Invalid parameter type for 'fdname', expected: string");
        return NULL;
    }
    const char *name = json_object_get_string(v);
    return check_fdname(name) < 0 ? NULL : name;
}

static struct named_fd *find_fd(const char *name)
{
    for (unsigned i = 0; i < CONTROL_MAX_FDS; i++)
        if (ctl.fds[i].fd >= 0 && strcmp(ctl.fds[i].name, name) == 0)
            return &ctl.fds[i];
    return NULL;
}

/* getfd {"fdname": NAME}: the descriptor sent with this request (the first
 * one, if several came) gets NAME; a descriptor already named so is
 * closed, as QEMU does. */
static int qmp_getfd(struct json_object *args, struct json_object **ret)
{
    (void)ret;
    struct ctl_client *c = ctl.current;
    const char *name = fdname_arg(args);
    if (!name)
        return -1;
    if (!c || c->npending == 0)
        return err_set("No file descriptor supplied via SCM_RIGHTS");
    struct named_fd *slot = find_fd(name);
    for (unsigned i = 0; i < CONTROL_MAX_FDS && !slot; i++)
        if (ctl.fds[i].fd < 0)
            slot = &ctl.fds[i];
    if (!slot)
        return err_set("too many named file descriptors (at most %d): closefd one first",
                       CONTROL_MAX_FDS);
    int fd = c->pending[0];
    c->npending--;
    memmove(c->pending, c->pending + 1, (size_t)c->npending * sizeof(int));
    if (slot->fd >= 0)
        close(slot->fd);
    snprintf(slot->name, sizeof slot->name, "%s", name);
    slot->fd = fd;
    return 0;
}

static int qmp_closefd(struct json_object *args, struct json_object **ret)
{
    (void)ret;
    const char *name = fdname_arg(args);
    if (!name)
        return -1;
    struct named_fd *slot = find_fd(name);
    if (!slot)
        return err_set("File descriptor named '%s' not found", name);
    close(slot->fd);
    slot->fd = -1;
    return 0;
}

int control_take_fd(const char *fdname)
{
    if (!fdname || check_fdname(fdname) < 0)
        return -1;
    struct named_fd *slot = find_fd(fdname);
    if (!slot)
        return err_set("File descriptor named '%s' not found (send it with getfd first)", fdname);
    int fd = slot->fd;
    slot->fd = -1;
    return fd;
}

unsigned control_named_fds(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < CONTROL_MAX_FDS; i++)
        n += ctl.fds[i].fd >= 0;
    return n;
}

static void close_named_fds(void)
{
    for (unsigned i = 0; i < CONTROL_MAX_FDS; i++) {
        if (ctl.fds[i].fd >= 0)
            close(ctl.fds[i].fd);
        ctl.fds[i].fd = -1;
    }
}

static int qmp_query_commands(struct json_object *args, struct json_object **ret);

static const struct qmp_cmd {
    const char *name;
    qmp_fn fn;
    bool checks_args; /* else any argument is refused before fn runs */
} qmp_cmds[] = {
    {"qmp_capabilities", NULL, false}, /* handled before dispatch */
    {"query-status", qmp_query_status, false},
    {"stop", qmp_stop, false},
    {"cont", qmp_cont, false},
    {"system_powerdown", qmp_system_powerdown, false},
    {"system_reset", qmp_system_reset, false},
    {"x-system-reboot", qmp_x_system_reboot, false},
    {"quit", qmp_quit, false},
    {"query-cpus-fast", qmp_query_cpus_fast, false},
    {"query-memory-size-summary", qmp_query_memory_size_summary, false},
    {"query-name", qmp_query_name, false},
    {"query-version", qmp_query_version, false},
    {"query-commands", qmp_query_commands, false},
    {"getfd", qmp_getfd, true},
    {"closefd", qmp_closefd, true},
};

/* Commands registered by devices (control_register). */
static struct qmp_cmd extra_cmds[CONTROL_MAX_EXTRA];
static size_t nextra;

static const struct qmp_cmd *qmp_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof(qmp_cmds) / sizeof(qmp_cmds[0]); i++)
        if (strcmp(qmp_cmds[i].name, name) == 0)
            return &qmp_cmds[i];
    for (size_t i = 0; i < nextra; i++)
        if (strcmp(extra_cmds[i].name, name) == 0)
            return &extra_cmds[i];
    return NULL;
}

int control_register(const char *name, control_cmd_fn fn)
{
    if (!name || !fn)
        return err_set("control_register: no name or function");
    if (qmp_lookup(name))
        return err_set("QMP command %s is already registered", name);
    if (nextra == CONTROL_MAX_EXTRA)
        return err_set("too many device QMP commands (at most %d)", CONTROL_MAX_EXTRA);
    extra_cmds[nextra++] = (struct qmp_cmd){name, fn, true};
    return 0;
}

static void add_command_names(struct json_object *arr, const struct qmp_cmd *cmds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(cmds[i].name));
        json_object_array_add(arr, o);
    }
}

static int qmp_query_commands(struct json_object *args, struct json_object **ret)
{
    (void)args;
    *ret = json_object_new_array();
    add_command_names(*ret, qmp_cmds, sizeof(qmp_cmds) / sizeof(qmp_cmds[0]));
    add_command_names(*ret, extra_cmds, nextra);
    return 0;
}

/* qmp_capabilities: only the empty capability set exists here. */
static void run_capabilities(struct ctl_client *c, struct json_object *args, struct json_object *id)
{
    if (c->negotiated) {
        reply_error(c, "CommandNotFound", id,
                    "Capabilities negotiation is already complete, command ignored");
        return;
    }
    json_object_object_foreach(args, key, val)
    {
        if (strcmp(key, "enable") != 0) {
            reply_error(c, "GenericError", id, "Parameter '%s' is unexpected", key);
            return;
        }
        if (!json_object_is_type(val, json_type_array)) {
            reply_error(c, "GenericError", id,
                        "Invalid parameter type for 'enable', expected: array");
            return;
        }
        if (json_object_array_length(val) > 0) {
            struct json_object *cap = json_object_array_get_idx(val, 0);
            reply_error(c, "GenericError", id, "Capability '%s' not available",
                        json_object_get_string(cap));
            return;
        }
    }
    c->negotiated = true;
    reply_return(c, NULL, id);
}

static void run_request(struct ctl_client *c, struct json_object *req)
{
    if (!json_object_is_type(req, json_type_object)) {
        reply_error(c, "GenericError", NULL, "QMP input must be a JSON object");
        return;
    }
    struct json_object *id = NULL, *exec = NULL, *args = NULL;
    json_object_object_foreach(req, key, val)
    {
        if (strcmp(key, "id") == 0)
            id = val;
        else if (strcmp(key, "execute") == 0)
            exec = val;
        else if (strcmp(key, "arguments") == 0)
            args = val;
    }
    json_object_object_foreach(req, key2, val2)
    {
        (void)val2;
        if (strcmp(key2, "id") && strcmp(key2, "execute") && strcmp(key2, "arguments")) {
            reply_error(c, "GenericError", id, "QMP input member '%s' is unexpected", key2);
            return;
        }
    }
    if (!exec) {
        reply_error(c, "GenericError", id, "QMP input lacks member 'execute'");
        return;
    }
    if (!json_object_is_type(exec, json_type_string)) {
        reply_error(c, "GenericError", id, "QMP input member 'execute' must be a string");
        return;
    }
    if (args && !json_object_is_type(args, json_type_object)) {
        reply_error(c, "GenericError", id, "QMP input member 'arguments' must be an object");
        return;
    }
    const char *name = json_object_get_string(exec);
    struct json_object *empty = NULL;
    if (!args)
        args = empty = json_object_new_object();

    if (strcmp(name, "qmp_capabilities") == 0) {
        run_capabilities(c, args, id);
    } else if (!c->negotiated) {
        reply_error(c, "CommandNotFound", id,
                    "Expecting capabilities negotiation with 'qmp_capabilities'");
    } else {
        const struct qmp_cmd *cmd = qmp_lookup(name);
        if (!cmd) {
            reply_error(c, "CommandNotFound", id, "The command %s has not been found", name);
        } else if (!cmd->checks_args && json_object_object_length(args) > 0) {
            json_object_object_foreach(args, key, val)
            {
                (void)val;
                reply_error(c, "GenericError", id, "Parameter '%s' is unexpected", key);
                break;
            }
        } else {
            struct json_object *ret = NULL;
            err_clear();
            ctl.current = c;
            int rc = cmd->fn(args, &ret);
            ctl.current = NULL;
            if (rc < 0) {
                reply_error(c, "GenericError", id, "%s", err_msg());
            } else {
                reply_return(c, ret, id);
                if (cmd->fn == qmp_quit)
                    ctl.ops->quit(ctl.vm, "destroyed");
            }
        }
    }
    json_object_put(empty);
}

/* ---- input ---- */

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/* Feed received bytes to the client's tokener, running each complete
 * request. Stops early if the client went away. */
static void client_input(struct ctl_client *c, const char *p, size_t len)
{
    const char *end = p + len;
    while (p < end && c->fd >= 0) {
        if (c->discarding) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl)
                return;
            p = nl + 1;
            c->discarding = false;
            continue;
        }
        if (c->obj_bytes == 0) {
            while (p < end && is_space(*p))
                p++;
            if (p == end)
                return;
        }
        size_t n = (size_t)(end - p);
        struct json_object *req = json_tokener_parse_ex(c->tok, p, (int)n);
        enum json_tokener_error jerr = json_tokener_get_error(c->tok);
        size_t used = json_tokener_get_parse_end(c->tok);
        if (jerr == json_tokener_continue) {
            c->obj_bytes += n;
            if (c->obj_bytes <= CONTROL_MAX_LINE)
                return;
            /* Drop what was read of it and the rest of the current line. */
            reply_error(c, "GenericError", NULL, "JSON input too long (limit %d bytes)",
                        CONTROL_MAX_LINE);
            json_tokener_reset(c->tok);
            c->obj_bytes = 0;
            const char *nl = memchr(p, '\n', n);
            c->discarding = !nl;
            p = nl ? nl + 1 : end;
            continue;
        }
        json_tokener_reset(c->tok);
        size_t total = c->obj_bytes + used;
        c->obj_bytes = 0;
        if (jerr != json_tokener_success) {
            reply_error(c, "GenericError", NULL, "JSON parse error, %s",
                        json_tokener_error_desc(jerr));
            p += used;
            c->discarding = true;
            continue;
        }
        p += used;
        if (total > CONTROL_MAX_LINE) {
            reply_error(c, "GenericError", NULL, "JSON input too long (limit %d bytes)",
                        CONTROL_MAX_LINE);
        } else {
            run_request(c, req);
        }
        json_object_put(req);
    }
}

static void on_client(void *opaque, uint32_t events)
{
    struct ctl_client *c = opaque;
    if (c->fd < 0)
        return; /* stale event for a closed slot */
    if (events & EPOLLOUT)
        client_flush(c);
    if (c->fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        char buf[4096];
        for (;;) {
            int fds[CONTROL_MAX_CLIENT_FDS], nfds = 0;
            ssize_t n =
                sockserv_recv_fds(c->fd, buf, sizeof(buf), fds, CONTROL_MAX_CLIENT_FDS, &nfds);
            if (n == 0)
                break;
            if (n < 0) {
                client_close(c);
                break;
            }
            if (nfds > 0) {
                /* Descriptors ride on the first byte of the request they
                 * belong to: older ones nobody claimed go now. */
                close_pending(c);
                memcpy(c->pending, fds, (size_t)nfds * sizeof(int));
                c->npending = nfds;
            }
            client_input(c, buf, (size_t)n);
            if (c->fd < 0)
                break;
            /* Every request that came with them has run and none is half
             * read: what getfd did not claim is closed. */
            if (c->obj_bytes == 0 && !c->discarding)
                close_pending(c);
        }
    }
}

static void send_greeting(struct ctl_client *c)
{
    struct json_object *qmp = json_object_new_object();
    json_object_object_add(qmp, "version", version_object());
    json_object_object_add(qmp, "capabilities", json_object_new_array());
    struct json_object *g = json_object_new_object();
    json_object_object_add(g, "QMP", qmp);
    client_send(c, g);
    json_object_put(g);
}

static void on_listen(void *opaque, uint32_t events)
{
    (void)opaque;
    (void)events;
    int fd;
    while ((fd = sockserv_accept(ctl.listen_fd, "control")) >= 0) {
        struct ctl_client *c = NULL;
        for (unsigned i = 0; i < CONTROL_MAX_CLIENTS && !c; i++)
            if (ctl.clients[i].fd < 0)
                c = &ctl.clients[i];
        if (!c) {
            fprintf(stderr, "tvm-vmm: control: too many clients (max %d), refusing one\n",
                    CONTROL_MAX_CLIENTS);
            close(fd);
            continue;
        }
        *c = (struct ctl_client){.fd = fd, .tok = json_tokener_new()};
        if (!c->tok || loop_add(ctl.loop, fd, EPOLLIN, on_client, c) < 0) {
            fprintf(stderr, "tvm-vmm: control: cannot serve a client: %s\n", err_msg());
            if (c->tok)
                json_tokener_free(c->tok);
            close(fd);
            c->fd = -1;
            continue;
        }
        send_greeting(c);
    }
}

/* ---- events ---- */

static char *event_line(const char *name, const char *data_json)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct json_object *data = NULL;
    if (data_json) {
        data = json_tokener_parse(data_json);
        if (!data || !json_object_is_type(data, json_type_object)) {
            fprintf(stderr, "tvm-vmm: control: event %s: bad data %s\n", name, data_json);
            json_object_put(data);
            data = NULL;
        }
    }
    struct json_object *t = json_object_new_object();
    json_object_object_add(t, "seconds", json_object_new_int64(ts.tv_sec));
    json_object_object_add(t, "microseconds", json_object_new_int64(ts.tv_nsec / 1000));
    struct json_object *e = json_object_new_object();
    json_object_object_add(e, "timestamp", t);
    json_object_object_add(e, "event", json_object_new_string(name));
    json_object_object_add(e, "data", data ? data : json_object_new_object());
    char *line = json_line(e);
    json_object_put(e);
    return line;
}

void control_emit_event(const char *name, const char *data_json)
{
    pthread_mutex_lock(&ctl.lock);
    bool on = ctl.accepting_events && ctl.ev_count < CONTROL_MAX_EVENTS;
    pthread_mutex_unlock(&ctl.lock);
    if (!on)
        return;
    /* Built outside the lock: json work may be slow-ish on a vCPU thread,
     * but it never waits for a client. */
    struct ctl_event *ev = calloc(1, sizeof(*ev));
    if (!ev)
        return;
    ev->line = event_line(name, data_json);
    if (!ev->line) {
        free(ev);
        return;
    }
    pthread_mutex_lock(&ctl.lock);
    if (!ctl.accepting_events) {
        pthread_mutex_unlock(&ctl.lock);
        free(ev->line);
        free(ev);
        return;
    }
    if (ctl.ev_tail)
        ctl.ev_tail->next = ev;
    else
        ctl.ev_head = ev;
    ctl.ev_tail = ev;
    ctl.ev_count++;
    uint64_t one = 1;
    ssize_t w = write(ctl.event_fd, &one, sizeof(one));
    (void)w; /* a full counter still wakes the loop */
    pthread_mutex_unlock(&ctl.lock);
}

static struct ctl_event *take_events(void)
{
    pthread_mutex_lock(&ctl.lock);
    struct ctl_event *list = ctl.ev_head;
    ctl.ev_head = ctl.ev_tail = NULL;
    ctl.ev_count = 0;
    pthread_mutex_unlock(&ctl.lock);
    return list;
}

static void free_events(struct ctl_event *ev)
{
    while (ev) {
        struct ctl_event *next = ev->next;
        free(ev->line);
        free(ev);
        ev = next;
    }
}

static void on_event(void *opaque, uint32_t events)
{
    (void)opaque;
    (void)events;
    uint64_t cnt;
    ssize_t r = read(ctl.event_fd, &cnt, sizeof(cnt));
    (void)r;
    struct ctl_event *list = take_events();
    for (struct ctl_event *ev = list; ev; ev = ev->next)
        for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
            if (ctl.clients[i].fd >= 0 && ctl.clients[i].negotiated)
                client_send_text(&ctl.clients[i], ev->line);
    free_events(list);
}

/* ---- setup ---- */

int control_start(struct loop *l, struct vm *vm, const struct control_ops *ops,
                  const struct control_config *cfg, const char *sock_path)
{
    if (ctl.up)
        return err_set("control server already running");
    ctl.loop = l;
    ctl.vm = vm;
    ctl.ops = ops;
    ctl.cores = cfg && cfg->cores_per_socket ? cfg->cores_per_socket : 1;
    ctl.threads = cfg && cfg->threads_per_core ? cfg->threads_per_core : 1;
    ctl.name = cfg && cfg->name ? strdup(cfg->name) : NULL;
    ctl.sock_path = strdup(sock_path);
    for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
        ctl.clients[i].fd = -1;
    for (unsigned i = 0; i < CONTROL_MAX_FDS; i++)
        ctl.fds[i].fd = -1;
    if (!ctl.sock_path || (cfg && cfg->name && !ctl.name)) {
        err_set("control: out of memory");
        goto fail;
    }
    ctl.event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (ctl.event_fd < 0) {
        err_errno("control: eventfd");
        goto fail;
    }
    ctl.listen_fd = sockserv_listen(sock_path, "control");
    if (ctl.listen_fd < 0)
        goto fail;
    if (loop_add(l, ctl.event_fd, EPOLLIN, on_event, NULL) < 0)
        goto fail;
    if (loop_add(l, ctl.listen_fd, EPOLLIN, on_listen, NULL) < 0) {
        loop_del(l, ctl.event_fd);
        goto fail;
    }
    pthread_mutex_lock(&ctl.lock);
    ctl.accepting_events = true;
    pthread_mutex_unlock(&ctl.lock);
    ctl.up = true;
    return 0;
fail:
    if (ctl.listen_fd >= 0) {
        close(ctl.listen_fd);
        sandbox_unlink(sock_path);
    }
    if (ctl.event_fd >= 0)
        close(ctl.event_fd);
    ctl.listen_fd = ctl.event_fd = -1;
    free(ctl.name);
    free(ctl.sock_path);
    ctl.name = ctl.sock_path = NULL;
    return -1;
}

void control_close(void)
{
    if (!ctl.up)
        return;
    pthread_mutex_lock(&ctl.lock);
    ctl.accepting_events = false;
    pthread_mutex_unlock(&ctl.lock);
    /* Events already queued (e.g. SHUTDOWN) still reach the clients. */
    on_event(NULL, 0);
    for (unsigned i = 0; i < CONTROL_MAX_CLIENTS; i++)
        client_close(&ctl.clients[i]);
    close_named_fds();
    loop_del(ctl.loop, ctl.listen_fd);
    loop_del(ctl.loop, ctl.event_fd);
    close(ctl.listen_fd);
    close(ctl.event_fd);
    ctl.listen_fd = ctl.event_fd = -1;
    sandbox_unlink(ctl.sock_path);
    free(ctl.sock_path);
    free(ctl.name);
    ctl.sock_path = ctl.name = NULL;
    ctl.up = false;
}
