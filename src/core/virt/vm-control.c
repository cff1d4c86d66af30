/* The lifecycle verbs that act on a running guest over QMP: shutdown,
 * destroy, reboot/reset, suspend/resume. Each one reconciles first, so a
 * guest that died meanwhile gets "domain is not running", not a socket error.
 */
#include "core/virt/vm-priv.h"
#include "core/base/err.h"
#include "core/base/proc.h"
#include "core/proto/qmp-client.h"
#include "core/proto/vmm-protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define VM_DESTROY_GRACE_MS 3000 /* for QMP quit to answer and the VMM to go, before SIGKILL */
#define VM_DESTROY_LOCK_MS 20000 /* a start in progress holds the lock this long at most */

int vm_shutdown(struct store *st, const char *dom)
{
    struct store_domain_row row;
    if (vm_lookup_active(st, dom, &row) < 0)
        return -1;
    /* The guest decides; reconcile records "shutdown" once the VMM exits. */
    return vm_qmp(&row, VM_QMP_TIMEOUT_MS, "system_powerdown", NULL, NULL);
}

/* One QMP command, then one event log entry. */
static int qmp_and_log(struct store *st, const char *dom, const char *qmp, const char *event,
                       const char *detail)
{
    struct store_domain_row row;
    if (vm_lookup_active(st, dom, &row) < 0 || vm_qmp(&row, VM_QMP_TIMEOUT_MS, qmp, NULL, NULL) < 0)
        return -1;
    return store_event_add(st, "domain", row.name, event, detail);
}

int vm_reset(struct store *st, const char *dom)
{
    return qmp_and_log(st, dom, "system_reset", "reset", "system_reset");
}

int vm_reboot(struct store *st, const char *dom)
{
    return qmp_and_log(st, dom, "x-system-reboot", "reboot", "ACPI power button, then boot");
}

static int pause_or_cont(struct store *st, const char *dom, bool pause)
{
    struct store_domain_row row;
    if (vm_lookup_active(st, dom, &row) < 0 ||
        vm_qmp(&row, VM_QMP_TIMEOUT_MS, pause ? "stop" : "cont", NULL, NULL) < 0)
        return -1;
    enum domain_state was = row.state;
    enum domain_state now = pause ? DOMAIN_PAUSED : DOMAIN_RUNNING;
    if (was == now)
        return 0; /* as libvirt: suspending a paused guest is not an error */
    if (store_begin(st) < 0)
        return -1;
    if (store_domain_set_state(st, row.uuid, now, pause ? VM_PAUSED_USER : VM_RUNNING_UNPAUSED,
                               row.id) < 0 ||
        store_event_add(st, "domain", row.name, pause ? "suspended" : "resumed", "") < 0) {
        store_rollback(st);
        return -1;
    }
    return store_commit(st);
}

int vm_suspend(struct store *st, const char *dom)
{
    return pause_or_cont(st, dom, true);
}

int vm_resume(struct store *st, const char *dom)
{
    return pause_or_cont(st, dom, false);
}

/* Stops the VMM: politely (quit), then SIGKILL. Waits and signals through
 * its pidfd: once it has exited, its pid may belong to anyone. */
static int stop_vmm(const struct store_domain_row *row, int pidfd, pid_t pid, bool graceful,
                    const char **how)
{
    *how = "quit";
    if (vm_qmp(row, VM_DESTROY_GRACE_MS, "quit", NULL, NULL) == 0 &&
        proc_wait_exit(pidfd, VM_DESTROY_GRACE_MS))
        return 0;
    if (graceful)
        return err_set("tvm-vmm (pid %d) did not quit within %d ms; with --graceful it is not "
                       "killed",
                       (int)pid, VM_DESTROY_GRACE_MS);
    *how = "SIGKILL (tvm-vmm did not quit)";
    if (proc_signal(pidfd, SIGKILL) < 0 && errno != ESRCH)
        return err_errno("cannot kill tvm-vmm (pid %d)", (int)pid);
    if (!proc_wait_exit(pidfd, VM_DESTROY_GRACE_MS))
        return err_set("tvm-vmm (pid %d) is still alive after SIGKILL", (int)pid);
    return 0;
}

/* Stops the VMM (never killed when GRACEFUL) and records shut off with
 * REASON, and EVENT unless NULL. */
