/* Starting a guest: one parse of the stored XML, checks that fail early
 * with a clear message, PCI slots and network bridges filled in (the only
 * place slots are chosen: tvm-vmm plugs devices where the live XML says),
 * the run directory, a detached tvm-vmm, and the wait until its control
 * socket reports a started guest (query-status running or paused: the
 * QMP greeting alone comes before its set-up has finished).
 */
#include "core/virt/vm-priv.h"
#include "core/base/err.h"
#include "core/base/host.h"
#include "core/base/proc.h"
#include "core/virt/network-run.h"
#include "core/virt/vm-fds.h"
#include "core/base/paths.h"
#include "core/proto/vmm-protocol.h"
#include "core/proto/vmstate-file.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VM_START_TIMEOUT_MS 15000

static int check_readable(const char *what, const char *path)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return err_errno("cannot read %s '%s'", what, path);
    if (!S_ISREG(sb.st_mode) && !S_ISBLK(sb.st_mode))
        return err_set("%s '%s' is not a regular file", what, path);
    if (access(path, R_OK) < 0)
        return err_errno("cannot read %s '%s'", what, path);
    return 0;
}

/* A domain without <kernel> boots a BIOS: <os><loader>, else
 * VMM_BIOS_DEFAULT. Only BIOS ROM images: UEFI is refused by name. */
static int check_firmware(const struct domain *d)
{
    if (d->os_firmware && *d->os_firmware && strcmp(d->os_firmware, "bios") != 0)
        return err_set("domain '%s': <os firmware='%s'>: only BIOS firmware (SeaBIOS) is "
                       "supported, not UEFI",
                       d->name, d->os_firmware);
    if (d->os_loader_type && strcmp(d->os_loader_type, "rom") != 0)
        return err_set("domain '%s': <loader type='%s'>: only a BIOS image (type='rom') is "
                       "supported",
                       d->name, d->os_loader_type);
    if (d->os_kernel && *d->os_kernel)
        return 0; /* direct boot: no firmware runs */
    if (d->os_loader && *d->os_loader)
        return check_readable("firmware (<os><loader>)", d->os_loader);
    if (check_readable("firmware", VMM_BIOS_DEFAULT) < 0) {
        char why[ERR_MSG_MAX];
        snprintf(why, sizeof why, "%s", err_msg());
        return err_set("domain '%s' has no <os><kernel>, so it boots the default BIOS: %s "
                       "(install Debian's seabios package, or name an image in <os><loader>)",
                       d->name, why);
    }
    return 0;
}

static int check_host(const struct domain *d)
{
    if (check_firmware(d) < 0)
        return -1;
    if (d->os_kernel && *d->os_kernel && check_readable("kernel", d->os_kernel) < 0)
        return -1;
    if (d->os_initrd && *d->os_initrd && check_readable("initrd", d->os_initrd) < 0)
        return -1;
    uint64_t avail;
    if (host_meminfo_kib("MemAvailable", &avail) == 0 && d->memory_kib > avail)
        return err_set("not enough memory for domain '%s': it needs %llu MiB, the host has %llu "
                       "MiB available (MemAvailable in /proc/meminfo)",
                       d->name, (unsigned long long)d->memory_kib / 1024,
                       (unsigned long long)avail / 1024);
    return host_kvm_usable() ? 0 : -1;
}

int vm_vmm_path(char *buf, size_t len)
{
    const char *env = getenv("TVM_VMM");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
    } else {
        char dir[PATH_MAX];
        if (paths_self_dir(dir, sizeof(dir)) < 0)
            return -1;
        if ((size_t)snprintf(buf, len, "%s/%s", dir, VMM_BINARY) >= len)
            return err_set("path too long: %s/%s", dir, VMM_BINARY);
    }
    if (access(buf, X_OK) < 0)
        return err_errno("cannot run %s (set $TVM_VMM to the tvm-vmm binary)", buf);
    return 0;
}

