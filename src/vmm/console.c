/* Console socket fan-out; see console.h for the semantics.
 *
 * Guest bytes take two steps: vCPU threads append to `pending` (a ring)
 * under a mutex and kick an eventfd when it goes from empty to non-empty
 * (one syscall per burst, not per byte); the loop thread then moves the
 * burst into the backlog ring, the log file and every client's buffer.
 * Both sides cost work in proportion to the bytes that pass: nothing is
 * ever shifted, and one wake-up of the loop hands out at most what was
 * pending when it began, so a guest writing without pause cannot keep the
 * loop (QMP, signals, other consoles) in one callback.
 * Clients live in fixed slots (fd -1 = free), so stale loop events for a
 * closed client are harmless.
 */
#include "console.h"
#include "sockserv.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/proto/vmm-protocol.h"
#include "sandbox.h"

#define CONSOLE_CHUNK (64 * 1024)

struct console;

struct con_client {
    struct console *con;
    int fd;       /* -1: free slot */
    uint64_t seq; /* connect order: the oldest reader becomes the next writer */
    uint8_t *buf; /* CONSOLE_CLIENT_BUF bytes */
    size_t len;
    bool want_out;
};

struct console {
    struct loop *loop;
    char *sock_path, *log_path;
    int listen_fd, event_fd, log_fd;
    int old_fd; /* PATH.old, open from the start: rotation needs no directory */
    size_t log_size;
    struct con_client clients[CONSOLE_MAX_CLIENTS];
    int writer; /* slot index or -1 */
    uint64_t next_seq;
    /* The last VMM_CONSOLE_BACKLOG bytes, a ring. */
    uint8_t backlog[VMM_CONSOLE_BACKLOG];
    size_t bl_head, bl_len;
    uint8_t *chunk; /* CONSOLE_CHUNK bytes: the loop's copy of a pending burst */

    /* Shared with vCPU threads, under lock. */
    pthread_mutex_t lock;
    bool accepting;
    uint8_t *pending; /* CONSOLE_PENDING_MAX bytes, a ring */
    size_t pend_head; /* oldest byte */
    size_t pend_len;
    void (*input_fn)(void *opaque, const uint8_t *buf, size_t len);
    void *input_opaque;
};

/* The UART's console: console_init() and friends (console.h). */
static struct console *uart;

/* ---- producer side (any thread) ---- */

void console_output(struct console *con, const uint8_t *buf, size_t len)
{
    pthread_mutex_lock(&con->lock);
    if (!con->accepting || len == 0) {
        pthread_mutex_unlock(&con->lock);
        return;
    }
    bool was_empty = con->pend_len == 0;
    if (len >= CONSOLE_PENDING_MAX) {
        buf += len - CONSOLE_PENDING_MAX;
        len = CONSOLE_PENDING_MAX;
        con->pend_head = 0;
        con->pend_len = 0;
    } else if (con->pend_len + len > CONSOLE_PENDING_MAX) {
        /* The loop is far behind: keep the newest bytes. */
        size_t drop = con->pend_len + len - CONSOLE_PENDING_MAX;
        con->pend_head = (con->pend_head + drop) % CONSOLE_PENDING_MAX;
        con->pend_len -= drop;
    }
    size_t tail = (con->pend_head + con->pend_len) % CONSOLE_PENDING_MAX;
    size_t first = CONSOLE_PENDING_MAX - tail < len ? CONSOLE_PENDING_MAX - tail : len;
    memcpy(con->pending + tail, buf, first);
    memcpy(con->pending, buf + first, len - first);
    con->pend_len += len;
    if (was_empty) {
        uint64_t one = 1;
        ssize_t w = write(con->event_fd, &one, sizeof(one));
        (void)w; /* a saturated counter still wakes the loop */
    }
    pthread_mutex_unlock(&con->lock);
}

void console_set_input(struct console *con,
                       void (*fn)(void *opaque, const uint8_t *buf, size_t len), void *opaque)
{
    pthread_mutex_lock(&con->lock);
    con->input_fn = fn;
    con->input_opaque = opaque;
    pthread_mutex_unlock(&con->lock);
}

/* ---- clients ---- */

static void client_arm(struct con_client *c, bool want_out)
{
    struct console *con = c->con;
    if (c->want_out == want_out)
        return;
    c->want_out = want_out;
    loop_mod(con->loop, c->fd, EPOLLIN | (want_out ? EPOLLOUT : 0));
}

