/* tvm-vmm's sandbox (sandbox.c), in forked children so the test process
 * itself stays free: the filter lets through what the VMM does (I/O,
 * threads) and kills with SIGSYS on anything else (ptrace, fork); the whole
 * sandbox_enter() leaves no capability, no_new_privs, seccomp mode 2 (and
 * a non-root uid when run as root), and a violation leaves exit.json
 * naming the system call, as tvm reads it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <time.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "core/proto/vmm-protocol.h"
#include "sandbox.h"

/* Runs fn in a child; returns its wait status. */
static int in_child(void (*fn)(void *), void *arg)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        signal(SIGSYS, SIG_DFL); /* cmocka's handler would catch it */
        fn(arg);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    return st;
}

static int thread_token;

static void *thread_fn(void *arg)
{
    return arg;
}

static void allowed_calls(void *arg)
{
    (void)arg;
    if (sandbox_seccomp_install(SANDBOX_ON) < 0)
        _exit(10);
    char buf[8] = "x";
    int p[2];
    if (pipe(p) < 0) /* pipe2: not in the list, tvm-vmm makes none after start-up */
        _exit(11);
    (void)buf;
}

static void threads_and_io(void *arg)
{
    (void)arg;
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd < 0 || sandbox_seccomp_install(SANDBOX_ON) < 0)
        _exit(10);
    if (write(fd, "x", 1) != 1 || pwrite(fd, "x", 1, 0) != 1)
        _exit(11);
    pthread_t t; /* vCPU threads are made after the filter, at every reset */
    void *ret;
    if (pthread_create(&t, NULL, thread_fn, &thread_token) != 0 || pthread_join(t, &ret) != 0 ||
        ret != &thread_token)
        _exit(12);
}

static void forbidden_ptrace(void *arg)
{
    (void)arg;
    if (sandbox_seccomp_install(SANDBOX_ON) < 0)
        _exit(10);
    syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
    _exit(13);
}

static void forbidden_fork(void *arg)
{
    (void)arg;
    if (sandbox_seccomp_install(SANDBOX_ON) < 0)
        _exit(10);
    pid_t p = fork();
    if (p == 0)
        _exit(0);
    _exit(13);
}

static void test_filter_allows_what_the_vmm_does(void **state)
{
    (void)state;
    int st = in_child(threads_and_io, NULL);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_filter_kills_pipe(void **state)
{
    (void)state;
    int st = in_child(allowed_calls, NULL);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void test_filter_kills_ptrace(void **state)
{
    (void)state;
    int st = in_child(forbidden_ptrace, NULL);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void test_filter_kills_fork(void **state)
{
    (void)state;
    int st = in_child(forbidden_fork, NULL);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSYS);
}

struct enter_arg {
    char dir[64];
    int go[2], ready[2];
};

/* The whole sandbox, then wait for the parent to look at /proc, then a
 * forbidden call. */
static void enter_then_violate(void *p)
{
    struct enter_arg *a = p;
    struct sandbox_config c = {.mode = SANDBOX_ON, .rundir = a->dir};
    if (sandbox_prepare(&c) < 0 || sandbox_enter() < 0) {
        fprintf(stderr, "sandbox: %s\n", err_msg());
        _exit(10);
    }
    char b = 1;
    if (write(a->ready[1], &b, 1) != 1 || read(a->go[0], &b, 1) != 1)
        _exit(11);
    syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
    _exit(13);
}

static void status_line(pid_t pid, const char *key, char *out, size_t len)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    out[0] = '\0';
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key)) && line[strlen(key)] == ':') {
            char *v = line + strlen(key) + 1;
            v += strspn(v, " \t");
            v[strcspn(v, "\n")] = '\0';
            snprintf(out, len, "%s", v);
        }
    fclose(f);
}

static void test_enter_and_violation_reported(void **state)
{
    (void)state;
    struct enter_arg a;
    snprintf(a.dir, sizeof a.dir, "/tmp/tvm-sandbox-test-XXXXXX");
    assert_non_null(mkdtemp(a.dir));
    assert_int_equal(pipe(a.go), 0);
    assert_int_equal(pipe(a.ready), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        enter_then_violate(&a);
        _exit(0);
    }
    char b;
    assert_int_equal(read(a.ready[0], &b, 1), 1);
    char v[128];
    status_line(pid, "CapEff", v, sizeof v);
    assert_string_equal(v, "0000000000000000");
    status_line(pid, "CapPrm", v, sizeof v);
    assert_string_equal(v, "0000000000000000");
    status_line(pid, "NoNewPrivs", v, sizeof v);
    assert_string_equal(v, "1");
    status_line(pid, "Seccomp", v, sizeof v);
    assert_string_equal(v, "2");
    if (geteuid() == 0) {
        status_line(pid, "Uid", v, sizeof v);
        assert_true(atoi(v) != 0);
        status_line(pid, "CapBnd", v, sizeof v);
        assert_string_equal(v, "0000000000000000");
    }
    assert_int_equal(write(a.go[1], &b, 1), 1);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSYS);

    char path[128], text[512] = "";
    snprintf(path, sizeof path, "%s/%s", a.dir, VMM_FILE_EXIT);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "\"reason\":\"crashed\""));
    assert_non_null(strstr(text, "\"detail\":\"" VMM_EXIT_SANDBOX "forbidden system call"));
    assert_non_null(strstr(text, "(ptrace)"));
    unlink(path);
    rmdir(a.dir);
}

