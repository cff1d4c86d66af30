/* A QMP client for the VMM's device unit tests (vmm-test-balloon, -net):
 * serves the control socket for a VM on a loop of its own and talks to it
 * from the same thread, pumping the loop while it waits for a reply.
 * Include after <cmocka.h>.
 */
#ifndef TVM_TESTS_VMM_QMP_H
#define TVM_TESTS_VMM_QMP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "control.h"
#include "vmm.h"

struct vmm_qmp {
    struct loop *loop;
    int fd;
    char dir[32];
    char buf[1 << 16]; /* received, not yet returned */
    size_t len;
    char line[1 << 16]; /* the last line returned */
};

/* The next line that is not an event; fails the test after ~5 s. */
static inline const char *vmm_qmp_line(struct vmm_qmp *q)
{
    for (int spins = 0; spins < 500; spins++) {
        char *nl = memchr(q->buf, '\n', q->len);
        if (nl) {
            size_t n = (size_t)(nl - q->buf);
            assert_true(n < sizeof q->line);
            memcpy(q->line, q->buf, n);
            q->line[n] = 0;
            memmove(q->buf, nl + 1, q->len - n - 1);
            q->len -= n + 1;
            if (strstr(q->line, "\"event\""))
                continue;
            return q->line;
        }
        assert_int_equal(loop_run_once(q->loop, 10), 0);
        ssize_t r = recv(q->fd, q->buf + q->len, sizeof q->buf - q->len, MSG_DONTWAIT);
        if (r > 0)
            q->len += (size_t)r;
    }
    fail_msg("no reply from the control server");
    return NULL;
}

/* Send one command (REQ without its newline); the reply line. */
static inline const char *vmm_qmp_send(struct vmm_qmp *q, const char *req)
{
    assert_int_equal(send(q->fd, req, strlen(req), MSG_NOSIGNAL), (ssize_t)strlen(req));
    assert_int_equal(send(q->fd, "\n", 1, MSG_NOSIGNAL), 1);
    return vmm_qmp_line(q);
}

/* Serve VM's control socket (QMP name NAME) in a fresh directory, connect,
 * read the greeting and leave negotiation mode. */
static inline void vmm_qmp_open(struct vmm_qmp *q, struct vm *vm, const char *name)
{
    memset(q, 0, sizeof *q);
    snprintf(q->dir, sizeof q->dir, "/tmp/vmm-qmp-XXXXXX");
    assert_non_null(mkdtemp(q->dir));
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/control.sock", q->dir);
    q->loop = loop_new();
    assert_non_null(q->loop);
    struct control_config cfg = {.name = name};
    assert_int_equal(control_init(q->loop, vm, &cfg, sa.sun_path), 0);
    q->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(q->fd >= 0);
    assert_int_equal(connect(q->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_non_null(strstr(vmm_qmp_line(q), "\"QMP\""));
    assert_non_null(strstr(vmm_qmp_send(q, "{\"execute\": \"qmp_capabilities\"}"), "\"return\""));
}

static inline void vmm_qmp_close(struct vmm_qmp *q)
{
    close(q->fd);
    control_close(); /* unlinks the socket */
    loop_free(q->loop);
    rmdir(q->dir);
}

#endif
