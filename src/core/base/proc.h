/* Processes held by pidfd, not by number. A pid read from a pid file and
 * checked can be reused by an unrelated process by the time a wait for it
 * ends; a signal sent to the number then reaches that stranger. A pidfd
 * names the one process it was opened for: once that process has exited,
 * signals through it fail with ESRCH and a poll on it says so. Open it
 * while the process is known to be the right one (or before checking that
 * it is), and use it for every later signal and wait. */
#ifndef TVM_CORE_BASE_PROC_H
#define TVM_CORE_BASE_PROC_H

#include <stdbool.h>
#include <sys/types.h>

/* A pidfd (close-on-exec) for PID; -1 with errno (ESRCH: no such process). */
int proc_open(pid_t pid);
/* SIG to the process behind PIDFD; -1 with errno ESRCH once it has exited
 * (nothing else receives it). Signal 0 only checks. */
int proc_signal(int pidfd, int sig);
/* Waits up to timeout_ms (0: just look) for the process to have exited (a
 * zombie counts: it runs no more); true once it has. */
bool proc_wait_exit(int pidfd, int timeout_ms);
/* The process has not exited (proc_wait_exit with no wait, negated). */
bool proc_running(int pidfd);
/* Once the process behind PIDFD has exited, waits up to timeout_ms for its
 * parent to reap it, so that its pid is free again (a zombie still answers
 * kill -0 and shows in ps). Sends nothing; stops early as soon as PID is no
 * longer a zombie. */
void proc_wait_reaped(int pidfd, pid_t pid, int timeout_ms);

#endif
