/* Supervision: the run directories are the truth about which guests are
 * alive; this file reads them and keeps the store's state column and event
 * log in step (see vm.h for the rules).
 */
#include "core/virt/vm-priv.h"
#include "core/base/err.h"
#include "core/base/host.h"
#include "core/base/uuid.h"
#include "core/base/paths.h"
#include "core/proto/vmm-protocol.h"

#include <dirent.h>
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
#include <time.h>
#include <unistd.h>

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

int vm_run_path(const char *uuid, const char *file, char *buf, size_t len)
{
    int n = file ? snprintf(buf, len, "%s/%s/%s", paths_rundir(), uuid, file)
                 : snprintf(buf, len, "%s/%s", paths_rundir(), uuid);
    if (n < 0 || (size_t)n >= len)
        return err_set("run directory path too long for domain %s", uuid);
    return 0;
}

int vm_lookup(struct store *st, const char *dom, struct store_domain_row *row)
{
    return store_domain_get_row(st, dom, row);
}

bool vm_state_is_active(enum domain_state s)
{
    return s == DOMAIN_RUNNING || s == DOMAIN_BLOCKED || s == DOMAIN_PAUSED ||
           s == DOMAIN_SHUTDOWN || s == DOMAIN_PMSUSPENDED;
}

int vm_dir_lock(const char *uuid, int wait_ms)
{
    char dir[PATH_MAX];
    if (vm_run_path(uuid, NULL, dir, sizeof(dir)) < 0)
        return -1;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int64_t deadline = host_now_ms() + wait_ms;
    for (;;) {
        if (flock(fd, LOCK_EX | LOCK_NB) == 0)
            break;
        if (errno != EWOULDBLOCK || host_now_ms() >= deadline) {
            int saved = errno;
            close(fd);
            errno = saved;
            return -1;
        }
        sleep_ms(50);
    }
    /* Locked a directory somebody removed meanwhile: it is finished. */
    struct stat sb;
    if (fstat(fd, &sb) < 0 || sb.st_nlink == 0) {
        close(fd);
        errno = ENOENT;
        return -1;
    }
    return fd;
}

void vm_dir_unlock(int fd)
{
    if (fd >= 0)
        close(fd); /* closing the last reference drops the flock */
}

/* RUNDIR/<uuid>/, created already locked: made under a temporary name,
 * locked, then renamed into place only if nothing is there. A plain mkdir
 * followed by flock leaves a moment in which another tvm finds the
 * directory unlocked and empty and takes it for a finished run. -1 with
 * errno EEXIST when the directory exists. */
static int dir_create_locked(const char *uuid, const char *dir)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s/.new-%s-XXXXXX", paths_rundir(), uuid) >=
        sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!mkdtemp(tmp)) /* 0700 */
        return -1;
    int fd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0 && flock(fd, LOCK_EX) == 0 &&
        renameat2(AT_FDCWD, tmp, AT_FDCWD, dir, RENAME_NOREPLACE) == 0)
        return fd;
    int saved = errno;
    if (fd >= 0)
        close(fd);
    rmdir(tmp);
    errno = saved;
    return -1;
}

static int record_exit(struct store *st, const struct store_domain_row *row);

int vm_dir_claim(struct store *st, const struct store_domain_row *row, int wait_ms, bool *active)
{
    char dir[PATH_MAX];
    *active = false;
    if (paths_rundir_ready() < 0 || vm_run_path(row->uuid, NULL, dir, sizeof(dir)) < 0)
        return -1;
    /* Each round either creates the directory or finds one and waits for
     * whoever holds it; a finished run found there is recorded and removed
     * and the next round creates it. */
    for (int round = 0; round < 5; round++) {
        int fd = dir_create_locked(row->uuid, dir);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST && errno != ENOTEMPTY)
            return err_errno("cannot create run directory %s", dir);
        fd = vm_dir_lock(row->uuid, wait_ms);
        if (fd < 0) {
            if (errno == ENOENT)
                continue; /* removed while we waited */
            if (errno == EWOULDBLOCK)
                return err_set("run directory %s is still held by another tvm after %d s", dir,
                               wait_ms / 1000);
            return err_errno("cannot lock run directory %s", dir);
        }
        if (vm_pid_alive(vm_read_pid(row->uuid), row->uuid)) {
            vm_dir_unlock(fd);
            *active = true;
            return err_set(VM_ERR_ACTIVE);
        }
        int rc = record_exit(st, row);
        vm_dir_unlock(fd);
        if (rc < 0)
            return -1;
    }
    return err_set("run directory %s keeps being recreated by another tvm", dir);
}