/* <dir of db>/log/<name>.console.log: logs outlive the run directory. */
static int console_log_path(const char *db_path, const char *name, char *buf, size_t len)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", db_path ? db_path : store_default_path());
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof(dir), ".");
    if ((size_t)snprintf(buf, len, "%s/log", dir) >= len)
        return err_set("log directory path too long");
    if (paths_mkdir_p(buf, 0700) < 0)
        return -1;
    if ((size_t)snprintf(buf, len, "%s/log/%s.console.log", dir, name) >= len)
        return err_set("console log path too long");
    return 0;
}

static int write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return err_errno("cannot create %s", path);
    size_t n = strlen(text);
    ssize_t w = write(fd, text, n);
    if (w != (ssize_t)n || close(fd) < 0)
        return err_errno("cannot write %s", path);
    return 0;
}

/* Run ids as virsh shows them in `list`: increasing while the run
 * directory's parent lives (until the host reboots). */
static int64_t next_run_id(void)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/.run-id", paths_rundir());
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return 1;
    flock(fd, LOCK_EX);
    char buf[32] = "";
    ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
    long long id = n > 0 ? atoll(buf) + 1 : 1;
    int len = snprintf(buf, sizeof(buf), "%lld\n", id);
    if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)len, 0) != len)
        id = 1;
    close(fd); /* drops the lock */
    return id;
}

/* FDS[i] becomes descriptor 3 + i, the only ones not closed on exec: each
 * goes above the target range first, so no move overwrites one still to
 * be moved (nor the error pipe, which moves up too). */
static int pass_fds(const struct vm_fds *fds, int *err_pipe)
{
    int above = 3 + (fds ? fds->n : 0);
    int tmp[VMM_FDS_MAX];
    int e = fcntl(*err_pipe, F_DUPFD_CLOEXEC, above);
    if (e < 0)
        return -1;
    *err_pipe = e;
    for (int i = 0; fds && i < fds->n; i++)
        if ((tmp[i] = fcntl(fds->fd[i], F_DUPFD_CLOEXEC, above)) < 0)
            return -1;
    for (int i = 0; fds && i < fds->n; i++)
        if (dup2(tmp[i], 3 + i) < 0) /* dup2 clears close-on-exec */
            return -1;
    return 0;
}

/* The grandchild: its own session, stdio to vmm.log, the guest's
 * descriptors, then exec. Only async-signal-safe calls between fork and
 * exec. */
static void exec_vmm(char *const argv[], const char *log_path, const struct vm_fds *fds,
                     int err_pipe)
{
    /* O_CLOEXEC: the VMM gets them as 0-2 (dup2 clears the flag there),
     * not once more as stray descriptors. */
    int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int log = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0 ||
        pass_fds(fds, &err_pipe) < 0) {
        int e = errno;
        (void)!write(err_pipe, &e, sizeof(e));
        _exit(127);
    }
    execv(argv[0], argv);
    int e = errno;
    (void)!write(err_pipe, &e, sizeof(e));
    _exit(127);
}

/* Double fork so the VMM is nobody's child here: it outlives tvm and never
 * lingers as our zombie. Returns the VMM's pid and, in *pidfd, a pidfd for
 * it: opened while the intermediate child, which never reaps, still holds
 * the VMM as its child, so it is the VMM's even if the VMM has already
 * exited and its pid could otherwise be reused. */
