/* See sandbox.h. */
#include "sandbox.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/kvm.h>
#include <linux/landlock.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/proto/vmm-protocol.h"

#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

#define SYSCALL_NAMES 512
#define SYSCALL_NAME_LEN 24

static struct {
    enum sandbox_mode mode;
    int rundir_fd;
    char rundir[PATH_MAX]; /* its path as given, to recognise files in it */
    bool root;
    uid_t uid;
    gid_t gid;
    char user[64];
    bool active;
    /* Resolved while malloc is still fine: the SIGSYS handler only reads. */
    char names[SYSCALL_NAMES][SYSCALL_NAME_LEN];
} sb = {.rundir_fd = -1};

static const char *const class_names[] = {"main loop", "vcpu", "device worker"};
static _Thread_local const char *thread_class; /* the SIGSYS handler names it */
static _Thread_local bool thread_entered;

enum sandbox_mode sandbox_mode_from_env(bool no_sandbox)
{
    if (no_sandbox)
        return SANDBOX_OFF;
    const char *e = getenv("TVM_VMM_SANDBOX");
    if (!e)
        return SANDBOX_ON;
    if (!strcmp(e, "0") || !strcmp(e, "off") || !strcmp(e, "no"))
        return SANDBOX_OFF;
    if (!strcmp(e, "log"))
        return SANDBOX_LOG;
    return SANDBOX_ON;
}

bool sandbox_active(void)
{
    return sb.active;
}

int sandbox_rundir_fd(void)
{
    return sb.rundir_fd;
}

void sandbox_unlink(const char *path)
{
    size_t n = strlen(sb.rundir);
    while (n > 1 && sb.rundir[n - 1] == '/')
        n--;
    const char *name = path + n + 1;
    if (sb.rundir_fd >= 0 && n && strncmp(path, sb.rundir, n) == 0 && path[n] == '/' &&
        *name && !strchr(name, '/'))
        unlinkat(sb.rundir_fd, name, 0);
    else
        unlink(path);
}

/* ---- the SIGSYS handler: async-signal-safe calls only ---- */

struct sbuf {
    char b[512];
    size_t n;
};

static void put_str(struct sbuf *s, const char *t)
{
    while (*t && s->n < sizeof(s->b) - 1)
        s->b[s->n++] = *t++;
}

static void put_num(struct sbuf *s, long v)
{
    char d[24];
    int i = 0;
    unsigned long u = v < 0 ? (unsigned long)-v : (unsigned long)v;
    do
        d[i++] = (char)('0' + u % 10);
    while ((u /= 10) && i < (int)sizeof(d));
    if (v < 0)
        put_str(s, "-");
    while (i > 0 && s->n < sizeof(s->b) - 1)
        s->b[s->n++] = d[--i];
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0)
            return;
        p += w;
        n -= (size_t)w;
    }
}

static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    int nr = si->si_syscall;
    struct sbuf what = {.n = 0};
    put_str(&what, VMM_EXIT_SANDBOX "forbidden system call ");
    put_num(&what, nr);
    if (nr >= 0 && nr < SYSCALL_NAMES && sb.names[nr][0]) {
        put_str(&what, " (");
        put_str(&what, sb.names[nr]);
        put_str(&what, ")");
    }
    put_str(&what, " in thread ");
    put_num(&what, (long)syscall(SYS_gettid));
    if (thread_class) {
        put_str(&what, " (");
        put_str(&what, thread_class);
        put_str(&what, ")");
    }
    what.b[what.n] = '\0';

    struct sbuf line = {.n = 0};
    put_str(&line, VMM_BINARY ": ");
    put_str(&line, what.b);
    put_str(&line, "\n");
    write_all(2, line.b, line.n);

    if (sb.rundir_fd >= 0) {
        /* The same object main.c's write_exit() writes. */
        struct sbuf j = {.n = 0};
        put_str(&j, "{\"reason\":\"crashed\",\"detail\":\"");
        put_str(&j, what.b);
        put_str(&j, "\",\"exit_code\":2}\n");
        int fd = openat(sb.rundir_fd, VMM_FILE_EXIT ".tmp",
                        O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) {
            write_all(fd, j.b, j.n);
            close(fd);
            renameat(sb.rundir_fd, VMM_FILE_EXIT ".tmp", sb.rundir_fd, VMM_FILE_EXIT);
        }
        unlinkat(sb.rundir_fd, VMM_FILE_PID, 0);
    }
    /* Die of SIGSYS (SA_RESETHAND restored the default action); vCPU
     * threads block most signals, so unblock it here first. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), sig);
    _exit(2);
}

/* ---- preparation ---- */

