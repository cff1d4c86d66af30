/* The VNC server: see vnc.h. libvncserver does the protocol; this file
 * owns the sockets (libvncserver is told to listen nowhere and is handed
 * each accepted connection), the thread, and the key path from keysyms
 * to the guest's keyboard.
 */
#include "vnc/vnc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <rfb/rfb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/base/err.h"

#define ROUND_US 33000 /* how long an idle server (no client) sleeps */
/* The screen is looked at (and changes sent) at most this often: a guest
 * that redraws faster is shown at 60 frames a second, and the VNC thread
 * does not spend a frame's work on every change. Input is taken at once. */
#define FRAME_US 16667
#define SHIFT_QNUM 0x2A
#define HANDED_MAX 8 /* add_client sockets waiting for the VNC thread */

struct vnc_server {
    struct vnc_config c;
    char *unix_path;
    char listen_addr[64];
    int unix_fd, tcp_fd, wake_fd;
    int port;
    rfbScreenInfoPtr screen;
    char *passwords[2];
    pthread_t thread;
    bool running;
    volatile bool stop;
    bool shift_held[2]; /* left, right: what the clients hold */
    bool shift_faked;   /* we pressed Shift for a keysym that needed it */
    bool shift_lifted;  /* we released the held Shift for one that did not */
    /* add_client's sockets until the VNC thread takes them */
    pthread_mutex_t handed_lock;
    struct {
        int fd;
        bool skipauth;
    } handed[HANDED_MAX];
    unsigned nhanded;
};

/* The mark of a client that add_client let in without a password. */
static char skipauth_tag;

/* libvncserver's messages go to vmm.log with our prefix; they name
 * clients and never a password. It writes some fifteen lines for every
 * client (protocol version, each extension enabled, pixel format, a table
 * of statistics when it leaves): those are left out, and anyone who can
 * connect could fill the log, so at most LOG_BURST lines go out per
 * LOG_WINDOW_S seconds; the next one says how many were dropped. */
#define LOG_BURST 30
#define LOG_WINDOW_S 10

static const char *const chatter[] = {
    "Statistics", "other clients", "Normal socket connection",
    "setsockopt failed: can't set TCP_NODELAY", "Protocol version sent", "Client Protocol Version",
    "rfbProcessClientSecurityType:", "encoding for client", "Sending rfbEncodingExtDesktopSize",
    "Pixel format for client", "true colour:", "bpp, depth", "Enabling ",
    "rfbProcessClientNormalMessage: ignoring unsupported encoding", "rfbClientSendString(",
    "rfbProcessClientProtocolVersion: client gone",
};

static bool is_chatter(const char *line)
{
    for (size_t i = 0; i < sizeof chatter / sizeof chatter[0]; i++)
        if (strstr(line, chatter[i]))
            return true;
    /* a row of the statistics table: "  NAME   :  N |  N/  N ( N.N%)" */
    return strstr(line, " : ") && strstr(line, " | ") && strchr(line, '%');
}

static void log_line(const char *line)
{
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    static time_t window;
    static unsigned used, dropped;
    pthread_mutex_lock(&mu);
    time_t now = time(NULL);
    if (now - window >= LOG_WINDOW_S) {
        window = now;
        used = 0;
    }
    if (used < LOG_BURST) {
        used++;
        if (dropped)
            fprintf(stderr, "tvm-vmm: vnc: (%u message%s left out)\n", dropped,
                    dropped == 1 ? "" : "s");
        dropped = 0;
        fprintf(stderr, "tvm-vmm: vnc: %s\n", line);
    } else {
        dropped++;
    }
    pthread_mutex_unlock(&mu);
}

static void vnc_log(const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    size_t n = strlen(buf);
    while (n && buf[n - 1] == '\n')
        buf[--n] = '\0';
    if (!is_chatter(buf))
        log_line(buf);
}

/* ---- sockets ---- */

static int listen_unix(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path)
        return err_set("%s: path too long for a socket", path);
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return err_errno("vnc: socket");
    unlink(path);
    /* 0600 from the start: no moment where another user could connect */
    mode_t old = umask(0177);
    int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
    umask(old);
    if (rc < 0 || listen(fd, 8) < 0) {
        err_errno("vnc: %s", path);
        close(fd);
        return -1;
    }
    return fd;
}

