/* capabilities.h: two documents written from facts, never from a template
 * copied off another host. */
#include "core/model/capabilities.h"
#include "core/model/domain.h"

#include "core/base/err.h"
#include "core/base/hostinfo.h"
#include "core/xml/xml-util.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CAPS_MAX_CPUS 4096

/* The machine type guests get, as libvirt lists for a PC. */
#define CAPS_MACHINE "pc"

static char *stream_close(FILE *f, char **buf)
{
    if (ferror(f)) {
        fclose(f);
        free(*buf);
        return err_set("out of memory"), NULL;
    }
    fclose(f);
    return *buf;
}

static void host_cell(FILE *f, unsigned cell, const struct hostinfo_cpu *c)
{
    uint64_t total = 0, free_kib = 0;
    hostinfo_cell_memory(cell, &total, &free_kib);
    err_clear();
    static unsigned ids[CAPS_MAX_CPUS];
    int n = hostinfo_cell_cpus(cell, ids, CAPS_MAX_CPUS);
    fprintf(f, "        <cell id='%u'>\n          <memory unit='KiB'>%" PRIu64 "</memory>\n", cell,
            total);
    fprintf(f, "          <cpus num='%d'>\n", n);
    unsigned per_socket = c->cores_per_socket * c->threads_per_core;
    for (int i = 0; i < n; i++)
        fprintf(f,
                "            <cpu id='%u' socket_id='%u' die_id='0' core_id='%u' siblings='%u'/>\n",
                ids[i], per_socket ? ids[i] / per_socket : 0,
                per_socket ? ids[i] % per_socket : ids[i], ids[i]);
    fputs("          </cpus>\n        </cell>\n", f);
}

static void guest_arch(FILE *f, const char *arch, const char *vmm_path)
{
    fprintf(f,
            "  <guest>\n    <os_type>hvm</os_type>\n    <arch name='%s'>\n"
            "      <wordsize>%d</wordsize>\n      <emulator>",
            arch, strcmp(arch, "x86_64") == 0 ? 64 : 32);
    xml_put_escaped(f, vmm_path, false);
    fprintf(f,
            "</emulator>\n      <machine maxCpus='%u'>%s</machine>\n"
            "      <domain type='kvm'/>\n    </arch>\n"
            "    <features>\n      <acpi default='on' toggle='yes'/>\n"
            "      <apic default='on' toggle='no'/>\n    </features>\n  </guest>\n\n",
            DOMAIN_MAX_VCPUS, CAPS_MACHINE);
}

char *capabilities_format(const char *vmm_path, bool kvm_usable)
{
    struct hostinfo_cpu c;
    if (hostinfo_cpu(&c) < 0)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return err_set("out of memory"), NULL;
    fprintf(f, "<capabilities>\n\n  <host>\n    <cpu>\n      <arch>%s</arch>\n", c.arch);
    if (c.vendor[0])
        fprintf(f, "      <vendor>%s</vendor>\n", c.vendor);
    fprintf(f,
            "      <topology sockets='%u' dies='1' cores='%u' threads='%u'/>\n"
            "      <pages unit='KiB' size='4'/>\n      <pages unit='KiB' size='2048'/>\n"
            "    </cpu>\n    <power_management/>\n    <iommu support='no'/>\n"
            "    <topology>\n      <cells num='%u'>\n",
            c.sockets, c.cores_per_socket, c.threads_per_core, c.cells);
    for (unsigned i = 0; i < c.cells; i++)
        host_cell(f, i, &c);
    fputs("      </cells>\n    </topology>\n  </host>\n\n", f);
    /* A host without usable KVM runs no guest: libvirt lists none then. */
    if (kvm_usable) {
        guest_arch(f, "i686", vmm_path);
        if (strcmp(c.arch, "x86_64") == 0)
            guest_arch(f, "x86_64", vmm_path);
    }
    fputs("</capabilities>\n", f);
    return stream_close(f, &buf);
}

