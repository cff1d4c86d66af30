/* nodeinfo, freecell, nodememstats, nodecpustats: the host's CPUs, memory
 * and CPU time, in virsh's words and layout (the values read by
 * core/base/hostinfo.c from the kernel, as libvirt's own driver reads them). */
#include "core/cmd/cmd.h"
#include "core/base/err.h"
#include "core/base/host.h"
#include "core/base/hostinfo.h"
#include "core/xml/xml-util.h"

#include <inttypes.h>
#include <limits.h>
#include <time.h>

static enum cmd_result nodeinfo_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    (void)args;
    struct hostinfo_cpu c;
    uint64_t total_kib;
    if (hostinfo_cpu(&c) < 0)
        return CMD_ERROR;
    if (host_meminfo_kib("MemTotal", &total_kib) < 0) {
        err_set("cannot read the host's memory size from /proc/meminfo");
        return CMD_ERROR;
    }
    /* libvirt counts sockets per NUMA cell */
    unsigned sockets = c.sockets / c.cells ? c.sockets / c.cells : 1;
    FILE *o = ctx->out;
    fprintf(o, "%-20s %s\n", "CPU model:", c.arch);
    fprintf(o, "%-20s %u\n", "CPU(s):", c.cpus);
    fprintf(o, "%-20s %u MHz\n", "CPU frequency:", c.mhz);
    fprintf(o, "%-20s %u\n", "CPU socket(s):", sockets);
    fprintf(o, "%-20s %u\n", "Core(s) per socket:", c.cores_per_socket);
    fprintf(o, "%-20s %u\n", "Thread(s) per core:", c.threads_per_core);
    fprintf(o, "%-20s %u\n", "NUMA cell(s):", c.cells);
    fprintf(o, "%-20s %" PRIu64 " KiB\n\n", "Memory size:", total_kib);
    return CMD_OK;
}

/* A cell number option: -1 when absent, -2 (err_msg set) when invalid. */
static int cell_option(const struct cmd_args *args, const char *opt)
{
    const char *v = cmd_get(args, opt);
    int cell;
    if (!v)
        return -1;
    if (xml_parse_int(v, 0, INT_MAX, &cell) < 0) {
        err_set("Invalid value for number of %s: '%s'", opt, v);
        return -2;
    }
    return cell;
}

static enum cmd_result freecell_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    int cell = cell_option(args, "cellno");
    if (cell == -2)
        return CMD_USAGE;
    if (cell >= 0 && cmd_has(args, "all")) {
        err_set("Options --cellno and --all are mutually exclusive");
        return CMD_USAGE;
    }
    uint64_t total, free_kib;
    if (cell >= 0) {
        if (hostinfo_cell_memory((unsigned)cell, &total, &free_kib) < 0)
            return CMD_ERROR;
        fprintf(ctx->out, "%d: %" PRIu64 " KiB\n\n", cell, free_kib);
        return CMD_OK;
    }
    if (!cmd_has(args, "all")) {
        if (host_meminfo_kib("MemFree", &free_kib) < 0) {
            err_set("cannot read the host's free memory from /proc/meminfo");
            return CMD_ERROR;
        }
        fprintf(ctx->out, "Total: %" PRIu64 " KiB\n\n", free_kib);
        return CMD_OK;
    }
    struct hostinfo_cpu c;
    if (hostinfo_cpu(&c) < 0)
        return CMD_ERROR;
    uint64_t sum = 0;
    for (unsigned i = 0; i < c.cells; i++) {
        if (hostinfo_cell_memory(i, &total, &free_kib) < 0)
            return CMD_ERROR;
        fprintf(ctx->out, "%5u: %10" PRIu64 " KiB\n", i, free_kib);
        sum += free_kib;
    }
    fprintf(ctx->out, "--------------------\n%5s: %10" PRIu64 " KiB\n\n", "Total", sum);
    return CMD_OK;
}

