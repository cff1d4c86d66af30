/* capabilities, domcapabilities: libvirt's two documents of what the host
 * and tvm-vmm offer (core/model/capabilities.c writes them). */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "core/base/host.h"
#include "core/model/capabilities.h"
#include "core/proto/vmm-protocol.h"
#include "core/virt/vm.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

static enum cmd_result capabilities_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    (void)args;
    char vmm[PATH_MAX];
    if (vm_vmm_path(vmm, sizeof(vmm)) < 0)
        return CMD_ERROR;
    /* KVM answers its ioctls: a /dev/kvm that merely opens runs nothing */
    bool kvm = host_kvm_max_vcpus() > 0;
    err_clear();
    char *xml = capabilities_format(vmm, kvm);
    if (!xml)
        return CMD_ERROR;
    int rc = cmd_print_xml_selected(ctx->out, args, xml);
    free(xml);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

static enum cmd_result domcapabilities_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    char vmm[PATH_MAX];
    if (vm_vmm_path(vmm, sizeof(vmm)) < 0)
        return CMD_ERROR;
    const char *emulator = cmd_get(args, "emulatorbin");
    if (emulator && strcmp(emulator, vmm) != 0) {
        err_set("invalid argument: emulator '%s' is not tvm-vmm (%s)", emulator, vmm);
        return CMD_ERROR;
    }
    const char *machine = cmd_get(args, "machine");
    if (machine && strcmp(machine, "pc") != 0) {
        err_set("invalid argument: machine type '%s' is not supported by tvm-vmm (only 'pc')",
                machine);
        return CMD_ERROR;
    }
    char *xml = domcapabilities_format(vmm, cmd_get(args, "arch"), cmd_get(args, "virttype"),
                                       VMM_BIOS_DEFAULT);
    if (!xml)
        return CMD_ERROR;
    int rc = cmd_print_xml_selected(ctx->out, args, xml);
    free(xml);
    return rc == 0 ? CMD_OK : CMD_ERROR;
}

const struct cmd_entry cmd_capabilities_entry = {
    .name = "capabilities",
    .usage = "capabilities [--xpath EXPR] [--wrap]",
    .summary = "the host's CPUs and memory, and the guests tvm-vmm runs, as libvirt's XML",
    .opts = "xpath=,wrap",
    .max_args = 0,
    .exec = capabilities_exec,
};

const struct cmd_entry cmd_domcapabilities_entry = {
    .name = "domcapabilities",
    .usage = "domcapabilities [--virttype kvm] [--emulatorbin PATH] [--arch ARCH] "
             "[--machine pc] [--xpath EXPR] [--wrap]",
    .summary = "what a guest on tvm-vmm can be (devices, firmware, CPU modes) as libvirt's XML",
    .opts = "virttype=,emulatorbin=,arch=,machine=,xpath=,wrap",
    .max_args = 0,
    .exec = domcapabilities_exec,
};
