/* pidfds through syscall(): glibc's wrappers are newer than some of the
 * systems tvm builds on, the system calls (Linux 5.3) are not. */
#include "core/base/proc.h"
#include "core/base/host.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

int proc_open(pid_t pid)
{
    if (pid <= 0) {
        errno = ESRCH;
        return -1;
    }
    /* pidfd_open's descriptors are always close-on-exec. */
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int proc_signal(int pidfd, int sig)
{
    if (pidfd < 0) {
        errno = EBADF;
        return -1;
    }
    return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

bool proc_wait_exit(int pidfd, int timeout_ms)
{
    if (pidfd < 0)
        return true;
    int64_t deadline = host_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        int64_t left = deadline - host_now_ms();
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        int n = poll(&p, 1, left > 0 ? (int)left : 0);
        if (n > 0)
            return true; /* readable: the process has exited */
        if (n == 0)
            return false;
        if (errno != EINTR)
            return false;
    }
}

bool proc_running(int pidfd)
{
    return !proc_wait_exit(pidfd, 0);
}

/* /proc/PID/stat's state is Z (or X): exited, not yet reaped. */
static bool is_zombie(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

void proc_wait_reaped(int pidfd, pid_t pid, int timeout_ms)
{
    if (!proc_wait_exit(pidfd, timeout_ms))
        return;
    int64_t deadline = host_now_ms() + timeout_ms;
    /* While the pid is a zombie it cannot have been reused: it is ours. */
    while (is_zombie(pid) && host_now_ms() < deadline) {
        struct timespec ts = {0, 20 * 1000000L};
        nanosleep(&ts, NULL);
    }
}