static void elect_writer(struct console *con)
{
    int best = -1;
    for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++)
        if (con->clients[i].fd >= 0 && (best < 0 || con->clients[i].seq < con->clients[best].seq))
            best = i;
    con->writer = best;
}

static void client_close(struct con_client *c)
{
    struct console *con = c->con;
    if (c->fd < 0)
        return;
    loop_del(con->loop, c->fd);
    close(c->fd);
    c->fd = -1;
    free(c->buf);
    c->buf = NULL;
    c->len = 0;
    if (con->writer == c - con->clients)
        elect_writer(con);
}

static void client_flush(struct con_client *c)
{
    if (sockserv_flush(c->fd, c->buf, &c->len) < 0) {
        client_close(c);
        return;
    }
    client_arm(c, c->len > 0);
}

/* Queue without flushing; a reader that fell CONSOLE_CLIENT_BUF behind is
 * dropped so the guest never waits for it. */
static void client_queue(struct con_client *c, const uint8_t *p, size_t n)
{
    if (c->fd < 0)
        return;
    if (c->len + n > CONSOLE_CLIENT_BUF) {
        fprintf(stderr, "tvm-vmm: console: dropping a client that does not keep up\n");
        client_close(c);
        return;
    }
    memcpy(c->buf + c->len, p, n);
    c->len += n;
}

