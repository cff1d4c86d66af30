/* QMP migrate, migrate-incoming and query-migrate: the saved state of the
 * guest (vmstate.c) written to, or read from, a descriptor tvm sent with
 * getfd; tvm-vmm opens no path for it (its sandbox would not let it).
 * Only QEMU's "fd:NAME" URI is served.
 *
 * migrate pauses a running guest, writes the whole machine and leaves it
 * paused, as QEMU does once a migration completed (status
 * "postmigrate"): the caller quits it (save) or resumes it (cont). If the
 * save fails the guest runs on as before. migrate-incoming loads a saved
 * state into a guest started with --paused that never ran; `cont` then
 * runs it. Both run to completion on the main loop; query-migrate tells
 * how the last one ended, with its sizes and time.
 *
 * snapshot-save is a checkpoint: the same saved state, and at the same
 * instant an internal qcow2 snapshot of each disk named, taken by this
 * process because it has the images open.
 *
 * transaction (QEMU's, with blockdev-snapshot-sync actions) is a
 * disk-only snapshot: each disk named goes onto a qcow2 overlay tvm made,
 * its old image read-only below, all disks or none; the definition a
 * later save carries names the overlays from then on.
 */
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "core/base/err.h"
#include "core/image/image.h"
#include "core/model/domain.h"
#include "migrate.h"
#include "virtio/virtio.h"
#include "vm.h"

static struct {
    struct vm *vm;
    char *domain_xml;
    /* the last migration: "" none, "completed", "failed" */
    const char *status;
    char error[256];
    uint64_t bytes;
    int64_t total_ms;
} mig = {.status = ""};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* {"uri": "fd:NAME"}: the named descriptor, taken over. migrate also
 * takes tvm's "x-tvm-running" (*RUN: 1 true, -1 false, 0 absent): the
 * state the file says the guest was in, as virsh save --running/--paused. */
static int uri_fd(struct json_object *args, int *run)
{
    struct json_object *uri = NULL;
    json_object_object_foreach(args, key, val)
    {
        if (run && strcmp(key, "x-tvm-running") == 0) {
            if (!json_object_is_type(val, json_type_boolean))
                return err_set("Invalid parameter type for 'x-tvm-running', expected: bool");
            *run = json_object_get_boolean(val) ? 1 : -1;
            continue;
        }
        if (strcmp(key, "uri") != 0)
            return err_set("Parameter '%s' is unexpected", key);
    }
    if (!json_object_object_get_ex(args, "uri", &uri))
        return err_set("Parameter 'uri' is missing");
    if (!json_object_is_type(uri, json_type_string))
        return err_set("Invalid parameter type for 'uri', expected: string");
    const char *u = json_object_get_string(uri);
    if (strncmp(u, "fd:", 3) != 0)
        return err_set("uri '%s': only 'fd:NAME' (a descriptor sent with getfd) is supported", u);
    return control_take_fd(u + 3);
}

static void finish(int rc, int64_t started, uint64_t bytes)
{
    mig.total_ms = now_ms() - started;
    mig.bytes = bytes;
    mig.status = rc == 0 ? "completed" : "failed";
    snprintf(mig.error, sizeof mig.error, "%s", rc == 0 ? "" : err_msg());
}

static int qmp_migrate(struct json_object *args, struct json_object **ret)
{
    (void)ret;
    int run = 0;
    int fd = uri_fd(args, &run);
    if (fd < 0)
        return -1;
    int64_t started = now_ms();
    enum vm_run_state s = vm_run_state(mig.vm);
    if (s != VM_RUNNING && s != VM_PAUSED) {
        close(fd);
        return err_set("the guest is not running");
    }
    bool was_running = s == VM_RUNNING;
    uint64_t bytes = 0;
    int rc = vm_pause(mig.vm);
    if (rc == 0)
        rc = vm_state_save(mig.vm, fd, mig.domain_xml, run ? run > 0 : was_running, &bytes);
    /* A pipe cannot be synced (EINVAL); a file must reach the disk. */
    if (rc == 0 && fsync(fd) < 0 && errno != EINVAL)
        rc = err_errno("saved state: fsync");
    if (close(fd) < 0 && rc == 0)
        rc = err_errno("saved state: close");
    finish(rc, started, bytes);
    if (rc < 0 && was_running) {
        char why[256];
        snprintf(why, sizeof why, "%s", err_msg());
        vm_resume(mig.vm);
        err_set("%s", why);
    }
    return rc;
}