static pid_t spawn_vmm(char *const argv[], const char *log_path, const struct vm_fds *fds,
                       int *pidfd)
{
    int pid_pipe[2], err_pipe[2], hold_pipe[2];
    *pidfd = -1;
    if (pipe2(pid_pipe, O_CLOEXEC) < 0)
        return err_errno("pipe");
    if (pipe2(err_pipe, O_CLOEXEC) < 0) {
        close(pid_pipe[0]);
        close(pid_pipe[1]);
        return err_errno("pipe");
    }
    if (pipe2(hold_pipe, O_CLOEXEC) < 0) {
        hold_pipe[0] = hold_pipe[1] = -1;
        err_errno("pipe");
        goto fail;
    }
    pid_t child = fork();
    if (child < 0) {
        err_errno("fork");
        goto fail;
    }
    if (child == 0) {
        setsid();
        signal(SIGHUP, SIG_IGN);
        close(hold_pipe[1]);
        pid_t gc = fork();
        if (gc == 0)
            exec_vmm(argv, log_path, fds, err_pipe[1]);
        close(err_pipe[1]);
        (void)!write(pid_pipe[1], &gc, sizeof(gc));
        /* Until tvm has its pidfd (it closes the other end). */
        char c;
        while (gc > 0 && read(hold_pipe[0], &c, 1) < 0 && errno == EINTR)
            ;
        _exit(gc < 0 ? 1 : 0);
    }
    close(pid_pipe[1]);
    close(err_pipe[1]);
    close(hold_pipe[0]);
    pid_pipe[1] = err_pipe[1] = hold_pipe[0] = -1;
    pid_t vmm = -1;
    if (read(pid_pipe[0], &vmm, sizeof(vmm)) != sizeof(vmm) || vmm <= 0)
        vmm = -1;
    else
        *pidfd = proc_open(vmm);
    close(hold_pipe[1]);
    hold_pipe[1] = -1;
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
        ;
    if (vmm < 0) {
        err_set("cannot fork the VMM process");
        goto fail;
    }
    if (*pidfd < 0) {
        err_errno("cannot open a pidfd for the VMM process");
        goto fail;
    }
    /* The error pipe closes on a successful exec; otherwise it says why. */
    int e = 0;
    if (read(err_pipe[0], &e, sizeof(e)) == sizeof(e)) {
        errno = e;
        err_errno("cannot run %s", argv[0]);
        goto fail;
    }
    close(pid_pipe[0]);
    close(err_pipe[0]);
    return vmm;
fail:
    for (int i = 0; i < 2; i++) {
        if (pid_pipe[i] >= 0)
            close(pid_pipe[i]);
        if (err_pipe[i] >= 0)
            close(err_pipe[i]);
        if (hold_pipe[i] >= 0)
            close(hold_pipe[i]);
    }
    if (*pidfd >= 0) {
        close(*pidfd);
        *pidfd = -1;
    }
    return -1;
}

/* Last non-empty line of vmm.log: the VMM's own account of a failure. */
static void last_log_line(const char *uuid, char *buf, size_t len)
{
    char path[PATH_MAX];
    buf[0] = '\0';
    if (vm_run_path(uuid, VMM_FILE_LOG, path, sizeof(path)) < 0)
        return;
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    char line[1024];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0]) {
            size_t n = strlen(line) < len ? strlen(line) : len - 1;
            memcpy(buf, line, n);
            buf[n] = '\0';
        }
    }
    fclose(f);
}

/* True once the VMM answers query-status with a started guest. Before its
 * set-up finishes (or while it tears a failed one down) it may already
 * greet, but reports "shutdown" then. */
static bool guest_started(const char *sock)
{
    struct qmp *q;
    char *reply = NULL;
    if (access(sock, F_OK) < 0 || qmp_open(sock, 1000, &q) < 0)
        return false;
    int rc = qmp_execute(q, "query-status", NULL, &reply);
    qmp_close(q);
    if (rc < 0)
        return false;
    json_object *o = json_tokener_parse(reply), *v;
    const char *status =
        o && json_object_object_get_ex(o, "status", &v) ? json_object_get_string(v) : "";
    bool started = !strcmp(status, "running") || !strcmp(status, "paused");
    json_object_put(o);
    free(reply);
    return started;
}