/* TCP on ADDR:PORT, or the first free port from 5900 when PORT is -1
 * (libvirt's autoport). *bound receives the port. */
static int listen_tcp(const char *addr, int port, int *bound)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    int e = getaddrinfo(addr && *addr ? addr : NULL, "0", &hints, &res);
    if (e)
        return err_set("vnc: listen address '%s': %s", addr, gai_strerror(e));
    int first = port >= 0 ? port : VNC_AUTOPORT_FIRST, last = port >= 0 ? port : VNC_AUTOPORT_LAST;
    int fd = -1, err = 0;
    for (int p = first; p <= last && fd < 0; p++) {
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
            int s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
            if (s < 0)
                continue;
            int one = 1;
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (ai->ai_family == AF_INET)
                ((struct sockaddr_in *)ai->ai_addr)->sin_port = htons((uint16_t)p);
            else if (ai->ai_family == AF_INET6)
                ((struct sockaddr_in6 *)ai->ai_addr)->sin6_port = htons((uint16_t)p);
            if (bind(s, ai->ai_addr, ai->ai_addrlen) == 0 && listen(s, 8) == 0) {
                fd = s;
                *bound = p;
            } else {
                err = errno;
                close(s);
            }
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        errno = err;
        if (port >= 0)
            return err_errno("vnc: cannot listen on %s port %d", addr, port);
        return err_errno("vnc: no free port from %d on %s", VNC_AUTOPORT_FIRST, addr);
    }
    return fd;
}

/* ---- keys ---- */

static void send_key(struct vnc_server *s, unsigned qnum, bool down)
{
    s->c.ops->key(s->c.opaque, qnum, down);
}

/* Shift as the keysym needs it: a client may send 'A' without Shift (a
 * paste, a script) or '1' with Shift held for something else. */
static void kbd_event(rfbBool down, rfbKeySym keysym, rfbClientPtr cl)
{
    struct vnc_server *s = cl->screen->screenData;
    bool shifted;
    unsigned q = vnc_keysym_qnum((uint32_t)keysym, &shifted);
    if (!q)
        return;
    if (keysym == 0xFFE1 || keysym == 0xFFE2) {
        s->shift_held[keysym == 0xFFE2] = down;
        send_key(s, q, down);
        return;
    }
    bool printable = keysym >= 0x20 && keysym < 0x7F;
    bool held = s->shift_held[0] || s->shift_held[1];
    if (down && printable && shifted && !held) {
        send_key(s, SHIFT_QNUM, true);
        s->shift_faked = true;
    } else if (down && printable && !shifted && held && keysym != ' ') {
        if (s->shift_held[0])
            send_key(s, 0x2A, false);
        if (s->shift_held[1])
            send_key(s, 0x36, false);
        s->shift_lifted = true;
    }
    send_key(s, q, down);
    if (!down && s->shift_faked) {
        send_key(s, SHIFT_QNUM, false);
        s->shift_faked = false;
    } else if (!down && s->shift_lifted) {
        if (s->shift_held[0])
            send_key(s, 0x2A, true);
        if (s->shift_held[1])
            send_key(s, 0x36, true);
        s->shift_lifted = false;
    }
}

/* ---- pointer ---- */

static void ptr_event(int mask, int x, int y, rfbClientPtr cl)
{
    struct vnc_server *s = cl->screen->screenData;
    /* A client's coordinates are 16-bit and may lie outside the screen. */
    x = x < 0 ? 0 : x >= (int)s->c.width ? (int)s->c.width - 1 : x;
    y = y < 0 ? 0 : y >= (int)s->c.height ? (int)s->c.height - 1 : y;
    if (s->c.ops->pointer)
        s->c.ops->pointer(s->c.opaque, (unsigned)x, (unsigned)y, (unsigned)mask & 0x7F);
}

/* The line that says who came ("Client X gone" says who left). */
static enum rfbNewClientAction client_came(rfbClientPtr cl)
{
    vnc_log("client %s connected", cl->host ? cl->host : "?");
    return RFB_CLIENT_ACCEPT;
}

/* ---- the thread ---- */

/* libvncserver keeps one security-type list for all its clients, so a
 * client let in without a password still sees VNC authentication; its
 * answer is not checked. */
