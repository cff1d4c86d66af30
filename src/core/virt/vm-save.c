/* Saved state on the tvm side (vm.h, "saved state"): save through QMP
 * migrate on a descriptor tvm opened, restore through vm_start with a
 * saved state, and the managed save's place beside the store.
 */
#include "core/virt/vm-priv.h"
#include "core/base/err.h"
#include "core/base/host.h"
#include "core/base/paths.h"
#include "core/proto/qmp-client.h"
#include "core/proto/vmm-protocol.h"
#include "core/proto/vmstate-file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A temporary file beside PATH (same file system: rename is atomic). */
static int open_temp(const char *path, char *tmp, size_t len)
{
    if ((size_t)snprintf(tmp, len, "%s.tvm-XXXXXX", path) >= len)
        return err_set("%s: path too long", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return err_errno("cannot create a file beside '%s'", path);
    fchmod(fd, 0600);
    return fd;
}

static void sync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    int fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int migrate_to(const struct store_domain_row *row, int fd, int run)
{
    char sock[PATH_MAX];
    if (vm_run_path(row->uuid, VMM_SOCK_CONTROL, sock, sizeof sock) < 0)
        return -1;
    struct json_object *args = json_object_new_object();
    json_object_object_add(args, "uri", json_object_new_string("fd:tvm-save"));
    if (run)
        json_object_object_add(args, "x-tvm-running", json_object_new_boolean(run > 0));
    struct qmp *q = NULL;
    int rc = qmp_open(sock, VM_SAVE_TIMEOUT_MS, &q);
    if (rc == 0)
        rc = qmp_getfd(q, "tvm-save", fd);
    if (rc == 0)
        rc = qmp_execute(q, "migrate", json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN),
                         NULL);
    if (q)
        qmp_close(q);
    json_object_put(args);
    return rc < 0 ? err_prefix("guest '%s': ", row->name) : 0;
}

/* VM_FILE_JOB: "save START_MS TOTAL_BYTES FILE", for vm_job_info. */
static void job_begin(const struct store_domain_row *row, const char *tmp)
{
    char path[PATH_MAX];
    if (vm_run_path(row->uuid, VM_FILE_JOB, path, sizeof path) < 0) {
        err_clear();
        return;
    }
    FILE *f = fopen(path, "we");
    if (!f)
        return;
    fprintf(f, "save %lld %llu %s\n", (long long)host_now_ms(),
            (unsigned long long)row->memory_kib * 1024, tmp);
    fclose(f);
}

static void job_end(const struct store_domain_row *row)
{
    char path[PATH_MAX];
    if (vm_run_path(row->uuid, VM_FILE_JOB, path, sizeof path) == 0)
        unlink(path);
    else
        err_clear();
}

int vm_job_info(const char *uuid, struct vm_job_info *out)
{
    *out = (struct vm_job_info){0};
    char path[PATH_MAX], file[PATH_MAX];
    if (vm_run_path(uuid, VM_FILE_JOB, path, sizeof path) < 0)
        return -1;
    FILE *f = fopen(path, "re");
    if (!f)
        return 0; /* no job */
    long long start;
    unsigned long long total;
    int n = fscanf(f, "save %lld %llu %4095[^\n]", &start, &total, file);
    fclose(f);
    if (n != 3)
        return 0; /* being written, or gone: no job to show */
    struct stat sb;
    out->active = true;
    snprintf(out->operation, sizeof out->operation, "Save");
    out->elapsed_ms = host_now_ms() - start;
    out->total = total;
    out->processed = stat(file, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    return 0;
}

int vm_save(struct store *st, const char *dom, const char *path, const struct vm_save_opts *o)
{
    struct vm_save_opts none = {0};
    if (!o)
        o = &none;
    struct store_domain_row row;
    if (vm_lookup_active(st, dom, &row) < 0)
        return -1;
    char tmp[PATH_MAX];
    int fd = open_temp(path, tmp, sizeof tmp);
    if (fd < 0)
        return -1;
    job_begin(&row, tmp);
    int rc = migrate_to(&row, fd, o->run);
    job_end(&row);
    if (rc == 0 && fsync(fd) < 0)
        rc = err_errno("%s", tmp);
    if (rc == 0 && o->bypass_cache)
        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    if (close(fd) < 0 && rc == 0)
        rc = err_errno("%s", tmp);
    if (rc == 0 && rename(tmp, path) < 0)
        rc = err_errno("cannot rename '%s' to '%s'", tmp, path);
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    sync_dir_of(path);
    if (store_event_add(st, "domain", row.name, o->event ? o->event : "saved", path) < 0)
        return -1;
    if (o->keep_running)
        return 0;
    return vm_stop_saved(st, row.uuid);
}

int vm_restore(struct store *st, const char *path, const struct vm_start_opts *o)
{
    char *xml;
    if (vsf_file_domain_xml(path, &xml) < 0)
        return -1;
    struct domain *d;
    int rc = domain_parse(xml, strlen(xml), path, &d);
    free(xml);
    if (rc < 0)
        return -1;
    char uuid[sizeof d->uuid];
    memcpy(uuid, d->uuid, sizeof uuid);
    domain_free(d);
    struct store_domain_row row;
    if (vm_lookup(st, uuid, &row) < 0)
        return err_prefix("saved state %s: ", path);
    struct vm_start_opts so = o ? *o : (struct vm_start_opts){0};
    so.restore = path;
    return vm_start(st, row.uuid, &so);
}

/* The directory the inventory is in: saved states live beside it. */
static void inventory_dir(const char *db_path, char dir[PATH_MAX])
{
    snprintf(dir, PATH_MAX, "%s", db_path ? db_path : store_default_path());
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, PATH_MAX, ".");
}