void vm_dir_release(const char *uuid, int fd)
{
    /* Removed before unlocking: a waiter then finds the directory gone
     * (vm_dir_lock's ENOENT) rather than an empty one it could take for
     * a run. */
    vm_remove_rundir(uuid);
    vm_dir_unlock(fd);
}

pid_t vm_read_pid(const char *uuid)
{
    char path[PATH_MAX];
    if (vm_run_path(uuid, VMM_FILE_PID, path, sizeof(path)) < 0)
        return -1;
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    long pid = -1;
    if (fscanf(f, "%ld", &pid) != 1 || pid <= 0 || pid > INT_MAX)
        pid = -1;
    fclose(f);
    return (pid_t)pid;
}

/* /proc/PID/stat's state letter; zombies count as gone because the VMM's
 * parent may be a subreaper that has not reaped it yet. */
static bool pid_is_zombie(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return true;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *paren = strrchr(buf, ')');
    return !paren || paren[1] != ' ' || paren[2] == 'Z' || paren[2] == 'X';
}

bool vm_pid_running(pid_t pid)
{
    return pid > 0 && !(kill(pid, 0) < 0 && errno == ESRCH) && !pid_is_zombie(pid);
}

bool vm_pid_alive(pid_t pid, const char *uuid)
{
    if (!vm_pid_running(pid))
        return false;
    /* A recycled pid must not pass for the guest: the command line names
     * this guest's run directory. */
    char path[64], want[PATH_MAX];
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    if (vm_run_path(uuid, NULL, want, sizeof(want)) < 0)
        return false;
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    static char cmdline[16384];
    size_t n = fread(cmdline, 1, sizeof(cmdline) - 1, f);
    fclose(f);
    cmdline[n] = '\0';
    for (size_t i = 0; i < n; i += strlen(cmdline + i) + 1)
        if (!strcmp(cmdline + i, want))
            return true;
    return false;
}

bool vm_wait_gone(pid_t pid, const char *uuid, int timeout_ms)
{
    int64_t deadline = host_now_ms() + timeout_ms;
    while (uuid ? vm_pid_alive(pid, uuid) : vm_pid_running(pid)) {
        if (host_now_ms() >= deadline)
            return false;
        sleep_ms(20);
    }
    return true;
}

bool vm_is_active(const char *uuid)
{
    return vm_pid_alive(vm_read_pid(uuid), uuid);
}

pid_t vm_pid(const char *uuid)
{
    pid_t pid = vm_read_pid(uuid);
    return vm_pid_alive(pid, uuid) ? pid : -1;
}

int vm_remove_rundir(const char *uuid)
{
    char dir[PATH_MAX];
    if (vm_run_path(uuid, NULL, dir, sizeof(dir)) < 0)
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : err_errno("cannot open %s", dir);
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            unlinkat(dirfd(d), e->d_name, 0);
    closedir(d);
    if (rmdir(dir) < 0 && errno != ENOENT)
        return err_errno("cannot remove run directory %s", dir);
    return 0;
}

int vm_qmp(const struct store_domain_row *row, int timeout_ms, const char *cmd,
           const char *args_json, char **reply_json)
{
    char sock[PATH_MAX];
    if (vm_run_path(row->uuid, VMM_SOCK_CONTROL, sock, sizeof(sock)) < 0)
        return -1;
    if (qmp_command(sock, timeout_ms, cmd, args_json, reply_json) < 0)
        return err_prefix("guest '%s' ", row->name);
    return 0;
}

/* What exit.json says, as the state to record. */
struct vm_exit {
    enum domain_state state;
    int reason;
    const char *event;
    char detail[256];
};

static void exit_from_reason(struct vm_exit *x, const char *reason)
{
    if (!strcmp(reason, "shutdown")) {
        *x = (struct vm_exit){DOMAIN_SHUTOFF, VM_SHUTOFF_SHUTDOWN, "shutdown", ""};
    } else if (!strcmp(reason, "destroyed")) {
        *x = (struct vm_exit){DOMAIN_SHUTOFF, VM_SHUTOFF_DESTROYED, "destroyed", ""};
    } else if (!strcmp(reason, "crashed")) {
        *x = (struct vm_exit){DOMAIN_CRASHED, VM_CRASHED_UNKNOWN, "crashed", ""};
    } else {
        *x = (struct vm_exit){DOMAIN_SHUTOFF, VM_SHUTOFF_FAILED, "crashed", ""};
    }
}