/* One <enum name=...> with its values. */
static void caps_enum(FILE *f, const char *indent, const char *name, const char *const *values)
{
    fprintf(f, "%s<enum name='%s'>\n", indent, name);
    for (size_t i = 0; values[i]; i++)
        fprintf(f, "%s  <value>%s</value>\n", indent, values[i]);
    fprintf(f, "%s</enum>\n", indent);
}

/* What tvm-vmm's devices are: kept beside domain_check_runnable(), the
 * same facts seen from the other side. */
static const char *const disk_devices[] = {"disk", "cdrom", NULL};
static const char *const disk_buses[] = {"virtio", "scsi", NULL};
static const char *const graphics_types[] = {"vnc", NULL};
static const char *const video_models[] = {"vga", "none", NULL};
static const char *const rng_models[] = {"virtio", NULL};
static const char *const rng_backends[] = {"random", NULL};
static const char *const loader_types[] = {"rom", NULL};
static const char *const yes_only[] = {"yes", NULL};
static const char *const firmwares[] = {"bios", NULL};

static void domcaps_devices(FILE *f)
{
    const char *in = "      ";
    fputs("  <devices>\n    <disk supported='yes'>\n", f);
    caps_enum(f, in, "diskDevice", disk_devices);
    caps_enum(f, in, "bus", disk_buses);
    fputs("    </disk>\n    <graphics supported='yes'>\n", f);
    caps_enum(f, in, "type", graphics_types);
    fputs("    </graphics>\n    <video supported='yes'>\n", f);
    caps_enum(f, in, "modelType", video_models);
    fputs("    </video>\n    <hostdev supported='no'/>\n    <rng supported='yes'>\n", f);
    caps_enum(f, in, "model", rng_models);
    caps_enum(f, in, "backendModel", rng_backends);
    fputs("    </rng>\n    <filesystem supported='no'/>\n  </devices>\n", f);
}

char *domcapabilities_format(const char *vmm_path, const char *arch, const char *virttype,
                             const char *bios_path)
{
    struct hostinfo_cpu c;
    if (hostinfo_cpu(&c) < 0)
        return NULL;
    if (!arch)
        arch = c.arch;
    if (strcmp(arch, "x86_64") != 0 && strcmp(arch, "i686") != 0)
        return err_set("invalid argument: tvm-vmm runs x86_64 and i686 guests, not arch '%s'",
                       arch),
               NULL;
    if (virttype && strcmp(virttype, "kvm") != 0)
        return err_set("invalid argument: unknown virttype: %s (tvm runs kvm guests)", virttype),
               NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return err_set("out of memory"), NULL;
    fputs("<domainCapabilities>\n  <path>", f);
    xml_put_escaped(f, vmm_path, false);
    fprintf(f,
            "</path>\n  <domain>kvm</domain>\n  <machine>%s</machine>\n  <arch>%s</arch>\n"
            "  <vcpu max='%u'/>\n  <iothreads supported='no'/>\n  <os supported='yes'>\n",
            CAPS_MACHINE, arch, DOMAIN_MAX_VCPUS);
    caps_enum(f, "    ", "firmware", firmwares);
    fputs("    <loader supported='yes'>\n      <value>", f);
    xml_put_escaped(f, bios_path, false);
    fputs("</value>\n", f);
    caps_enum(f, "      ", "type", loader_types);
    caps_enum(f, "      ", "readonly", yes_only);
    fputs("    </loader>\n  </os>\n  <cpu>\n    <mode name='host-passthrough' supported='yes'/>\n"
          "    <mode name='maximum' supported='no'/>\n    <mode name='host-model' "
          "supported='no'/>\n    <mode name='custom' supported='no'/>\n  </cpu>\n",
          f);
    domcaps_devices(f);
    fputs("  <features>\n    <gic supported='no'/>\n    <vmcoreinfo supported='no'/>\n"
          "    <genid supported='no'/>\n    <sev supported='no'/>\n  </features>\n"
          "</domainCapabilities>\n",
          f);
    return stream_close(f, &buf);
}