static int pick_user(void)
{
    /* A dedicated user if the install made one (scripts/install-deps.sh),
     * else nobody: an id that owns nothing on the host. */
    struct passwd *pw = getpwnam("tvm");
    if (!pw)
        pw = getpwnam("nobody");
    if (!pw || pw->pw_uid == 0)
        return err_set("sandbox: neither a 'tvm' nor a 'nobody' user exists (run "
                       "scripts/install-deps.sh, or tvm-vmm --no-sandbox to debug)");
    sb.uid = pw->pw_uid;
    sb.gid = pw->pw_gid;
    snprintf(sb.user, sizeof sb.user, "%s", pw->pw_name);
    if (sb.gid == 0) {
        struct group *gr = getgrnam("nogroup");
        if (!gr || gr->gr_gid == 0)
            return err_set("sandbox: user '%s' has group 0 and there is no 'nogroup'", sb.user);
        sb.gid = gr->gr_gid;
    }
    return 0;
}

static void resolve_names(void)
{
    for (int i = 0; i < SYSCALL_NAMES; i++) {
        char *n = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, i);
        if (n) {
            snprintf(sb.names[i], SYSCALL_NAME_LEN, "%s", n);
            free(n);
        }
    }
}

int sandbox_prepare(const struct sandbox_config *c)
{
    sb.mode = c->mode;
    if (sb.mode == SANDBOX_OFF)
        return 0;
    sb.rundir_fd = open(c->rundir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (sb.rundir_fd < 0)
        return err_errno("sandbox: %s", c->rundir);
    snprintf(sb.rundir, sizeof sb.rundir, "%s", c->rundir);
    sb.root = geteuid() == 0;
    if (sb.root && pick_user() < 0)
        return -1;
    resolve_names();
    struct sigaction sa = {.sa_sigaction = on_sigsys,
                           .sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER};
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSYS, &sa, NULL) < 0)
        return err_errno("sandbox: SIGSYS handler");
    return 0;
}

/* ---- resource limits ---- */

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* The largest file tvm-vmm writes that is not open yet: a saved state
 * (QMP migrate), at most guest RAM and its bitmap plus the small sections. */
static uint64_t file_to_write;

void sandbox_allow_file_size(uint64_t bytes)
{
    file_to_write = bytes;
}

/* The most any open regular file may grow to: an image grows by at most
 * its virtual size (qcow2: every cluster once more, for clusters shared
 * with internal snapshots) plus metadata; the console log and exit.json
 * are small. */
static int open_files_bound(int *max_fd, rlim_t *fsize)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return err_errno("sandbox: /proc/self/fd");
    uint64_t most = 64ULL << 20;
    if (file_to_write > most)
        most = file_to_write;
    *max_fd = 2;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        int fd = atoi(e->d_name);
        if (fd == dirfd(d))
            continue;
        if (fd > *max_fd)
            *max_fd = fd;
        struct stat st;
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        uint64_t size = (uint64_t)st.st_size, virt = size;
        uint8_t h[32];
        if (pread(fd, h, sizeof h, 0) == (ssize_t)sizeof h && !memcmp(h, "QFI\xfb", 4))
            virt = be64(h + 24);
        uint64_t bound = size + virt + virt / 8 + (64ULL << 20);
        if (bound > most)
            most = bound;
    }
    closedir(d);
    *fsize = (rlim_t)most;
    return 0;
}

static int set_limit(int res, rlim_t v, const char *what)
{
    struct rlimit cur;
    if (getrlimit(res, &cur) == 0 && cur.rlim_max != RLIM_INFINITY && cur.rlim_max < v)
        v = cur.rlim_max; /* an ordinary user may only lower */
    struct rlimit r = {v, v};
    if (setrlimit(res, &r) < 0)
        return err_errno("sandbox: %s", what);
    return 0;
}