static int stop_and_record(struct store *st, const char *dom, bool graceful, int reason,
                           const char *event)
{
    struct store_domain_row row;
    if (vm_lookup(st, dom, &row) < 0 || vm_reconcile_row(st, &row) < 0)
        return -1;
    int lock = vm_dir_lock(row.uuid, VM_DESTROY_LOCK_MS);
    if (lock < 0) {
        if (errno == ENOENT)
            return err_set(VM_ERR_NOT_RUNNING);
        return err_errno("cannot lock the run directory of domain '%s'", row.name);
    }
    /* The pidfd first, then the check that the pid is this guest's VMM:
     * the process checked is then the one stop_vmm signals. */
    pid_t pid = vm_read_pid(row.uuid);
    int pidfd = proc_open(pid);
    if (pidfd < 0 || !vm_pid_alive(pid, row.uuid) || !proc_running(pidfd)) {
        /* It ended on its own meanwhile: record that, not a destroy. */
        if (pidfd >= 0)
            close(pidfd);
        vm_dir_unlock(lock);
        vm_reconcile_row(st, &row);
        return err_set(VM_ERR_NOT_RUNNING);
    }
    const char *how;
    int rc = stop_vmm(&row, pidfd, pid, graceful, &how);
    close(pidfd);
    if (rc == 0)
        rc = vm_record_stop(st, row.uuid, DOMAIN_SHUTOFF, reason, event, how);
    /* Recorded first, removed second: a concurrent reconcile never sees the
     * guest gone while the store still says running. */
    if (rc == 0)
        rc = vm_remove_rundir(row.uuid);
    vm_dir_unlock(lock);
    return rc;
}

int vm_destroy(struct store *st, const char *dom)
{
    return stop_and_record(st, dom, false, VM_SHUTOFF_DESTROYED, "destroyed");
}

int vm_destroy_graceful(struct store *st, const char *dom)
{
    return stop_and_record(st, dom, true, VM_SHUTOFF_DESTROYED, "destroyed");
}

int vm_stop_saved(struct store *st, const char *dom)
{
    return stop_and_record(st, dom, false, VM_SHUTOFF_SAVED, NULL);
}

int vm_live_domain(const char *uuid, struct domain **out)
{
    char path[PATH_MAX];
    if (vm_run_path(uuid, VMM_FILE_DOMAIN, path, sizeof(path)) < 0)
        return -1;
    FILE *f = fopen(path, "re");
    if (!f) {
        if (errno == ENOENT)
            return err_set(VM_ERR_NOT_RUNNING);
        return err_errno("%s", path);
    }
    char *xml = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            char *p = realloc(xml, cap = cap ? 2 * cap : 16384);
            if (!p) {
                free(xml);
                fclose(f);
                return err_set("out of memory");
            }
            xml = p;
        }
        size_t n = fread(xml + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0)
            break;
    }
    bool bad = ferror(f);
    fclose(f);
    int rc = bad ? err_errno("%s", path) : domain_parse(xml, len, path, out);
    free(xml);
    return rc;
}

/* VMM_FILE_NICS onto the live domain: each line's tap becomes the NIC's
 * <target dev>. A line whose index and MAC do not name the same NIC (a
 * file from some other definition) is skipped, not trusted. */
static int apply_nics(const char *uuid, struct domain *d)
{
    char path[PATH_MAX];
    if (vm_run_path(uuid, VMM_FILE_NICS, path, sizeof(path)) < 0)
        return -1;
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? 0 : err_errno("%s", path); /* no NIC on a tap */
    char line[128];
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof(line), f)) {
        size_t index;
        char mac[32], tap[32];
        if (sscanf(line, "%zu %31s %31s", &index, mac, tap) != 3 || index >= d->nnics ||
            strcasecmp(d->nics[index].mac, mac) != 0)
            continue;
        rc = domain_set_nic_target_dev(d, index, tap);
    }
    fclose(f);
    return rc;
}

int vm_vnc_address(const char *uuid, size_t *index, int *port, char *addr, size_t addr_len)
{
    char path[PATH_MAX], line[128], host[64];
    if (vm_run_path(uuid, VMM_FILE_GRAPHICS, path, sizeof(path)) < 0)
        return -1;
    FILE *f = fopen(path, "re");
    if (!f)
        return errno == ENOENT ? 0 : err_errno("%s", path); /* no VNC on TCP */
    bool ok = fgets(line, sizeof(line), f) && sscanf(line, "%zu %d %63s", index, port, host) == 3 &&
              *port > 0 && *port < 65536;
    fclose(f);
    if (!ok)
        return err_set("%s: not 'INDEX PORT ADDR'", path);
    snprintf(addr, addr_len, "%s", host);
    return 1;
}

/* The port tvm-vmm's VNC server bound, on the <graphics> it serves; a
 * line that names no VNC graphics of D (some other definition) is not
 * trusted. */
static int apply_graphics(const char *uuid, struct domain *d)
{
    size_t index;
    int port;
    char addr[64];
    int found = vm_vnc_address(uuid, &index, &port, addr, sizeof addr);
    if (found <= 0)
        return found;
    if (index >= d->ngraphics || strcmp(d->graphics[index].type, "vnc") != 0)
        return 0;
    return domain_set_graphics_port(d, index, port);
}

