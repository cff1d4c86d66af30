/* hostname, uri, maxvcpus, sysinfo: what this host is, as virsh's host
 * verbs answer. tvm has no daemon: its URI names the inventory it uses. */
#include "core/cmd/cmd.h"
#include "core/base/err.h"
#include "core/base/host.h"
#include "core/base/hostinfo.h"
#include "core/model/domain.h"
#include "core/xml/xml-util.h"

#include <limits.h>
#include <string.h>
#include <unistd.h>

static enum cmd_result hostname_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    (void)args;
    char name[HOST_NAME_MAX + 1];
    if (gethostname(name, sizeof(name)) < 0) {
        err_errno("cannot get the host name");
        return CMD_ERROR;
    }
    name[HOST_NAME_MAX] = '\0';
    fprintf(ctx->out, "%s\n\n", name);
    return CMD_OK;
}

/* As libvirt's qemu driver names its two instances: the system one for
 * root, a session per user. */
static enum cmd_result uri_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    (void)args;
    fprintf(ctx->out, "tvm:///%s\n\n", geteuid() == 0 ? "system" : "session");
    return CMD_OK;
}

/* The lower of tvm-vmm's limit and KVM's; tvm-vmm's alone when KVM cannot
 * be asked (no /dev/kvm here), as define checks against it either way. */
static enum cmd_result maxvcpus_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    const char *type = cmd_get(args, "type");
    if (type && strcmp(type, "kvm") != 0) {
        err_set("invalid argument: unknown virttype: %s (tvm runs kvm guests)", type);
        return CMD_ERROR;
    }
    int kvm = host_kvm_max_vcpus();
    err_clear();
    unsigned n = kvm > 0 && (unsigned)kvm < DOMAIN_MAX_VCPUS ? (unsigned)kvm : DOMAIN_MAX_VCPUS;
    fprintf(ctx->out, "%u\n\n", n);
    return CMD_OK;
}

struct dmi_field {
    const char *file, *entry;
};
struct dmi_section {
    const char *element;
    const struct dmi_field *fields;
    size_t n;
};

static const struct dmi_field bios_fields[] = {{"bios_vendor", "vendor"},
                                               {"bios_version", "version"},
                                               {"bios_date", "date"},
                                               {"bios_release", "release"}};
static const struct dmi_field system_fields[] = {
    {"sys_vendor", "manufacturer"}, {"product_name", "product"}, {"product_version", "version"},
    {"product_serial", "serial"},   {"product_uuid", "uuid"},    {"product_sku", "sku"},
    {"product_family", "family"}};
static const struct dmi_field board_fields[] = {{"board_vendor", "manufacturer"},
                                                {"board_name", "product"},
                                                {"board_version", "version"},
                                                {"board_serial", "serial"},
                                                {"board_asset_tag", "asset"}};
static const struct dmi_field chassis_fields[] = {{"chassis_vendor", "manufacturer"},
                                                  {"chassis_version", "version"},
                                                  {"chassis_serial", "serial"},
                                                  {"chassis_asset_tag", "asset"}};
#define DMI_SECTION(el, f)                                                                         \
    {                                                                                              \
        el, f, sizeof(f) / sizeof(f[0])                                                            \
    }
static const struct dmi_section dmi_sections[] = {
    DMI_SECTION("bios", bios_fields), DMI_SECTION("system", system_fields),
    DMI_SECTION("baseBoard", board_fields), DMI_SECTION("chassis", chassis_fields)};

/* One section's readable fields; returns how many were printed. */
static int sysinfo_section(FILE *o, const struct dmi_section *s)
{
    int printed = 0;
    char value[256];
    for (size_t i = 0; i < s->n; i++) {
        if (hostinfo_dmi(s->fields[i].file, value, sizeof(value)) < 0)
            continue;
        if (!printed++)
            fprintf(o, "  <%s>\n", s->element);
        fprintf(o, "    <entry name='%s'>", s->fields[i].entry);
        xml_put_escaped(o, value, false);
        fputs("</entry>\n", o);
    }
    if (printed)
        fprintf(o, "  </%s>\n", s->element);
    return printed;
}

static enum cmd_result sysinfo_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    (void)args;
    char probe[8];
    if (hostinfo_dmi("bios_vendor", probe, sizeof(probe)) < 0 &&
        hostinfo_dmi("sys_vendor", probe, sizeof(probe)) < 0) {
        err_set("this host shows no SMBIOS data (/sys/class/dmi/id is missing or empty)");
        return CMD_ERROR;
    }
    fputs("<sysinfo type='smbios'>\n", ctx->out);
    for (size_t i = 0; i < sizeof(dmi_sections) / sizeof(dmi_sections[0]); i++)
        sysinfo_section(ctx->out, &dmi_sections[i]);
    fputs("</sysinfo>\n\n", ctx->out);
    return CMD_OK;
}

const struct cmd_entry cmd_hostname_entry = {
    .name = "hostname",
    .usage = "hostname",
    .summary = "print the host's name",
    .opts = "",
    .max_args = 0,
    .exec = hostname_exec,
};

const struct cmd_entry cmd_uri_entry = {
    .name = "uri",
    .usage = "uri",
    .summary = "print the connection URI (tvm:///system as root, tvm:///session otherwise)",
    .opts = "",
    .max_args = 0,
    .exec = uri_exec,
};

const struct cmd_entry cmd_maxvcpus_entry = {
    .name = "maxvcpus",
    .usage = "maxvcpus [--type kvm]",
    .summary = "the most vCPUs a guest may have on this host",
    .opts = "type=",
    .max_args = 0,
    .exec = maxvcpus_exec,
};

const struct cmd_entry cmd_sysinfo_entry = {
    .name = "sysinfo",
    .usage = "sysinfo",
    .summary = "the host's SMBIOS identity (firmware, system, board, chassis) as XML",
    .opts = "",
    .max_args = 0,
    .exec = sysinfo_exec,
};
