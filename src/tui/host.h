/* What the title bar says about the host, and live figures of running guests
 * read from /proc (never from the guest: nothing here can block). */
#ifndef TVM_TUI_HOST_H
#define TVM_TUI_HOST_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/base/host.h" /* host_now_ms */

struct host_info {
    char hostname[128];
    int cpus;
    uint64_t mem_total_kib;
    uint64_t mem_avail_kib;
    bool kvm_ok;
    char kvm_text[96]; /* "KVM ok" or why not */
};

void host_info_read(struct host_info *h);
/* Just MemAvailable, for the periodic refresh. */
void host_info_refresh(struct host_info *h);

/* The tvm-vmm pid of a running guest from RUNDIR/<uuid>/vmm.pid; 0 if none or dead. */
pid_t host_vmm_pid(const char *uuid);
/* utime+stime of pid in clock ticks and its VmRSS; -1 if the process is gone. */
int host_proc_sample(pid_t pid, uint64_t *cpu_ticks, uint64_t *rss_kib);

#endif