static int limit_resources(void)
{
    int max_fd;
    rlim_t fsize;
    if (open_files_bound(&max_fd, &fsize) < 0)
        return -1;
    /* Resets make new VM and vCPU descriptors, clients connect: room for
     * that, no more. */
    if (set_limit(RLIMIT_CORE, 0, "RLIMIT_CORE") < 0 ||
        set_limit(RLIMIT_NOFILE, (rlim_t)max_fd + 257, "RLIMIT_NOFILE") < 0 ||
        set_limit(RLIMIT_FSIZE, fsize, "RLIMIT_FSIZE") < 0)
        return -1;
    /* Past RLIMIT_FSIZE a write fails with EFBIG (the device reports an
     * I/O error) instead of SIGXFSZ killing every guest on a full log. */
    signal(SIGXFSZ, SIG_IGN);
    /* Guest memory must not end up in a core file either way. */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    return 0;
}

/* ---- identity and capabilities ---- */

static int drop_identity(void)
{
    /* The run directory becomes the sandbox user's: exit.json, vmm.pid and
     * the sockets are removed or written there at the end. tvm (root)
     * reaches it whoever owns it. */
    if (fchown(sb.rundir_fd, sb.uid, sb.gid) < 0)
        return err_errno("sandbox: cannot give the run directory to %s", sb.user);
    /* The bounding set needs CAP_SETPCAP: before the uid changes. */
    for (int cap = 0; cap <= 63; cap++)
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
            return err_errno("sandbox: PR_CAPBSET_DROP %d", cap);
    gid_t g = sb.gid;
    /* glibc applies these to every thread of the process. */
    if (setgroups(1, &g) < 0 || setresgid(sb.gid, sb.gid, sb.gid) < 0 ||
        setresuid(sb.uid, sb.uid, sb.uid) < 0)
        return err_errno("sandbox: cannot switch to user %s", sb.user);
    if (setresuid(0, 0, 0) == 0)
        return err_set("sandbox: could regain root after switching to %s", sb.user);
    return 0;
}

static int drop_caps(void)
{
    struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capset, &h, d) < 0)
        return err_errno("sandbox: capset");
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return err_errno("sandbox: PR_SET_NO_NEW_PRIVS");
    return 0;
}

/* ---- landlock: the run directory, write-only, nothing else ---- */

static int landlock_path(int ruleset, const char *path, uint64_t access)
{
    struct landlock_path_beneath_attr pb = {.allowed_access = access};
    pb.parent_fd = open(path, O_PATH | O_CLOEXEC | O_DIRECTORY);
    if (pb.parent_fd < 0)
        return err_errno("sandbox: landlock: %s", path);
    int rc = (int)syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
    close(pb.parent_fd);
    if (rc < 0)
        return err_errno("sandbox: landlock rule for %s", path);
    return 0;
}

static int confine_fs(void)
{
    int abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi < 1) {
        fprintf(stderr, VMM_BINARY ": sandbox: landlock unavailable (%s): the host file "
                                   "system stays visible to the sandbox user\n",
                strerror(errno));
        return 0;
    }
    uint64_t all = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1 */
    if (abi >= 3)
        all |= LANDLOCK_ACCESS_FS_TRUNCATE;
    /* REFER (ABI 2) stays unhandled: renames across directories are then
     * always refused, and tvm-vmm renames only within one. */
    struct landlock_ruleset_attr attr = {.handled_access_fs = all};
    int rs = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (rs < 0)
        return err_errno("sandbox: landlock ruleset");
    /* What is left to do by path once the guest runs, all of it in the run
     * directory: write exit.json (as exit.json.tmp, renamed) and
     * screendumps, remove vmm.pid and the sockets. Nothing is read or
     * listed there, no socket made; the console log rotates on its open
     * descriptors and the guest's files are descriptors tvm opened. */
    uint64_t rundir_access = LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                             LANDLOCK_ACCESS_FS_MAKE_REG |
                             (abi >= 3 ? LANDLOCK_ACCESS_FS_TRUNCATE : 0);
    char rundir[64];
    snprintf(rundir, sizeof rundir, "/proc/self/fd/%d", sb.rundir_fd);
    int rc = landlock_path(rs, rundir, rundir_access);
    if (rc == 0 && syscall(SYS_landlock_restrict_self, rs, 0) < 0)
        rc = err_errno("sandbox: landlock_restrict_self");
    close(rs);
    return rc;
}