int vm_managed_save_path(const char *db_path, const char *uuid, char *buf, size_t len)
{
    char dir[PATH_MAX];
    inventory_dir(db_path, dir);
    if ((size_t)snprintf(buf, len, "%s/save", dir) >= len)
        return err_set("managed save directory path too long");
    if (paths_mkdir_p(buf, 0700) < 0)
        return -1;
    if ((size_t)snprintf(buf, len, "%s/save/%s.save", dir, uuid) >= len)
        return err_set("managed save path too long");
    return 0;
}

bool vm_has_managed_save(const char *db_path, const char *uuid)
{
    char path[PATH_MAX];
    if (vm_managed_save_path(db_path, uuid, path, sizeof path) < 0) {
        err_clear();
        return false;
    }
    return access(path, F_OK) == 0;
}

/* <dir of the store>/snapshot/<uuid>: where a domain's checkpoints keep
 * their saved states. */
static int snapshot_state_dir(const char *db_path, const char *uuid, char *buf, size_t len)
{
    char dir[PATH_MAX];
    inventory_dir(db_path, dir);
    if ((size_t)snprintf(buf, len, "%s/snapshot/%s", dir, uuid) >= len)
        return err_set("snapshot state directory path too long");
    return 0;
}

int vm_snapshot_state_path(const char *db_path, const char *uuid, const char *snapshot, char *buf,
                           size_t len)
{
    char dir[PATH_MAX];
    if (snapshot_state_dir(db_path, uuid, dir, sizeof dir) < 0 || paths_mkdir_p(dir, 0700) < 0)
        return -1;
    if ((size_t)snprintf(buf, len, "%s/%s.save", dir, snapshot) >= len)
        return err_set("snapshot state path too long");
    return 0;
}

int vm_snapshot_states_remove(const char *db_path, const char *uuid)
{
    char dir[PATH_MAX];
    if (snapshot_state_dir(db_path, uuid, dir, sizeof dir) < 0)
        return -1;
    DIR *d = opendir(dir);
    if (!d)
        return errno == ENOENT ? 0 : err_errno("%s", dir);
    int rc = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
            unlinkat(dirfd(d), e->d_name, 0) < 0 && rc == 0)
            rc = err_errno("%s/%s", dir, e->d_name);
    closedir(d);
    if (rc == 0 && rmdir(dir) < 0)
        rc = err_errno("%s", dir);
    return rc;
}

static int read_checkpoint_reply(const char *reply, struct vm_checkpoint_result *out)
{
    struct json_object *r = reply ? json_tokener_parse(reply) : NULL, *v;
    if (!r)
        return err_set("snapshot-save: tvm-vmm's reply is not JSON");
    if (json_object_object_get_ex(r, "x-tvm-running", &v))
        out->was_running = json_object_get_boolean(v);
    if (json_object_object_get_ex(r, "x-tvm-paused-ms", &v))
        out->paused_ms = json_object_get_int64(v);
    if (json_object_object_get_ex(r, "x-tvm-vmstate-bytes", &v))
        out->state_bytes = json_object_get_uint64(v);
    json_object_put(r);
    return 0;
}

static int checkpoint_qmp(const struct store_domain_row *row, const char *tag,
                          const char *const *devices, size_t ndevices, int fd,
                          struct vm_checkpoint_result *out)
{
    char sock[PATH_MAX];
    if (vm_run_path(row->uuid, VMM_SOCK_CONTROL, sock, sizeof sock) < 0)
        return -1;
    struct json_object *args = json_object_new_object();
    struct json_object *devs = json_object_new_array();
    json_object_object_add(args, "job-id", json_object_new_string("tvm-snapshot"));
    json_object_object_add(args, "tag", json_object_new_string(tag));
    json_object_object_add(args, "vmstate", json_object_new_string("fd:tvm-snapshot"));
    for (size_t i = 0; i < ndevices; i++)
        json_object_array_add(devs, json_object_new_string(devices[i]));
    json_object_object_add(args, "devices", devs);
    struct qmp *q = NULL;
    char *reply = NULL;
    int rc = qmp_open(sock, VM_SAVE_TIMEOUT_MS, &q);
    if (rc == 0)
        rc = qmp_getfd(q, "tvm-snapshot", fd);
    if (rc == 0)
        rc = qmp_execute(q, "snapshot-save",
                         json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN), &reply);
    if (q)
        qmp_close(q);
    json_object_put(args);
    if (rc == 0)
        rc = read_checkpoint_reply(reply, out);
    free(reply);
    return rc < 0 ? err_prefix("guest '%s': ", row->name) : 0;
}

