/* The defaults libvirt fills into a domain's devices, written into the
 * document the way virsh shows an inactive definition, so that what tvm
 * stores and prints matches what libvirt would. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/model/domain-priv.h"
#include "core/base/err.h"
#include "core/xml/xml-util.h"

/* libvirt's defaults, written into the document as virsh shows them:
 * device 'disk', and a bus named by the target's prefix (vda: virtio ...). */
int domain_disk_defaults(struct domain_disk *disk, xmlNodePtr n, xmlNodePtr target)
{
    if (!disk->device) {
        disk->device = strdup("disk");
        if (!disk->device || xml_set_prop(n, "device", "disk") < 0)
            return err_set("out of memory");
    }
    static const struct {
        const char *prefix, *bus;
    } buses[] = {{"vd", "virtio"}, {"sd", "scsi"}, {"hd", "ide"}, {"fd", "fdc"}};
    for (size_t i = 0; !disk->target_bus && i < sizeof(buses) / sizeof(buses[0]); i++) {
        if (strncmp(disk->target_dev, buses[i].prefix, 2) != 0)
            continue;
        disk->target_bus = strdup(buses[i].bus);
        if (!disk->target_bus || xml_set_prop(target, "bus", buses[i].bus) < 0)
            return err_set("out of memory");
    }
    return 0;
}

/* As virsh shows an inactive definition: autoport spelled out (and no
 * port when it is automatic), the listen address also as a <listen> child. */
int domain_graphics_defaults(const struct domain_graphics *g, xmlNodePtr n)
{
    if (strcmp(g->type, "vnc") && strcmp(g->type, "spice"))
        return 0;
    /* virsh writes port='-1' for an automatic VNC port, no port for SPICE. */
    if (g->autoport && !strcmp(g->type, "vnc")) {
        if (xml_set_prop_after(n, "port", "-1", "type") < 0)
            return -1;
    } else if (g->autoport) {
        xmlUnsetProp(n, BAD_CAST "port");
        char *tls = xml_prop(n, "tlsPort");
        if (tls && !strcmp(tls, "-1"))
            xmlUnsetProp(n, BAD_CAST "tlsPort");
        free(tls);
    }
    if (xml_set_prop_after(n, "autoport", g->autoport ? "yes" : "no",
                           xmlHasProp(n, BAD_CAST "port") ? "port" : "type") < 0)
        return -1;
    /* no listen address at all: libvirt still writes an address listen */
    if (!g->listen && !xml_child(n, "listen")) {
        xmlNodePtr l =
            xml_insert_after(n, NULL, xmlNewDocNode(n->doc, NULL, BAD_CAST "listen", NULL));
        if (!l || xml_set_prop(l, "type", "address") < 0)
            return err_set("out of memory");
    }
    if (g->listen && !xml_child(n, "listen")) {
        xmlNodePtr l =
            xml_insert_after(n, NULL, xmlNewDocNode(n->doc, NULL, BAD_CAST "listen", NULL));
        if (!l || xml_set_prop(l, "type", "address") < 0 ||
            xml_set_prop(l, "address", g->listen) < 0)
            return err_set("out of memory");
    }
    return 0;
}

/* A <serial> without a target port gets the next one, as libvirt numbers them. */
int domain_serial_port(struct domain *d, xmlNodePtr n)
{
    xmlNodePtr target = xml_child(n, "target");
    if (!xml_is(n, "serial") || xmlHasProp(target, BAD_CAST "port"))
        return 0;
    int port = 0;
    for (size_t i = 0; i < d->nchardevs; i++)
        if (!strcmp(d->chardevs[i].element, "serial") && d->chardevs[i].target_port >= port)
            port = d->chardevs[i].target_port + 1;
    if (!target)
        target = xmlNewChild(n, NULL, BAD_CAST "target", NULL);
    char buf[16];
    snprintf(buf, sizeof(buf), "%d", port);
    if (!target || xml_set_prop(target, "port", buf) < 0)
        return err_set("out of memory");
    return 0;
}

/* libvirt gives a controller without an index the lowest one its type
 * does not use yet. */
