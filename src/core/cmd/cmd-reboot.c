/* reboot DOMAIN [--mode acpi]: ask a guest to reboot, as virsh does. The
 * ACPI power button is pressed and, once the guest has shut down cleanly,
 * its tvm-vmm boots it again in place (libvirt's ACPI reboot). A guest that
 * ignores the button keeps running; `tvm reset` is the hard reset. Of
 * virsh's modes only acpi exists here (no guest agent, initctl or signal). */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/virt/vm-priv.h"

#include <string.h>

static const char *const reboot_modes[] = {"acpi", "agent", "initctl", "signal", "paravirt"};

/* "acpi" or a comma list of virsh's modes: each must be known, and acpi among them. */
static int reboot_check_mode(const char *list)
{
    char buf[128];
    if (strlen(list) >= sizeof(buf))
        return err_set("invalid argument: reboot mode list too long");
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
        return err_set("argument unsupported: reboot mode '%s' is not supported by tvm-vmm; "
                       "use --mode acpi (or 'tvm reset' for a hard reset)",
                       list);
    return 0;
}

static enum cmd_result reboot_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *mode = cmd_get(args, "mode");
    if (mode && reboot_check_mode(mode) < 0)
        return CMD_ERROR;
    return vm_cmd_run(ctx, args, vm_reboot, "reboot", "Domain '%s' is being rebooted");
}

const struct cmd_entry cmd_reboot_entry = {
    .name = "reboot",
    .usage = "reboot DOMAIN [--mode acpi]",
    .summary = "ask a guest to reboot (ACPI power button, then booted again once it has shut "
               "down); returns at once",
    .opts = "mode=",
    .min_args = 1,
    .max_args = 1,
    .exec = reboot_exec,
};
