/* Facts about the host that several layers need, read one way: memory from
 * /proc/meminfo, KVM from /dev/kvm and /proc/cpuinfo, and the clocks. None
 * of these block for long; all are safe from any thread. */
#ifndef TVM_CORE_BASE_HOST_H
#define TVM_CORE_BASE_HOST_H

#include <stdbool.h>
#include <stdint.h>

/* A /proc/meminfo field ("MemTotal", "MemAvailable", "SwapFree") in KiB.
 * -1 when the file or the field is missing: the caller cannot tell, and
 * should not refuse on that account. */
int host_meminfo_kib(const char *field, uint64_t *kib);

/* /dev/kvm opened read-write (close-on-exec). -1 with err_msg() saying why
 * in words the user can act on (module, firmware, group), and errno kept
 * from open(). */
int host_kvm_open(void);
/* Whether /dev/kvm opens; on false, err_msg() and errno as host_kvm_open(). */
bool host_kvm_usable(void);
/* KVM's limit on vCPUs per VM (KVM_CAP_MAX_VCPUS); -1 with err_msg() when
 * /dev/kvm cannot be asked. */
int host_kvm_max_vcpus(void);
/* The CPU flags list vmx or svm (true when /proc/cpuinfo cannot be read:
 * do not blame the CPU for what cannot be seen). */
bool host_cpu_has_virt(void);

/* Milliseconds of CLOCK_MONOTONIC, for deadlines and intervals. */
int64_t host_now_ms(void);
/* Milliseconds since the epoch (CLOCK_REALTIME), for timestamps people read. */
int64_t host_wall_ms(void);

#endif