int domain_controller_index(struct domain_device *dev, xmlNodePtr n)
{
    /* USB companions (<master startport=...>) share their master's index:
     * the last USB controller before them that is not a companion. */
    if (xml_child(n, "master") && dev->type && !strcmp(dev->type, "usb")) {
        int idx = 0;
        for (xmlNodePtr c = xml_child(n->parent, "controller"); c && c != n;
             c = xml_next(c, "controller")) {
            char *type = xml_prop(c, "type"), *i = xml_prop(c, "index");
            if (type && !strcmp(type, "usb") && !xml_child(c, "master") && i)
                xml_parse_int(i, 0, 65535, &idx);
            free(type);
            free(i);
        }
        char buf[16];
        snprintf(buf, sizeof(buf), "%d", idx);
        dev->index = idx;
        return xml_set_prop_after(n, "index", buf, "type");
    }
    for (int idx = 0;; idx++) {
        bool used = false;
        for (xmlNodePtr c = xml_child(n->parent, "controller"); c && !used;
             c = xml_next(c, "controller")) {
            char *type = xml_prop(c, "type"), *i = xml_prop(c, "index");
            int v;
            used = c != n && i && xml_parse_int(i, 0, 65535, &v) == 0 && v == idx &&
                   ((!type && !dev->type) || (type && dev->type && !strcmp(type, dev->type)));
            free(type);
            free(i);
        }
        if (!used) {
            char buf[16];
            snprintf(buf, sizeof(buf), "%d", idx);
            dev->index = idx;
            return xml_set_prop_after(n, "index", buf, "type");
        }
    }
}

/* The other way round: serial ports but no console, so the first serial
 * port is also shown as the console, placed after the last serial. */
static int console_add(xmlNodePtr devices)
{
    xmlNodePtr serial = xml_child(devices, "serial"), last = serial;
    if (!serial)
        return 0;
    for (xmlNodePtr s = serial; s; s = xml_next(s, "serial"))
        last = s;
    xmlNodePtr con = xmlCopyNode(serial, 1);
    if (!con)
        return err_set("out of memory");
    xmlNodeSetName(con, BAD_CAST "console");
    xmlNodePtr target = xml_child(con, "target");
    char *port = xml_prop(target, "port");
    xml_remove_children(con, "target");
    target = xmlNewChild(con, NULL, BAD_CAST "target", NULL);
    int rc = target && xml_set_prop(target, "type", "serial") == 0 &&
                     xml_set_prop(target, "port", port ? port : "0") == 0
                 ? 0
                 : err_set("out of memory");
    free(port);
    if (rc == 0 && !xmlAddNextSibling(last, con))
        rc = err_set("out of memory");
    if (rc < 0)
        xmlFreeNode(con);
    return rc;
}

/* libvirt's console compatibility for hvm guests: a console is the first
 * serial port. Its target type defaults to serial, and when there is no
 * <serial> one mirroring the console is added before it. */
int domain_console_compat(struct domain *d, xmlNodePtr devices)
{
    xmlNodePtr con = xml_child(devices, "console");
    if (!d->os_type || strcmp(d->os_type, "hvm"))
        return 0;
    if (!con)
        return console_add(devices);
    xmlNodePtr target = xml_child(con, "target");
    char *type = xml_prop(target, "type");
    bool serial = !type || !strcmp(type, "serial");
    free(type);
    if (!serial)
        return 0;
    if (!target)
        target = xmlNewChild(con, NULL, BAD_CAST "target", NULL);
    if (!target || xml_set_prop(target, "type", "serial") < 0)
        return err_set("out of memory");
    if (!xmlHasProp(target, BAD_CAST "port") && xml_set_prop(target, "port", "0") < 0)
        return -1;
    if (xml_child(devices, "serial"))
        return 0;
    xmlNodePtr copy = xmlCopyNode(con, 1);
    if (!copy)
        return err_set("out of memory");
    xmlNodeSetName(copy, BAD_CAST "serial");
    xmlUnsetProp(xml_child(copy, "target"), BAD_CAST "type");
    /* libvirt keeps serials before consoles. */
    if (!xmlAddPrevSibling(con, copy)) {
        xmlFreeNode(copy);
        return err_set("out of memory");
    }
    return 0;
}

static bool any_boot_order(const struct domain *d)
{
    for (size_t i = 0; i < d->ndisks; i++)
        if (d->disks[i].boot_order)
            return true;
    for (size_t i = 0; i < d->nnics; i++)
        if (d->nics[i].boot_order)
            return true;
    return false;
}

/* libvirt boots an hvm guest from its disk when neither <os><boot> nor a
 * device's <boot order> says otherwise, and writes that down as
 * <boot dev='hd'/> after the kernel lines, as tvm-vmm assumes too. */
