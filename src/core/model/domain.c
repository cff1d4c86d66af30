/* Domain XML: parse into the typed view, normalise as virsh does, format. */
#include "core/model/domain.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/model/domain-priv.h"
#include "core/base/err.h"
#include "core/xml/units.h"
#include "core/xml/xml-util.h"

const char *domain_state_name(enum domain_state s)
{
    static const char *const names[] = {
        [DOMAIN_NOSTATE] = "no state",     [DOMAIN_RUNNING] = "running",
        [DOMAIN_BLOCKED] = "idle",         [DOMAIN_PAUSED] = "paused",
        [DOMAIN_SHUTDOWN] = "in shutdown", [DOMAIN_SHUTOFF] = "shut off",
        [DOMAIN_CRASHED] = "crashed",      [DOMAIN_PMSUSPENDED] = "pmsuspended",
    };
    if ((unsigned)s < sizeof(names) / sizeof(names[0]))
        return names[s];
    return "unknown";
}

int domain_write_kib(xmlNodePtr node, uint64_t kib)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRIu64, kib);
    xmlNodeSetContent(node, BAD_CAST buf);
    return xml_set_prop(node, "unit", "KiB");
}

static int parse_identity(struct domain *d, xmlNodePtr root, const char *origin)
{
    if (xml_name_uuid(root, origin, &d->name, d->uuid) < 0)
        return -1;
    xmlNodePtr title = xml_child(root, "title");
    d->title = xml_text(title);
    if (d->title && strchr(d->title, '\n'))
        return xml_err(origin, title, NULL, "must not contain newlines");
    d->description = xml_child_text(root, "description");
    d->is_template = domain_metadata_template(root);
    return 0;
}

/* One of <memory>, <currentMemory>, <maxMemory>: value and unit to KiB. */
static int parse_mem_node(xmlNodePtr n, const char *origin, uint64_t *kib)
{
    char *text = xml_text(n), *unit = xml_prop(n, "unit");
    int rc = units_parse_memory_kib(text, unit, kib);
    if (rc < 0)
        xml_err(origin, n, NULL, "%s", err_msg());
    free(text);
    free(unit);
    return rc < 0 ? -1 : domain_write_kib(n, *kib);
}

static int parse_memory(struct domain *d, xmlNodePtr root, const char *origin)
{
    xmlNodePtr mem = xml_child(root, "memory");
    if (!mem)
        return xml_err(origin, root, "memory", "missing");
    if (parse_mem_node(mem, origin, &d->memory_kib) < 0)
        return -1;
    if (d->memory_kib == 0)
        return xml_err(origin, mem, NULL, "must be at least 1 KiB");

    xmlNodePtr cur = xml_child(root, "currentMemory");
    if (cur) {
        if (parse_mem_node(cur, origin, &d->current_memory_kib) < 0)
            return -1;
    } else {
        cur = xmlNewDocNode(root->doc, NULL, BAD_CAST "currentMemory", NULL);
        xml_insert_after(root, mem, cur);
    }
    /* libvirt caps the balloon at the boot size, and treats 0 as "all". */
    if (d->current_memory_kib == 0 || d->current_memory_kib > d->memory_kib)
        d->current_memory_kib = d->memory_kib;
    domain_write_kib(cur, d->current_memory_kib);

    xmlNodePtr max = xml_child(root, "maxMemory");
    if (max) {
        if (parse_mem_node(max, origin, &d->max_memory_kib) < 0)
            return -1;
        if (d->max_memory_kib < d->memory_kib)
            return xml_err(origin, max, NULL, "must be at least <memory> (%" PRIu64 " KiB)",
                           d->memory_kib);
        char *slots = xml_prop(max, "slots");
        uint64_t v = 0;
        int rc = slots ? xml_parse_u64(slots, UINT32_MAX, &v) : 0;
        if (rc < 0)
            xml_err(origin, max, "maxMemory slots", "invalid value '%s'", slots);
        free(slots);
        if (rc < 0)
            return -1;
        d->max_memory_slots = (unsigned)v;
    }
    return 0;
}

