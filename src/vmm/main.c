/* tvm-vmm: one process per guest (see src/core/proto/vmm-protocol.h).
 *
 *   tvm-vmm --domain PATH --rundir DIR [--fds PATH] [--console-log PATH] [--foreground]
 *           [--paused] [--no-sandbox]
 *
 * Arguments, the main loop and the process's files: reads the domain XML,
 * builds the VM and its board (board.c: every device), writes vmm.pid,
 * serves the control socket on the main event loop, and when the guest is
 * gone writes exit.json, removes its sockets and pid file and exits.
 * --foreground also copies the guest's console to stdout and feeds stdin
 * to it (handy by hand; tvm never uses it).
 *
 * With --fds, the KVM device, kernel and initrd, disks and taps are
 * descriptors tvm opened (fdmap.h); without, tvm-vmm opens them itself.
 * Once everything the guest needs is open (those, sockets, the console
 * log) and before the guest runs,
 * the process enters its sandbox (sandbox.h); --no-sandbox or
 * TVM_VMM_SANDBOX=0 skips it, for debugging only.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ptrace.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "board.h"
#include "control.h"
#include "core/base/err.h"
#include "core/base/host.h"
#include "core/base/paths.h"
#include "core/model/domain.h"
#include "core/proto/vmm-protocol.h"
#include "exit-note.h"
#include "fdmap.h"
#include "migrate.h"
#include "sandbox.h"
#include "vm.h"

#define EXIT_OK 0
#define EXIT_ERROR 1
#define EXIT_CRASHED 2

struct opts {
    const char *domain;
    const char *rundir;
    const char *console_log;
    const char *fds; /* the descriptor map from tvm, or NULL */
    bool foreground;
    bool paused; /* the guest waits for QMP cont before its first instruction */
    bool no_sandbox;
};

struct vmm {
    struct opts o;
    struct domain *dom;
    char *xml; /* the domain XML as read: every saved state carries it */
    struct vm *vm;
    struct loop *loop;
    struct board *board;
    int sig_fd;
    int kernel_fd, initrd_fd, bios_fd;
    int probe_fd; /* TVM_VMM_SECCOMP_SELFTEST's timer */
    bool control_up;
    char pid_path[PATH_MAX], control_path[PATH_MAX];
};

static void usage(FILE *f)
{
    fprintf(f, "usage: tvm-vmm --domain PATH --rundir DIR [--fds PATH] [--console-log PATH] "
               "[--foreground] [--paused] [--no-sandbox]\n");
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longopts[] = {
        {"domain", required_argument, NULL, 'd'},
        {"rundir", required_argument, NULL, 'r'},
        {"console-log", required_argument, NULL, 'l'},
        {"fds", required_argument, NULL, 'F'},
        {"foreground", no_argument, NULL, 'f'},
        {"paused", no_argument, NULL, 'p'},
        {"no-sandbox", no_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->domain = optarg;
            break;
        case 'r':
            o->rundir = optarg;
            break;
        case 'l':
            o->console_log = optarg;
            break;
        case 'F':
            o->fds = optarg;
            break;
        case 'f':
            o->foreground = true;
            break;
        case 'p':
            o->paused = true;
            break;
        case 'n':
            o->no_sandbox = true;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc)
        return err_set("unexpected argument '%s'", argv[optind]);
    if (!o->domain || !o->rundir)
        return err_set("--domain and --rundir are required");
    return 0;
}

static int join(char *buf, const char *dir, const char *name)
{
    if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
        return err_set("%s/%s: path too long", dir, name);
    return 0;
}

static int load_domain(struct vmm *m)
{
    FILE *f = fopen(m->o.domain, "r");
    if (!f)
        return err_errno("%s", m->o.domain);
    char *buf = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 > cap) {
            cap = cap ? cap * 2 : 16384;
            char *n = realloc(buf, cap);
            if (!n) {
                free(buf);
                fclose(f);
                return err_set("out of memory");
            }
            buf = n;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return err_set("%s: read error", m->o.domain);
    }
    int rc = domain_parse(buf, len, m->o.domain, &m->dom);
    if (rc == 0 && len < cap)
        buf[len] = '\0';
    else
        free(buf), buf = NULL;
    m->xml = buf;
    if (rc == 0 && !m->xml)
        return err_set("out of memory");
    return rc < 0 ? rc : domain_check_runnable(m->dom, m->o.domain);
}

