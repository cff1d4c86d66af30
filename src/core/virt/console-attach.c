/* `tvm console`: the terminal (or a pipe) joined to a guest's console
 * socket until Ctrl-] or until the guest's console goes away.
 *
 * A terminal is switched to raw mode so every key reaches the guest, and is
 * put back on every way out: Ctrl-], end of the guest, write errors, and
 * SIGTERM/SIGHUP/SIGQUIT (caught only while attached).
 */
#include "core/virt/vm-priv.h"
#include "core/base/err.h"
#include "core/proto/vmm-protocol.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static volatile sig_atomic_t detach_signal;

static void on_signal(int sig)
{
    detach_signal = sig;
}

struct relay_saved {
    bool raw;
    struct termios tio;
    struct sigaction term, hup, quit, pipe;
};

static void relay_setup(int in_fd, struct relay_saved *s)
{
    struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: poll returns EINTR */
    sigemptyset(&sa.sa_mask);
    detach_signal = 0;
    sigaction(SIGTERM, &sa, &s->term);
    sigaction(SIGHUP, &sa, &s->hup);
    sigaction(SIGQUIT, &sa, &s->quit);
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigaction(SIGPIPE, &ign, &s->pipe);
    s->raw = false;
    if (isatty(in_fd) && tcgetattr(in_fd, &s->tio) == 0) {
        struct termios raw = s->tio;
        cfmakeraw(&raw);
        s->raw = tcsetattr(in_fd, TCSAFLUSH, &raw) == 0;
    }
}

static void relay_restore(int in_fd, const struct relay_saved *s)
{
    if (s->raw)
        tcsetattr(in_fd, TCSAFLUSH, &s->tio);
    sigaction(SIGTERM, &s->term, NULL);
    sigaction(SIGHUP, &s->hup, NULL);
    sigaction(SIGQUIT, &s->quit, NULL);
    sigaction(SIGPIPE, &s->pipe, NULL);
}