static void test_mode_from_env(void **state)
{
    (void)state;
    unsetenv("TVM_VMM_SANDBOX");
    assert_int_equal(sandbox_mode_from_env(false), SANDBOX_ON);
    assert_int_equal(sandbox_mode_from_env(true), SANDBOX_OFF);
    setenv("TVM_VMM_SANDBOX", "0", 1);
    assert_int_equal(sandbox_mode_from_env(false), SANDBOX_OFF);
    setenv("TVM_VMM_SANDBOX", "log", 1);
    assert_int_equal(sandbox_mode_from_env(false), SANDBOX_LOG);
    setenv("TVM_VMM_SANDBOX", "1", 1);
    assert_int_equal(sandbox_mode_from_env(false), SANDBOX_ON);
    unsetenv("TVM_VMM_SANDBOX");
}

/* ---- thread classes ---- */

struct class_try {
    enum sandbox_thread cls;
    int what; /* 0: accept4 on no socket, 1: KVM_RUN on /dev/null */
};

static void *class_thread(void *p)
{
    struct class_try *c = p;
    if (sandbox_thread_seccomp_install(SANDBOX_ON, c->cls) < 0)
        _exit(20);
    /* What every class does: I/O on open descriptors, locks, time. */
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    struct timespec ts;
    if (fd < 0 || write(fd, "x", 1) != 1 || clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
        _exit(21);
    if (c->what == 0)
        syscall(SYS_accept4, -1, NULL, NULL, 0);
    else
        ioctl(fd, KVM_RUN, 0);
    _exit(22); /* not reached under the class filter */
}

/* The process (main loop) filter lets the main thread make the call
 * (EBADF / ENOTTY); then a thread of class cls makes it. */
static void class_refuses(void *p)
{
    struct class_try *c = p;
    if (sandbox_seccomp_install(SANDBOX_ON) < 0)
        _exit(10);
    errno = 0;
    if (c->what == 0 && (syscall(SYS_accept4, -1, NULL, NULL, 0) != -1 || errno != EBADF))
        _exit(11);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (c->what == 1 && (ioctl(fd, KVM_RUN, 0) != -1 || errno != ENOTTY))
        _exit(12);
    pthread_t t;
    if (pthread_create(&t, NULL, class_thread, c) != 0)
        _exit(13);
    pthread_join(t, NULL);
    _exit(14);
}

static void test_vcpu_refused_what_the_main_loop_may(void **state)
{
    (void)state;
    struct class_try c = {.cls = SANDBOX_THREAD_VCPU, .what = 0};
    int st = in_child(class_refuses, &c);
    if (!WIFSIGNALED(st))
        fail_msg("exit status %d", WEXITSTATUS(st));
    assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void test_worker_refused_kvm_run(void **state)
{
    (void)state;
    struct class_try c = {.cls = SANDBOX_THREAD_WORKER, .what = 1};
    int st = in_child(class_refuses, &c);
    if (!WIFSIGNALED(st))
        fail_msg("exit status %d", WEXITSTATUS(st));
    assert_int_equal(WTERMSIG(st), SIGSYS);
    c.what = 0; /* nor serve a socket */
    st = in_child(class_refuses, &c);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void *vcpu_violates(void *p)
{
    (void)p;
    /* As tvm-vmm's vCPU threads and workers: every signal blocked (a
     * blocked SIGSYS would kill without the handler, so no exit.json). */
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    sandbox_thread_enter(SANDBOX_THREAD_VCPU);
    sandbox_thread_enter(SANDBOX_THREAD_VCPU); /* once per thread: no second filter */
    syscall(SYS_accept4, -1, NULL, NULL, 0);
    return NULL;
}

/* The whole sandbox, a vCPU thread's violation: exit.json names it. */
static void enter_then_vcpu_violates(void *p)
{
    struct enter_arg *a = p;
    struct sandbox_config c = {.mode = SANDBOX_ON, .rundir = a->dir};
    if (sandbox_prepare(&c) < 0 || sandbox_enter() < 0)
        _exit(10);
    pthread_t t;
    if (pthread_create(&t, NULL, vcpu_violates, NULL) != 0)
        _exit(11);
    pthread_join(t, NULL);
    _exit(13);
}

static void test_vcpu_violation_reported_with_its_class(void **state)
{
    (void)state;
    struct enter_arg a;
    snprintf(a.dir, sizeof a.dir, "/tmp/tvm-sandbox-test-XXXXXX");
    assert_non_null(mkdtemp(a.dir));
    int st = in_child(enter_then_vcpu_violates, &a);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGSYS);
    char path[128], text[512] = "";
    snprintf(path, sizeof path, "%s/%s", a.dir, VMM_FILE_EXIT);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "\"reason\":\"crashed\""));
    if (!strstr(text, "(accept4) in thread ") || !strstr(text, " (vcpu)\""))
        fail_msg("exit.json: %s", text);
    unlink(path);
    rmdir(a.dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mode_from_env),
        cmocka_unit_test(test_filter_allows_what_the_vmm_does),
        cmocka_unit_test(test_filter_kills_pipe),
        cmocka_unit_test(test_filter_kills_ptrace),
        cmocka_unit_test(test_filter_kills_fork),
        cmocka_unit_test(test_enter_and_violation_reported),
        cmocka_unit_test(test_vcpu_refused_what_the_main_loop_may),
        cmocka_unit_test(test_worker_refused_kvm_run),
        cmocka_unit_test(test_vcpu_violation_reported_with_its_class),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