/* The VM's events go to the control socket's clients. */
static void to_control(void *opaque, const char *name, const char *data_json)
{
    (void)opaque;
    control_emit_event(name, data_json);
}

/* ---- run-dir files ---- */

/* The run directory's files by a descriptor of it: once sandboxed, the
 * path through /run/tvm may not be open to the sandbox user. */
static FILE *rundir_create(const struct vmm *m, const char *name, const char *path)
{
    int dfd = sandbox_rundir_fd();
    int fd = dfd >= 0 ? openat(dfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                               0644)
                      : open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    (void)m;
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (fd >= 0 && !f)
        close(fd);
    return f;
}

static int rundir_rename(const char *from_name, const char *from, const char *to_name,
                         const char *to)
{
    int dfd = sandbox_rundir_fd();
    return dfd >= 0 ? renameat(dfd, from_name, dfd, to_name) : rename(from, to);
}

static void rundir_unlink(const char *name, const char *path)
{
    int dfd = sandbox_rundir_fd();
    if (dfd >= 0)
        unlinkat(dfd, name, 0);
    else
        unlink(path);
}

static int write_pid(struct vmm *m)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", m->pid_path);
    FILE *f = rundir_create(m, VMM_FILE_PID ".tmp", tmp);
    if (!f)
        return err_errno("%s", tmp);
    fprintf(f, "%d\n", (int)getpid());
    if (fclose(f) != 0 || rundir_rename(VMM_FILE_PID ".tmp", tmp, VMM_FILE_PID, m->pid_path) < 0)
        return err_errno("%s", m->pid_path);
    return 0;
}

static void write_exit(const struct vmm *m, const char *reason, const char *detail, int code)
{
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    if (join(path, m->o.rundir, VMM_FILE_EXIT) < 0)
        return;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "reason", json_object_new_string(reason));
    json_object_object_add(o, "detail", json_object_new_string(detail ? detail : ""));
    json_object_object_add(o, "exit_code", json_object_new_int(code));
    FILE *f = rundir_create(m, VMM_FILE_EXIT ".tmp", tmp);
    if (f) {
        fprintf(f, "%s\n",
                json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
                                                      JSON_C_TO_STRING_NOSLASHESCAPE));
        if (fclose(f) == 0)
            rundir_rename(VMM_FILE_EXIT ".tmp", tmp, VMM_FILE_EXIT, path);
    } else {
        fprintf(stderr, "tvm-vmm: cannot write %s: %s\n", path, strerror(errno));
    }
    json_object_put(o);
}

/* ---- signals: SIGTERM/SIGINT/SIGHUP end the guest like `destroy` ---- */

static void signal_ready(void *opaque, uint32_t events)
{
    struct vmm *m = opaque;
    struct signalfd_siginfo si;
    (void)events;
    if (read(m->sig_fd, &si, sizeof si) == sizeof si) {
        fprintf(stderr, "tvm-vmm: signal %u: destroying the guest\n", si.ssi_signo);
        vm_quit(m->vm, "destroyed");
    }
}

static int setup_signals(struct vmm *m)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    m->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    if (m->sig_fd < 0)
        return err_errno("signalfd");
    return loop_add(m->loop, m->sig_fd, EPOLLIN, signal_ready, m);
}

static void vm_ready(void *opaque, uint32_t events)
{
    struct vmm *m = opaque;
    (void)events;
    vm_poll(m->vm);
}

/* Kernel, initrd and /dev/kvm are opened now: every boot (resets too)
 * reads them again, when paths are out of the sandbox's reach. */