int domain_boot_default(struct domain *d, xmlNodePtr root)
{
    if (!d->os_type || strcmp(d->os_type, "hvm") != 0 || d->os_nboot || any_boot_order(d))
        return 0;
    xmlNodePtr os = xml_child(root, "os");
    static const char *const before[] = {"cmdline", "initrd", "kernel", "nvram", "loader", "type"};
    xmlNodePtr after = NULL;
    for (size_t i = 0; os && !after && i < sizeof(before) / sizeof(before[0]); i++)
        after = xml_child(os, before[i]);
    xmlNodePtr boot = os ? xmlNewDocNode(root->doc, NULL, BAD_CAST "boot", NULL) : NULL;
    if (!boot)
        return os ? err_set("out of memory") : 0;
    if (!(after ? xmlAddNextSibling(after, boot) : xmlAddChild(os, boot)) ||
        xml_set_prop(boot, "dev", "hd") < 0 || !(d->os_boot[0] = strdup("hd")))
        return err_set("out of memory");
    d->os_nboot = 1;
    return 0;
}

/* A custom CPU model must match exactly and falls back to one the host can
 * run unless told otherwise: libvirt writes match='exact' and
 * fallback='allow' out. */
int domain_cpu_fallback_default(xmlNodePtr cpu)
{
    xmlNodePtr model = cpu ? xml_child(cpu, "model") : NULL;
    char *mode = cpu ? xml_prop(cpu, "mode") : NULL;
    bool custom = !mode || strcmp(mode, "custom") == 0;
    bool has_mode = mode != NULL;
    free(mode);
    if (!model || !custom)
        return 0;
    if (!xmlHasProp(cpu, BAD_CAST "match") &&
        xml_set_prop_after(cpu, "match", "exact", has_mode ? "mode" : NULL) < 0)
        return err_set("out of memory");
    if (!xmlHasProp(model, BAD_CAST "fallback") && xml_set_prop(model, "fallback", "allow") < 0)
        return err_set("out of memory");
    return 0;
}

/* libvirt keeps a domain's disks grouped by bus, each disk placed as
 * virDomainDiskInsert places it: before the first disk of its bus whose
 * name comes later (sdc before sdd), else after the last of its bus, else
 * at the end. The disks then stand together where the first one was. */
int domain_disks_order(xmlNodePtr devices)
{
    size_t n = xml_count(devices, "disk");
    if (n < 2)
        return 0;
    xmlNodePtr *order = calloc(n, sizeof *order);
    char **bus = calloc(n, sizeof *bus);
    long *index = calloc(n, sizeof *index);
    int rc = order && bus && index ? 0 : err_set("out of memory");
    size_t k = 0;
    for (xmlNodePtr d = xml_child(devices, "disk"); rc == 0 && d; d = xml_next(d, "disk"), k++) {
        char *b = domain_disk_node_bus(d), *dev = xml_child_prop(d, "target", "dev");
        long idx = domain_disk_name_index(dev);
        free(dev);
        long at = -1;
        for (long i = (long)k - 1; i >= 0; i--) {
            bool same = (!b && !bus[i]) || (b && bus[i] && !strcmp(b, bus[i]));
            if (same && index[i] > idx)
                at = i;
            else if (same && at == -1)
                at = i + 1;
        }
        if (at < 0)
            at = (long)k;
        memmove(order + at + 1, order + at, (k - (size_t)at) * sizeof *order);
        memmove(bus + at + 1, bus + at, (k - (size_t)at) * sizeof *bus);
        memmove(index + at + 1, index + at, (k - (size_t)at) * sizeof *index);
        order[at] = d;
        bus[at] = b;
        index[at] = idx;
    }
    /* Re-link them in that order after the first disk's predecessor. */
    xmlNodePtr first = xml_child(devices, "disk");
    xmlNodePtr anchor = rc == 0 ? xmlNewDocNode(devices->doc, NULL, BAD_CAST "anchor", NULL) : NULL;
    if (rc == 0 && (!anchor || !xmlAddPrevSibling(first, anchor)))
        rc = err_set("out of memory");
    for (size_t i = 0; rc == 0 && i < n; i++) {
        xmlUnlinkNode(order[i]);
        xmlAddPrevSibling(anchor, order[i]);
    }
    if (anchor) {
        xmlUnlinkNode(anchor);
        xmlFreeNode(anchor);
    }
    for (size_t i = 0; bus && i < n; i++)
        free(bus[i]);
    free(order);
    free(bus);
    free(index);
    return rc;
}