/* Reads exit.json; false if there is none (the VMM was killed). */
static bool read_exit(const char *uuid, struct vm_exit *x)
{
    char path[PATH_MAX];
    if (vm_run_path(uuid, VMM_FILE_EXIT, path, sizeof(path)) < 0 || access(path, F_OK) < 0)
        return false;
    json_object *o = json_object_from_file(path), *v;
    const char *reason = "error", *detail = "";
    if (o && json_object_object_get_ex(o, "reason", &v))
        reason = json_object_get_string(v);
    if (o && json_object_object_get_ex(o, "detail", &v))
        detail = json_object_get_string(v);
    exit_from_reason(x, reason);
    if (x->state == DOMAIN_CRASHED &&
        !strncmp(detail, VMM_EXIT_SANDBOX, strlen(VMM_EXIT_SANDBOX)))
        x->reason = VM_CRASHED_SANDBOX;
    snprintf(x->detail, sizeof(x->detail), "%s%s%s", reason, *detail ? ": " : "", detail);
    json_object_put(o);
    return true;
}

int vm_record_stop(struct store *st, const char *uuid, enum domain_state state, int reason,
                   const char *event, const char *detail)
{
    struct store_domain_row row;
    if (store_begin(st) < 0)
        return -1;
    /* Read inside the transaction: an undefine or define of the running
     * domain may have changed whether it stays. */
    int rc = store_domain_get_row(st, uuid, &row);
    if (rc == 0)
        rc = row.persistent ? store_domain_set_state(st, uuid, state, reason, -1)
                            : store_domain_delete(st, uuid);
    if (rc == 0 && event)
        rc = store_event_add(st, "domain", row.name, event, detail);
    if (rc == 0 && !row.persistent)
        rc = store_event_add(st, "domain", row.name, "undefined", "transient, stopped");
    if (rc < 0) {
        store_rollback(st);
        return -1;
    }
    return store_commit(st);
}

/* The VMM is gone: record why and remove what it left. */
static int record_exit(struct store *st, const struct store_domain_row *row)
{
    struct vm_exit x;
    if (!read_exit(row->uuid, &x)) {
        x = (struct vm_exit){DOMAIN_CRASHED, VM_CRASHED_UNKNOWN, "crashed", ""};
        snprintf(x.detail, sizeof(x.detail), "tvm-vmm was killed (no %s)", VMM_FILE_EXIT);
    }
    /* State and event together or not at all, and the run directory
     * removed only once both are stored: a failure leaves everything for
     * the next reconcile to record whole. */
    if (vm_record_stop(st, row->uuid, x.state, x.reason, x.event, x.detail) < 0)
        return -1;
    return vm_remove_rundir(row->uuid);
}

int64_t vm_read_run_id(const char *uuid)
{
    char path[PATH_MAX];
    long long id = -1;
    if (vm_run_path(uuid, VM_FILE_RUN_ID, path, sizeof(path)) == 0) {
        FILE *f = fopen(path, "re");
        if (f) {
            if (fscanf(f, "%lld", &id) != 1)
                id = -1;
            fclose(f);
        }
    }
    return id;
}

/* A live guest: running or paused, as its VMM says. */
static int record_alive(struct store *st, const struct store_domain_row *row)
{
    enum domain_state s = vm_state_is_active(row->state) ? row->state : DOMAIN_RUNNING;
    int reason = vm_state_is_active(row->state) ? row->state_reason : VM_RUNNING_UNKNOWN;
    char *reply = NULL;
    if (vm_qmp(row, VM_QMP_POLL_MS, "query-status", NULL, &reply) == 0) {
        json_object *o = json_tokener_parse(reply), *v;
        const char *status = "";
        if (o && json_object_object_get_ex(o, "status", &v))
            status = json_object_get_string(v);
        /* Other statuses ("shutdown": powering off) keep what is recorded;
         * the exit that follows is recorded from exit.json. */
        enum domain_state now = !strcmp(status, "running")  ? DOMAIN_RUNNING
                                : !strcmp(status, "paused") ? DOMAIN_PAUSED
                                                            : s;
        if (now != s)
            reason = now == DOMAIN_PAUSED ? VM_PAUSED_USER : VM_RUNNING_UNPAUSED;
        s = now;
        json_object_put(o);
        free(reply);
    }
    /* A QMP failure leaves a busy guest as it was recorded. */
    int64_t id = row->id >= 0 ? row->id : vm_read_run_id(row->uuid);
    if (s == row->state && reason == row->state_reason && id == row->id)
        return 0;
    return store_domain_set_state(st, row->uuid, s, reason, id);
}

