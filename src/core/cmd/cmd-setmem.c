/* setmem DOMAIN SIZE [--live] [--config] [--current]: change a domain's
 * current memory, as virsh does. SIZE is a scaled integer, KiB by default
 * ("524288", "512M", "1GiB"). --live moves the running guest's balloon
 * (QMP balloon; the guest's driver follows on its own time, as with virsh),
 * --config writes <currentMemory> in the stored definition, --current (the
 * default) means --live for a running domain and --config otherwise. Both
 * are bounded by <memory>; the stored change and the live one succeed or
 * fail together (the command runs in one store transaction, live last).
 */
#include "core/cmd/cmd.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/xml/units.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SETMEM_ERR_NO_BALLOON                                                                      \
    "Requested operation is not valid: Unable to change memory of active domain without the "      \
    "balloon device and guest OS balloon driver"

/* "512M" -> KiB, as virsh's scaled integers (default unit KiB), rounded up. */
static int setmem_parse_size(const char *text, uint64_t *kib)
{
    char *end;
    uint64_t bytes;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*text < '0' || *text > '9' || errno == ERANGE ||
        units_to_bytes(v, *end ? end : NULL, 1024, INT64_MAX, &bytes) < 0)
        return err_set("Scaled numeric value '%s' for <size> option is malformed or out of range",
                       text);
    if (bytes == 0)
        return err_set("invalid argument: memory must not be zero");
    *kib = (bytes + 1023) / 1024;
    return 0;
}

static bool has_virtio_balloon(const struct domain *d)
{
    for (size_t i = 0; i < d->ndevices; i++) {
        const struct domain_device *x = &d->devices[i];
        if (x->element && strcmp(x->element, "memballoon") == 0)
            return x->model && strncmp(x->model, "virtio", 6) == 0;
    }
    return false;
}

static int check_max(uint64_t kib, uint64_t max_kib)
{
    if (kib > max_kib)
        return err_set("invalid argument: cannot set memory higher than max memory (%" PRIu64
                       " KiB > %" PRIu64 " KiB)",
                       kib, max_kib);
    return 0;
}

static int setmem_config(struct store *st, struct domain *d, uint64_t kib)
{
    if (check_max(kib, d->memory_kib) < 0 || domain_set_current_memory(d, kib) < 0 ||
        store_domain_update(st, d) < 0)
        return -1;
    char detail[64];
    snprintf(detail, sizeof(detail), "currentMemory %" PRIu64 " KiB", kib);
    return store_event_add(st, "domain", d->name, "updated", detail);
}

static int setmem_live(const struct store_domain_row *row, uint64_t kib)
{
    struct domain *live;
    if (vm_live_domain(row->uuid, &live) < 0)
        return -1;
    int rc = check_max(kib, live->memory_kib);
    if (rc == 0 && !has_virtio_balloon(live))
        rc = err_set(SETMEM_ERR_NO_BALLOON);
    domain_free(live);
    if (rc < 0)
        return -1;
    char args[64];
    snprintf(args, sizeof(args), "{\"value\": %" PRIu64 "}", kib * 1024);
    return vm_qmp(row, VM_QMP_TIMEOUT_MS, "balloon", args, NULL);
}

static enum cmd_result setmem_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    bool live = cmd_has(args, "live"), config = cmd_has(args, "config");
    if (cmd_has(args, "current") && (live || config)) {
        err_set("Options --current and --%s are mutually exclusive", live ? "live" : "config");
        return CMD_USAGE;
    }
    const char *size = cmd_get(args, "size");
    if (size && args->argc > 1) {
        err_set("setmem: give the size either with --size or as an argument, not both");
        return CMD_USAGE;
    }
    if (!size && args->argc < 2) {
        err_set("command 'setmem' requires --size option");
        return CMD_USAGE;
    }
    uint64_t kib = 0;
    if (setmem_parse_size(size ? size : args->argv[1], &kib) < 0)
        return CMD_ERROR;

    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    struct domain *d;
    if (!st || cmd_domain_load(ctx, args->argv[0], &row, &d) < 0)
        return CMD_ERROR;
    int rc = cmd_affect_resolve(&row, &live, &config);
    if (rc == 0 && config)
        rc = setmem_config(st, d, kib);
    if (rc == 0 && live)
        rc = setmem_live(&row, kib);
    domain_free(d);
    if (rc < 0)
        return CMD_ERROR;
    fputc('\n', ctx->out); /* virsh's setmem writes an empty line, and scripts see it */
    return CMD_OK;
}

const struct cmd_entry cmd_setmem_entry = {
    .name = "setmem",
    .usage = "setmem DOMAIN SIZE [--live] [--config] [--current]",
    .summary = "change a domain's current memory (balloon) in KiB, or with a unit (512M, 1G)",
    .opts = "size=,live,config,current",
    .min_args = 1,
    .max_args = 2,
    .exec = setmem_exec,
    .flags = CMD_F_WRITES,
};