static int parse_vcpu(struct domain *d, xmlNodePtr root, const char *origin)
{
    xmlNodePtr vcpu = xml_child(root, "vcpu");
    if (!vcpu) {
        /* libvirt's default, written out as virsh would show it. */
        vcpu = xml_set_child_text(root, "vcpu", "1", xml_child(root, "currentMemory"));
    }
    char *text = xml_text(vcpu);
    uint64_t n = 0;
    /* Any count parses, as in libvirt; what a guest may have is
     * domain_check_runnable()'s to say, naming the limit. */
    int rc = xml_parse_u64(text, UINT_MAX, &n);
    if (rc < 0)
        xml_err(origin, vcpu, NULL, "invalid value '%s'", text);
    else if (n < 1)
        rc = xml_err(origin, vcpu, NULL, "must be at least 1");
    free(text);
    if (rc < 0)
        return -1;
    d->vcpus = d->vcpus_current = (unsigned)n;

    char *current = xml_prop(vcpu, "current");
    if (current) {
        rc = xml_parse_u64(current, UINT_MAX, &n);
        if (rc < 0)
            xml_err(origin, vcpu, "vcpu current", "invalid value '%s'", current);
        else if (n < 1 || n > d->vcpus)
            rc = xml_err(origin, vcpu, "vcpu current", "must be between 1 and %u, not %s", d->vcpus,
                         current);
        free(current);
        if (rc < 0)
            return -1;
        d->vcpus_current = (unsigned)n;
        if (d->vcpus_current == d->vcpus) /* virsh omits a current equal to the maximum */
            xmlUnsetProp(vcpu, BAD_CAST "current");
    }
    d->vcpu_placement = xml_prop(vcpu, "placement");
    if (!d->vcpu_placement) {
        d->vcpu_placement = strdup("static");
        xml_set_prop_after(vcpu, "placement", "static", NULL);
    }
    static const char *const placements[] = {"static", "auto", NULL};
    if (!xml_in_list(d->vcpu_placement, placements))
        return xml_err(origin, vcpu, "vcpu placement", "invalid value '%s'", d->vcpu_placement);
    return 0;
}

static int parse_topology_attr(xmlNodePtr topo, const char *attr, const char *origin, unsigned *out)
{
    char *v = xml_prop(topo, attr);
    uint64_t n = 0;
    int rc = 0;
    if (v && (xml_parse_u64(v, 65535, &n) < 0 || n < 1)) {
        char what[32];
        snprintf(what, sizeof(what), "topology %s", attr);
        rc = xml_err(origin, topo, what, "invalid value '%s'", v);
    }
    free(v);
    *out = (unsigned)n;
    return rc;
}

static int parse_cpu(struct domain *d, xmlNodePtr root, const char *origin)
{
    xmlNodePtr cpu = xml_child(root, "cpu");
    if (!cpu)
        return 0;
    d->cpu_mode = xml_prop(cpu, "mode");
    static const char *const modes[] = {"custom", "host-model", "host-passthrough", "maximum",
                                        NULL};
    if (d->cpu_mode && !xml_in_list(d->cpu_mode, modes))
        return xml_err(origin, cpu, "cpu mode", "invalid value '%s'", d->cpu_mode);
    d->cpu_model = xml_child_text(cpu, "model");
    if (domain_cpu_fallback_default(cpu) < 0)
        return -1;
    xmlNodePtr topo = xml_child(cpu, "topology");
    if (!topo)
        return 0;
    if (parse_topology_attr(topo, "sockets", origin, &d->cpu_sockets) < 0 ||
        parse_topology_attr(topo, "dies", origin, &d->cpu_dies) < 0 ||
        parse_topology_attr(topo, "cores", origin, &d->cpu_cores) < 0 ||
        parse_topology_attr(topo, "threads", origin, &d->cpu_threads) < 0)
        return -1;
    if (d->cpu_sockets && d->cpu_cores && d->cpu_threads) {
        uint64_t total = (uint64_t)d->cpu_sockets * (d->cpu_dies ? d->cpu_dies : 1) * d->cpu_cores *
                         d->cpu_threads;
        if (total != d->vcpus)
            return xml_err(origin, topo, "topology",
                           "%" PRIu64 " CPUs in the topology, but <vcpu> is %u", total, d->vcpus);
    }
    return 0;
}

/* <bootmenu enable='yes|no' timeout='MS'/>: libvirt allows 0-65535 ms. */
static int parse_bootmenu(struct domain *d, xmlNodePtr os, const char *origin)
{
    d->os_bootmenu_timeout = -1;
    xmlNodePtr m = xml_child(os, "bootmenu");
    if (!m)
        return 0;
    char *en = xml_prop(m, "enable"), *tmo = xml_prop(m, "timeout");
    int rc = 0;
    if (!en || xml_parse_yesno(en, &d->os_bootmenu) < 0)
        rc = xml_err(origin, m, "bootmenu enable", "invalid value '%s' (yes or no)", en ? en : "");
    else if (tmo && xml_parse_int(tmo, 0, 65535, &d->os_bootmenu_timeout) < 0)
        rc = xml_err(origin, m, "bootmenu timeout", "invalid value '%s' (0-65535 ms)", tmo);
    free(en);
    free(tmo);
    return rc;
}

