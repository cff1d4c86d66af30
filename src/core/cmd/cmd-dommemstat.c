/* dommemstat DOMAIN [--period S] [--live] [--config] [--current]: a running
 * guest's memory figures in virsh's layout, one "tag value" per line (KiB
 * for sizes):
 *   actual       the guest's size after the balloon (QMP query-balloon)
 *   swap_in ... hugetlb_pgfail   what the guest's balloon driver reported
 *                (QMP qom-get guest-stats), only those it did report
 *   rss          the VMM's resident memory (VmRSS of /proc/PID/status)
 * A guest without a balloon shows actual (= its boot memory) and rss only.
 *
 * --period S sets how often the guest refreshes its statistics (0: never)
 * and prints nothing, as virsh: live through QMP qom-set, --config as
 * <memballoon><stats period='S'/> in the stored definition.
 */
#include "core/cmd/cmd.h"
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BALLOON_QOM_PATH "/machine/peripheral/balloon0"

/* QEMU's guest-stats names -> virsh's tags, in virsh's order, with the
 * divisor that turns QEMU's bytes into KiB (1 for counts and times). */
static const struct {
    const char *qemu, *virsh;
    int64_t div;
} memstat_tags[] = {
    {"stat-swap-in", "swap_in", 1024},
    {"stat-swap-out", "swap_out", 1024},
    {"stat-major-faults", "major_fault", 1},
    {"stat-minor-faults", "minor_fault", 1},
    {"stat-free-memory", "unused", 1024},
    {"stat-total-memory", "available", 1024},
    {"stat-available-memory", "usable", 1024},
    {NULL, "last_update", 1}, /* from "last-update" beside "stats" */
    {"stat-disk-caches", "disk_caches", 1024},
    {"stat-htlb-pgalloc", "hugetlb_pgalloc", 1},
    {"stat-htlb-pgfail", "hugetlb_pgfail", 1},
};

static const struct domain_device *find_balloon(const struct domain *d)
{
    for (size_t i = 0; i < d->ndevices; i++) {
        const struct domain_device *x = &d->devices[i];
        if (x->element && strcmp(x->element, "memballoon") == 0)
            return x->model && strncmp(x->model, "virtio", 6) == 0 ? x : NULL;
    }
    return NULL;
}

/* VmRSS of a process in KiB, or -1. */
static int64_t memstat_rss_kib(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    int64_t kib = -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %" SCNd64, &kib) == 1)
            break;
    fclose(f);
    return kib;
}

static int64_t json_int_member(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
        return -1;
    return json_object_get_int64(v);
}

/* The guest's statistics, as virsh prints them, from qom-get guest-stats. */
static int memstat_print_guest(FILE *out, const struct store_domain_row *row)
{
    char args[128], *reply;
    snprintf(args, sizeof(args), "{\"path\": \"%s\", \"property\": \"guest-stats\"}",
             BALLOON_QOM_PATH);
    if (vm_qmp(row, VM_QMP_TIMEOUT_MS, "qom-get", args, &reply) < 0)
        return -1;
    struct json_object *o = json_tokener_parse(reply);
    free(reply);
    if (!o)
        return err_set("guest '%s': qom-get guest-stats: the reply is not JSON", row->name);
    struct json_object *stats = NULL;
    json_object_object_get_ex(o, "stats", &stats);
    int64_t last = json_int_member(o, "last-update");
    for (size_t i = 0; i < sizeof(memstat_tags) / sizeof(memstat_tags[0]); i++) {
        int64_t v = memstat_tags[i].qemu ? json_int_member(stats, memstat_tags[i].qemu) : last;
        /* Unreported figures are -1; before the first report nothing is known. */
        if (v < 0 || (!memstat_tags[i].qemu && v == 0))
            continue;
        fprintf(out, "%s %" PRId64 "\n", memstat_tags[i].virsh, v / memstat_tags[i].div);
    }
    json_object_put(o);
    return 0;
}

