/* domjobinfo DOMAIN: the job a guest is in, as virsh prints it. tvm's one
 * job is a save (save, managedsave): its time so far and how much of the
 * file is written, against the guest's RAM (vm_job_info in vm.h). */
#include <inttypes.h>
#include <stdio.h>

#include "core/base/err.h"
#include "core/cmd/cmd.h"
#include "core/virt/vm.h"
#include "store/store.h"

static void print_size(FILE *o, const char *label, uint64_t bytes)
{
    double v = (double)bytes;
    const char *unit = "B";
    const char *units[] = {"KiB", "MiB", "GiB", "TiB"};
    for (int i = 0; i < 4 && v >= 1024; i++) {
        v /= 1024;
        unit = units[i];
    }
    fprintf(o, "%-17s %.3f %s\n", label, v, unit);
}

static enum cmd_result domjobinfo_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    struct vm_job_info j;
    if (!st || vm_lookup(st, args->argv[0], &row) < 0 || vm_job_info(row.uuid, &j) < 0)
        return CMD_ERROR;
    FILE *o = ctx->out;
    if (!j.active) {
        fprintf(o, "%-17s %s\n\n", "Job type:", "None");
        return CMD_OK;
    }
    uint64_t left = j.total > j.processed ? j.total - j.processed : 0;
    fprintf(o, "%-17s %s\n", "Job type:", "Unbounded");
    fprintf(o, "%-17s %s\n", "Operation:", j.operation);
    fprintf(o, "%-17s %-12" PRId64 " ms\n", "Time elapsed:", j.elapsed_ms);
    print_size(o, "Data processed:", j.processed);
    print_size(o, "Data remaining:", left);
    print_size(o, "Data total:", j.total);
    fputc('\n', o);
    return CMD_OK;
}

const struct cmd_entry cmd_domjobinfo_entry = {
    .name = "domjobinfo",
    .usage = "domjobinfo DOMAIN",
    .summary = "the job a guest is in (a save) and how far it is",
    .min_args = 1,
    .max_args = 1,
    .exec = domjobinfo_exec,
};
