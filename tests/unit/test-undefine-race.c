/* undefine racing a start (issue 10, finding 10): the start is held at the
 * one moment the race needs — run directory made, tvm-vmm forked but not
 * yet exec'd, so no vmm.pid names it — and undefine runs then. It must
 * either wait for the start and refuse (the domain is running) or have
 * happened before the start began; never may a VMM run whose domain is
 * gone (reconcile only looks at domains the store knows, so nothing would
 * ever notice it).
 *
 * The hold is this program's own execv(): the static tvmvirt library's
 * exec of tvm-vmm binds to it, and in the forked VMM process it waits for
 * the test's "go" file before the real execve. The VMM is this program
 * too (run with --domain ...): a stand-in that answers the QMP the start
 * and destroy use, so no guest kernel is needed; /dev/kvm must still be
 * usable for start's host check, else the test skips.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/base/host.h"
#include "core/cmd/cmd.h"
#include "store/store.h"

extern char **environ;

#define UUID "3e9a1c52-7b0d-4f6e-9a21-5c8d0e4f1b73"

static char g_dir[64];
static char g_db[128];
static char g_self[PATH_MAX];

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

static void path_in(char *buf, size_t len, const char *name)
{
    snprintf(buf, len, "%s/%s", g_dir, name);
}

static bool file_exists(const char *name)
{
    char p[PATH_MAX];
    path_in(p, sizeof p, name);
    return access(p, F_OK) == 0;
}

static void touch(const char *name, const char *text)
{
    char p[PATH_MAX];
    path_in(p, sizeof p, name);
    FILE *f = fopen(p, "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* tvmvirt's exec of tvm-vmm lands here. The VMM process says it is held
 * (with its pid, which exec keeps) and waits for "go". */
int execv(const char *path, char *const argv[])
{
    if (g_dir[0] && !strcmp(path, g_self)) {
        char pid[32];
        snprintf(pid, sizeof pid, "%d\n", (int)getpid());
        /* Written whole, then renamed: the test reads the pid as soon as
         * the name exists. */
        char tmp[PATH_MAX], held[PATH_MAX];
        touch("held.tmp", pid);
        path_in(tmp, sizeof tmp, "held.tmp");
        path_in(held, sizeof held, "held");
        rename(tmp, held);
        for (int i = 0; i < 60000 / 10 && !file_exists("go"); i++)
            sleep_ms(10);
    }
    return (int)syscall(SYS_execve, path, argv, environ);
}

/* ---- the stand-in tvm-vmm: QMP on RUNDIR/control.sock ---- */

static void qmp_reply(int fd, json_object *req, const char *ret_json)
{
    json_object *o = json_object_new_object(), *id;
    json_object_object_add(o, "return", json_tokener_parse(ret_json));
    if (req && json_object_object_get_ex(req, "id", &id))
        json_object_object_add(o, "id", json_object_get(id));
    const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
    (void)!write(fd, s, strlen(s));
    (void)!write(fd, "\n", 1);
    json_object_put(o);
}

static int fake_vmm(int argc, char **argv)
{
    alarm(120); /* never outlives a broken test for long */
    const char *rundir = NULL;
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], "--rundir"))
            rundir = argv[i + 1];
    if (!rundir)
        return 2;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s/control.sock", rundir);
    int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lfd, 4) < 0)
        return 2;
    for (;;) {
        int c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
            continue;
        const char *hello = "{\"QMP\": {\"version\": {}, \"capabilities\": []}}\n";
        (void)!write(c, hello, strlen(hello));
        FILE *in = fdopen(c, "r");
        char line[4096];
        while (in && fgets(line, sizeof line, in)) {
            json_object *req = json_tokener_parse(line), *v;
            const char *cmd = req && json_object_object_get_ex(req, "execute", &v)
                                  ? json_object_get_string(v)
                                  : "";
            if (!strcmp(cmd, "query-status")) {
                qmp_reply(c, req, "{\"status\": \"running\", \"running\": true}");
            } else if (!strcmp(cmd, "quit")) {
                qmp_reply(c, req, "{}");
                char p[PATH_MAX];
                snprintf(p, sizeof p, "%s/exit.json", rundir);
                FILE *f = fopen(p, "w");
                if (f) {
                    fputs("{\"reason\": \"destroyed\", \"detail\": \"\", \"exit_code\": 0}\n", f);
                    fclose(f);
                }
                unlink(sa.sun_path);
                _exit(0);
            } else {
                qmp_reply(c, req, "{}");
            }
            json_object_put(req);
        }
        if (in)
            fclose(in);
        else
            close(c);
    }
}

/* ---- commands, each in a process of its own (no store shared across fork) ---- */

static pid_t spawn_cmd(const char *line, const char *errfile)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct cmd_ctx ctx = {.db_path = g_db, .out = fopen("/dev/null", "w")};
        enum cmd_result r = cmd_run_line(&ctx, line);
        char p[PATH_MAX];
        path_in(p, sizeof p, errfile);
        FILE *f = fopen(p, "w");
        if (f) {
            fprintf(f, "%s\n", r == CMD_OK ? "" : err_msg());
            fclose(f);
        }
        if (ctx.store)
            store_close(ctx.store);
        _exit(r == CMD_OK ? 0 : 1);
    }
    return pid;
}