/* ---- seccomp ---- */

/* Every syscall tvm-vmm makes once the guest runs (main loop, vCPUs,
 * device workers, the balloon timer, teardown), with glibc's own. */
static const char *const allowed[] = {
    /* I/O on descriptors already open */
    "read", "write", "readv", "writev", "pread64", "pwrite64", "preadv", "pwritev", "preadv2",
    "pwritev2", "lseek", "close", "fstat", "newfstatat", "statx", "fcntl", "dup", "dup3",
    "fsync", "fdatasync", "fallocate", "ftruncate", "flock",
    /* files in the run directory and the console log's (landlock bounds them) */
    "openat", "unlink", "unlinkat", "rename", "renameat", "renameat2",
    /* memory */
    "mmap", "munmap", "mprotect", "mremap", "madvise", "brk",
    /* threads, signals, time */
    "futex", "set_robust_list", "rseq", "sched_yield", "sched_getaffinity", "gettid", "getpid",
    "rt_sigprocmask", "rt_sigreturn", "rt_sigaction", "sigaltstack", "restart_syscall",
    "exit", "exit_group", "clock_gettime", "clock_getres", "clock_nanosleep", "nanosleep",
    "gettimeofday", "getrandom",
    /* the event loop, eventfds, sockets already listening */
    "epoll_wait", "epoll_pwait", "epoll_pwait2", "epoll_ctl", "poll", "ppoll", "eventfd2",
    "timerfd_create", "timerfd_settime", "timerfd_gettime", "accept4", "recvfrom", "sendto",
    "recvmsg", "sendmsg", "shutdown", "getsockopt",
    /* the VNC server (src/vnc): its listeners are open before the sandbox */
    "accept", "select", "pselect6", "setsockopt", "getpeername", "getsockname",
    /* identity queries glibc makes; sysinfo for qsort's memory check
     * (sysconf(_SC_PHYS_PAGES)), which sorts the balloon's page numbers */
    "getuid", "geteuid", "getgid", "getegid", "sysinfo",
};

/* The ioctl requests, by class: KVM system/VM/vCPU, tap, terminal. */
static const unsigned long ioctls[] = {
    KVM_GET_API_VERSION, KVM_CHECK_EXTENSION, KVM_GET_VCPU_MMAP_SIZE, KVM_GET_SUPPORTED_CPUID,
    KVM_CREATE_VM, KVM_SET_IDENTITY_MAP_ADDR, KVM_SET_TSS_ADDR, KVM_CREATE_IRQCHIP,
    KVM_CREATE_PIT2, KVM_SET_USER_MEMORY_REGION, KVM_CREATE_VCPU, KVM_IRQ_LINE, KVM_IRQFD,
    KVM_IOEVENTFD, KVM_SIGNAL_MSI, KVM_SET_GSI_ROUTING, KVM_RUN, KVM_GET_REGS, KVM_SET_REGS,
    KVM_GET_SREGS, KVM_SET_SREGS, KVM_GET_LAPIC, KVM_SET_LAPIC, KVM_SET_FPU, KVM_SET_MSRS,
    KVM_SET_CPUID2, TUNSETOFFLOAD, TCGETS, TIOCGWINSZ,
    /* the framebuffer's dirty pages (src/vmm/dev/vga.c) */
    KVM_GET_DIRTY_LOG,
    /* saved state (vmstate.c, x86/vcpu-state.c): QMP migrate and
     * migrate-incoming read and put back what KVM keeps of the guest */
    KVM_GET_MSR_INDEX_LIST, KVM_GET_MSRS, KVM_GET_MP_STATE, KVM_SET_MP_STATE, KVM_GET_XSAVE,
    KVM_SET_XSAVE, KVM_GET_XCRS, KVM_SET_XCRS, KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS,
    KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_GET_IRQCHIP, KVM_SET_IRQCHIP, KVM_GET_PIT2,
    KVM_SET_PIT2, KVM_GET_CLOCK, KVM_SET_CLOCK, KVM_KVMCLOCK_CTRL,
};