/* Waits for the guest to be up. On failure the message says why the VMM died. */
static int wait_ready(const struct store_domain_row *row, int pidfd, int timeout_ms)
{
    char sock[PATH_MAX], exitp[PATH_MAX];
    if (vm_run_path(row->uuid, VMM_SOCK_CONTROL, sock, sizeof(sock)) < 0 ||
        vm_run_path(row->uuid, VMM_FILE_EXIT, exitp, sizeof(exitp)) < 0)
        return -1;
    int64_t deadline = host_now_ms() + timeout_ms;
    for (;;) {
        if (!proc_running(pidfd) || access(exitp, F_OK) == 0) {
            char line[512];
            proc_wait_exit(pidfd, 2000);
            last_log_line(row->uuid, line, sizeof(line));
            const char *why = line;
            if (!strncmp(why, VMM_BINARY ": ", strlen(VMM_BINARY) + 2))
                why += strlen(VMM_BINARY) + 2;
            return err_set("tvm-vmm exited during start-up: %s",
                           *why ? why : "(no message in vmm.log)");
        }
        if (guest_started(sock))
            return 0;
        if (host_now_ms() >= deadline)
            return err_set("tvm-vmm did not report a started guest on %s within %d ms", sock,
                           timeout_ms);
        struct timespec ts = {0, 20 * 1000000};
        nanosleep(&ts, NULL);
    }
}

static int launch_timeout(const struct vm_start_opts *o)
{
    if (o && o->timeout_ms > 0)
        return o->timeout_ms;
    const char *env = getenv("TVM_START_TIMEOUT");
    if (env && atoi(env) > 0)
        return atoi(env) * 1000;
    return VM_START_TIMEOUT_MS;
}

/* Files, process, started guest. The run directory exists and is locked. */
static int launch(const struct store_domain_row *row, const char *xml, const struct vm_fds *fds,
                  const struct vm_start_opts *o, pid_t *pid_out, int *pidfd)
{
    char dir[PATH_MAX], xml_path[PATH_MAX], log_path[PATH_MAX], console_log[PATH_MAX];
    char vmm[PATH_MAX], pid_path[PATH_MAX], id_path[PATH_MAX], fds_path[PATH_MAX];
    if (vm_run_path(row->uuid, NULL, dir, sizeof(dir)) < 0 ||
        vm_run_path(row->uuid, VMM_FILE_DOMAIN, xml_path, sizeof(xml_path)) < 0 ||
        vm_run_path(row->uuid, VMM_FILE_LOG, log_path, sizeof(log_path)) < 0 ||
        vm_run_path(row->uuid, VMM_FILE_PID, pid_path, sizeof(pid_path)) < 0 ||
        vm_run_path(row->uuid, VM_FILE_RUN_ID, id_path, sizeof(id_path)) < 0 ||
        vm_run_path(row->uuid, VMM_FILE_FDS, fds_path, sizeof(fds_path)) < 0)
        return -1;
    if (vm_vmm_path(vmm, sizeof(vmm)) < 0 ||
        console_log_path(o ? o->db_path : NULL, row->name, console_log, sizeof(console_log)) < 0 ||
        write_file(xml_path, xml, 0600) < 0 || vm_fds_write_map(fds, fds_path) < 0)
        return -1;
    char *argv[11] = {vmm,         "--domain", xml_path, "--rundir", dir, "--console-log",
                      console_log, "--fds",    fds_path};
    if (o && o->paused)
        argv[9] = "--paused"; /* the guest never runs a single instruction before `resume` */
    pid_t pid = spawn_vmm(argv, log_path, fds, pidfd);
    if (pid < 0)
        return -1;
    *pid_out = pid;
    char num[32];
    snprintf(num, sizeof(num), "%d\n", (int)pid);
    if (write_file(pid_path, num, 0600) < 0)
        return -1;
    return wait_ready(row, *pidfd, launch_timeout(o));
}

/* After a failed launch: nothing may be left running or on disk. */
static void launch_cleanup(const struct store_domain_row *row, int pidfd)
{
    /* Through the pidfd: after the wait its pid may be someone else's. */
    if (pidfd >= 0 && proc_running(pidfd)) {
        proc_signal(pidfd, SIGKILL);
        proc_wait_exit(pidfd, 3000);
    }
    vm_remove_rundir(row->uuid);
}