static enum cmd_result nodememstats_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    int cell = cell_option(args, "cell");
    if (cell == -2)
        return CMD_USAGE;
    static const char *const fields[][2] = {
        {"total", "MemTotal"}, {"free", "MemFree"}, {"buffers", "Buffers"}, {"cached", "Cached"}};
    uint64_t values[4];
    if (cell >= 0) {
        /* a node's meminfo has no buffers or cached: as libvirt, total and free */
        if (hostinfo_cell_memory((unsigned)cell, &values[0], &values[1]) < 0)
            return CMD_ERROR;
        for (int i = 0; i < 2; i++)
            fprintf(ctx->out, "%-7s: %20" PRIu64 " KiB\n", fields[i][0], values[i]);
        fputc('\n', ctx->out);
        return CMD_OK;
    }
    for (int i = 0; i < 4; i++)
        if (host_meminfo_kib(fields[i][1], &values[i]) < 0) {
            err_set("cannot read %s from /proc/meminfo", fields[i][1]);
            return CMD_ERROR;
        }
    for (int i = 0; i < 4; i++)
        fprintf(ctx->out, "%-7s: %20" PRIu64 " KiB\n", fields[i][0], values[i]);
    fputc('\n', ctx->out);
    return CMD_OK;
}

static void print_percent(FILE *o, const struct hostinfo_cpu_times *a,
                          const struct hostinfo_cpu_times *b)
{
    double user = (double)(b->user - a->user), sys = (double)(b->system - a->system);
    double idle = (double)(b->idle - a->idle), io = (double)(b->iowait - a->iowait);
    double total = user + sys + idle + io;
    if (total <= 0)
        total = 1;
    fprintf(o, "%-15s %5.1f%%\n", "usage:", (user + sys) / total * 100);
    fprintf(o, "%-15s %5.1f%%\n", "user:", user / total * 100);
    fprintf(o, "%-15s %5.1f%%\n", "system:", sys / total * 100);
    fprintf(o, "%-15s %5.1f%%\n", "idle:", idle / total * 100);
    fprintf(o, "%-15s %5.1f%%\n\n", "iowait:", io / total * 100);
}

static enum cmd_result nodecpustats_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    int cpu = cell_option(args, "cpu");
    if (cpu == -2)
        return CMD_USAGE;
    struct hostinfo_cpu_times a, b;
    if (hostinfo_cpu_times(cpu, &a) < 0)
        return CMD_ERROR;
    if (cmd_has(args, "percent")) {
        /* virsh samples twice, one second apart */
        nanosleep(&(struct timespec){.tv_sec = 1}, NULL);
        if (hostinfo_cpu_times(cpu, &b) < 0)
            return CMD_ERROR;
        print_percent(ctx->out, &a, &b);
        return CMD_OK;
    }
    fprintf(ctx->out, "%-15s %20" PRIu64 "\n", "user:", a.user);
    fprintf(ctx->out, "%-15s %20" PRIu64 "\n", "system:", a.system);
    fprintf(ctx->out, "%-15s %20" PRIu64 "\n", "idle:", a.idle);
    fprintf(ctx->out, "%-15s %20" PRIu64 "\n\n", "iowait:", a.iowait);
    return CMD_OK;
}

const struct cmd_entry cmd_nodeinfo_entry = {
    .name = "nodeinfo",
    .usage = "nodeinfo",
    .summary = "the host's CPUs, their topology and its memory",
    .opts = "",
    .max_args = 0,
    .exec = nodeinfo_exec,
};

const struct cmd_entry cmd_freecell_entry = {
    .name = "freecell",
    .usage = "freecell [--cellno N | --all]",
    .summary = "free memory of the host, or of one NUMA cell or each",
    .opts = "cellno=,all",
    .max_args = 0,
    .exec = freecell_exec,
};

const struct cmd_entry cmd_nodememstats_entry = {
    .name = "nodememstats",
    .usage = "nodememstats [--cell N]",
    .summary = "the host's memory: total, free, buffers, cached",
    .opts = "cell=",
    .max_args = 0,
    .exec = nodememstats_exec,
};

const struct cmd_entry cmd_nodecpustats_entry = {
    .name = "nodecpustats",
    .usage = "nodecpustats [--cpu N] [--percent]",
    .summary = "the host's CPU time (ns) or, with --percent, its use over one second",
    .opts = "cpu=,percent",
    .max_args = 0,
    .exec = nodecpustats_exec,
};
