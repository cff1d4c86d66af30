/* Host probes (host.h). */
#include "core/base/host.h"
#include "core/base/err.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#define HOST_KVM_DEVICE "/dev/kvm"

int host_meminfo_kib(const char *field, uint64_t *kib)
{
    FILE *f = fopen("/proc/meminfo", "re");
    if (!f)
        return -1;
    char line[256];
    size_t flen = strlen(field);
    int rc = -1;
    while (rc < 0 && fgets(line, sizeof(line), f))
        if (strncmp(line, field, flen) == 0 && line[flen] == ':' &&
            sscanf(line + flen + 1, "%" SCNu64, kib) == 1)
            rc = 0;
    fclose(f);
    return rc;
}

bool host_cpu_has_virt(void)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f)
        return true;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        if (strncmp(line, "flags", 5) == 0)
            found = strstr(line, " vmx") || strstr(line, " svm");
    fclose(f);
    return found;
}

int host_kvm_open(void)
{
    int fd = open(HOST_KVM_DEVICE, O_RDWR | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    int e = errno;
    const char *hint;
    if (e == ENOENT && !host_cpu_has_virt())
        hint = "this CPU shows no vmx/svm: no hardware virtualization, or it is off in the "
               "firmware";
    else if (e == ENOENT)
        hint = "is KVM enabled? try modprobe kvm_intel/kvm_amd, or enable virtualization in the "
               "firmware";
    else if (e == EACCES || e == EPERM)
        hint = "add the user to the kvm group";
    else
        hint = "is KVM enabled? try modprobe kvm_intel/kvm_amd";
    err_set("cannot open " HOST_KVM_DEVICE ": %s (%s)", strerror(e), hint);
    errno = e;
    return -1;
}

bool host_kvm_usable(void)
{
    int fd = host_kvm_open();
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t host_now_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

int64_t host_wall_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

int host_kvm_max_vcpus(void)
{
    int fd = host_kvm_open();
    if (fd < 0)
        return -1;
    int n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_MAX_VCPUS);
    if (n <= 0) /* older kernels: the recommended count is the limit */
        n = ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS);
    close(fd);
    if (n <= 0)
        return err_set("KVM does not say how many vCPUs a VM may have");
    return n;
}
