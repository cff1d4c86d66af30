/* Host facts for the title bar and per-guest CPU/memory from /proc. */
#include "tui/host.h"
#include "core/base/host.h"
#include "core/base/paths.h"
#include "core/proto/vmm-protocol.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t meminfo_kib(const char *field)
{
    uint64_t v;
    return host_meminfo_kib(field, &v) == 0 ? v : 0;
}

/* Why KVM cannot be used, in the words a user can act on. */
static void kvm_check(struct host_info *h)
{
    h->kvm_ok = host_kvm_usable();
    int e = errno;
    if (h->kvm_ok)
        snprintf(h->kvm_text, sizeof(h->kvm_text), "KVM ok");
    else if (e == ENOENT)
        snprintf(h->kvm_text, sizeof(h->kvm_text), "no KVM: /dev/kvm missing%s",
                 host_cpu_has_virt() ? "" : " (no vmx/svm)");
    else if (e == EACCES || e == EPERM)
        snprintf(h->kvm_text, sizeof(h->kvm_text), "no KVM: no permission on /dev/kvm");
    else
        snprintf(h->kvm_text, sizeof(h->kvm_text), "no KVM: %s", strerror(e));
}

void host_info_read(struct host_info *h)
{
    memset(h, 0, sizeof(*h));
    if (gethostname(h->hostname, sizeof(h->hostname) - 1) < 0)
        snprintf(h->hostname, sizeof(h->hostname), "?");
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    h->cpus = n > 0 ? (int)n : 1;
    h->mem_total_kib = meminfo_kib("MemTotal");
    kvm_check(h);
    host_info_refresh(h);
}

void host_info_refresh(struct host_info *h)
{
    h->mem_avail_kib = meminfo_kib("MemAvailable");
}

pid_t host_vmm_pid(const char *uuid)
{
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%s/%s", paths_rundir(), uuid, VMM_FILE_PID);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    long pid = 0;
    if (fscanf(f, "%ld", &pid) != 1)
        pid = 0;
    fclose(f);
    if (pid <= 0 || (kill((pid_t)pid, 0) < 0 && errno == ESRCH))
        return 0;
    return (pid_t)pid;
}

int host_proc_sample(pid_t pid, uint64_t *cpu_ticks, uint64_t *rss_kib)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields start after the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long utime = 0, stime = 0;
    /* After ')': state(3) ... utime is field 14, stime 15. */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    *cpu_ticks = utime + stime;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    *rss_kib = 0;
    if (f) {
        char line[256];
        while (fgets(line, sizeof(line), f))
            if (!strncmp(line, "VmRSS:", 6)) {
                *rss_kib = strtoull(line + 6, NULL, 10);
                break;
            }
        fclose(f);
    }
    return 0;
}
