/* Console pane: non-blocking socket and a line buffer with scrollback. */
#include "tui/console.h"
#include "core/base/err.h"
#include "core/base/paths.h"
#include "core/proto/vmm-protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { ESC_NONE, ESC_START, ESC_CSI, ESC_OSC, ESC_OSC_ESC, ESC_CHARSET };

void console_init(struct console *c)
{
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

static char *line_at(struct console *c, size_t i)
{
    return c->lines[(c->first + i) % CONSOLE_SCROLLBACK];
}

const char *console_line(const struct console *c, size_t i)
{
    return c->lines[(c->first + i) % CONSOLE_SCROLLBACK];
}

static void new_line(struct console *c)
{
    if (c->count == CONSOLE_SCROLLBACK)
        c->first = (c->first + 1) % CONSOLE_SCROLLBACK;
    else
        c->count++;
    line_at(c, c->count - 1)[0] = '\0';
    c->col = 0;
    if (c->scroll && c->scroll < c->count - 1)
        c->scroll++; /* keep the view still while the user reads scrollback */
}

static void put_char(struct console *c, char ch)
{
    char *line = line_at(c, c->count - 1);
    size_t len = strlen(line);
    if (c->col >= CONSOLE_LINE_MAX - 1) {
        new_line(c); /* wrap overlong lines rather than drop text */
        line = line_at(c, c->count - 1);
        len = 0;
    }
    while (len < c->col)
        line[len++] = ' ';
    line[c->col] = ch;
    if (c->col == len)
        line[c->col + 1] = '\0';
    c->col++;
}

/* Returns true when ch was consumed by an escape sequence. */
static bool escape_step(struct console *c, unsigned char ch)
{
    switch (c->esc) {
    case ESC_START:
        c->esc = ch == '['                  ? ESC_CSI
                 : ch == ']'                ? ESC_OSC
                 : (ch == '(' || ch == ')') ? ESC_CHARSET
                                            : ESC_NONE;
        return true;
    case ESC_CSI:
        if (ch >= 0x40 && ch <= 0x7e)
            c->esc = ESC_NONE;
        return true;
    case ESC_OSC:
        if (ch == 0x07)
            c->esc = ESC_NONE;
        else if (ch == 0x1b)
            c->esc = ESC_OSC_ESC;
        return true;
    case ESC_OSC_ESC:
        c->esc = ch == '\\' ? ESC_NONE : ESC_OSC;
        return true;
    case ESC_CHARSET:
        c->esc = ESC_NONE;
        return true;
    default:
        return false;
    }
}

void console_feed(struct console *c, const char *buf, size_t len)
{
    if (c->count == 0)
        new_line(c);
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)buf[i];
        if (escape_step(c, ch))
            continue;
        switch (ch) {
        case 0x1b:
            c->esc = ESC_START;
            break;
        case '\n':
            new_line(c);
            break;
        case '\r':
            c->col = 0;
            break;
        case '\b':
            if (c->col)
                c->col--;
            break;
        case '\t':
            do
                put_char(c, ' ');
            while (c->col % 8);
            break;
        default:
            if (ch >= 0x20 && ch != 0x7f)
                put_char(c, (char)ch); /* UTF-8 bytes pass through for ncursesw */
            break;
        }
    }
}

int console_open(struct console *c, const char *uuid, const char *name)
{
    console_close(c);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s/%s", paths_rundir(), uuid,
                 VMM_SOCK_CONSOLE) >= (int)sizeof(sa.sun_path))
        return err_set("console socket path too long");
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_errno("socket");
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS &&
        errno != EAGAIN) {
        int e = errno;
        close(fd);
        errno = e;
        if (e == ENOENT || e == ECONNREFUSED)
            return err_set("domain '%s' has no console (is it running?)", name);
        return err_errno("cannot connect to %s", sa.sun_path);
    }
    if (!c->lines && !(c->lines = calloc(CONSOLE_SCROLLBACK, CONSOLE_LINE_MAX))) {
        close(fd);
        return err_set("out of memory");
    }
    c->fd = fd;
    snprintf(c->name, sizeof(c->name), "%s", name);
    snprintf(c->uuid, sizeof(c->uuid), "%s", uuid);
    c->first = c->count = c->col = c->scroll = 0;
    c->esc = ESC_NONE;
    c->eof = false;
    new_line(c);
    return 0;
}

void console_close(struct console *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

int console_read(struct console *c)
{
    char buf[4096];
    int got = 0;
    for (int round = 0; round < 16 && c->fd >= 0; round++) {
        ssize_t n = read(c->fd, buf, sizeof(buf));
        if (n > 0) {
            console_feed(c, buf, (size_t)n);
            got = 1;
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            break;
        c->eof = true;
        console_close(c);
        return got ? 1 : -1;
    }
    return got;
}

int console_send(struct console *c, const char *buf, size_t len)
{
    if (c->fd < 0)
        return -1;
    ssize_t n = send(c->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
    return n == (ssize_t)len ? 0 : -1;
}