static int qmp_migrate_incoming(struct json_object *args, struct json_object **ret)
{
    (void)ret;
    int fd = uri_fd(args, NULL);
    if (fd < 0)
        return -1;
    int64_t started = now_ms();
    int rc = vm_state_load(mig.vm, fd, "(migrate-incoming)");
    close(fd);
    finish(rc, started, 0);
    return rc;
}

/* ---- snapshot-save: a checkpoint ---- */

#define CHECKPOINT_MAX_DISKS 64

struct checkpoint {
    const char *tag;
    const char *dev[CHECKPOINT_MAX_DISKS];
    unsigned ndev, done; /* done: disks that have the tag so far */
};

/* vm_state_save_with's hook: the disks' snapshots at the instant the
 * saved state describes. */
static int take_disk_snapshots(void *opaque)
{
    struct checkpoint *c = opaque;
    for (c->done = 0; c->done < c->ndev; c->done++)
        if (virtio_blk_snapshot_create(c->dev[c->done], c->tag, 0) < 0)
            return -1;
    return 0;
}

/* A failed checkpoint leaves no tag behind; the error reported is the one
 * that failed it. */
static void drop_disk_snapshots(struct checkpoint *c)
{
    char why[256];
    snprintf(why, sizeof why, "%s", err_msg());
    for (unsigned i = 0; i < c->done; i++)
        if (virtio_blk_snapshot_delete(c->dev[i], c->tag) < 0)
            fprintf(stderr, "tvm-vmm: checkpoint '%s' failed and its snapshot stays: %s\n", c->tag,
                    err_msg());
    err_set("%s", why);
}

static int checkpoint_args(struct json_object *args, struct checkpoint *c, const char **vmstate)
{
    struct json_object *tag = NULL, *devs = NULL, *vms = NULL;
    json_object_object_foreach(args, key, val)
    {
        (void)val;
        if (strcmp(key, "job-id") != 0 && strcmp(key, "tag") != 0 && strcmp(key, "devices") != 0 &&
            strcmp(key, "vmstate") != 0)
            return err_set("Parameter '%s' is unexpected", key);
    }
    json_object_object_get_ex(args, "tag", &tag);
    json_object_object_get_ex(args, "devices", &devs);
    json_object_object_get_ex(args, "vmstate", &vms);
    if (!tag || !json_object_is_type(tag, json_type_string) || !*json_object_get_string(tag))
        return err_set("Parameter 'tag' (the internal snapshots' name) is missing");
    if (!vms || !json_object_is_type(vms, json_type_string))
        return err_set("Parameter 'vmstate' (\"fd:NAME\", a descriptor sent with getfd) is "
                       "missing");
    if (!devs || !json_object_is_type(devs, json_type_array))
        return err_set("Parameter 'devices' (the disks' target devs) is missing");
    size_t n = json_object_array_length(devs);
    if (n > CHECKPOINT_MAX_DISKS)
        return err_set("Parameter 'devices': more than %d disks", CHECKPOINT_MAX_DISKS);
    c->tag = json_object_get_string(tag);
    c->ndev = 0;
    for (size_t i = 0; i < n; i++) {
        struct json_object *d = json_object_array_get_idx(devs, i);
        if (!json_object_is_type(d, json_type_string))
            return err_set("Parameter 'devices': expected strings");
        c->dev[c->ndev++] = json_object_get_string(d);
    }
    *vmstate = json_object_get_string(vms);
    return 0;
}