static int parse_os(struct domain *d, xmlNodePtr root, const char *origin)
{
    xmlNodePtr os = xml_child(root, "os");
    if (!os)
        return xml_err(origin, root, "os", "missing");
    xmlNodePtr type = xml_child(os, "type");
    if (!type)
        return xml_err(origin, os, "type", "missing");
    d->os_type = xml_text(type);
    if (!d->os_type || !*d->os_type)
        return xml_err(origin, type, "os type", "must not be empty");
    d->os_arch = xml_prop(type, "arch");
    d->os_machine = xml_prop(type, "machine");
    d->os_kernel = xml_child_text(os, "kernel");
    d->os_initrd = xml_child_text(os, "initrd");
    d->os_cmdline = xml_child_text(os, "cmdline");
    d->os_loader = xml_child_text(os, "loader");
    d->os_loader_type = xml_child_prop(os, "loader", "type");
    d->os_firmware = xml_prop(os, "firmware");
    if (parse_bootmenu(d, os, origin) < 0)
        return -1;
    static const char *const devs[] = {"hd", "cdrom", "network", "fd", NULL};
    for (xmlNodePtr b = xml_child(os, "boot"); b; b = xml_next(b, "boot")) {
        char *dev = xml_prop(b, "dev");
        if (!xml_in_list(dev, devs)) {
            xml_err(origin, b, "boot dev", "invalid value '%s'", dev ? dev : "");
            free(dev);
            return -1;
        }
        if (d->os_nboot == sizeof(d->os_boot) / sizeof(d->os_boot[0])) {
            free(dev);
            return xml_err(origin, b, "boot", "at most 4 boot devices");
        }
        d->os_boot[d->os_nboot++] = dev;
    }
    return 0;
}

/* Insert `n` after the first of `preds` present in root (else at the end):
 * how defaults land where virsh would print them. */
static xmlNodePtr insert_after_first(xmlNodePtr root, xmlNodePtr n, const char *const *preds)
{
    xmlNodePtr after = NULL;
    for (; *preds && !after; preds++)
        after = xml_child(root, *preds);
    if (after)
        return xmlAddNextSibling(after, n);
    return xmlAddChild(root, n);
}

/* Absent lifecycle actions get libvirt's defaults. In libvirt's order
 * on_crash follows on_reboot, which follows on_poweroff, then <clock> ... */
static xmlNodePtr lifecycle_default(xmlNodePtr root, const char *elem, const char *value)
{
    static const char *const before[] = {"on_reboot", "on_poweroff", "clock", "features",
                                         "cpu",       "os",          "vcpu",  NULL};
    size_t start = !strcmp(elem, "on_crash") ? 0 : !strcmp(elem, "on_reboot") ? 1 : 2;
    xmlNodePtr n = xmlNewDocNode(root->doc, NULL, BAD_CAST elem, BAD_CAST value);
    return insert_after_first(root, n, before + start);
}

static int parse_lifecycle(char **out, xmlNodePtr root, const char *elem, const char *origin)
{
    static const char *const actions[] = {
        "destroy",          "restart",          "preserve", "rename-restart",
        "coredump-destroy", "coredump-restart", NULL};
    xmlNodePtr n = xml_child(root, elem);
    if (!n)
        n = lifecycle_default(root, elem, strcmp(elem, "on_reboot") ? "destroy" : "restart");
    *out = xml_text(n);
    bool crash_only = *out && !strncmp(*out, "coredump-", 9);
    if (!xml_in_list(*out, actions) || (crash_only && strcmp(elem, "on_crash")))
        return xml_err(origin, n, NULL, "invalid value '%s'", *out ? *out : "");
    return 0;
}

static int parse_misc(struct domain *d, xmlNodePtr root, const char *origin)
{
    xmlNodePtr features = xml_child(root, "features");
    d->acpi = xml_child(features, "acpi") != NULL;
    d->apic = xml_child(features, "apic") != NULL;
    xmlNodePtr clock = xml_child(root, "clock");
    if (!clock) { /* libvirt's default */
        static const char *const before[] = {"features", "cpu", "os", "vcpu", NULL};
        clock = insert_after_first(root, xmlNewDocNode(root->doc, NULL, BAD_CAST "clock", NULL),
                                   before);
        xml_set_prop(clock, "offset", "utc");
    }
    d->clock_offset = xml_prop(clock, "offset");
    static const char *const offsets[] = {"utc",      "localtime", "timezone",
                                          "variable", "absolute",  NULL};
    if (d->clock_offset && !xml_in_list(d->clock_offset, offsets))
        return xml_err(origin, clock, "clock offset", "invalid value '%s'", d->clock_offset);
    if (parse_lifecycle(&d->on_poweroff, root, "on_poweroff", origin) < 0 ||
        parse_lifecycle(&d->on_reboot, root, "on_reboot", origin) < 0 ||
        parse_lifecycle(&d->on_crash, root, "on_crash", origin) < 0)
        return -1;
    return 0;
}

