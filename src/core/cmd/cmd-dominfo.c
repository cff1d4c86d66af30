/* dominfo NAME: basic facts about one domain, in virsh's layout. */
#include "core/cmd/cmd-util.h"
#include "core/model/domain.h"
#include "core/base/err.h"
#include "store/store.h"

#include "core/virt/vm.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* CPU seconds the guest's tvm-vmm has used (utime + stime), as virsh's
 * "CPU time". Negative when it cannot be read. */
static double dominfo_cpu_seconds(pid_t pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields start after the last ')'. */
    char *p = strrchr(buf, ')');
    unsigned long long utime, stime;
    if (!p ||
        sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? (double)(utime + stime) / (double)hz : -1;
}

static enum cmd_result dominfo_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store_domain_row row;
    struct domain *d;
    if (cmd_domain_load(ctx, args->argv[0], &row, &d) < 0)
        return CMD_ERROR;
    FILE *o = ctx->out;
    if (row.id >= 0)
        fprintf(o, "%-15s %" PRId64 "\n", "Id:", row.id);
    else
        fprintf(o, "%-15s %s\n", "Id:", "-");
    fprintf(o, "%-15s %s\n", "Name:", row.name);
    fprintf(o, "%-15s %s\n", "UUID:", row.uuid);
    fprintf(o, "%-15s %s\n", "OS Type:", d->os_type ? d->os_type : "hvm");
    fprintf(o, "%-15s %s\n", "State:", domain_state_name(row.state));
    fprintf(o, "%-15s %u\n", "CPU(s):", row.vcpus_current ? row.vcpus_current : row.vcpus);
    pid_t pid = vm_pid(row.uuid);
    double cpu = pid > 0 ? dominfo_cpu_seconds(pid) : -1;
    if (cpu >= 0)
        fprintf(o, "%-15s %.1fs\n", "CPU time:", cpu);
    fprintf(o, "%-15s %" PRIu64 " KiB\n", "Max memory:", row.memory_kib);
    /* A running guest's balloon says what it has now (virsh does the same). */
    uint64_t used = row.current_memory_kib;
    if (pid > 0 && vm_balloon_actual_kib(row.uuid, &used) < 0)
        err_clear(); /* no balloon: the stored figure */
    fprintf(o, "%-15s %" PRIu64 " KiB\n", "Used memory:", used);
    fprintf(o, "%-15s %s\n", "Persistent:", row.persistent ? "yes" : "no");
    fprintf(o, "%-15s %s\n", "Autostart:", row.autostart ? "enable" : "disable");
    fprintf(o, "%-15s %s\n",
            "Managed save:", vm_has_managed_save(ctx->db_path, row.uuid) ? "yes" : "no");
    fprintf(o, "%-15s %s\n", "Security model:", "none");
    fprintf(o, "%-15s %s\n\n", "Security DOI:", "0");
    domain_free(d);
    return CMD_OK;
}

const struct cmd_entry cmd_dominfo_entry = {
    .name = "dominfo",
    .usage = "dominfo DOMAIN",
    .summary = "show basic information about a domain",
    .opts = "",
    .min_args = 1,
    .max_args = 1,
    .exec = dominfo_exec,
};