/* One argument comparison with every field set (libseccomp's SCMP_A*_64
 * macros leave the last one to the compiler, which clang warns about). */
static struct scmp_arg_cmp arg_cmp(unsigned arg, enum scmp_compare op, uint64_t a, uint64_t b)
{
    return (struct scmp_arg_cmp){.arg = arg, .op = op, .datum_a = a, .datum_b = b};
}

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n,
               const struct scmp_arg_cmp *cmp)
{
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* not a syscall on this architecture */
    int rc = n ? seccomp_rule_add_array(ctx, action, nr, n, cmp) : seccomp_rule_add(ctx, action, nr, 0);
    if (rc < 0) {
        errno = -rc;
        return err_errno("sandbox: seccomp rule for %s", name);
    }
    return 0;
}

/* ---- thread classes: what each may not do of the above ----
 *
 * The main loop's filter is the process's (the list above): it serves the
 * sockets, writes exit.json, and it is the parent of every vCPU thread
 * (made again at each reset), which inherits its filter and can only
 * narrow it. A vCPU thread (KVM_RUN and the device handlers of its exits)
 * and a device worker (virtio queues, the balloon's timer) add a filter
 * of their own on top, without what only others need. Both keep what
 * the SIGSYS handler does (openat, write, renameat, unlinkat, tgkill), so
 * a violation in any thread still leaves exit.json. */

/* The socket server and event loop: the main loop's and the VNC server's. */
static const char *const loop_only[] = {
    "accept", "accept4", "shutdown", "getpeername", "getsockname", "setsockopt", "getsockopt",
    "select", "pselect6", "epoll_wait", "epoll_pwait", "epoll_pwait2", "timerfd_create",
};
/* ... and for a vCPU also the socket I/O, file management and new threads. */
static const char *const vcpu_denied[] = {
    "recvfrom", "recvmsg", "sendto", "sendmsg", "flock", "fallocate", "unlink", "rename", "clone",
};
/* Making a VM and its vCPUs: the main thread, at start-up and each reset. */
static const unsigned long vm_setup_ioctls[] = {
    KVM_GET_API_VERSION, KVM_GET_SUPPORTED_CPUID, KVM_CREATE_VM, KVM_SET_IDENTITY_MAP_ADDR,
    KVM_SET_TSS_ADDR, KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2, KVM_CREATE_VCPU,
};
/* Saving and loading the guest's state: the main loop's QMP commands only. */
static const unsigned long state_ioctls[] = {
    KVM_GET_MSR_INDEX_LIST, KVM_GET_MSRS, KVM_GET_MP_STATE, KVM_SET_MP_STATE, KVM_GET_XSAVE,
    KVM_SET_XSAVE, KVM_GET_XCRS, KVM_SET_XCRS, KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS,
    KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS, KVM_GET_IRQCHIP, KVM_SET_IRQCHIP, KVM_GET_PIT2,
    KVM_SET_PIT2, KVM_GET_CLOCK, KVM_SET_CLOCK, KVM_KVMCLOCK_CTRL,
};
/* Running a vCPU and its registers: vCPU threads (and the main thread
 * that sets them up). */
static const unsigned long vcpu_ioctls[] = {
    KVM_RUN,       KVM_GET_REGS, KVM_SET_REGS, KVM_GET_SREGS, KVM_SET_SREGS,
    KVM_GET_LAPIC, KVM_SET_LAPIC, KVM_SET_FPU, KVM_SET_MSRS, KVM_SET_CPUID2,
};

static bool in_names(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(name, list[i]))
            return true;
    return false;
}

static bool in_ioctls(unsigned long req, const unsigned long *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == req)
            return true;
    return false;
}

#define N(a) (sizeof(a) / sizeof *(a))

