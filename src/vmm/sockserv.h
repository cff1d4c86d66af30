/* The socket plumbing the console and QMP control servers share: a
 * listening Unix socket, nonblocking accept, and the send/receive steps
 * of a client with an output buffer. Loop-thread only; messages name the
 * server (WHAT, e.g. "console"). */
#ifndef TVM_VMM_SOCKSERV_H
#define TVM_VMM_SOCKSERV_H

#include <stddef.h>
#include <sys/types.h>

/* A nonblocking, close-on-exec stream socket listening at path, mode 0600;
 * a stale socket file there is replaced. -1 with a message on error. */
int sockserv_listen(const char *path, const char *what);
/* The next pending connection (nonblocking, close-on-exec), or -1 when
 * there is none left; errors other than "none left" go to stderr. */
int sockserv_accept(int listen_fd, const char *what);
/* Send what the socket takes of buf[0..*len) and keep the rest at the
 * front of buf. 0, or -1 when the peer is gone. */
int sockserv_flush(int fd, void *buf, size_t *len);
/* One read: the byte count, 0 when nothing more is there now, -1 when the
 * peer closed or failed. */
ssize_t sockserv_recv(int fd, void *buf, size_t size);
/* sockserv_recv() that also takes descriptors sent with the bytes
 * (SCM_RIGHTS): up to MAX of them land in FDS (close-on-exec), *NFDS says
 * how many; the kernel drops any beyond MAX. */
ssize_t sockserv_recv_fds(int fd, void *buf, size_t size, int *fds, int max, int *nfds);

#endif