int vm_live_view(const char *uuid, struct domain **out)
{
    struct domain *d;
    if (vm_live_domain(uuid, &d) < 0)
        return -1;
    int64_t id = vm_read_run_id(uuid);
    /* No run id yet: a start that has not recorded it; virsh shows none either. */
    if ((id >= 0 && domain_set_run_id(d, id) < 0) || apply_nics(uuid, d) < 0 ||
        apply_graphics(uuid, d) < 0) {
        domain_free(d);
        return -1;
    }
    *out = d;
    return 0;
}

int vm_balloon_actual_kib(const char *uuid, uint64_t *kib)
{
    char sock[PATH_MAX], *reply;
    if (vm_run_path(uuid, VMM_SOCK_CONTROL, sock, sizeof(sock)) < 0 ||
        qmp_command(sock, VM_QMP_POLL_MS, "query-balloon", NULL, &reply) < 0)
        return -1;
    struct json_object *o = json_tokener_parse(reply), *v;
    free(reply);
    int rc = -1;
    if (o && json_object_object_get_ex(o, "actual", &v) && json_object_is_type(v, json_type_int) &&
        json_object_get_int64(v) > 0) {
        *kib = (uint64_t)json_object_get_int64(v) / 1024;
        rc = 0;
    } else {
        err_set("query-balloon: no 'actual' in the reply");
    }
    json_object_put(o);
    return rc;
}

int vm_live_domain_save(const char *uuid, const struct domain *d)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    if (vm_run_path(uuid, VMM_FILE_DOMAIN, path, sizeof path) < 0)
        return -1;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return err_set("%s: path too long", path);
    char *xml = domain_format(d);
    if (!xml)
        return -1;
    FILE *f = fopen(tmp, "we");
    if (!f) {
        free(xml);
        return err_errno("%s", tmp);
    }
    bool ok = fputs(xml, f) >= 0;
    free(xml);
    if (fclose(f) != 0 || !ok || rename(tmp, path) < 0) {
        int rc = err_errno("%s", path);
        unlink(tmp);
        return rc;
    }
    return 0;
}

/* The medium goes as a descriptor (getfd "media-DEV"): tvm-vmm may open
 * no host path once sandboxed. */
int vm_change_medium(const struct store_domain_row *row, const char *dev, const char *path,
                     bool force)
{
    char sock[PATH_MAX], fdname[32];
    if (vm_run_path(row->uuid, VMM_SOCK_CONTROL, sock, sizeof sock) < 0)
        return -1;
    if (snprintf(fdname, sizeof fdname, "media-%s", dev) >= (int)sizeof fdname)
        return err_set("disk '%s': name too long", dev);
    int fd = -1;
    if (path && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return err_errno("cannot open '%s'", path);
    struct json_object *args = json_object_new_object();
    json_object_object_add(args, "id", json_object_new_string(dev));
    json_object_object_add(args, "force", json_object_new_boolean(force));
    if (path) {
        json_object_object_add(args, "fdname", json_object_new_string(fdname));
        json_object_object_add(args, "filename", json_object_new_string(path));
    }
    struct qmp *q = NULL;
    int rc = qmp_open(sock, VM_QMP_TIMEOUT_MS, &q);
    if (rc == 0 && path)
        rc = qmp_getfd(q, fdname, fd);
    if (rc == 0)
        rc = qmp_execute(q, path ? "x-tvm-change-medium" : "eject",
                         json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN), NULL);
    if (q)
        qmp_close(q);
    json_object_put(args);
    if (fd >= 0)
        close(fd);
    return rc < 0 ? err_prefix("guest '%s' ", row->name) : 0;
}

int vm_block_resize(const struct store_domain_row *row, const char *dev, uint64_t size)
{
    char sock[PATH_MAX];
    if (vm_run_path(row->uuid, VMM_SOCK_CONTROL, sock, sizeof sock) < 0)
        return -1;
    if (size > (uint64_t)INT64_MAX)
        return err_set("size %llu is too large", (unsigned long long)size);
    struct json_object *args = json_object_new_object();
    json_object_object_add(args, "device", json_object_new_string(dev));
    json_object_object_add(args, "size", json_object_new_int64((int64_t)size));
    struct qmp *q = NULL;
    int rc = qmp_open(sock, VM_QMP_TIMEOUT_MS, &q);
    if (rc == 0)
        rc = qmp_execute(q, "block_resize",
                         json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN), NULL);
    if (q)
        qmp_close(q);
    json_object_put(args);
    return rc < 0 ? err_prefix("guest '%s' ", row->name) : 0;
}