/* snapshot-save {"tag": T, "devices": [TARGET...], "vmstate": "fd:NAME"}:
 * QEMU's name and arguments, run to completion here (QEMU makes it a job;
 * "job-id" is taken and ignored) and with one difference: the machine's
 * state goes to the descriptor "vmstate" names, not into a disk. The
 * guest is paused once; with every device frozen each disk gets internal
 * snapshot T and the saved state is written; then the guest runs again
 * if it ran. All or nothing: a failure removes the tags it made. */
static int qmp_snapshot_save(struct json_object *args, struct json_object **ret)
{
    struct checkpoint c = {0};
    const char *vmstate;
    if (checkpoint_args(args, &c, &vmstate) < 0)
        return -1;
    if (strncmp(vmstate, "fd:", 3) != 0)
        return err_set("vmstate '%s': only 'fd:NAME' (a descriptor sent with getfd) is supported",
                       vmstate);
    enum vm_run_state s = vm_run_state(mig.vm);
    if (s != VM_RUNNING && s != VM_PAUSED)
        return err_set("the guest is not running");
    int fd = control_take_fd(vmstate + 3);
    if (fd < 0)
        return -1;
    bool was_running = s == VM_RUNNING;
    int64_t started = now_ms();
    uint64_t bytes = 0;
    int rc = vm_pause(mig.vm);
    if (rc == 0)
        rc = vm_state_save_with(mig.vm, fd, mig.domain_xml, was_running, take_disk_snapshots, &c,
                                &bytes);
    if (rc == 0 && fsync(fd) < 0 && errno != EINVAL)
        rc = err_errno("saved state: fsync");
    if (close(fd) < 0 && rc == 0)
        rc = err_errno("saved state: close");
    if (rc < 0)
        drop_disk_snapshots(&c);
    int64_t paused = now_ms() - started;
    finish(rc, started, bytes);
    if (was_running && vm_resume(mig.vm) < 0 && rc == 0)
        rc = err_prefix("checkpoint '%s' taken, but the guest does not resume: ", c.tag);
    if (rc < 0)
        return -1;
    *ret = json_object_new_object();
    json_object_object_add(*ret, "x-tvm-running", json_object_new_boolean(was_running));
    json_object_object_add(*ret, "x-tvm-paused-ms", json_object_new_int64(paused));
    json_object_object_add(*ret, "x-tvm-vmstate-bytes", json_object_new_uint64(bytes));
    return 0;
}

/* ---- transaction: external (disk-only) snapshots ---- */

struct overlay_action {
    const char *dev, *file;
    int fd;
    struct image *ov;
};

static const char *str_arg(struct json_object *o, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string) ||
        !*json_object_get_string(v))
        return NULL;
    return json_object_get_string(v);
}

/* {"type": "blockdev-snapshot-sync", "data": {"device": TARGET,
 * "snapshot-file": PATH, "format": "qcow2", "mode": "existing",
 * "x-tvm-fdname": NAME}}: PATH already made (by tvm, naming the disk's
 * image as its backing file), open as descriptor NAME (getfd). */
static int overlay_action_args(struct json_object *a, struct overlay_action *o)
{
    struct json_object *data = NULL;
    const char *type = json_object_is_type(a, json_type_object) ? str_arg(a, "type") : NULL;
    if (!type || strcmp(type, "blockdev-snapshot-sync") != 0)
        return err_set("transaction: only actions of type 'blockdev-snapshot-sync' are supported");
    if (!json_object_object_get_ex(a, "data", &data) ||
        !json_object_is_type(data, json_type_object))
        return err_set("transaction: action without 'data'");
    json_object_object_foreach(data, key, val)
    {
        (void)val;
        if (strcmp(key, "device") && strcmp(key, "snapshot-file") && strcmp(key, "format") &&
            strcmp(key, "mode") && strcmp(key, "x-tvm-fdname"))
            return err_set("blockdev-snapshot-sync: parameter '%s' is unexpected", key);
    }
    const char *fmt = str_arg(data, "format"), *mode = str_arg(data, "mode"),
               *fdname = str_arg(data, "x-tvm-fdname");
    o->dev = str_arg(data, "device");
    o->file = str_arg(data, "snapshot-file");
    if (!o->dev || !o->file)
        return err_set("blockdev-snapshot-sync: 'device' and 'snapshot-file' are required");
    if (fmt && strcmp(fmt, "qcow2") != 0)
        return err_set("blockdev-snapshot-sync: format '%s': only qcow2 overlays", fmt);
    /* tvm-vmm creates no file (its sandbox opens no new path): the caller
     * made the overlay and sends it open. */
    if (!mode || strcmp(mode, "existing") != 0 || !fdname)
        return err_set("blockdev-snapshot-sync %s: tvm-vmm creates no file: make the overlay, "
                       "send it with getfd and pass \"mode\": \"existing\" and "
                       "\"x-tvm-fdname\"",
                       o->dev);
    o->fd = control_take_fd(fdname);
    return o->fd < 0 ? -1 : 0;
}