static int open_boot_file(const char *what, const char *path)
{
    if (fdmap_loaded())
        return fdmap_take(what, NULL, path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    return fd >= 0 ? fd : err_errno("%s %s", what, path);
}

static int open_boot_files(struct vmm *m, struct vm_config *cfg)
{
    if (cfg->kernel && *cfg->kernel) {
        m->kernel_fd = open_boot_file("kernel", cfg->kernel);
        if (m->kernel_fd < 0)
            return -1;
        cfg->kernel_fd = m->kernel_fd;
    }
    if (cfg->initrd && *cfg->initrd) {
        m->initrd_fd = open_boot_file("initrd", cfg->initrd);
        if (m->initrd_fd < 0)
            return -1;
        cfg->initrd_fd = m->initrd_fd;
    }
    const char *fw = m->dom->os_firmware;
    if (fw && *fw && strcmp(fw, "bios") != 0)
        return err_set("<os firmware='%s'>: only BIOS firmware (SeaBIOS) is supported, not UEFI",
                       fw);
    if (m->dom->os_loader_type && strcmp(m->dom->os_loader_type, "rom") != 0)
        return err_set("<loader type='%s'>: only a BIOS image (type='rom') is supported",
                       m->dom->os_loader_type);
    if (!(cfg->kernel && *cfg->kernel) && cfg->bios) {
        m->bios_fd = fdmap_loaded() ? fdmap_take("bios", NULL, cfg->bios)
                                    : open(cfg->bios, O_RDONLY | O_CLOEXEC);
        if (m->bios_fd < 0)
            return err_errno("firmware %s (%s)", cfg->bios,
                             m->dom->os_loader && *m->dom->os_loader
                                 ? "<os><loader>"
                                 : "the default BIOS: install Debian's seabios package");
        cfg->bios_fd = m->bios_fd;
    }
    /* Images first, KVM after: a missing kernel reads the same with or
     * without KVM. The VM owns this descriptor. */
    cfg->kvm_fd = fdmap_loaded() ? fdmap_take("kvm", NULL, NULL) : host_kvm_open();
    return cfg->kvm_fd < 0 ? -1 : 0;
}

/* TVM_VMM_SECCOMP_SELFTEST=SECONDS[:vcpu]: that long after start-up the
 * main loop makes a system call every filter forbids (ptrace), or, with
 * ":vcpu", a vCPU thread makes one only the main loop's filter allows
 * (accept4), so the lab can check that a violation ends the guest with
 * its reason in exit.json, for the class that made it. Only whoever
 * starts tvm-vmm sets its environment: nothing a guest reaches. */
static void probe_fire(void *opaque, uint32_t events)
{
    struct vmm *m = opaque;
    (void)events;
    uint64_t n;
    if (read(m->probe_fd, &n, sizeof n) < 0)
        return;
    const char *e = getenv("TVM_VMM_SECCOMP_SELFTEST");
    if (e && strstr(e, ":vcpu")) {
        /* A pause kicks every vCPU out of KVM_RUN; back in its loop one
         * passes the self-test point. */
        sandbox_selftest_arm(SANDBOX_THREAD_VCPU);
        vm_pause(m->vm);
        vm_resume(m->vm);
        return;
    }
    fprintf(stderr, "tvm-vmm: TVM_VMM_SECCOMP_SELFTEST: calling ptrace\n");
    syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
}

static int setup_probe(struct vmm *m)
{
    const char *e = getenv("TVM_VMM_SECCOMP_SELFTEST");
    if (!e || !*e || !sandbox_active())
        return 0;
    m->probe_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    struct itimerspec t = {.it_value = {.tv_sec = atoi(e) > 0 ? atoi(e) : 1}};
    if (m->probe_fd < 0 || timerfd_settime(m->probe_fd, 0, &t, NULL) < 0)
        return err_errno("TVM_VMM_SECCOMP_SELFTEST");
    return loop_add(m->loop, m->probe_fd, EPOLLIN, probe_fire, m);
}

static int setup(struct vmm *m)
{
    if (join(m->pid_path, m->o.rundir, VMM_FILE_PID) < 0 ||
        join(m->control_path, m->o.rundir, VMM_SOCK_CONTROL) < 0)
        return -1;
    if (paths_mkdir_p(m->o.rundir, 0700) < 0)
        return -1;
    struct sandbox_config sc = {
        .mode = sandbox_mode_from_env(m->o.no_sandbox),
        .rundir = m->o.rundir,
    };
    if (sandbox_prepare(&sc) < 0)
        return -1;
    if (m->o.fds && fdmap_load(m->o.fds) < 0)
        return -1;
    if (load_domain(m) < 0)
        return -1;
    struct vm_config cfg;
    board_vm_config(m->dom, &cfg);
    if (mem_check_host(cfg.ram_bytes) < 0)
        return err_prefix("%s: ", m->o.domain);
    if (open_boot_files(m, &cfg) < 0)
        return -1;
    m->vm = vm_new(&cfg);
    if (!m->vm)
        return err_prefix("%s: ", m->o.domain);
    m->loop = loop_new();
    if (!m->loop || write_pid(m) < 0 || setup_signals(m) < 0)
        return -1;
    if (loop_add(m->loop, vm_event_fd(m->vm), EPOLLIN, vm_ready, m) < 0)
        return -1;
    struct board_opts bo = {
        .loop = m->loop,
        .rundir = m->o.rundir,
        .console_log = m->o.console_log,
        .foreground = m->o.foreground,
    };
    m->board = board_new(m->vm, m->dom, &bo);
    if (!m->board)
        return -1;
    if (fdmap_loaded())
        fprintf(stderr, "tvm-vmm: %u descriptors from tvm (%s)\n", fdmap_finish(true), m->o.fds);
    struct control_config cc = {
        .name = m->dom->name,
        .cores_per_socket = m->dom->cpu_cores,
        .threads_per_core = m->dom->cpu_threads,
    };
    if (control_init(m->loop, m->vm, &cc, m->control_path) < 0)
        return err_prefix("control socket: ");
    m->control_up = true;
    if (migrate_init(m->vm, m->xml) < 0)
        return -1;
    vm_set_event_sink(m->vm, to_control, NULL);
    /* A saved state (migrate) holds at most RAM, its bitmap and the
     * small sections. */
    sandbox_allow_file_size(cfg.ram_bytes + cfg.ram_bytes / 32768 + (64ULL << 20));
    /* Everything is open: from here on no privilege, before the guest's
     * first instruction (vm_start makes the KVM VM on the open /dev/kvm). */
    if (sandbox_enter() < 0 || setup_probe(m) < 0)
        return -1;
    return vm_start(m->vm, m->o.paused);
}

static void teardown(struct vmm *m)
{
    if (m->vm)
        vcpu_stop_all(m->vm);
    /* Let queued events and console output reach clients and the log. */
    for (int i = 0; m->loop && i < 5; i++)
        loop_run_once(m->loop, 10);
    if (m->control_up)
        control_close();
    sandbox_unlink(m->control_path);
    board_free(m->board); /* workers stop, disks are flushed and closed */
    vm_free(m->vm);
    loop_free(m->loop);
    domain_free(m->dom);
    free(m->xml);
    migrate_close();
    fdmap_finish(false);
    if (m->kernel_fd >= 0)
        close(m->kernel_fd);
    if (m->initrd_fd >= 0)
        close(m->initrd_fd);
    if (m->bios_fd >= 0)
        close(m->bios_fd);
}

int main(int argc, char **argv)
{
    struct vmm m = {.sig_fd = -1, .kernel_fd = -1, .initrd_fd = -1, .bios_fd = -1, .probe_fd = -1};
    if (parse_opts(argc, argv, &m.o) < 0) {
        fprintf(stderr, "tvm-vmm: %s\n", err_msg());
        return EXIT_ERROR;
    }
    if (setup(&m) < 0) {
        char msg[ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err_msg());
        fprintf(stderr, "tvm-vmm: %s\n", msg);
        teardown(&m);
        write_exit(&m, "error", msg, EXIT_ERROR);
        rundir_unlink(VMM_FILE_PID, m.pid_path);
        return EXIT_ERROR;
    }
    const char *reason = NULL, *detail = NULL;
    while (!vm_quit_requested(m.vm, &reason, &detail)) {
        if (loop_run_once(m.loop, -1) < 0) {
            fprintf(stderr, "tvm-vmm: %s\n", err_msg());
            vm_quit(m.vm, "error");
        }
    }
    char why[32], what[256];
    snprintf(why, sizeof why, "%s", reason);
    snprintf(what, sizeof what, "%s", detail);
    int code = strcmp(why, "crashed") == 0 ? EXIT_CRASHED
               : strcmp(why, "error") == 0 ? EXIT_ERROR
                                           : EXIT_OK;
    fprintf(stderr, "tvm-vmm: exiting: %s%s%s\n", why, *what ? ": " : "", what);
    teardown(&m);
    /* A disk that could not be flushed on close: the guest's last writes
     * may be lost, which no clean exit may hide. */
    if (vmm_exit_noted() && code != EXIT_CRASHED) {
        snprintf(why, sizeof why, "error");
        snprintf(what, sizeof what, "%s", vmm_exit_noted());
        code = EXIT_ERROR;
    }
    write_exit(&m, why, what, code);
    rundir_unlink(VMM_FILE_PID, m.pid_path);
    return code;
}