static rfbBool check_password(rfbClientPtr cl, const char *response, int len)
{
    if (cl->clientData == &skipauth_tag)
        return TRUE;
    return rfbCheckPasswordByList(cl, response, len);
}

static void take_handed(struct vnc_server *s)
{
    pthread_mutex_lock(&s->handed_lock);
    for (unsigned i = 0; i < s->nhanded; i++) {
        vnc_log("a client handed over by QMP add_client%s",
                s->handed[i].skipauth ? " (skipauth)" : "");
        rfbClientPtr cl = rfbNewClient(s->screen, s->handed[i].fd);
        if (cl && s->handed[i].skipauth)
            cl->clientData = &skipauth_tag;
    }
    s->nhanded = 0;
    pthread_mutex_unlock(&s->handed_lock);
}

static void accept_all(struct vnc_server *s, int lfd)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0)
            return;
        rfbNewClient(s->screen, fd);
    }
}

static int64_t now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static void *run(void *opaque)
{
    struct vnc_server *s = opaque;
    int64_t last_refresh = 0;
    while (!s->stop) {
        struct pollfd p[3];
        int n = 0;
        p[n++] = (struct pollfd){.fd = s->wake_fd, .events = POLLIN};
        p[n++] = (struct pollfd){.fd = s->unix_fd, .events = POLLIN};
        if (s->tcp_fd >= 0)
            p[n++] = (struct pollfd){.fd = s->tcp_fd, .events = POLLIN};
        bool clients = vnc_clients(s) > 0;
        if (poll(p, (nfds_t)n, clients ? 0 : ROUND_US / 1000) < 0 && errno != EINTR)
            break;
        if (p[0].revents & POLLIN) {
            uint64_t v;
            if (read(s->wake_fd, &v, sizeof v) < 0)
                (void)0; /* another round reads it */
        }
        take_handed(s);
        for (int i = 1; i < n; i++)
            if (p[i].revents & POLLIN)
                accept_all(s, p[i].fd);
        if (s->stop)
            break;
        /* The screen is looked at only while someone watches. */
        if (vnc_clients(s) > 0) {
            int64_t now = now_us(), wait = FRAME_US - (now - last_refresh);
            if (wait <= 0) {
                s->c.ops->refresh(s->c.opaque, s);
                last_refresh = now;
                wait = FRAME_US;
            }
            /* clients' messages, then the updates they asked for */
            rfbProcessEvents(s->screen, (long)(wait < 1000 ? 1000 : wait));
        }
    }
    return NULL;
}

/* ---- public ---- */

struct vnc_server *vnc_new(const struct vnc_config *c)
{
    struct vnc_server *s = calloc(1, sizeof *s);
    if (!s) {
        err_set("out of memory");
        return NULL;
    }
    s->c = *c;
    pthread_mutex_init(&s->handed_lock, NULL);
    s->unix_fd = s->tcp_fd = s->wake_fd = -1;
    s->port = -1;
    s->unix_path = strdup(c->unix_path);
    if (!s->unix_path) {
        err_set("out of memory");
        goto fail;
    }
    rfbLog = vnc_log;
    rfbErr = vnc_log;
    /* VNC authentication's DES and random challenge come from libgcrypt,
     * which initialises itself on first use by looking at files (its FIPS
     * switch, the random device): make that first use now, while the VMM
     * may still open files, not in the sandbox at a client's first login. */
    if (c->password && *c->password) {
        unsigned char challenge[16];
        char probe[] = "tvm";
        rfbRandomBytes(challenge);
        rfbEncryptBytes(challenge, probe);
    }
    s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (s->wake_fd < 0) {
        err_errno("vnc: eventfd");
        goto fail;
    }
    s->unix_fd = listen_unix(c->unix_path);
    if (s->unix_fd < 0)
        goto fail;
    if (c->listen) {
        s->tcp_fd = listen_tcp(c->listen, c->port, &s->port);
        if (s->tcp_fd < 0)
            goto fail;
        snprintf(s->listen_addr, sizeof s->listen_addr, "%s", c->listen);
    }
    int argc = 0;
    s->screen = rfbGetScreen(&argc, NULL, (int)c->width, (int)c->height, 8, 3, 4);
    if (!s->screen) {
        err_set("vnc: cannot set up the screen");
        goto fail;
    }
    rfbScreenInfoPtr sc = s->screen;
    /* Listen nowhere: the sockets above are ours. */
    sc->autoPort = FALSE;
    sc->port = 0;
    sc->ipv6port = 0;
    sc->httpPort = 0;
    sc->httpDir = NULL;
    sc->frameBuffer = c->framebuffer;
    sc->paddedWidthInBytes = (int)c->stride;
    /* the guest's pixels: XRGB in a little-endian word */
    sc->serverFormat.redShift = 16;
    sc->serverFormat.greenShift = 8;
    sc->serverFormat.blueShift = 0;
    sc->desktopName = c->name ? c->name : "tvm";
    sc->alwaysShared = TRUE; /* several clients watch together */
    sc->kbdAddEvent = kbd_event;
    sc->ptrAddEvent = ptr_event;
    sc->newClientHook = client_came;
    sc->screenData = s;
    sc->deferUpdateTime = 0;
    if (c->password && *c->password) {
        s->passwords[0] = strdup(c->password);
        if (!s->passwords[0]) {
            err_set("out of memory");
            goto fail;
        }
        sc->authPasswdData = s->passwords;
        sc->passwordCheck = check_password;
    }
    rfbInitServer(sc);
    return s;
fail:
    vnc_free(s);
    return NULL;
}

