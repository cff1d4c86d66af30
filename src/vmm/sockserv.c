/* See sockserv.h. */
#include "sockserv.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/base/err.h"

int sockserv_listen(const char *path, const char *what)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof(sa.sun_path))
        return err_set("%s socket path '%s' is too long (max %zu bytes)", what, path,
                       sizeof(sa.sun_path) - 1);
    strcpy(sa.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return err_errno("%s socket", what);
    if (unlink(path) < 0 && errno != ENOENT) {
        err_errno("cannot remove stale %s socket '%s'", what, path);
        close(fd);
        return -1;
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 ||
        listen(fd, 16) < 0) {
        err_errno("cannot listen on %s socket '%s'", what, path);
        close(fd);
        unlink(path);
        return -1;
    }
    return fd;
}

int sockserv_accept(int listen_fd, const char *what)
{
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            return fd;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            fprintf(stderr, "tvm-vmm: %s: accept: %s\n", what, strerror(errno));
        return -1;
    }
}

int sockserv_flush(int fd, void *buf, size_t *len)
{
    char *p = buf;
    size_t done = 0;
    while (done < *len) {
        ssize_t n = send(fd, p + done, *len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    memmove(p, p + done, *len - done);
    *len -= done;
    return 0;
}

ssize_t sockserv_recv(int fd, void *buf, size_t size)
{
    for (;;) {
        ssize_t n = recv(fd, buf, size, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        return n > 0 ? n : -1;
    }
}