static void on_client(void *opaque, uint32_t events)
{
    struct con_client *c = opaque;
    struct console *con = c->con;
    if (c->fd < 0)
        return;
    if (events & EPOLLOUT)
        client_flush(c);
    if (c->fd < 0 || !(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return;
    uint8_t buf[4096];
    for (;;) {
        ssize_t n = sockserv_recv(c->fd, buf, sizeof(buf));
        if (n == 0)
            return;
        if (n < 0) {
            client_close(c);
            return;
        }
        if (con->writer != c - con->clients)
            continue; /* read-only client: input dropped */
        pthread_mutex_lock(&con->lock);
        void (*fn)(void *, const uint8_t *, size_t) = con->input_fn;
        void *fn_opaque = con->input_opaque;
        pthread_mutex_unlock(&con->lock);
        if (fn)
            fn(fn_opaque, buf, (size_t)n);
    }
}

static void backlog_copy_to(struct console *con, struct con_client *c)
{
    size_t start = (con->bl_head + VMM_CONSOLE_BACKLOG - con->bl_len) % VMM_CONSOLE_BACKLOG;
    size_t first = con->bl_len;
    if (start + first > VMM_CONSOLE_BACKLOG)
        first = VMM_CONSOLE_BACKLOG - start;
    client_queue(c, con->backlog + start, first);
    client_queue(c, con->backlog, con->bl_len - first);
}

static void on_listen(void *opaque, uint32_t events)
{
    struct console *con = opaque;
    (void)events;
    int fd;
    while ((fd = sockserv_accept(con->listen_fd, "console")) >= 0) {
        int slot = -1;
        for (int i = 0; i < CONSOLE_MAX_CLIENTS && slot < 0; i++)
            if (con->clients[i].fd < 0)
                slot = i;
        uint8_t *buf = slot >= 0 ? malloc(CONSOLE_CLIENT_BUF) : NULL;
        if (!buf || loop_add(con->loop, fd, EPOLLIN, on_client, &con->clients[slot]) < 0) {
            fprintf(stderr, "tvm-vmm: console: refusing a client (%s)\n",
                    slot < 0 ? "too many clients" : "no memory or loop error");
            free(buf);
            close(fd);
            continue;
        }
        struct con_client *c = &con->clients[slot];
        *c = (struct con_client){.con = con, .fd = fd, .seq = con->next_seq++, .buf = buf};
        if (con->writer < 0)
            con->writer = slot;
        backlog_copy_to(con, c);
        client_flush(c);
    }
}

/* ---- guest output, loop side ---- */

static void backlog_add(struct console *con, const uint8_t *p, size_t n)
{
    size_t total = con->bl_len + n;
    con->bl_len = total > VMM_CONSOLE_BACKLOG ? VMM_CONSOLE_BACKLOG : total;
    if (n >= VMM_CONSOLE_BACKLOG) {
        p += n - VMM_CONSOLE_BACKLOG;
        n = VMM_CONSOLE_BACKLOG;
    }
    while (n > 0) {
        size_t room = VMM_CONSOLE_BACKLOG - con->bl_head;
        size_t k = n < room ? n : room;
        memcpy(con->backlog + con->bl_head, p, k);
        con->bl_head = (con->bl_head + k) % VMM_CONSOLE_BACKLOG;
        p += k;
        n -= k;
    }
}

/* Both files are opened at start-up, while tvm-vmm may still open them:
 * the sandbox user cannot create files in a log directory root owns, and
 * landlock leaves it no directory outside the run directory. */
static int log_open(struct console *con)
{
    char old[4096];
    if (snprintf(old, sizeof old, "%s.old", con->log_path) >= (int)sizeof old)
        return err_set("console log path too long: %s", con->log_path);
    con->log_fd = open(con->log_path, O_RDWR | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    con->log_size = 0;
    if (con->log_fd < 0)
        return err_errno("cannot open console log '%s'", con->log_path);
    /* The previous run's rotated log stays until this run rotates. */
    con->old_fd = open(old, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (con->old_fd < 0)
        return err_errno("cannot open console log '%s'", old);
    return 0;
}

/* The log's content goes to PATH.old (replacing it) and the log starts
 * over empty: logrotate's copytruncate, on descriptors alone. */
static int log_rotate(struct console *con)
{
    static uint8_t buf[64 * 1024]; /* loop thread only */
    if (ftruncate(con->old_fd, 0) < 0)
        return -1;
    for (off_t off = 0;;) {
        ssize_t r = pread(con->log_fd, buf, sizeof buf, off);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            break;
        for (ssize_t done = 0; done < r;) {
            ssize_t w = pwrite(con->old_fd, buf + done, (size_t)(r - done), off + done);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                return -1;
            done += w;
        }
        off += r;
    }
    if (ftruncate(con->log_fd, 0) < 0)
        return -1;
    con->log_size = 0;
    return 0;
}

/* Past CONSOLE_LOG_MAX the log moves to PATH.old and starts over, so a
 * chatty guest costs at most twice that on disk. */
static void log_write(struct console *con, const uint8_t *p, size_t n)
{
    if (con->log_fd < 0)
        return;
    if (con->log_size + n > CONSOLE_LOG_MAX && con->log_size > 0 && log_rotate(con) < 0) {
        /* Keep logging rather than lose the newest output: the file then
         * grows past the cap until a rotation works (RLIMIT_FSIZE bounds it). */
        fprintf(stderr, "tvm-vmm: console: cannot rotate '%s': %s\n", con->log_path,
                strerror(errno));
        con->log_size = 0;
    }
    while (n > 0) {
        ssize_t w = write(con->log_fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            fprintf(stderr, "tvm-vmm: console: log write failed: %s\n", strerror(errno));
            return;
        }
        p += w;
        n -= (size_t)w;
        con->log_size += (size_t)w;
    }
}

static void distribute(struct console *con, const uint8_t *p, size_t n)
{
    backlog_add(con, p, n);
    log_write(con, p, n);
    for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++) {
        struct con_client *c = &con->clients[i];
        client_queue(c, p, n);
        if (c->fd >= 0)
            client_flush(c);
    }
}

/* Hands out what was pending on entry, in chunks; what the guest adds
 * meanwhile waits for the next wake-up, which is asked for here. */
static void drain(struct console *con)
{
    uint8_t *chunk = con->chunk;
    pthread_mutex_lock(&con->lock);
    size_t todo = con->pend_len;
    pthread_mutex_unlock(&con->lock);
    while (todo > 0) {
        pthread_mutex_lock(&con->lock);
        size_t n = con->pend_len < todo ? con->pend_len : todo;
        if (n > CONSOLE_CHUNK)
            n = CONSOLE_CHUNK;
        if (n > CONSOLE_PENDING_MAX - con->pend_head)
            n = CONSOLE_PENDING_MAX - con->pend_head;
        memcpy(chunk, con->pending + con->pend_head, n);
        con->pend_head = (con->pend_head + n) % CONSOLE_PENDING_MAX;
        con->pend_len -= n;
        pthread_mutex_unlock(&con->lock);
        if (n == 0)
            break;
        distribute(con, chunk, n);
        todo -= n;
    }
    pthread_mutex_lock(&con->lock);
    bool more = con->pend_len > 0;
    pthread_mutex_unlock(&con->lock);
    if (more) {
        /* The producer kicks only when the ring was empty: come back. */
        uint64_t one = 1;
        ssize_t w = write(con->event_fd, &one, sizeof(one));
        (void)w;
    }
}

static void on_event(void *opaque, uint32_t events)
{
    struct console *con = opaque;
    (void)events;
    uint64_t cnt;
    ssize_t r = read(con->event_fd, &cnt, sizeof(cnt));
    (void)r;
    drain(con);
}

/* ---- setup ---- */

static void release(struct console *con)
{
    if (con->listen_fd >= 0) {
        loop_del(con->loop, con->listen_fd);
        close(con->listen_fd);
        sandbox_unlink(con->sock_path);
    }
    if (con->event_fd >= 0) {
        loop_del(con->loop, con->event_fd);
        close(con->event_fd);
    }
    if (con->log_fd >= 0)
        close(con->log_fd);
    if (con->old_fd >= 0)
        close(con->old_fd);
    free(con->sock_path);
    free(con->log_path);
    free(con->pending);
    free(con->chunk);
    pthread_mutex_destroy(&con->lock);
    free(con);
}

static int listen_on(struct console *con, const char *sock_path)
{
    con->listen_fd = sockserv_listen(sock_path, "console");
    if (con->listen_fd < 0)
        return -1;
    if (loop_add(con->loop, con->listen_fd, EPOLLIN, on_listen, con) < 0) {
        close(con->listen_fd);
        sandbox_unlink(sock_path);
        con->listen_fd = -1;
        return -1;
    }
    return 0;
}

struct console *console_new(struct loop *l, const char *sock_path, const char *log_path)
{
    struct console *con = calloc(1, sizeof(*con));
    if (!con) {
        err_set("console: out of memory");
        return NULL;
    }
    pthread_mutex_init(&con->lock, NULL);
    con->loop = l;
    con->listen_fd = con->event_fd = con->log_fd = con->old_fd = -1;
    con->writer = -1;
    for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++)
        con->clients[i].fd = -1;
    con->sock_path = sock_path ? strdup(sock_path) : NULL;
    con->log_path = log_path ? strdup(log_path) : NULL;
    con->pending = malloc(CONSOLE_PENDING_MAX);
    con->chunk = malloc(CONSOLE_CHUNK);
    if (!con->pending || !con->chunk || (sock_path && !con->sock_path) ||
        (log_path && !con->log_path)) {
        err_set("console: out of memory");
        goto fail;
    }
    if (log_path && log_open(con) < 0)
        goto fail;
    con->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (con->event_fd < 0) {
        err_errno("console: eventfd");
        goto fail;
    }
    if (loop_add(l, con->event_fd, EPOLLIN, on_event, con) < 0) {
        close(con->event_fd);
        con->event_fd = -1;
        goto fail;
    }
    if (sock_path && listen_on(con, sock_path) < 0)
        goto fail;
    /* Published before any other thread sees con: no lock needed. */
    con->accepting = true;
    return con;
fail:
    release(con);
    return NULL;
}

void console_free(struct console *con)
{
    if (!con)
        return;
    pthread_mutex_lock(&con->lock);
    con->accepting = false;
    pthread_mutex_unlock(&con->lock);
    /* The guest's last words still reach the log and, best effort, the
     * clients (sockets are nonblocking; what does not fit is lost). */
    drain(con);
    for (int i = 0; i < CONSOLE_MAX_CLIENTS; i++)
        client_close(&con->clients[i]);
    release(con);
}

/* ---- the UART's console ---- */

int console_init(struct loop *l, const char *sock_path, const char *log_path)
{
    if (uart)
        return err_set("console already running");
    uart = console_new(l, sock_path, log_path);
    return uart ? 0 : -1;
}

void console_guest_output(const uint8_t *buf, size_t len)
{
    if (uart)
        console_output(uart, buf, len);
}

void console_set_input_handler(void (*fn)(void *opaque, const uint8_t *buf, size_t len),
                               void *opaque)
{
    if (uart)
        console_set_input(uart, fn, opaque);
}

void console_close(void)
{
    console_free(uart);
    uart = NULL;
}
