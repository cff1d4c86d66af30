/* host-validate: can this host run tvm's guests? One line per check in
 * virt-host-validate's layout ("  TVM: Checking for ...: PASS"), each WARN
 * or FAIL with its reason; exit status 1 when anything FAILs. A check is a
 * row of the table below: what it looks at and what each answer means. */
#include "core/cmd/cmd.h"
#include "core/base/err.h"
#include "core/base/host.h"
#include "core/proto/vmm-protocol.h"
#include "core/virt/vm.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/kvm.h>

enum verdict { PASS, WARN, FAIL };

struct check {
    const char *what;
    /* Fills why (for WARN and FAIL) and returns the verdict. */
    enum verdict (*run)(char *why, size_t len);
};

/* Whether any line of a file contains `word`; false when unreadable. */
static bool file_has(const char *path, const char *word)
{
    char line[1024];
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strstr(line, word) != NULL;
    fclose(f);
    return found;
}

static enum verdict check_cpu_virt(char *why, size_t len)
{
    if (host_cpu_has_virt())
        return PASS;
    snprintf(why, len,
             "the CPU shows no vmx/svm flag: no VT-x/AMD-V, or it is off in the firmware");
    return FAIL;
}

static enum verdict check_kvm_device(char *why, size_t len)
{
    struct stat st;
    if (stat("/dev/kvm", &st) < 0) {
        snprintf(why, len, "/dev/kvm is missing: load kvm_intel or kvm_amd");
        return FAIL;
    }
    if (!S_ISCHR(st.st_mode)) {
        snprintf(why, len, "/dev/kvm is not a character device");
        return FAIL;
    }
    return PASS;
}

static enum verdict check_kvm_access(char *why, size_t len)
{
    int fd = host_kvm_open();
    if (fd < 0) {
        snprintf(why, len, "%s", err_msg());
        err_clear();
        return FAIL;
    }
    int version = ioctl(fd, KVM_GET_API_VERSION, 0);
    close(fd);
    if (version != KVM_API_VERSION) {
        snprintf(why, len, "/dev/kvm does not answer as KVM (API version %d, want %d)", version,
                 KVM_API_VERSION);
        return FAIL;
    }
    return PASS;
}

static enum verdict check_nested(char *why, size_t len)
{
    const char *paths[] = {"/sys/module/kvm_intel/parameters/nested",
                           "/sys/module/kvm_amd/parameters/nested"};
    for (size_t i = 0; i < 2; i++)
        if (file_has(paths[i], "Y") || file_has(paths[i], "1"))
            return PASS;
    snprintf(why, len, "nested virtualization is off: guests cannot run KVM themselves");
    return WARN;
}

static enum verdict check_tun(char *why, size_t len)
{
    struct stat st;
    if (stat("/dev/net/tun", &st) == 0 && S_ISCHR(st.st_mode))
        return PASS;
    snprintf(why, len, "/dev/net/tun is missing: guests get no network (load the tun module)");
    return FAIL;
}

static enum verdict check_cgroups(char *why, size_t len)
{
    if (file_has("/sys/fs/cgroup/cgroup.controllers", "cpu") &&
        file_has("/sys/fs/cgroup/cgroup.controllers", "memory"))
        return PASS;
    snprintf(why, len, "no cgroup v2 cpu and memory controllers at /sys/fs/cgroup");
    return WARN;
}

static enum verdict check_iommu(char *why, size_t len)
{
    struct stat st;
    if (stat("/sys/kernel/iommu_groups/0", &st) == 0)
        return PASS;
    snprintf(why, len, "no IOMMU groups: no device can be passed through (enable VT-d/AMD-Vi)");
    return WARN;
}

static enum verdict check_hugepages(char *why, size_t len)
{
    if (file_has("/sys/kernel/mm/transparent_hugepage/enabled", "[always]") ||
        file_has("/sys/kernel/mm/transparent_hugepage/enabled", "[madvise]"))
        return PASS;
    snprintf(why, len, "transparent huge pages are off: guest memory uses 4 KiB pages");
    return WARN;
}

static enum verdict check_seccomp(char *why, size_t len)
{
    if (file_has("/proc/self/status", "Seccomp:"))
        return PASS;
    snprintf(why, len, "the kernel has no seccomp: tvm-vmm cannot confine itself");
    return FAIL;
}

static enum verdict check_landlock(char *why, size_t len)
{
    if (file_has("/sys/kernel/security/lsm", "landlock"))
        return PASS;
    snprintf(why, len, "Landlock is not active: tvm-vmm's file access is limited by seccomp only");
    return WARN;
}

static enum verdict check_seabios(char *why, size_t len)
{
    if (access(VMM_BIOS_DEFAULT, R_OK) == 0)
        return PASS;
    snprintf(why, len, "%s is missing: only direct kernel boot works (install seabios)",
             VMM_BIOS_DEFAULT);
    return WARN;
}

static enum verdict check_vmm(char *why, size_t len)
{
    char path[PATH_MAX];
    if (vm_vmm_path(path, sizeof(path)) == 0)
        return PASS;
    snprintf(why, len, "%s", err_msg());
    err_clear();
    return FAIL;
}

static const struct check checks[] = {
    {"for hardware virtualization", check_cpu_virt},
    {"if device /dev/kvm exists", check_kvm_device},
    {"if device /dev/kvm is accessible", check_kvm_access},
    {"for nested virtualization", check_nested},
    {"if device /dev/net/tun exists", check_tun},
    {"for cgroup 'cpu' and 'memory' controllers", check_cgroups},
    {"for device assignment IOMMU support", check_iommu},
    {"for transparent huge pages", check_hugepages},
    {"for secure computing (seccomp)", check_seccomp},
    {"for Landlock", check_landlock},
    {"for the SeaBIOS firmware", check_seabios},
    {"for the tvm-vmm binary", check_vmm},
};

static enum cmd_result host_validate_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    (void)args;
    static const char *const words[] = {"PASS", "WARN", "FAIL"};
    bool failed = false;
    for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
        char why[512] = "";
        enum verdict v = checks[i].run(why, sizeof(why));
        char label[128];
        snprintf(label, sizeof(label), "Checking %s", checks[i].what);
        fprintf(ctx->out, "%6s: %-69s: %s", "TVM", label, words[v]);
        if (v != PASS)
            fprintf(ctx->out, " (%s)", why);
        fputc('\n', ctx->out);
        failed |= v == FAIL;
    }
    if (failed) {
        err_set("this host cannot run tvm's guests (see FAIL above)");
        return CMD_ERROR;
    }
    return CMD_OK;
}

const struct cmd_entry cmd_host_validate_entry = {
    .name = "host-validate",
    .usage = "host-validate",
    .summary = "check that this host can run guests, as virt-host-validate (PASS/WARN/FAIL)",
    .opts = "",
    .max_args = 0,
    .exec = host_validate_exec,
};