static bool syscall_denied(enum sandbox_thread cls, const char *name)
{
    if (cls == SANDBOX_THREAD_MAIN)
        return false;
    return in_names(name, loop_only, N(loop_only)) ||
           (cls == SANDBOX_THREAD_VCPU && in_names(name, vcpu_denied, N(vcpu_denied)));
}

static bool ioctl_denied(enum sandbox_thread cls, unsigned long req)
{
    if (cls == SANDBOX_THREAD_MAIN)
        return false;
    return in_ioctls(req, vm_setup_ioctls, N(vm_setup_ioctls)) ||
           in_ioctls(req, state_ioctls, N(state_ioctls)) ||
           (cls == SANDBOX_THREAD_WORKER && in_ioctls(req, vcpu_ioctls, N(vcpu_ioctls))) ||
           (cls == SANDBOX_THREAD_VCPU && (req == TCGETS || req == TIOCGWINSZ));
}

static int build_rules(scmp_filter_ctx ctx, enum sandbox_thread cls)
{
    for (size_t i = 0; i < sizeof allowed / sizeof *allowed; i++)
        if (!syscall_denied(cls, allowed[i]) && add(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL) < 0)
            return -1;
    for (size_t i = 0; i < sizeof ioctls / sizeof *ioctls; i++) {
        struct scmp_arg_cmp c = arg_cmp(1, SCMP_CMP_MASKED_EQ, 0xffffffffULL, ioctls[i]);
        if (!ioctl_denied(cls, ioctls[i]) && add(ctx, SCMP_ACT_ALLOW, "ioctl", 1, &c) < 0)
            return -1;
    }
    /* A thread narrows its own filter (sandbox_thread_enter()); another
     * filter can only take more away. */
    if (add(ctx, SCMP_ACT_ALLOW, "seccomp", 0, NULL) < 0)
        return -1;
    /* Threads only (vCPUs are made again at every reset), never a process. */
    struct scmp_arg_cmp thread = arg_cmp(0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD);
    if (!syscall_denied(cls, "clone") && add(ctx, SCMP_ACT_ALLOW, "clone", 1, &thread) < 0)
        return -1;
    /* clone3's flags are in memory, out of a filter's reach: glibc then
     * falls back to clone. */
    if (add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3", 0, NULL) < 0)
        return -1;
    /* Signals to our own threads only (the vCPU kick, abort). */
    struct scmp_arg_cmp self = arg_cmp(0, SCMP_CMP_EQ, (uint64_t)getpid(), 0);
    if (add(ctx, SCMP_ACT_ALLOW, "tgkill", 1, &self) < 0)
        return -1;
    /* Thread names (pthread_setname_np) and nothing else of prctl. */
    struct scmp_arg_cmp setname = arg_cmp(0, SCMP_CMP_EQ, PR_SET_NAME, 0);
    struct scmp_arg_cmp getname = arg_cmp(0, SCMP_CMP_EQ, PR_GET_NAME, 0);
    if (add(ctx, SCMP_ACT_ALLOW, "prctl", 1, &setname) < 0 ||
        add(ctx, SCMP_ACT_ALLOW, "prctl", 1, &getname) < 0)
        return -1;
    /* libgcrypt (VNC authentication, src/vnc) checks for files with
     * access(); the VNC server makes it do so before the sandbox, and a
     * later check is answered "no such file" rather than killing the guest. */
    if (add(ctx, SCMP_ACT_ERRNO(ENOENT), "access", 0, NULL) < 0 ||
        add(ctx, SCMP_ACT_ERRNO(ENOENT), "faccessat", 0, NULL) < 0 ||
        add(ctx, SCMP_ACT_ERRNO(ENOENT), "faccessat2", 0, NULL) < 0)
        return -1;
    /* Taking an admin's tap off its bridge at exit asks for a socket; it
     * fails without capabilities anyway, so it fails quietly. */
    return add(ctx, SCMP_ACT_ERRNO(EACCES), "socket", 0, NULL);
}

static int seccomp_install(enum sandbox_mode mode, enum sandbox_thread cls)
{
    scmp_filter_ctx ctx = seccomp_init(mode == SANDBOX_LOG ? SCMP_ACT_LOG : SCMP_ACT_TRAP);
    if (!ctx)
        return err_set("sandbox: seccomp_init failed");
    int rc = build_rules(ctx, cls);
    /* The process's filter reaches every thread already running (device
     * workers, the VNC server), which narrow it later; a class filter is
     * the calling thread's alone, and no_new_privs is already set on it
     * (libseccomp would call prctl() for it, which the filter refuses). */
    if (rc == 0 && cls == SANDBOX_THREAD_MAIN && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) < 0)
        rc = err_set("sandbox: seccomp: no TSYNC");
    if (rc == 0 && cls != SANDBOX_THREAD_MAIN && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0) < 0)
        rc = err_set("sandbox: seccomp: cannot leave no_new_privs alone");
    /* Every system call of a vCPU or worker runs through two filters; as
     * a binary search on the syscall number instead of libseccomp's
     * default linear chain, each costs a handful of comparisons, not one
     * per allowed call. */
    if (rc == 0 && seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2) < 0)
        rc = err_set("sandbox: seccomp: cannot build the filter as a binary tree");
    if (rc == 0) {
        int e = seccomp_load(ctx);
        if (e < 0) {
            errno = -e;
            rc = err_errno("sandbox: seccomp_load");
        }
    }
    seccomp_release(ctx);
    return rc;
}

