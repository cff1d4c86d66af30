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

#define SOCKSERV_MAX_RECV_FDS 8

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

ssize_t sockserv_recv_fds(int fd, void *buf, size_t size, int *fds, int max, int *nfds)
{
    /* Room for SOCKSERV_MAX_RECV_FDS descriptors; a client sends one. */
    union {
        struct cmsghdr align;
        char b[CMSG_SPACE(sizeof(int) * SOCKSERV_MAX_RECV_FDS)];
    } ctl;
    if (max > SOCKSERV_MAX_RECV_FDS)
        max = SOCKSERV_MAX_RECV_FDS;
    *nfds = 0;
    for (;;) {
        struct iovec iov = {.iov_base = buf, .iov_len = size};
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctl.b,
                            .msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)max)};
        ssize_t n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                continue;
            size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            for (size_t i = 0; i < k; i++) {
                int got;
                memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                if (*nfds < max)
                    fds[(*nfds)++] = got;
                else
                    close(got);
            }
        }
        if (n <= 0) {
            for (int i = 0; i < *nfds; i++)
                close(fds[i]);
            *nfds = 0;
            return -1;
        }
        return n;
    }
}