/* libvirt's video memory in KiB for a model without vram (virDomainVideo
 * DefaultRAM): what QEMU gives each card; 0 writes none. */
static unsigned video_default_vram(const char *type)
{
    static const struct {
        const char *type;
        unsigned kib;
    } defaults[] = {{"vga", 16384},   {"cirrus", 16384}, {"vmvga", 16384},
                    {"bochs", 16384}, {"xen", 4096},     {"qxl", 65536}};
    for (size_t i = 0; type && i < sizeof defaults / sizeof defaults[0]; i++)
        if (!strcmp(type, defaults[i].type))
            return defaults[i].kib;
    return 0;
}

/* A memory size attribute of <model> as libvirt keeps it: rounded up to a
 * power of two, DEF when absent or 0; left alone when it is not a number
 * (parse_video() reports that). */
static int video_size(xmlNodePtr model, const char *attr, unsigned def, const char *after)
{
    char *v = xml_prop(model, attr);
    int kib = 0;
    bool bad = v && xml_parse_int(v, 0, INT32_MAX, &kib) < 0;
    free(v);
    if (bad)
        return 0;
    unsigned size = kib ? 1 : def;
    while (kib && size < (unsigned)kib && size < (1u << 30))
        size <<= 1;
    if (!size)
        return 0;
    char buf[16];
    snprintf(buf, sizeof buf, "%u", size);
    return xml_set_prop_after(model, attr, buf, after);
}

/* The <model> of a <video> as libvirt writes it at define: type cirrus
 * when none is given; ram (qxl) and vram with the card's defaults, rounded
 * up to a power of two (tvm-vmm sizes the framebuffer BAR from vram the
 * same way); heads 1; primary='yes' on the first video device only. */
int domain_video_defaults(xmlNodePtr video)
{
    xmlNodePtr model = xml_child(video, "model");
    if (!model) {
        model = xmlNewDocNode(video->doc, NULL, BAD_CAST "model", NULL);
        if (!model || !xml_insert_after(video, NULL, model))
            return err_set("out of memory");
    }
    if (!xmlHasProp(model, BAD_CAST "type") && xml_set_prop(model, "type", "cirrus") < 0)
        return -1;
    char *type = xml_prop(model, "type");
    if (!type)
        return err_set("out of memory");
    bool none = !strcmp(type, "none"), qxl = !strcmp(type, "qxl");
    unsigned vram = video_default_vram(type);
    free(type);
    if (none)
        return 0;
    if ((qxl && video_size(model, "ram", 65536, "type") < 0) ||
        video_size(model, "vram", vram, qxl ? "ram" : "type") < 0)
        return -1;
    /* the rest in libvirt's order: vram64, vgamem, heads, primary */
    const char *last = xmlHasProp(model, BAD_CAST "vram") ? "vram" : qxl ? "ram" : "type";
    static const char *const then[] = {"vram64", "vgamem"};
    for (size_t i = 0; i < 2; i++) {
        char *v = xml_prop(model, then[i]);
        int rc = v ? xml_set_prop_after(model, then[i], v, last) : 0;
        free(v);
        if (rc < 0)
            return -1;
        if (xmlHasProp(model, BAD_CAST then[i]))
            last = then[i];
    }
    char *heads = xml_prop(model, "heads");
    int rc = 0;
    if (heads && !strcmp(heads, "0"))
        xmlUnsetProp(model, BAD_CAST "heads");
    else
        rc = xml_set_prop_after(model, "heads", heads ? heads : "1", last);
    free(heads);
    if (rc < 0)
        return -1;
    if (xmlHasProp(model, BAD_CAST "heads"))
        last = "heads";
    bool first = xml_child(video->parent, "video") == video;
    xmlUnsetProp(model, BAD_CAST "primary");
    return first ? xml_set_prop_after(model, "primary", "yes", last) : 0;
}

static size_t rank_of(xmlNodePtr n, const char *const *ranks, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (xml_is(n, ranks[i]))
            return i;
    return count; /* elements libvirt does not know stay last, in order */
}

/* Puts PARENT's element children in the order of RANKS (stable: elements of
 * one rank keep their order), as libvirt's formatter writes them. */