static int parse_type(struct domain *d, xmlNodePtr root, const char *origin)
{
    /* The id of a running domain is state, not definition (virsh define
     * ignores it as well). */
    xmlUnsetProp(root, BAD_CAST "id");
    d->type = xml_prop(root, "type");
    if (!d->type)
        return xml_err(origin, root, "domain type", "missing");
    static const char *const types[] = {"kvm", "qemu", "test", NULL};
    if (!xml_in_list(d->type, types))
        return xml_err(origin, root, "domain type", "unsupported value '%s' (kvm, qemu or test)",
                       d->type);
    return 0;
}

static bool ns_used(xmlNodePtr n, xmlNsPtr ns)
{
    for (; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE)
            continue;
        if (n->ns == ns)
            return true;
        for (xmlAttrPtr a = n->properties; a; a = a->next)
            if (a->ns == ns)
                return true;
        if (ns_used(n->children, ns))
            return true;
    }
    return false;
}

/* libvirt keeps no namespace declarations of its own on <domain> (its
 * metadata's namespaces sit on the metadata's elements): those that no
 * element or attribute uses are dropped. */
static void drop_unused_ns(xmlNodePtr root)
{
    xmlNsPtr *link = &root->nsDef;
    while (*link) {
        xmlNsPtr ns = *link;
        if (ns_used(root, ns)) {
            link = &ns->next;
            continue;
        }
        *link = ns->next;
        ns->next = NULL;
        xmlFreeNs(ns);
    }
}

int domain_parse(const char *xml, size_t len, const char *origin, struct domain **out)
{
    *out = NULL;
    if (!origin)
        origin = "<domain>";
    xmlDocPtr doc = xml_read(xml, len, origin, "domain");
    if (!doc)
        return -1;
    struct domain *d = calloc(1, sizeof(*d));
    if (!d) {
        xmlFreeDoc(doc);
        return err_set("%s: out of memory", origin);
    }
    d->doc = doc;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    drop_unused_ns(root);
    if (parse_type(d, root, origin) < 0 || parse_identity(d, root, origin) < 0 ||
        parse_memory(d, root, origin) < 0 || parse_vcpu(d, root, origin) < 0 ||
        parse_cpu(d, root, origin) < 0 || parse_os(d, root, origin) < 0 ||
        parse_misc(d, root, origin) < 0 ||
        domain_parse_devices(d, xml_child(root, "devices"), origin) < 0 ||
        domain_boot_default(d, root) < 0) {
        domain_free(d);
        return -1;
    }
    *out = d;
    return 0;
}

char *domain_format(const struct domain *d)
{
    return xml_format_doc(d->doc);
}

/* Formats DOC without the secrets virsh hides (graphics passwd). */
static char *format_public(xmlDocPtr doc)
{
    xmlDocPtr copy = xmlCopyDoc(doc, 1);
    if (!copy)
        return err_set("cannot format XML: out of memory"), NULL;
    xmlNodePtr devices = xml_child(xmlDocGetRootElement(copy), "devices");
    for (xmlNodePtr g = xml_child(devices, "graphics"); g; g = xml_next(g, "graphics"))
        xmlUnsetProp(g, BAD_CAST "passwd");
    char *out = xml_format_doc(copy);
    xmlFreeDoc(copy);
    return out;
}

char *domain_format_public(const struct domain *d)
{
    return format_public(d->doc);
}

char *domain_xml_public(const char *xml, const char *origin)
{
    xmlDocPtr doc = xml_read(xml, strlen(xml), origin, "domain");
    if (!doc)
        return NULL;
    char *out = format_public(doc);
    xmlFreeDoc(doc);
    return out;
}

void domain_free(struct domain *d)
{
    if (!d)
        return;
    char **strings[] = {&d->name,           &d->title,      &d->description,    &d->type,
                        &d->vcpu_placement, &d->cpu_mode,   &d->cpu_model,      &d->os_type,
                        &d->os_arch,        &d->os_machine, &d->os_kernel,      &d->os_initrd,
                        &d->os_cmdline,     &d->os_loader,  &d->clock_offset,   &d->on_poweroff,
                        &d->on_reboot,      &d->on_crash,   &d->os_loader_type, &d->os_firmware};
    for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
        free(*strings[i]);
    for (unsigned i = 0; i < d->os_nboot; i++)
        free(d->os_boot[i]);
    domain_free_devices(d);
    xmlFreeDoc(d->doc);
    free(d);
}