static int transaction_args(struct json_object *args, struct overlay_action *acts, unsigned *n)
{
    struct json_object *list = NULL;
    *n = 0;
    json_object_object_foreach(args, key, val)
    {
        (void)val;
        if (strcmp(key, "actions") != 0)
            return err_set("Parameter '%s' is unexpected", key);
    }
    if (!json_object_object_get_ex(args, "actions", &list) ||
        !json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0)
        return err_set("Parameter 'actions' (a non-empty array) is missing");
    if (json_object_array_length(list) > CHECKPOINT_MAX_DISKS)
        return err_set("Parameter 'actions': more than %d", CHECKPOINT_MAX_DISKS);
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        struct overlay_action *o = &acts[*n];
        if (overlay_action_args(json_object_array_get_idx(list, i), o) < 0)
            return -1;
        (*n)++;
        for (unsigned k = 0; k + 1 < *n; k++)
            if (strcmp(acts[k].dev, o->dev) == 0)
                return err_set("transaction: disk '%s' named twice", o->dev);
    }
    return 0;
}

static void overlays_drop(struct overlay_action *acts, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        if (acts[i].ov)
            image_close_top(acts[i].ov);
        else if (acts[i].fd >= 0)
            close(acts[i].fd);
        acts[i].ov = NULL;
        acts[i].fd = -1;
    }
}

/* Every overlay opened, then each disk's queue stopped and its image made
 * durable, then all switched: a failure before the switch leaves every
 * disk on its image, and the switch itself cannot fail. */
static int switch_overlays(struct overlay_action *acts, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        int fd = acts[i].fd;
        acts[i].fd = -1;
        if (virtio_blk_overlay_open(acts[i].dev, acts[i].file, fd, &acts[i].ov) < 0)
            return -1;
    }
    unsigned held;
    for (held = 0; held < n; held++)
        if (virtio_blk_quiesce(acts[held].dev) < 0)
            break;
    for (unsigned i = 0; i < held; i++) {
        virtio_blk_overlay_switch(acts[i].dev, held == n ? acts[i].ov : NULL);
        if (held == n)
            acts[i].ov = NULL;
    }
    return held == n ? 0 : -1;
}

/* The definition a saved state carries (a restore starts from it) once
 * the disks of ACTS are on their overlays: each names its overlay, with
 * the image below as its <backingStore>, as tvm's live XML does. Made
 * before the switch, so that nothing can fail after it. */
static char *xml_onto_overlays(const struct overlay_action *acts, unsigned n)
{
    struct domain *d = NULL;
    if (domain_parse(mig.domain_xml, strlen(mig.domain_xml), "the running definition", &d) < 0)
        return NULL;
    int rc = 0;
    for (unsigned i = 0; i < n && rc == 0; i++) {
        size_t k = 0;
        while (k < d->ndisks && (!d->disks[k].target_dev || !d->disks[k].source ||
                                 strcmp(d->disks[k].target_dev, acts[i].dev) != 0))
            k++;
        if (k == d->ndisks) {
            rc = err_set("disk '%s' is not in the running definition", acts[i].dev);
            break;
        }
        const struct domain_disk *disk = &d->disks[k];
        rc = domain_push_disk_backing(d, k, disk->source,
                                      disk->driver_type ? disk->driver_type : "raw");
        if (rc == 0)
            rc = domain_set_disk_path(d, k, acts[i].file, false);
        if (rc == 0)
            rc = domain_set_disk_format(d, k, "qcow2");
    }
    char *xml = rc == 0 ? domain_format(d) : NULL;
    domain_free(d);
    return xml;
}