static void children_order(xmlNodePtr parent, const char *const *ranks, size_t count)
{
    /* Text between the elements means nothing here (libvirt drops it) and
     * would not move with them, so the order would differ each time. */
    for (xmlNodePtr c = parent->children, next; c; c = next) {
        next = c->next;
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        }
    }
    size_t n = 0;
    for (xmlNodePtr c = xml_child(parent, NULL); c; c = xml_next(c, NULL))
        n++;
    xmlNodePtr *kids = n ? calloc(n, sizeof *kids) : NULL;
    size_t *rank = n ? calloc(n, sizeof *rank) : NULL;
    if (!kids || !rank) { /* left as it is: only the order is lost */
        free(kids);
        free(rank);
        return;
    }
    size_t k = 0;
    for (xmlNodePtr c = xml_child(parent, NULL); c; c = xml_next(c, NULL), k++) {
        size_t r = rank_of(c, ranks, count), at = k;
        for (; at > 0 && rank[at - 1] > r; at--) { /* insertion sort: stable */
            kids[at] = kids[at - 1];
            rank[at] = rank[at - 1];
        }
        kids[at] = c;
        rank[at] = r;
    }
    for (size_t i = 0; i < n; i++) {
        xmlUnlinkNode(kids[i]);
        xmlAddChild(parent, kids[i]);
    }
    free(kids);
    free(rank);
}

/* virDomainDefFormatInternal's order of device kinds. */
void domain_devices_order(xmlNodePtr devices)
{
    static const char *const kinds[] = {
        "emulator", "disk",       "controller", "lease",   "filesystem", "interface",   "smartcard",
        "serial",   "parallel",   "console",    "channel", "input",      "tpm",         "graphics",
        "sound",    "audio",      "video",      "hostdev", "redirdev",   "redirfilter", "hub",
        "watchdog", "memballoon", "rng",        "nvram",   "panic",      "shmem",       "memory",
        "iommu",    "vsock",      "crypto"};
    if (devices)
        children_order(devices, kinds, sizeof kinds / sizeof kinds[0]);
}

/* virDomainNetDefFormat's order of an <interface>'s children. */
void domain_nic_order(xmlNodePtr nic)
{
    static const char *const kinds[] = {
        "mac",      "source",  "vlan",       "virtualport",   "bandwidth", "port",  "ip",
        "route",    "script",  "downscript", "backenddomain", "target",    "guest", "model",
        "driver",   "backend", "filterref",  "tune",          "teaming",   "link",  "mtu",
        "coalesce", "boot",    "alias",      "rom",           "address",   "acpi"};
    children_order(nic, kinds, sizeof kinds / sizeof kinds[0]);
}

/* A video device marked primary goes first, where libvirt puts it. */
static void video_primary_first(xmlNodePtr devices)
{
    xmlNodePtr first = xml_child(devices, "video");
    for (xmlNodePtr v = first ? xml_next(first, "video") : NULL; v; v = xml_next(v, "video")) {
        char *primary = xml_child_prop(v, "model", "primary");
        bool yes = primary && !strcmp(primary, "yes");
        free(primary);
        if (yes) {
            xmlUnlinkNode(v);
            xmlAddPrevSibling(first, v);
            return;
        }
    }
}

/* A virtio console's port is its place among the consoles (libvirt
 * numbers them so); a filesystem's access mode is passthrough. */
static int console_ports(xmlNodePtr devices)
{
    unsigned i = 0;
    for (xmlNodePtr c = xml_child(devices, "console"); c; c = xml_next(c, "console"), i++) {
        xmlNodePtr target = xml_child(c, "target");
        char *type = xml_prop(target, "type");
        bool virtio = type && !strcmp(type, "virtio");
        free(type);
        char buf[16];
        snprintf(buf, sizeof buf, "%u", i);
        if (virtio && xml_set_prop(target, "port", buf) < 0)
            return -1;
    }
    for (xmlNodePtr f = xml_child(devices, "filesystem"); f; f = xml_next(f, "filesystem")) {
        char *type = xml_prop(f, "type");
        bool mount = !type || !strcmp(type, "mount");
        free(type);
        if (mount && !xmlHasProp(f, BAD_CAST "accessmode") &&
            xml_set_prop_after(f, "accessmode", "passthrough", "type") < 0)
            return -1;
    }
    return 0;
}

int domain_devices_compat(xmlNodePtr devices)
{
    if (!devices)
        return 0;
    domain_devices_order(devices);
    video_primary_first(devices);
    return console_ports(devices);
}