static int write_all(int fd, const char *buf, size_t n, bool sock)
{
    while (n) {
        ssize_t w = sock ? send(fd, buf, n, MSG_NOSIGNAL) : write(fd, buf, n);
        if (w < 0) {
            if (errno == EINTR && !detach_signal)
                continue;
            return -1;
        }
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Keys to the guest, up to the escape character. 1: detach, 0: go on,
 * -1: end of input. */
static int pump_input(int in_fd, int sock)
{
    char buf[4096];
    ssize_t r = read(in_fd, buf, sizeof(buf));
    if (r < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : -1;
    if (r == 0)
        return -1;
    char *esc = memchr(buf, VM_CONSOLE_ESCAPE, (size_t)r);
    size_t n = esc ? (size_t)(esc - buf) : (size_t)r;
    /* A read-only attach (another writer) loses its input, as the VMM says;
     * a vanished socket shows up on the output side. */
    write_all(sock, buf, n, true);
    return esc ? 1 : 0;
}

/* Guest output to out_fd. 0: go on, 1: the console closed, -1: error. */
static int pump_output(int sock, int out_fd)
{
    char buf[16384];
    ssize_t r = recv(sock, buf, sizeof(buf), 0);
    if (r < 0)
        return errno == EINTR || errno == EAGAIN ? 0 : err_errno("console socket");
    if (r == 0)
        return 1;
    if (write_all(out_fd, buf, (size_t)r, false) < 0)
        return err_errno("cannot write console output");
    return 0;
}

/* After the escape key: what the guest has already sent (the backlog
 * tvm-vmm queues on connect, the echo of the last typed line) still
 * reaches the screen. Waits while output keeps coming, at most a second. */
#define DRAIN_IDLE_MS 100
#define DRAIN_MAX_ROUNDS 10
static void drain_output(int sock, int out_fd)
{
    struct pollfd p = {.fd = sock, .events = POLLIN};
    for (int i = 0; i < DRAIN_MAX_ROUNDS && poll(&p, 1, DRAIN_IDLE_MS) > 0; i++)
        if (!(p.revents & POLLIN) || pump_output(sock, out_fd) != 0)
            break;
    err_clear();
}

int vm_console_relay(int sock, int in_fd, int out_fd)
{
    struct relay_saved saved;
    relay_setup(in_fd, &saved);
    bool input_open = true;
    int rc = 0;
    while (!detach_signal) {
        struct pollfd p[2] = {{.fd = sock, .events = POLLIN},
                              {.fd = input_open ? in_fd : -1, .events = POLLIN}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            rc = err_errno("poll");
            break;
        }
        /* output first: what arrived is shown before the input that may detach */
        if (p[0].revents) {
            int out = pump_output(sock, out_fd);
            if (out != 0) {
                rc = out < 0 ? -1 : 0;
                break;
            }
        }
        if (p[1].revents) {
            int in = pump_input(in_fd, sock);
            if (in == 1) {
                drain_output(sock, out_fd);
                break;
            }
            if (in < 0)
                input_open = false; /* keep showing output until the guest's console ends */
        }
    }
    relay_restore(in_fd, &saved);
    return rc;
}

/* The run-dir socket of console DEVNAME (see vm_console_dev()). */
static int console_socket_name(const struct store_domain_row *row, const char *devname, char *name,
                               size_t len)
{
    if (!devname || !strcmp(devname, "serial0") || !strcmp(devname, "console0")) {
        snprintf(name, len, "%s", VMM_SOCK_CONSOLE);
        return 0;
    }
    const char *num = strncmp(devname, "console", 7) == 0 ? devname + 7 : NULL;
    if (num && num[0] >= '1' && num[0] <= '9' && strlen(num) <= 4 &&
        strspn(num, "0123456789") == strlen(num)) {
        snprintf(name, len, VMM_SOCK_VCONSOLE_FMT, (unsigned)atoi(num));
        return 0;
    }
    return err_set("domain '%s': no console device '%s' (serial0/console0 is the serial "
                   "console, console1, console2 ... the virtio consoles)",
                   row->name, devname);
}

static int connect_console(const struct store_domain_row *row, const char *devname)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    char path[PATH_MAX], name[64];
    if (console_socket_name(row, devname, name, sizeof(name)) < 0 ||
        vm_run_path(row->uuid, name, path, sizeof(path)) < 0)
        return -1;
    if (strlen(path) >= sizeof(sa.sun_path))
        return err_set("console socket path too long: %s", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_errno("socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (errno == ENOENT && devname && strcmp(name, VMM_SOCK_CONSOLE) != 0)
            err_set("domain '%s' has no console device '%s' (a <console> with <target "
                    "type='virtio'/> per virtio console)",
                    row->name, devname);
        else
            err_errno("cannot connect to the console of domain '%s' (%s)", row->name, path);
        close(fd);
        return -1;
    }
    return fd;
}

int vm_console(struct store *st, const char *dom, int in_fd, int out_fd, unsigned flags)
{
    return vm_console_dev(st, dom, NULL, in_fd, out_fd, flags);
}

int vm_console_dev(struct store *st, const char *dom, const char *devname, int in_fd, int out_fd,
                   unsigned flags)
{
    struct store_domain_row row;
    if (vm_lookup_active(st, dom, &row) < 0)
        return -1;
    int sock = connect_console(&row, devname);
    if (sock < 0)
        return -1;
    if (!(flags & VM_CONSOLE_NO_BANNER)) {
        char banner[512];
        int n = snprintf(banner, sizeof(banner),
                         "Connected to domain '%s'\nEscape character is ^] (Ctrl + ])\n", row.name);
        write_all(out_fd, banner, (size_t)n < sizeof(banner) ? (size_t)n : sizeof(banner) - 1,
                  false);
    }
    int rc = vm_console_relay(sock, in_fd, out_fd);
    close(sock);
    return rc;
}
