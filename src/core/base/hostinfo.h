/* What the host is, as virsh's host verbs show it: CPU topology and
 * frequency (sysfs, /proc/cpuinfo), NUMA cells and their memory, CPU time
 * (/proc/stat), firmware identity (SMBIOS through /sys/class/dmi/id). Each
 * read is a few small files; none blocks for long. */
#ifndef TVM_CORE_BASE_HOSTINFO_H
#define TVM_CORE_BASE_HOSTINFO_H

#include <stddef.h>
#include <stdint.h>

#define HOSTINFO_MAX_CELLS 64

struct hostinfo_cpu {
    char arch[65];   /* uname's machine: x86_64 */
    char vendor[32]; /* "AMD", "Intel" or the CPU's own vendor string */
    unsigned cpus;   /* online */
    unsigned mhz;    /* 0 when unknown */
    unsigned sockets, cores_per_socket, threads_per_core;
    unsigned cells; /* NUMA nodes; 1 when the kernel shows none */
};
int hostinfo_cpu(struct hostinfo_cpu *out);

/* One NUMA cell's memory in KiB (cell 0 is the whole host when the kernel
 * shows no nodes). -1 with err_msg() for a cell that does not exist. */
int hostinfo_cell_memory(unsigned cell, uint64_t *total_kib, uint64_t *free_kib);
/* The CPUs of a cell as a list of ids; returns the count (at most max). */
int hostinfo_cell_cpus(unsigned cell, unsigned *ids, size_t max);

/* CPU time in nanoseconds since boot, as libvirt adds /proc/stat up:
 * user (+nice), system (+irq, softirq), idle, iowait. cpu -1: all CPUs. */
struct hostinfo_cpu_times {
    uint64_t user, system, idle, iowait;
};
int hostinfo_cpu_times(int cpu, struct hostinfo_cpu_times *out);

/* An SMBIOS field from /sys/class/dmi/id ("bios_vendor", "product_uuid")
 * into buf, trailing blanks removed. -1 when absent or unreadable (most
 * serial numbers are readable only by root). */
int hostinfo_dmi(const char *field, char *buf, size_t len);

#endif