int sandbox_seccomp_install(enum sandbox_mode mode)
{
    return seccomp_install(mode, SANDBOX_THREAD_MAIN);
}


void sandbox_thread_enter(enum sandbox_thread cls)
{
    if (thread_entered || !__atomic_load_n(&sb.active, __ATOMIC_ACQUIRE))
        return;
    thread_entered = true;
    /* vCPU threads and workers block signals; a blocked SIGSYS from the
     * filter would kill the process with the default action instead of
     * running the handler that writes exit.json. */
    sigset_t sys;
    sigemptyset(&sys);
    sigaddset(&sys, SIGSYS);
    pthread_sigmask(SIG_UNBLOCK, &sys, NULL);
    if (seccomp_install(sb.mode, cls) < 0) {
        /* The process's filter still holds: wider, never off. */
        fprintf(stderr, VMM_BINARY ": %s thread: %s\n", class_names[cls], err_msg());
        return;
    }
    thread_class = class_names[cls];
}

static int selftest_armed = -1; /* a class, or -1 */

void sandbox_selftest_arm(enum sandbox_thread cls)
{
    __atomic_store_n(&selftest_armed, (int)cls, __ATOMIC_RELEASE);
}

void sandbox_selftest_point(enum sandbox_thread cls)
{
    int want = (int)cls;
    if (__atomic_load_n(&selftest_armed, __ATOMIC_ACQUIRE) != want ||
        !__atomic_compare_exchange_n(&selftest_armed, &want, -1, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE))
        return;
    fprintf(stderr, VMM_BINARY ": TVM_VMM_SECCOMP_SELFTEST: calling accept4 in a %s thread\n",
            class_names[cls]);
    syscall(SYS_accept4, -1, NULL, NULL, 0);
}

int sandbox_thread_seccomp_install(enum sandbox_mode mode, enum sandbox_thread cls)
{
    int rc = seccomp_install(mode, cls);
    if (rc == 0)
        thread_class = class_names[cls];
    return rc;
}

int sandbox_enter(void)
{
    if (sb.mode == SANDBOX_OFF) {
        fprintf(stderr, VMM_BINARY ": sandbox disabled (--no-sandbox or TVM_VMM_SANDBOX=0)\n");
        return 0;
    }
    if (limit_resources() < 0)
        return -1;
    if (sb.root && drop_identity() < 0)
        return -1;
    if (drop_caps() < 0 || confine_fs() < 0 || sandbox_seccomp_install(sb.mode) < 0)
        return -1;
    thread_class = class_names[SANDBOX_THREAD_MAIN];
    __atomic_store_n(&sb.active, true, __ATOMIC_RELEASE);
    fprintf(stderr, VMM_BINARY ": sandbox: uid %d gid %d, no capabilities, seccomp%s\n",
            (int)getuid(), (int)getgid(), sb.mode == SANDBOX_LOG ? " (log only)" : "");
    return 0;
}