static int memstat_show(FILE *out, const struct store_domain_row *row)
{
    struct domain *live;
    if (vm_live_domain(row->uuid, &live) < 0)
        return -1;
    bool balloon = find_balloon(live) != NULL;
    uint64_t actual_kib = live->current_memory_kib;
    domain_free(live);
    char *reply;
    if (balloon) {
        if (vm_qmp(row, VM_QMP_TIMEOUT_MS, "query-balloon", NULL, &reply) < 0)
            return -1;
        struct json_object *o = json_tokener_parse(reply);
        free(reply);
        int64_t bytes = json_int_member(o, "actual");
        json_object_put(o);
        if (bytes < 0)
            return err_set("guest '%s': query-balloon gave no 'actual'", row->name);
        actual_kib = (uint64_t)bytes / 1024;
    }
    fprintf(out, "actual %" PRIu64 "\n", actual_kib);
    if (balloon && memstat_print_guest(out, row) < 0)
        return -1;
    pid_t pid = vm_pid(row->uuid);
    int64_t rss = pid > 0 ? memstat_rss_kib(pid) : -1;
    if (rss >= 0)
        fprintf(out, "rss %" PRId64 "\n", rss);
    return 0;
}

/* <memballoon><stats period='S'/></memballoon> in the stored definition
 * (no <stats> for 0, as libvirt writes it). */
static int memstat_period_config(struct store *st, struct domain *d, int period)
{
    if (!find_balloon(d))
        return err_set("Requested operation is not valid: domain '%s' has no virtio memballoon",
                       d->name);
    if (domain_set_memballoon_period(d, (unsigned)period) < 0)
        return -1;
    if (store_domain_update(st, d) < 0)
        return -1;
    return store_event_add(st, "domain", d->name, "updated", "memballoon stats period");
}

static int memstat_period_live(const struct store_domain_row *row, int period)
{
    struct domain *live;
    if (vm_live_domain(row->uuid, &live) < 0)
        return -1;
    bool balloon = find_balloon(live) != NULL;
    domain_free(live);
    if (!balloon)
        return err_set("Requested operation is not valid: domain '%s' has no virtio memballoon",
                       row->name);
    char args[160];
    snprintf(args, sizeof(args),
             "{\"path\": \"%s\", \"property\": \"guest-stats-polling-interval\", \"value\": %d}",
             BALLOON_QOM_PATH, period);
    return vm_qmp(row, VM_QMP_TIMEOUT_MS, "qom-set", args, NULL);
}

static int memstat_set_period(struct cmd_ctx *ctx, struct cmd_args *args, const char *text)
{
    char *end;
    long v = strtol(text, &end, 10);
    if (!*text || *end || v < 0 || v > INT_MAX)
        return err_set("Invalid collection period value '%s'", text);
    bool live = cmd_has(args, "live"), config = cmd_has(args, "config");
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    struct domain *d;
    if (!st || cmd_domain_load(ctx, args->argv[0], &row, &d) < 0)
        return -1;
    int rc = cmd_affect_resolve(&row, &live, &config);
    if (rc == 0 && config)
        rc = memstat_period_config(st, d, (int)v);
    if (rc == 0 && live)
        rc = memstat_period_live(&row, (int)v);
    domain_free(d);
    if (rc < 0)
        err_prefix("Unable to change balloon collection period: ");
    return rc;
}

static enum cmd_result dommemstat_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    if (cmd_has(args, "current") && (cmd_has(args, "live") || cmd_has(args, "config"))) {
        err_set("Options --current and --%s are mutually exclusive",
                cmd_has(args, "live") ? "live" : "config");
        return CMD_USAGE;
    }
    const char *period = cmd_get(args, "period");
    if (period)
        return memstat_set_period(ctx, args, period) == 0 ? CMD_OK : CMD_ERROR;
    struct store_domain_row row;
    if (cmd_domain_load(ctx, args->argv[0], &row, NULL) < 0)
        return CMD_ERROR;
    if (!cmd_domain_is_active(&row)) {
        err_set(VM_ERR_NOT_RUNNING);
        return CMD_ERROR;
    }
    if (memstat_show(ctx->out, &row) < 0)
        return CMD_ERROR;
    fputc('\n', ctx->out);
    return CMD_OK;
}

const struct cmd_entry cmd_dommemstat_entry = {
    .name = "dommemstat",
    .usage = "dommemstat DOMAIN [--period SECONDS] [--live] [--config] [--current]",
    .summary = "show a running domain's memory statistics, or set how often the guest "
               "reports them",
    .opts = "period=,live,config,current",
    .min_args = 1,
    .max_args = 1,
    .exec = dommemstat_exec,
    .flags = CMD_F_WRITES,
};
