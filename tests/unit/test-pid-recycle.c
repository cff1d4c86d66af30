/* Signals never reach a recycled pid (issue 10, finding 11). A pid read
 * from a pid file, checked, and then waited on may be reused by another
 * process by the time the wait ends; a SIGKILL sent to the number then
 * kills a stranger. The test makes that happen for real: in a pid
 * namespace of its own (as root) it writes ns_last_pid so that the next
 * process gets exactly the pid of the one that just exited.
 *
 * Stopping dnsmasq: a stand-in named dnsmasq (comm, as the pid check reads
 * it) ignores nothing and dies of the SIGTERM; the stopping process is then
 * frozen (SIGSTOP) while the stand-in is reaped and a new process — also
 * named dnsmasq, and deaf to SIGTERM — takes its pid; then it goes on. The
 * new process must survive.
 *
 * The primitive itself, which the VMM's stop and a failed launch's
 * clean-up use too: a pidfd opened while the process lived says it has
 * exited, and a SIGKILL through it fails with ESRCH, while a stranger
 * holds the same pid.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/base/proc.h"
#include "core/virt/network-run-priv.h"

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* This namespace's own /proc, on a private copy of the mount tree. */
static int mount_proc(void)
{
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -1;
    return mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
}

/* A child named NAME that pauses; deaf to SIGTERM when asked. */
static pid_t spawn_named(const char *name, bool ignore_term)
{
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_NAME, name);
        if (ignore_term)
            signal(SIGTERM, SIG_IGN);
        for (;;)
            pause();
    }
    return pid;
}

/* The next fork in this pid namespace gets PID. */
static int set_next_pid(pid_t pid)
{
    FILE *f = fopen("/proc/sys/kernel/ns_last_pid", "w");
    if (!f)
        return -1;
    fprintf(f, "%d", (int)pid - 1);
    return fclose(f);
}

static bool named(pid_t pid, const char *name)
{
    char p[64], comm[64] = "";
    snprintf(p, sizeof p, "/proc/%d/comm", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return false;
    if (!fgets(comm, sizeof comm, f))
        comm[0] = '\0';
    fclose(f);
    comm[strcspn(comm, "\n")] = '\0';
    return !strcmp(comm, name);
}

/* Runs as pid 1 of a fresh pid namespace (with its own /proc). Exit codes:
 * 0 the stranger lived, 1 it was killed, 2+ the set-up failed. */
static int dnsmasq_case(const char *dir)
{
    pid_t old = spawn_named("dnsmasq", false);
    if (old < 0)
        return 2;
    char path[4096];
    snprintf(path, sizeof path, "%s/dnsmasq.pid", dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return 3;
    fprintf(f, "%d\n", (int)old);
    fclose(f);
    while (!named(old, "dnsmasq"))
        sleep_ms(5);

    pid_t stopper = fork();
    if (stopper == 0)
        _exit(network_dnsmasq_stop(dir) == 0 ? 0 : 1);

    /* The stand-in dies of the stopper's SIGTERM (not reaped yet)... */
    siginfo_t si;
    if (waitid(P_PID, (id_t)old, &si, WEXITED | WNOWAIT) < 0)
        return 4;
    /* ...the stopper is frozen wherever it is in its wait... */
    kill(stopper, SIGSTOP);
    int status;
    if (waitpid(stopper, &status, WUNTRACED) != stopper)
        return 5;
    bool stopper_done = !WIFSTOPPED(status);
    /* ...and the pid goes to a stranger before it looks again. */
    waitpid(old, NULL, 0);
    if (set_next_pid(old) < 0)
        return 6;
    pid_t stranger = spawn_named("dnsmasq", true);
    if (stranger != old) {
        kill(stranger, SIGKILL);
        return 7;
    }
    if (!stopper_done) {
        kill(stopper, SIGCONT);
        waitpid(stopper, &status, 0);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return 8;
    /* Give a late SIGKILL time to land, then look. */
    sleep_ms(200);
    int alive = waitpid(stranger, &status, WNOHANG) == 0;
    kill(stranger, SIGKILL);
    waitpid(stranger, NULL, 0);
    return alive ? 0 : 1;
}

/* Forks into a new pid namespace with its own /proc and runs fn(dir) as
 * its init; returns fn's exit code, or -1 when the host cannot (skip). */
static int in_pid_namespace(int (*fn)(const char *), const char *dir)
{
    if (geteuid() != 0)
        return -1;
    pid_t outer = fork();
    assert_true(outer >= 0);
    if (outer == 0) {
        if (unshare(CLONE_NEWPID | CLONE_NEWNS) < 0)
            _exit(100);
        pid_t init = fork();
        if (init < 0)
            _exit(101);
        if (init == 0) {
            /* pid 1 here: a /proc of this namespace, privately mounted */
            if (mount_proc() < 0)
                _exit(102);
            _exit(fn(dir));
        }
        int st;
        waitpid(init, &st, 0);
        _exit(WIFEXITED(st) ? WEXITSTATUS(st) : 103);
    }
    int st;
    assert_int_equal(waitpid(outer, &st, 0), outer);
    assert_true(WIFEXITED(st));
    return WEXITSTATUS(st) == 100 ? -1 : WEXITSTATUS(st);
}

static int pidfd_case(const char *dir)
{
    (void)dir;
    pid_t old = spawn_named("guest", false);
    int pidfd = proc_open(old);
    if (old < 0 || pidfd < 0)
        return 2;
    if (!proc_running(pidfd) || proc_wait_exit(pidfd, 50))
        return 3;
    kill(old, SIGTERM);
    if (!proc_wait_exit(pidfd, 5000)) /* a zombie has exited */
        return 4;
    waitpid(old, NULL, 0);
    if (set_next_pid(old) < 0)
        return 5;
    pid_t stranger = spawn_named("stranger", true);
    if (stranger != old) {
        kill(stranger, SIGKILL);
        return 6;
    }
    int rc = proc_signal(pidfd, SIGKILL) == -1 && errno == ESRCH && !proc_running(pidfd) ? 0 : 7;
    sleep_ms(100);
    int status;
    if (rc == 0 && waitpid(stranger, &status, WNOHANG) != 0)
        rc = 1;
    kill(stranger, SIGKILL);
    waitpid(stranger, NULL, 0);
    close(pidfd);
    return rc;
}

static void test_pidfd_outlives_pid(void **state)
{
    (void)state;
    int rc = in_pid_namespace(pidfd_case, "");
    if (rc < 0)
        skip();
    if (rc == 1)
        fail_msg("a SIGKILL through a dead process's pidfd reached the pid's new owner");
    assert_int_equal(rc, 0);
}

static void test_dnsmasq_stop_spares_recycled_pid(void **state)
{
    (void)state;
    char dir[] = "/tmp/tvm-test-pid-recycle.XXXXXX";
    assert_non_null(mkdtemp(dir));
    int rc = in_pid_namespace(dnsmasq_case, dir);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    if (rc < 0)
        skip(); /* needs root for a pid namespace */
    if (rc == 1)
        fail_msg("stopping dnsmasq killed the process that took its pid after it exited");
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pidfd_outlives_pid),
        cmocka_unit_test(test_dnsmasq_stop_spares_recycled_pid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