static int record_started(struct store *st, const struct store_domain_row *row, pid_t pid,
                          bool paused, bool restored)
{
    int64_t id = next_run_id();
    char path[PATH_MAX], num[32], detail[128];
    snprintf(num, sizeof(num), "%lld\n", (long long)id);
    if (vm_run_path(row->uuid, VM_FILE_RUN_ID, path, sizeof(path)) < 0 ||
        write_file(path, num, 0600) < 0)
        return -1;
    snprintf(detail, sizeof(detail), "id %lld, tvm-vmm pid %d%s", (long long)id, (int)pid,
             paused ? ", paused" : "");
    if (store_begin(st) < 0)
        return -1;
    if (store_domain_set_state(st, row->uuid, paused ? DOMAIN_PAUSED : DOMAIN_RUNNING,
                               paused     ? VM_PAUSED_USER
                               : restored ? VM_RUNNING_RESTORED
                                          : VM_RUNNING_BOOTED,
                               id) < 0 ||
        store_event_add(st, "domain", row->name, "started", detail) < 0 ||
        (paused && !restored &&
         store_event_add(st, "domain", row->name, "suspended", "start --paused") < 0)) {
        store_rollback(st);
        return -1;
    }
    return store_commit(st);
}

/* Devices on PCI without an <address> get one now, as libvirt's QEMU driver
 * does (its test driver does not at define, and define must match it);
 * the stored definition keeps them, so every start gives the guest the
 * same slots. *changed: the live XML must be formatted again. */
static int assign_pci(struct store *st, struct domain *d, bool *changed)
{
    int n = domain_assign_pci(d);
    if (n <= 0)
        return n;
    *changed = true;
    return store_domain_update(st, d);
}

/* Each <interface type='network'> gets the bridge its network runs on, in
 * the live XML only (libvirt's <source network=... bridge=...>); an
 * inactive network is started if marked autostart, else refused. */
static int attach_networks(struct store *st, struct domain *d, bool *changed)
{
    for (size_t i = 0; i < d->nnics; i++) {
        const struct domain_nic *n = &d->nics[i];
        if (!n->type || strcmp(n->type, "network") != 0)
            continue;
        char bridge[64];
        if (!n->source || !*n->source)
            return err_set("interface %s: type 'network' needs <source network='...'/>", n->mac);
        if (network_bridge_for(st, n->source, bridge, sizeof bridge) < 0 ||
            domain_set_nic_network_bridge(d, i, bridge) < 0)
            return err_prefix("interface %s: ", n->mac);
        *changed = true;
    }
    return 0;
}

/* The stored XML, parsed once, becomes the live XML tvm-vmm gets: the
 * stored text itself when nothing had to be filled in, else formatted
 * once from the updated document. */
static int prepare(struct store *st, struct store_domain_row *row, char **xml, struct vm_fds *fds)
{
    /* Read again under the claim: an undefine that finished after the
     * first lookup leaves nothing to start. */
    char uuid[sizeof row->uuid];
    memcpy(uuid, row->uuid, sizeof uuid);
    if (vm_lookup(st, uuid, row) < 0 || store_domain_get_xml(st, row->uuid, xml) < 0)
        return -1;
    struct domain *d;
    char origin[300];
    snprintf(origin, sizeof(origin), "domain '%s'", row->name);
    if (domain_parse(*xml, strlen(*xml), origin, &d) < 0)
        return -1;
    bool changed = false;
    /* a template's disks back its linked clones: it is cloned, not run */
    int rc = d->is_template ? err_set("'%s' is a template: clone it (tvm clone --original %s "
                                      "--name NEW --linked) or unmark it (tvm template %s --off)",
                                      d->name, d->name, d->name)
                            : 0;
    if (rc == 0)
        rc = vm_resolve_volumes(st, d, false, &changed);
    if (rc == 0)
        rc = check_host(d);
    if (rc == 0)
        rc = assign_pci(st, d, &changed);
    if (rc == 0)
        rc = attach_networks(st, d, &changed);
    if (rc == 0) /* the stored definition keeps the pool and volume */
        rc = vm_resolve_volumes(st, d, true, &changed);
    if (rc == 0 && changed) {
        char *text = domain_format(d);
        if (text) {
            free(*xml);
            *xml = text;
        } else {
            rc = err_set("out of memory");
        }
    }
    /* Last: with the bridges known, and nothing after it that can fail
     * before the VMM has its copies. */
    if (rc == 0)
        rc = vm_fds_open(d, fds);
    domain_free(d);
    return rc;
}

