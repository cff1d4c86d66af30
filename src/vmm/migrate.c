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
#include "migrate.h"
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
        control_register("query-migrate", qmp_query_migrate) < 0)
        return -1;
    return 0;
}

void migrate_close(void)
{
    free(mig.domain_xml);
    mig.domain_xml = NULL;
}