int vm_reconcile_row(struct store *st, const struct store_domain_row *row)
{
    char dir[PATH_MAX];
    if (vm_run_path(row->uuid, NULL, dir, sizeof(dir)) < 0)
        return -1;
    int lock = vm_dir_lock(row->uuid, 0);
    if (lock < 0) {
        if (errno == EWOULDBLOCK)
            return 0; /* being started or destroyed right now */
        if (errno != ENOENT)
            return err_errno("cannot open run directory %s", dir);
        /* A stopped transient domain nobody is starting: a create that
         * was killed before its guest ran. */
        if (!vm_state_is_active(row->state))
            return row->persistent
                       ? 0
                       : vm_record_stop(st, row->uuid, row->state, row->state_reason, NULL, NULL);
        /* Recorded as active, but nothing is left of it (host reboot, or
         * someone removed the run directory): it is not running. */
        return vm_record_stop(st, row->uuid, DOMAIN_SHUTOFF, VM_SHUTOFF_UNKNOWN, "crashed",
                              "run directory vanished while the domain was recorded as active");
    }
    pid_t pid = vm_read_pid(row->uuid);
    int rc;
    if (vm_pid_alive(pid, row->uuid))
        rc = record_alive(st, row);
    else
        rc = record_exit(st, row);
    vm_dir_unlock(lock);
    return rc;
}

/* Run directories are named by the canonical uuid (vmm-protocol.h). */
static bool is_run_dir_name(const char *s)
{
    char canon[UUID_STR_LEN];
    return uuid_canonical(s, canon) && strcmp(canon, s) == 0;
}

int vm_reconcile(struct store *st)
{
    int rc = 0;
    /* Every run directory whose domain this store knows... */
    DIR *d = opendir(paths_rundir());
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            struct store_domain_row row;
            if (!is_run_dir_name(e->d_name))
                continue;
            if (store_domain_get_row(st, e->d_name, &row) < 0)
                continue; /* another inventory's guest */
            if (vm_reconcile_row(st, &row) < 0)
                rc = -1;
        }
        closedir(d);
    }
    /* ...and every domain recorded active, whose directory may be gone. */
    struct store_domain_row *rows = NULL;
    size_t n = 0;
    if (store_domain_list(st, STORE_LIST_ACTIVE, &rows, &n) < 0) {
        free(rows);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        char dir[PATH_MAX];
        if (vm_run_path(rows[i].uuid, NULL, dir, sizeof(dir)) == 0 && access(dir, F_OK) < 0 &&
            vm_reconcile_row(st, &rows[i]) < 0)
            rc = -1;
    }
    free(rows);
    /* ...and every stopped transient domain: none outlives its run. */
    rows = NULL;
    n = 0;
    if (store_domain_list(st, STORE_LIST_INACTIVE, &rows, &n) < 0) {
        free(rows);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (!rows[i].persistent && vm_reconcile_row(st, &rows[i]) < 0)
            rc = -1;
    free(rows);
    return rc;
}

int vm_state(struct store *st, const char *dom, enum domain_state *state, int *reason)
{
    struct store_domain_row row;
    if (vm_lookup(st, dom, &row) < 0 || vm_reconcile_row(st, &row) < 0 ||
        vm_lookup(st, dom, &row) < 0)
        return -1;
    *state = row.state;
    if (reason)
        *reason = row.state_reason;
    return 0;
}

int vm_lookup_active(struct store *st, const char *dom, struct store_domain_row *row)
{
    if (vm_lookup(st, dom, row) < 0 || vm_reconcile_row(st, row) < 0 || vm_lookup(st, dom, row) < 0)
        return -1;
    if (!vm_is_active(row->uuid))
        return err_set(VM_ERR_NOT_RUNNING);
    return 0;
}

static const char *const running_reasons[] = {
    "unknown",       "booted",   "migrated",           "restored",
    "from snapshot", "unpaused", "migration canceled", "save canceled",
    "event wakeup",  "crashed",  "post-copy"};
static const char *const paused_reasons[] = {
    "unknown",   "user",        "migrating",     "saving",           "dumping",
    "I/O error", "watchdog",    "from snapshot", "shutting down",    "creating snapshot",
    "crashed",   "starting up", "post-copy",     "post-copy failed", "api error"};
static const char *const shutoff_reasons[] = {"unknown", "shutdown",      "destroyed",
                                              "crashed", "migrated",      "saved",
                                              "failed",  "from snapshot", "daemon"};
static const char *const crashed_reasons[] = {"unknown", "panicked", "sandbox violation"};
static const char *const shutdown_reasons[] = {"unknown", "user"};

#define PICK(table, i)                                                                             \
    ((i) >= 0 && (size_t)(i) < sizeof(table) / sizeof(table[0]) ? table[i] : "unknown")

const char *vm_state_reason_name(enum domain_state state, int reason)
{
    switch (state) {
    case DOMAIN_RUNNING:
        return PICK(running_reasons, reason);
    case DOMAIN_PAUSED:
        return PICK(paused_reasons, reason);
    case DOMAIN_SHUTOFF:
        return PICK(shutoff_reasons, reason);
    case DOMAIN_CRASHED:
        return PICK(crashed_reasons, reason);
    case DOMAIN_SHUTDOWN:
        return PICK(shutdown_reasons, reason);
    default:
        return "unknown";
    }
}