int vnc_start(struct vnc_server *s)
{
    int e = pthread_create(&s->thread, NULL, run, s);
    if (e) {
        errno = e;
        return err_errno("vnc: thread");
    }
    pthread_setname_np(s->thread, "vnc");
    s->running = true;
    return 0;
}

void vnc_damage(struct vnc_server *s, unsigned y0, unsigned y1)
{
    rfbMarkRectAsModified(s->screen, 0, (int)y0, (int)s->c.width, (int)y1);
}

int vnc_port(const struct vnc_server *s)
{
    return s->port;
}

const char *vnc_listen(const struct vnc_server *s)
{
    return s->listen_addr;
}

int vnc_add_client(struct vnc_server *s, int fd, bool skipauth)
{
    int type = 0;
    socklen_t len = sizeof type;
    if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0 || type != SOCK_STREAM) {
        close(fd);
        return err_set("add_client: the descriptor is not a stream socket");
    }
    pthread_mutex_lock(&s->handed_lock);
    bool full = s->nhanded == HANDED_MAX;
    if (!full) {
        s->handed[s->nhanded].fd = fd;
        s->handed[s->nhanded++].skipauth = skipauth;
    }
    pthread_mutex_unlock(&s->handed_lock);
    if (full) {
        close(fd);
        return err_set("add_client: %d clients are already waiting to be served", HANDED_MAX);
    }
    uint64_t one = 1;
    if (write(s->wake_fd, &one, sizeof one) < 0)
        (void)0; /* the thread takes it at its next round all the same */
    return 0;
}

unsigned vnc_clients(struct vnc_server *s)
{
    unsigned n = 0;
    rfbClientIteratorPtr it = rfbGetClientIterator(s->screen);
    while (rfbClientIteratorNext(it))
        n++;
    rfbReleaseClientIterator(it);
    return n;
}

void vnc_free(struct vnc_server *s)
{
    if (!s)
        return;
    if (s->running) {
        s->stop = true;
        uint64_t one = 1;
        if (write(s->wake_fd, &one, sizeof one) < 0)
            (void)0; /* the thread still sees stop within a round */
        pthread_join(s->thread, NULL);
    }
    for (unsigned i = 0; i < s->nhanded; i++)
        close(s->handed[i].fd);
    pthread_mutex_destroy(&s->handed_lock);
    if (s->screen) {
        rfbShutdownServer(s->screen, TRUE);
        rfbScreenCleanup(s->screen);
    }
    if (s->unix_fd >= 0) {
        close(s->unix_fd);
        unlink(s->unix_path);
    }
    if (s->tcp_fd >= 0)
        close(s->tcp_fd);
    if (s->wake_fd >= 0)
        close(s->wake_fd);
    if (s->passwords[0]) {
        /* the secret does not linger in freed memory */
        explicit_bzero(s->passwords[0], strlen(s->passwords[0]));
        free(s->passwords[0]);
    }
    free(s->unix_path);
    free(s);
}