static int wait_cmd(pid_t pid)
{
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* Its exit code; a failure's message goes to the test's output. */
static int run_cmd(const char *line)
{
    int rc = wait_cmd(spawn_cmd(line, "cmd.err"));
    if (rc != 0) {
        char p[PATH_MAX], msg[1024] = "";
        path_in(p, sizeof p, "cmd.err");
        FILE *f = fopen(p, "r");
        if (f) {
            if (!fgets(msg, sizeof msg, f))
                msg[0] = '\0';
            fclose(f);
        }
        print_message("'%s': %s", line, msg);
    }
    return rc;
}

static void read_text(const char *name, char *buf, size_t len)
{
    char p[PATH_MAX];
    path_in(p, sizeof p, name);
    buf[0] = '\0';
    FILE *f = fopen(p, "r");
    if (f) {
        size_t n = fread(buf, 1, len - 1, f);
        buf[n] = '\0';
        fclose(f);
    }
}

/* Alive and not a zombie waiting for its (new) parent. */
static bool process_alive(pid_t pid)
{
    char p[64], buf[512];
    snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

static void test_undefine_during_start(void **state)
{
    (void)state;
    if (!host_kvm_usable())
        skip(); /* start's host check needs /dev/kvm; nothing here runs a guest */
    char kernel[PATH_MAX], xml_path[PATH_MAX], line[PATH_MAX * 2];
    path_in(kernel, sizeof kernel, "vmlinuz"); /* only read by start's check */
    touch("vmlinuz", "not a kernel: the stand-in VMM never loads it\n");
    path_in(xml_path, sizeof xml_path, "g.xml");
    FILE *f = fopen(xml_path, "w");
    assert_non_null(f);
    fprintf(f,
            "<domain type='kvm'><name>g</name><uuid>%s</uuid>"
            "<memory unit='MiB'>16</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64'>hvm</type><kernel>%s</kernel></os></domain>\n",
            UUID, kernel);
    fclose(f);
    snprintf(line, sizeof line, "define %s", xml_path);
    assert_int_equal(run_cmd(line), 0);

    /* The start, held with its run directory made and no vmm.pid yet. */
    pid_t start = spawn_cmd("start g", "start.err");
    for (int i = 0; i < 2000 && !file_exists("held"); i++)
        sleep_ms(10);
    assert_true(file_exists("held"));
    char text[4096];
    read_text("held", text, sizeof text);
    pid_t vmm = (pid_t)atoi(text);
    assert_true(vmm > 0);

    /* undefine now: it may not slip in between. */
    pid_t undef = spawn_cmd("undefine g", "undefine.err");
    sleep_ms(500);
    int status;
    bool undefine_waited = waitpid(undef, &status, WNOHANG) == 0;
    touch("go", "");
    int start_rc = wait_cmd(start);
    int undef_rc = undefine_waited ? wait_cmd(undef) : WEXITSTATUS(status);
    read_text("undefine.err", text, sizeof text);

    bool defined = run_cmd("domstate " UUID) == 0;
    bool alive = process_alive(vmm);
    if (alive && defined)
        run_cmd("destroy g");
    sleep_ms(100);
    if (process_alive(vmm))
        kill(vmm, SIGKILL);

    /* The invariant: a VMM runs only for a domain the store still has. */
    if (alive && !defined)
        fail_msg("tvm-vmm (pid %d) runs for a domain undefine removed (start rc %d, undefine "
                 "rc %d%s)",
                 (int)vmm, start_rc, undef_rc, undefine_waited ? "" : ", undefine did not wait");
    /* Here the start had begun, so undefine waited for it and refused. */
    assert_true(undefine_waited);
    assert_int_equal(start_rc, 0);
    assert_int_not_equal(undef_rc, 0);
    if (!strstr(text, "is running; shut it down first"))
        fail_msg("undefine's error does not say the domain is running: %s", text);
    assert_true(defined);
}

/* An undefine that finished before the start began: the start finds no
 * domain and leaves nothing behind. */
static void test_start_after_undefine(void **state)
{
    (void)state;
    if (!host_kvm_usable())
        skip();
    char kernel[PATH_MAX], xml_path[PATH_MAX], line[PATH_MAX * 2];
    path_in(kernel, sizeof kernel, "vmlinuz");
    touch("vmlinuz", "not a kernel\n");
    path_in(xml_path, sizeof xml_path, "h.xml");
    FILE *f = fopen(xml_path, "w");
    assert_non_null(f);
    fprintf(f,
            "<domain type='kvm'><name>h</name>"
            "<memory unit='MiB'>16</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64'>hvm</type><kernel>%s</kernel></os></domain>\n",
            kernel);
    fclose(f);
    snprintf(line, sizeof line, "define %s", xml_path);
    assert_int_equal(run_cmd(line), 0);
    assert_int_equal(run_cmd("undefine h"), 0);
    assert_int_not_equal(run_cmd("start h"), 0);
    assert_false(file_exists("held"));
    /* nothing in the run directory but tvm's own dot files */
    char run[PATH_MAX];
    path_in(run, sizeof run, "run");
    char cmd[PATH_MAX + 64];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls '%s' 2>/dev/null)\"", run);
    assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
    (void)state;
    strcpy(g_dir, "/tmp/tvm-test-undefine-race.XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    snprintf(g_db, sizeof g_db, "%s/tvm.db", g_dir);
    char run[PATH_MAX];
    path_in(run, sizeof run, "run");
    setenv("TVM_RUNDIR", run, 1);
    setenv("TVM_VMM", g_self, 1);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    g_dir[0] = '\0';
    return system(cmd) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "--domain"))
        return fake_vmm(argc, argv);
    ssize_t n = readlink("/proc/self/exe", g_self, sizeof g_self - 1);
    if (n <= 0)
        return 1;
    g_self[n] = '\0';
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_undefine_during_start, setup, teardown),
        cmocka_unit_test_setup_teardown(test_start_after_undefine, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
