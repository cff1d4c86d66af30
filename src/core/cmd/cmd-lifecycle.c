/* The one-argument lifecycle verbs: shutdown, destroy, reboot, reset,
 * suspend and resume. They differ only in the service they call and the
 * words they print, so one exec serves them all and each entry's data row
 * says what is its own. start has options and a console of its own
 * (cmd-start.c).
 *
 * reboot is virsh's ACPI reboot: the power button is pressed and, once the
 * guest has shut down cleanly, its tvm-vmm boots it again in place. A guest
 * that ignores the button keeps running; `tvm reset` is the hard reset. Of
 * virsh's --mode values only acpi exists here (no guest agent, initctl or
 * signal). */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/virt/vm.h"
#include "store/store.h"

#include <string.h>

struct vm_verb {
    const char *verb;     /* in "Failed to VERB domain 'NAME': why" */
    const char *done_fmt; /* printed with the domain's name */
    int (*fn)(struct store *st, const char *uuid);
    /* Refuses the verb's options before anything runs; NULL when it has none. */
    int (*check)(const struct cmd_args *args);
    /* The service when this option is given (destroy --graceful); may be NULL. */
    const char *variant_opt;
    int (*variant_fn)(struct store *st, const char *uuid);
};

static enum cmd_result vm_verb_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const struct vm_verb *v = args->entry->data;
    if (v->check && v->check(args) < 0)
        return CMD_ERROR;
    struct store *st = cmd_store(ctx);
    struct store_domain_row row;
    if (!st || vm_lookup(st, args->argv[0], &row) < 0)
        return CMD_ERROR;
    int (*fn)(struct store *, const char *) =
        v->variant_opt && cmd_has(args, v->variant_opt) ? v->variant_fn : v->fn;
    if (fn(st, row.uuid) < 0) {
        err_prefix("Failed to %s domain '%s': ", v->verb, row.name);
        return CMD_ERROR;
    }
    fprintf(ctx->out, v->done_fmt, row.name);
    fputc('\n', ctx->out);
    return CMD_OK;
}

static const char *const reboot_modes[] = {"acpi", "agent", "initctl", "signal", "paravirt"};

/* --mode is "acpi" or a comma list of virsh's modes: each must be known,
 * and acpi among them. */
static int mode_check(const struct cmd_args *args, const char *verb)
{
    const char *list = cmd_get(args, "mode");
    if (!list)
        return 0;
    char buf[128];
    if (strlen(list) >= sizeof(buf))
        return err_set("invalid argument: %s mode list too long", verb);
    strcpy(buf, list);
    bool acpi = false;
    for (char *save, *m = strtok_r(buf, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        bool known = false;
        for (size_t i = 0; i < sizeof(reboot_modes) / sizeof(reboot_modes[0]); i++)
            known |= strcmp(m, reboot_modes[i]) == 0;
        if (!known)
            return err_set("Unknown mode %s value, expecting 'acpi', 'agent', 'initctl', "
                           "'signal' or 'paravirt'",
                           m);
        acpi |= strcmp(m, "acpi") == 0;
    }
    if (!acpi)
        return err_set("argument unsupported: %s mode '%s' is not supported by tvm-vmm; "
                       "use --mode acpi%s",
                       verb, list,
                       strcmp(verb, "reboot") == 0 ? " (or 'tvm reset' for a hard reset)" : "");
    return 0;
}

static int reboot_check(const struct cmd_args *args)
{
    return mode_check(args, "reboot");
}

static int shutdown_check(const struct cmd_args *args)
{
    return mode_check(args, "shutdown");
}

/* An entry for a verb with no options: "VERB DOMAIN". */
#define VM_VERB_ENTRY(sym, verb_name, verb_summary, verb_done_fmt, verb_fn)                        \
    const struct cmd_entry sym = {                                                                 \
        .name = verb_name,                                                                         \
        .usage = verb_name " DOMAIN",                                                              \
        .summary = verb_summary,                                                                   \
        .opts = "",                                                                                \
        .min_args = 1,                                                                             \
        .max_args = 1,                                                                             \
        .exec = vm_verb_exec,                                                                      \
        .data =                                                                                    \
            &(const struct vm_verb){.verb = verb_name, .done_fmt = verb_done_fmt, .fn = verb_fn},  \
    }

VM_VERB_ENTRY(cmd_reset_entry, "reset", "reset a guest as the reset button does",
              "Domain '%s' was reset", vm_reset);
VM_VERB_ENTRY(cmd_suspend_entry, "suspend", "pause a guest's vCPUs", "Domain '%s' suspended",
              vm_suspend);
VM_VERB_ENTRY(cmd_resume_entry, "resume", "resume a paused guest", "Domain '%s' resumed",
              vm_resume);

/* reboot's usage names its option, so it is spelled out. */
const struct cmd_entry cmd_reboot_entry = {
    .name = "reboot",
    .usage = "reboot DOMAIN [--mode acpi]",
    .summary = "ask a guest to reboot (ACPI power button, then booted again once it has shut "
               "down); returns at once",
    .opts = "mode=",
    .min_args = 1,
    .max_args = 1,
    .exec = vm_verb_exec,
    .data = &(const struct vm_verb){.verb = "reboot",
                                    .done_fmt = "Domain '%s' is being rebooted",
                                    .fn = vm_reboot,
                                    .check = reboot_check},
};

const struct cmd_entry cmd_shutdown_entry = {
    .name = "shutdown",
    .usage = "shutdown DOMAIN [--mode acpi]",
    .summary = "ask a guest to power off (ACPI power button); returns at once",
    .opts = "mode=",
    .min_args = 1,
    .max_args = 1,
    .exec = vm_verb_exec,
    .data = &(const struct vm_verb){.verb = "shutdown",
                                    .done_fmt = "Domain '%s' is being shutdown",
                                    .fn = vm_shutdown,
                                    .check = shutdown_check},
};

/* --graceful: asked to quit, never killed (virsh's "terminate gracefully"). */
const struct cmd_entry cmd_destroy_entry = {
    .name = "destroy",
    .usage = "destroy DOMAIN [--graceful]",
    .summary = "stop a guest at once (QMP quit, then SIGKILL), like pulling the plug",
    .opts = "graceful",
    .min_args = 1,
    .max_args = 1,
    .exec = vm_verb_exec,
    .data = &(const struct vm_verb){.verb = "destroy",
                                    .done_fmt = "Domain '%s' destroyed",
                                    .fn = vm_destroy,
                                    .variant_opt = "graceful",
                                    .variant_fn = vm_destroy_graceful},
};