int vm_checkpoint(struct store *st, const char *dom, const char *tag, const char *const *devices,
                  size_t ndevices, const char *state_path, struct vm_checkpoint_result *out)
{
    *out = (struct vm_checkpoint_result){0};
    struct store_domain_row row;
    if (vm_lookup_active(st, dom, &row) < 0)
        return -1;
    char tmp[PATH_MAX];
    int fd = open_temp(state_path, tmp, sizeof tmp);
    if (fd < 0)
        return -1;
    int rc = checkpoint_qmp(&row, tag, devices, ndevices, fd, out);
    bool tagged = rc == 0;
    if (rc == 0 && fsync(fd) < 0)
        rc = err_errno("%s", tmp);
    if (close(fd) < 0 && rc == 0)
        rc = err_errno("%s", tmp);
    if (rc == 0 && rename(tmp, state_path) < 0)
        rc = err_errno("cannot rename '%s' to '%s'", tmp, state_path);
    if (rc < 0 && tagged)
        err_prefix("the disks keep internal snapshot '%s' (remove it with qemu-img snapshot -d "
                   "once the guest is off): ",
                   tag);
    if (rc < 0) {
        unlink(tmp);
        return -1;
    }
    sync_dir_of(state_path);
    return 0;
}

/* ---- disk-only snapshots of a running guest ---- */

static int read_disk_snapshot_reply(const char *reply, struct vm_disk_snapshot_result *out)
{
    struct json_object *r = reply ? json_tokener_parse(reply) : NULL, *v;
    if (!r)
        return err_set("transaction: tvm-vmm's reply is not JSON");
    if (json_object_object_get_ex(r, "x-tvm-running", &v))
        out->was_running = json_object_get_boolean(v);
    if (json_object_object_get_ex(r, "x-tvm-paused-ms", &v))
        out->paused_ms = json_object_get_int64(v);
    json_object_put(r);
    return 0;
}

/* One blockdev-snapshot-sync action; its overlay goes as descriptor FDNAME. */
static struct json_object *overlay_action(const char *dev, const char *path, const char *fdname)
{
    struct json_object *a = json_object_new_object(), *data = json_object_new_object();
    json_object_object_add(data, "device", json_object_new_string(dev));
    json_object_object_add(data, "snapshot-file", json_object_new_string(path));
    json_object_object_add(data, "format", json_object_new_string("qcow2"));
    json_object_object_add(data, "mode", json_object_new_string("existing"));
    json_object_object_add(data, "x-tvm-fdname", json_object_new_string(fdname));
    json_object_object_add(a, "type", json_object_new_string("blockdev-snapshot-sync"));
    json_object_object_add(a, "data", data);
    return a;
}

int vm_disk_snapshot(struct store *st, const char *dom, const char *const *devices,
                     const char *const *overlays, size_t n, struct vm_disk_snapshot_result *out)
{
    *out = (struct vm_disk_snapshot_result){0};
    struct store_domain_row row;
    char sock[PATH_MAX];
    if (vm_lookup_active(st, dom, &row) < 0 ||
        vm_run_path(row.uuid, VMM_SOCK_CONTROL, sock, sizeof sock) < 0)
        return -1;
    struct json_object *args = json_object_new_object(), *acts = json_object_new_array();
    json_object_object_add(args, "actions", acts);
    struct qmp *q = NULL;
    int rc = qmp_open(sock, VM_SAVE_TIMEOUT_MS, &q);
    for (size_t i = 0; i < n && rc == 0; i++) {
        char fdname[48]; /* "tvm-overlay-" and any size_t */
        snprintf(fdname, sizeof fdname, "tvm-overlay-%zu", i);
        /* tvm-vmm opens no new path: the overlay goes to it open. */
        int fd = open(overlays[i], O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            rc = err_errno("%s", overlays[i]);
            break;
        }
        rc = qmp_getfd(q, fdname, fd);
        close(fd);
        json_object_array_add(acts, overlay_action(devices[i], overlays[i], fdname));
    }
    char *reply = NULL;
    if (rc == 0)
        rc = qmp_execute(q, "transaction",
                         json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN), &reply);
    if (q)
        qmp_close(q);
    json_object_put(args);
    if (rc == 0)
        rc = read_disk_snapshot_reply(reply, out);
    free(reply);
    return rc < 0 ? err_prefix("guest '%s': ", row.name) : 0;
}