/* transaction {"actions": [blockdev-snapshot-sync...]}: QEMU's command,
 * as libvirt sends it for snapshot-create --disk-only on a running guest
 * (--atomic is what a transaction is). The guest is paused for the switch
 * and runs on afterwards if it ran; the reply adds tvm's x-tvm-paused-ms. */
static int qmp_transaction(struct json_object *args, struct json_object **ret)
{
    struct overlay_action acts[CHECKPOINT_MAX_DISKS];
    for (unsigned i = 0; i < CHECKPOINT_MAX_DISKS; i++)
        acts[i] = (struct overlay_action){.fd = -1};
    unsigned n = 0;
    enum vm_run_state s = vm_run_state(mig.vm);
    int rc = transaction_args(args, acts, &n);
    if (rc == 0 && s != VM_RUNNING && s != VM_PAUSED)
        rc = err_set("the guest is not running");
    char *xml = rc == 0 ? xml_onto_overlays(acts, n) : NULL;
    if (rc == 0 && !xml)
        rc = -1;
    bool was_running = s == VM_RUNNING;
    int64_t started = now_ms();
    if (rc == 0)
        rc = vm_pause(mig.vm);
    bool paused = rc == 0;
    if (rc == 0)
        rc = switch_overlays(acts, n);
    int64_t paused_ms = now_ms() - started;
    char why[256] = "";
    if (rc < 0)
        snprintf(why, sizeof why, "%s", err_msg());
    overlays_drop(acts, CHECKPOINT_MAX_DISKS);
    if (rc == 0) {
        free(mig.domain_xml);
        mig.domain_xml = xml;
    } else {
        free(xml);
    }
    if (paused && was_running && vm_resume(mig.vm) < 0 && rc == 0)
        return err_prefix("the disks were switched, but the guest does not resume: ");
    if (rc < 0)
        return err_set("%s", why);
    *ret = json_object_new_object();
    json_object_object_add(*ret, "x-tvm-running", json_object_new_boolean(was_running));
    json_object_object_add(*ret, "x-tvm-paused-ms", json_object_new_int64(paused_ms));
    return 0;
}

static int qmp_query_migrate(struct json_object *args, struct json_object **ret)
{
    if (json_object_object_length(args) > 0)
        return err_set("query-migrate takes no arguments");
    *ret = json_object_new_object();
    if (!*mig.status)
        return 0;
    json_object_object_add(*ret, "status", json_object_new_string(mig.status));
    json_object_object_add(*ret, "total-time", json_object_new_int64(mig.total_ms));
    struct json_object *ram = json_object_new_object();
    json_object_object_add(ram, "transferred", json_object_new_uint64(mig.bytes));
    json_object_object_add(ram, "total", json_object_new_uint64(vm_ram_size(mig.vm)));
    json_object_object_add(ram, "remaining", json_object_new_uint64(0));
    json_object_object_add(*ret, "ram", ram);
    if (*mig.error)
        json_object_object_add(*ret, "error-desc", json_object_new_string(mig.error));
    return 0;
}

int migrate_init(struct vm *vm, const char *domain_xml)
{
    mig.vm = vm;
    free(mig.domain_xml);
    mig.domain_xml = strdup(domain_xml);
    if (!mig.domain_xml)
        return err_set("out of memory");
    if (control_register("migrate", qmp_migrate) < 0 ||
        control_register("migrate-incoming", qmp_migrate_incoming) < 0 ||
        control_register("query-migrate", qmp_query_migrate) < 0 ||
        control_register("snapshot-save", qmp_snapshot_save) < 0 ||
        control_register("transaction", qmp_transaction) < 0)
        return -1;
    return 0;
}

void migrate_close(void)
{
    free(mig.domain_xml);
    mig.domain_xml = NULL;
}