/* A restore starts from the definition the saved state carries (the live
 * XML it ran with: same PCI slots, bridges and volume paths), which must
 * be this domain's. *running: what the file says the guest was doing. */
static int prepare_restore(struct store *st, struct store_domain_row *row, const char *path,
                           char **xml, struct vm_fds *fds, bool *running)
{
    char uuid[sizeof row->uuid];
    memcpy(uuid, row->uuid, sizeof uuid);
    if (vm_lookup(st, uuid, row) < 0 || vsf_file_info(path, xml, running) < 0)
        return -1;
    struct domain *d;
    if (domain_parse(*xml, strlen(*xml), path, &d) < 0)
        return -1;
    int rc =
        strcmp(d->uuid, row->uuid) == 0
            ? 0
            : err_set("saved state %s belongs to domain %s, not to '%s'", path, d->uuid, row->name);
    if (rc == 0)
        rc = check_host(d);
    if (rc == 0)
        rc = vm_fds_open(d, fds);
    domain_free(d);
    return rc;
}

/* The fresh, paused tvm-vmm loads the file (it opens no path: tvm sends
 * the descriptor) and runs it if RUN. */
static int load_saved(const struct store_domain_row *row, const char *path, bool run)
{
    char sock[PATH_MAX];
    if (vm_run_path(row->uuid, VMM_SOCK_CONTROL, sock, sizeof sock) < 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_errno("%s", path);
    struct qmp *q = NULL;
    int rc = qmp_open(sock, VM_SAVE_TIMEOUT_MS, &q);
    if (rc == 0)
        rc = qmp_getfd(q, "tvm-restore", fd);
    if (rc == 0)
        rc = qmp_execute(q, "migrate-incoming", "{\"uri\": \"fd:tvm-restore\"}", NULL);
    if (rc == 0 && run)
        rc = qmp_execute(q, "cont", NULL, NULL);
    if (q)
        qmp_close(q);
    close(fd);
    return rc;
}

/* The guest of ROW, whose run directory the caller has claimed, started (or, on
 * failure, nothing left running and the run directory removed); the
 * caller ends the claim. */
static int start_claimed(struct store *st, struct store_domain_row row,
                         const struct vm_start_opts *o)
{
    char *xml = NULL;
    pid_t pid = -1;
    int pidfd = -1;
    struct vm_fds *fds = calloc(1, sizeof *fds);
    const char *restore = o ? o->restore : NULL;
    bool running = false;
    struct vm_start_opts lo = o ? *o : (struct vm_start_opts){0};
    int rc = !fds      ? err_set("out of memory")
             : restore ? prepare_restore(st, &row, restore, &xml, fds, &running)
                       : prepare(st, &row, &xml, fds);
    if (restore) {
        running = lo.restore_run ? lo.restore_run > 0 : running;
        lo.paused = true; /* the saved state goes in before any instruction runs */
    }
    if (rc == 0) {
        rc = launch(&row, xml, fds, &lo, &pid, &pidfd);
        /* The VMM has its own copies now (or is gone): the disks' locks and
         * new taps live as long as it does. */
        if (rc == 0)
            vm_fds_release(fds);
        else
            vm_fds_abandon(fds);
    }
    free(fds);
    free(xml);
    if (rc == 0 && restore)
        rc = load_saved(&row, restore, running);
    if (rc < 0) {
        launch_cleanup(&row, pidfd);
        if (pidfd >= 0)
            close(pidfd);
        return -1;
    }
    close(pidfd);
    rc = record_started(st, &row, pid, restore ? !running : o && o->paused, restore != NULL);
    if (rc == 0 && restore)
        rc = store_event_add(st, "domain", row.name, "restored", restore);
    return rc;
}

int vm_start(struct store *st, const char *dom, const struct vm_start_opts *o)
{
    struct store_domain_row row;
    if (paths_rundir_ready() < 0 || vm_lookup(st, dom, &row) < 0 || vm_reconcile_row(st, &row) < 0)
        return -1;
    /* The run directory, created locked, is this start's claim on the
     * domain: an undefine (or another start) waits for it, and everything
     * read from the store from here on stays true until the guest runs. */
    bool active;
    int lock = vm_dir_claim(st, &row, VM_CLAIM_WAIT_MS, &active);
    if (lock < 0)
        return -1;
    int rc = start_claimed(st, row, o);
    vm_dir_unlock(lock);
    return rc;
}

/* virsh's refusals of a definition that clashes with a stored domain. */
static int create_check_clash(struct store *st, const struct domain *d)
{
    struct store_domain_row by_uuid, by_name;
    bool have_uuid = store_domain_get_row(st, d->uuid, &by_uuid) == 0;
    bool have_name = store_domain_get_row(st, d->name, &by_name) == 0;
    err_clear();
    if (have_uuid && strcmp(by_uuid.name, d->name) != 0)
        return err_set("operation failed: domain '%s' is already defined with uuid %s",
                       by_uuid.name, d->uuid);
    if (have_name && strcmp(by_name.uuid, d->uuid) != 0)
        return err_set("operation failed: domain '%s' already exists with uuid %s", d->name,
                       by_name.uuid);
    if (have_uuid && vm_state_is_active(by_uuid.state))
        return err_set("Requested operation is not valid: domain '%s' is already active", d->name);
    if (have_uuid) /* libvirt would run it on D, keeping its stored definition */
        return err_set("Requested operation is not valid: domain '%s' is already defined; start "
                       "it (tvm start %s) or undefine it first: tvm does not run a persistent "
                       "domain on another definition",
                       d->name, d->name);
    return 0;
}

/* The transient domain's row, removed again (a start that failed). */
static void create_forget(struct store *st, const struct domain *d)
{
    if (store_begin(st) == 0 && store_domain_delete(st, d->uuid) == 0 && store_commit(st) == 0)
        return;
    store_rollback(st);
}

int vm_create(struct store *st, const struct domain *d, const struct vm_start_opts *o)
{
    if (paths_rundir_ready() < 0 || vm_reconcile(st) < 0 || create_check_clash(st, d) < 0)
        return -1;
    struct store_domain_row row = {.state = DOMAIN_SHUTOFF, .id = -1};
    snprintf(row.name, sizeof row.name, "%s", d->name);
    snprintf(row.uuid, sizeof row.uuid, "%s", d->uuid);
    /* Claimed before the row exists: a reconcile removes a stopped
     * transient domain whose run directory nobody holds (a create that was
     * killed half-way), and must not take this one for such. */
    bool active;
    int lock = vm_dir_claim(st, &row, VM_CLAIM_WAIT_MS, &active);
    if (lock < 0)
        return -1;
    int rc = store_begin(st);
    /* No "defined" event: libvirt reports a created domain as started only. */
    if (rc == 0 && (create_check_clash(st, d) < 0 || store_domain_insert(st, d) < 0 ||
                    store_domain_set_persistent(st, d->uuid, false) < 0)) {
        store_rollback(st);
        rc = -1;
    } else if (rc == 0) {
        rc = store_commit(st);
    }
    if (rc < 0) {
        vm_dir_release(row.uuid, lock);
        return -1;
    }
    /* The start removes the run directory if it fails; the row goes too,
     * under the same claim, so no other tvm sees a stopped transient domain. */
    if (start_claimed(st, row, o) == 0) {
        vm_dir_unlock(lock);
        return 0;
    }
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", err_msg());
    pid_t pid = vm_pid(row.uuid); /* started, but its start could not be recorded */
    if (pid > 0 && kill(pid, SIGKILL) == 0)
        vm_wait_gone(pid, row.uuid, 3000);
    create_forget(st, d);
    vm_dir_release(row.uuid, lock);
    return err_set("%s", msg);
}
