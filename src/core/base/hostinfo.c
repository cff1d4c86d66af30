/* Host facts for the host verbs (hostinfo.h). */
#include "core/base/hostinfo.h"
#include "core/base/err.h"
#include "core/base/host.h"

#include <dirent.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#define SYS_CPU "/sys/devices/system/cpu"
#define SYS_NODE "/sys/devices/system/node"

/* The first line of a small file, newline and trailing blanks removed. */
static int read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    bool ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (!ok)
        return -1;
    size_t n = strlen(buf);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
        buf[--n] = '\0';
    return 0;
}

static int read_uint(const char *path, unsigned *out)
{
    char buf[32];
    if (read_line(path, buf, sizeof(buf)) < 0)
        return -1;
    char *end;
    unsigned long v = strtoul(buf, &end, 10);
    if (end == buf)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static unsigned count_nodes(void)
{
    DIR *d = opendir(SYS_NODE);
    if (!d)
        return 1;
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, "node", 4) == 0 && e->d_name[4] >= '0' && e->d_name[4] <= '9')
            n++;
    closedir(d);
    return n ? n : 1;
}

/* Frequency and vendor from /proc/cpuinfo's first processor. */
static void cpuinfo_scan(struct hostinfo_cpu *c)
{
    FILE *f = fopen("/proc/cpuinfo", "re");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f)) {
        double mhz;
        char vendor[32];
        if (!c->mhz && sscanf(line, "cpu MHz : %lf", &mhz) == 1)
            c->mhz = (unsigned)mhz;
        else if (!c->vendor[0] && sscanf(line, "vendor_id : %31s", vendor) == 1)
            snprintf(c->vendor, sizeof(c->vendor), "%s",
                     strcmp(vendor, "AuthenticAMD") == 0   ? "AMD"
                     : strcmp(vendor, "GenuineIntel") == 0 ? "Intel"
                                                           : vendor);
    }
    fclose(f);
}

/* Sockets, cores and threads from each online CPU's topology ids. */
static void topology_scan(struct hostinfo_cpu *c, long ncpu)
{
    unsigned packages[256], npackages = 0, siblings = 1, cores = 0;
    for (long i = 0; i < ncpu && i < 4096; i++) {
        char path[128];
        unsigned pkg;
        snprintf(path, sizeof(path), SYS_CPU "/cpu%ld/topology/physical_package_id", i);
        if (read_uint(path, &pkg) < 0)
            continue;
        bool seen = false;
        for (unsigned k = 0; k < npackages; k++)
            seen |= packages[k] == pkg;
        if (!seen && npackages < 256)
            packages[npackages++] = pkg;
        if (i == 0) {
            char list[256];
            snprintf(path, sizeof(path), SYS_CPU "/cpu0/topology/thread_siblings_list");
            if (read_line(path, list, sizeof(list)) == 0) {
                /* "0-1" or "0,4": count the ids */
                unsigned a, b;
                if (sscanf(list, "%u-%u", &a, &b) == 2 && b >= a)
                    siblings = b - a + 1;
                else
                    for (const char *p = list; *p; p++)
                        siblings += *p == ',';
            }
        }
        cores++;
    }
    c->sockets = npackages ? npackages : 1;
    c->threads_per_core = siblings ? siblings : 1;
    unsigned per_socket = (cores ? cores : (unsigned)ncpu) / c->sockets;
    c->cores_per_socket = per_socket / c->threads_per_core ? per_socket / c->threads_per_core : 1;
}

int hostinfo_cpu(struct hostinfo_cpu *c)
{
    memset(c, 0, sizeof(*c));
    struct utsname u;
    if (uname(&u) < 0)
        return err_errno("uname");
    snprintf(c->arch, sizeof(c->arch), "%s", u.machine);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    c->cpus = n > 0 ? (unsigned)n : 1;
    cpuinfo_scan(c);
    topology_scan(c, n > 0 ? n : 1);
    c->cells = count_nodes();
    return 0;
}

/* "Node 0 MemTotal:  123 kB" lines of a node's meminfo. */
static int node_meminfo(unsigned cell, const char *field, uint64_t *kib)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), SYS_NODE "/node%u/meminfo", cell);
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    int rc = -1;
    size_t flen = strlen(field);
    while (rc < 0 && fgets(line, sizeof(line), f)) {
        const char *p = strchr(line, ' ');
        p = p ? strchr(p + 1, ' ') : NULL; /* past "Node N" */
        if (p && strncmp(p + 1, field, flen) == 0 && p[1 + flen] == ':' &&
            sscanf(p + 2 + flen, "%" SCNu64, kib) == 1)
            rc = 0;
    }
    fclose(f);
    return rc;
}

int hostinfo_cell_memory(unsigned cell, uint64_t *total_kib, uint64_t *free_kib)
{
    if (cell >= count_nodes())
        return err_set("invalid argument: cell %u does not exist (this host has %u)", cell,
                       count_nodes());
    if (node_meminfo(cell, "MemTotal", total_kib) == 0 &&
        node_meminfo(cell, "MemFree", free_kib) == 0)
        return 0;
    if (cell == 0 && host_meminfo_kib("MemTotal", total_kib) == 0 &&
        host_meminfo_kib("MemFree", free_kib) == 0)
        return 0;
    return err_set("cannot read the memory of cell %u", cell);
}

int hostinfo_cell_cpus(unsigned cell, unsigned *ids, size_t max)
{
    char path[64], list[4096];
    snprintf(path, sizeof(path), SYS_NODE "/node%u/cpulist", cell);
    if (read_line(path, list, sizeof(list)) < 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        snprintf(list, sizeof(list), "0-%ld", n > 0 ? n - 1 : 0);
    }
    size_t count = 0;
    for (char *p = list; *p && count < max;) {
        char *end;
        unsigned long a = strtoul(p, &end, 10), b = a;
        if (end == p)
            break;
        if (*end == '-')
            b = strtoul(end + 1, &end, 10);
        for (unsigned long i = a; i <= b && count < max; i++)
            ids[count++] = (unsigned)i;
        p = *end == ',' ? end + 1 : end;
    }
    return (int)count;
}

int hostinfo_cpu_times(int cpu, struct hostinfo_cpu_times *out)
{
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return err_errno("cannot read /proc/stat");
    char want[32], line[512];
    if (cpu < 0)
        snprintf(want, sizeof(want), "cpu ");
    else
        snprintf(want, sizeof(want), "cpu%d ", cpu);
    uint64_t v[8] = {0};
    bool found = false;
    while (!found && fgets(line, sizeof(line), f))
        found = strncmp(line, want, strlen(want)) == 0 &&
                sscanf(line + strlen(want),
                       "%" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
                       " %" SCNu64,
                       &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]) == 7;
    fclose(f);
    if (!found)
        return err_set("invalid argument: CPU %d does not exist", cpu);
    long hz = sysconf(_SC_CLK_TCK);
    uint64_t ns = 1000000000ull / (uint64_t)(hz > 0 ? hz : 100);
    out->user = (v[0] + v[1]) * ns;
    out->system = (v[2] + v[5] + v[6]) * ns;
    out->idle = v[3] * ns;
    out->iowait = v[4] * ns;
    return 0;
}

int hostinfo_dmi(const char *field, char *buf, size_t len)
{
    char path[128];
    snprintf(path, sizeof(path), "/sys/class/dmi/id/%s", field);
    if (read_line(path, buf, len) < 0 || !buf[0])
        return -1;
    return 0;
}
