/* Disks on SCSI, SATA, IDE and floppy controllers: <address type='drive'
 * controller= bus= target= unit=/> and the controllers they need, as
 * libvirt writes them; and the implicit virtio-serial controller.
 *
 * libvirt (9.0, src/conf/domain_conf.c, virDomainDiskDefAssignAddress)
 * gives a disk without an address the one its target name implies (sda
 * and hda are index 0, sdz 25, sdaa 26): SCSI 7 units a controller, SATA 6,
 * floppy 4, IDE 4 as 2 buses of 2 units. virDomainDefAddImplicitControllers
 * then adds each controller a disk names that the domain lacks, SCSI first,
 * then floppy, IDE, SATA, and a virtio-serial controller when a channel or
 * console has a virtio target. Done here on the document before the devices
 * are parsed, so the arrays see the result. tvm's hypervisor default for a
 * SCSI controller's model is virtio-scsi (the only one tvm-vmm has),
 * written into the document as libvirt's QEMU driver writes its own default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/base/err.h"
#include "core/model/domain-priv.h"
#include "core/xml/xml-util.h"

/* More controllers of one type than this is a typo, not a machine:
 * refused rather than adding them all. */
#define MAX_CONTROLLER 31

static bool is(const char *v, const char *want)
{
    return v && strcmp(v, want) == 0;
}

/* The buses whose disks have drive addresses, in the order libvirt adds
 * their controllers; a disk's index in the bus is controller, bus and unit. */
static const struct drive_bus {
    const char *bus;
    unsigned units, buses; /* per controller: units per bus, buses */
} drive_buses[] = {{"scsi", 7, 1}, {"fdc", 4, 1}, {"ide", 2, 2}, {"sata", 6, 1}};

/* libvirt's virDiskNameToIndex: the letters after the prefix (hd, sd, vd,
 * fd, xvd, ubd) in bijective base 26; -1 if NAME is not a disk name. */
long domain_disk_name_index(const char *name)
{
    static const char *const prefixes[] = {"fd", "hd", "vd", "sd", "xvd", "ubd"};
    const char *p = NULL;
    for (size_t i = 0; !p && name && i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (!strncmp(name, prefixes[i], strlen(prefixes[i])))
            p = name + strlen(prefixes[i]);
    if (!p || !*p)
        return -1;
    long idx = 0;
    for (const char *c = p; *c; c++) {
        if (*c < 'a' || *c > 'z' || idx > 100000)
            return -1;
        idx = (c == p ? 0 : (idx + 1) * 26) + (*c - 'a');
    }
    return idx;
}

/* The bus a <disk> element is on, as domain_disk_defaults() will decide it
 * from the target's prefix when it names none; NULL if it cannot tell. */
char *domain_disk_node_bus(xmlNodePtr disk)
{
    xmlNodePtr target = xml_child(disk, "target");
    char *bus = xml_prop(target, "bus");
    if (bus)
        return bus;
    char *dev = xml_prop(target, "dev");
    static const char *const by_prefix[][2] = {
        {"vd", "virtio"}, {"sd", "scsi"}, {"hd", "ide"}, {"fd", "fdc"}};
    for (size_t i = 0; dev && !bus && i < sizeof by_prefix / sizeof by_prefix[0]; i++)
        if (!strncmp(dev, by_prefix[i][0], 2))
            bus = strdup(by_prefix[i][1]);
    free(dev);
    return bus;
}

static int get_number(xmlNodePtr n, const char *origin, const char *attr, unsigned max,
                      unsigned *out)
{
    char *v = xml_prop(n, attr);
    uint64_t x = 0;
    int rc = 0;
    if (v && xml_parse_u64(v, max, &x) < 0)
        rc = xml_err(origin, n, NULL, "<address type='drive'>: invalid %s '%s' (0 to %u)", attr, v,
                     max);
    free(v);
    *out = (unsigned)x;
    return rc;
}

int domain_parse_drive_addr(xmlNodePtr dev, const char *origin, struct domain_drive_addr *a)
{
    memset(a, 0, sizeof *a);
    xmlNodePtr n = xml_child(dev, "address");
    char *type = xml_prop(n, "type");
    bool drive = is(type, "drive");
    free(type);
    if (!drive)
        return 0;
    if (get_number(n, origin, "controller", 65535, &a->controller) < 0 ||
        get_number(n, origin, "bus", 65535, &a->bus) < 0 ||
        get_number(n, origin, "target", 65535, &a->target) < 0 ||
        get_number(n, origin, "unit", 65535, &a->unit) < 0)
        return -1;
    a->set = true;
    return 0;
}

static int set_uint(xmlNodePtr n, const char *attr, unsigned v)
{
    char buf[16];
    snprintf(buf, sizeof buf, "%u", v);
    return xml_set_prop(n, attr, buf);
}

/* The controller a disk on bus B sits on, writing libvirt's address when
 * it has none; -1 with a message; -2 when its name gives no address (the
 * disk's own parse reports what is wrong with it). */
static long disk_controller(xmlNodePtr disk, const struct drive_bus *b, const char *origin)
{
    struct domain_drive_addr a;
    if (domain_parse_drive_addr(disk, origin, &a) < 0)
        return -1;
    if (!a.set) {
        char *dev = xml_child_prop(disk, "target", "dev");
        long idx = dev ? domain_disk_name_index(dev) : -1;
        free(dev);
        if (idx < 0)
            return -2;
        unsigned per = b->units * b->buses;
        a.controller = (unsigned)(idx / per);
        a.bus = (unsigned)(idx % per) / b->units;
        a.unit = (unsigned)(idx % b->units);
        xml_remove_children(disk, "address");
        xmlNodePtr n = xmlNewChild(disk, NULL, BAD_CAST "address", NULL);
        if (!n || xml_set_prop(n, "type", "drive") < 0 ||
            set_uint(n, "controller", a.controller) < 0 || set_uint(n, "bus", a.bus) < 0 ||
            set_uint(n, "target", 0) < 0 || set_uint(n, "unit", a.unit) < 0)
            return err_set("out of memory");
    }
    if (a.controller > MAX_CONTROLLER)
        return xml_err(origin, xml_child(disk, "address"), NULL,
                       "<address type='drive'>: controller %u: tvm allows %s controllers 0 to %d",
                       a.controller, b->bus, MAX_CONTROLLER);
    return a.controller;
}

/* Marks each <controller type=TYPE> index in HAVE, numbering those without
 * one as libvirt does (the lowest free index) and giving SCSI ones without
 * a model tvm's default. */
static void scan_controllers(xmlNodePtr devices, const char *ctype, bool *have)
{
    for (int pass = 0; pass < 2; pass++) {
        for (xmlNodePtr c = xml_child(devices, "controller"); c; c = xml_next(c, "controller")) {
            char *type = xml_prop(c, "type"), *index = xml_prop(c, "index");
            int i;
            if (!is(type, ctype)) {
            } else if (pass == 0 && index && xml_parse_int(index, 0, MAX_CONTROLLER, &i) == 0) {
                have[i] = true;
            } else if (pass == 1 && !index) {
                for (i = 0; i <= MAX_CONTROLLER && have[i];)
                    i++;
                if (i <= MAX_CONTROLLER) {
                    char buf[16];
                    snprintf(buf, sizeof buf, "%d", i);
                    xml_set_prop_after(c, "index", buf, "type");
                    have[i] = true;
                }
            }
            if (pass == 1 && is(type, "scsi") && !xmlHasProp(c, BAD_CAST "model"))
                xml_set_prop_after(c, "model", "virtio-scsi", "index");
            free(type);
            free(index);
        }
    }
}

/* Where libvirt's virDomainControllerInsert puts a new controller: before
 * the first of its type with a higher index, else after the last of its
 * type, else after every controller (after the disks when there is none). */
static int insert_controller(xmlNodePtr devices, xmlNodePtr n, const char *ctype, unsigned index)
{
    xmlNodePtr before = NULL, after = NULL, last = NULL;
    for (xmlNodePtr c = xml_child(devices, "controller"); c; c = xml_next(c, "controller")) {
        char *type = xml_prop(c, "type"), *i = xml_prop(c, "index");
        int v = 0;
        if (is(type, ctype) && i && xml_parse_int(i, 0, 65535, &v) == 0) {
            if ((unsigned)v > index && !before)
                before = c;
            else if ((unsigned)v <= index)
                after = c;
        }
        last = c;
        free(type);
        free(i);
    }
    if (!before && !after && !last) {
        for (xmlNodePtr c = xml_child(devices, NULL); c; c = xml_next(c, NULL))
            if (xml_is(c, "disk") || xml_is(c, "emulator"))
                last = c;
    }
    xmlNodePtr ok;
    if (before)
        ok = xmlAddPrevSibling(before, n);
    else if (after || last)
        ok = xmlAddNextSibling(after ? after : last, n);
    else if (devices->children)
        ok = xmlAddPrevSibling(devices->children, n);
    else
        ok = xmlAddChild(devices, n);
    if (!ok) {
        xmlFreeNode(n);
        return err_set("out of memory");
    }
    return 0;
}

static int add_controller(xmlNodePtr devices, const char *ctype, unsigned index)
{
    xmlNodePtr n = xmlNewDocNode(devices->doc, NULL, BAD_CAST "controller", NULL);
    if (!n || insert_controller(devices, n, ctype, index) < 0)
        return n ? -1 : err_set("out of memory");
    if (xml_set_prop(n, "type", ctype) < 0 || set_uint(n, "index", index) < 0 ||
        (is(ctype, "scsi") && xml_set_prop(n, "model", "virtio-scsi") < 0))
        return err_set("out of memory");
    return 0;
}

static int drive_bus_compat(xmlNodePtr devices, const struct drive_bus *b, const char *origin)
{
    bool need[MAX_CONTROLLER + 1] = {false}, have[MAX_CONTROLLER + 1] = {false};
    for (xmlNodePtr d = xml_child(devices, "disk"); d; d = xml_next(d, "disk")) {
        char *bus = domain_disk_node_bus(d);
        bool on = is(bus, b->bus);
        free(bus);
        if (!on)
            continue;
        long c = disk_controller(d, b, origin);
        if (c == -1)
            return -1;
        if (c >= 0)
            need[c] = true;
    }
    scan_controllers(devices, b->bus, have);
    /* libvirt adds every index up to the highest a disk names */
    int top = MAX_CONTROLLER;
    while (top >= 0 && !need[top])
        top--;
    for (int i = 0; i <= top; i++)
        if (!have[i] && add_controller(devices, b->bus, (unsigned)i) < 0)
            return -1;
    return 0;
}

/* A channel or console with a virtio target needs a virtio-serial
 * controller; libvirt adds index 0 (or the one its address names). */
static int virtio_serial_compat(xmlNodePtr devices)
{
    bool need[MAX_CONTROLLER + 1] = {false}, have[MAX_CONTROLLER + 1] = {false};
    for (xmlNodePtr c = xml_child(devices, NULL); c; c = xml_next(c, NULL)) {
        if (!xml_is(c, "channel") && !xml_is(c, "console"))
            continue;
        char *ttype = xml_child_prop(c, "target", "type");
        char *atype = xml_child_prop(c, "address", "type");
        char *actl = xml_child_prop(c, "address", "controller");
        int index = 0;
        if (is(atype, "virtio-serial") && actl)
            xml_parse_int(actl, 0, MAX_CONTROLLER, &index);
        if (is(ttype, "virtio"))
            need[index] = true;
        free(ttype);
        free(atype);
        free(actl);
    }
    scan_controllers(devices, "virtio-serial", have);
    for (unsigned i = 0; i <= MAX_CONTROLLER; i++)
        if (need[i] && !have[i] && add_controller(devices, "virtio-serial", i) < 0)
            return -1;
    return 0;
}

int domain_controllers_compat(xmlNodePtr devices, const char *origin)
{
    for (size_t i = 0; i < sizeof drive_buses / sizeof drive_buses[0]; i++)
        if (drive_bus_compat(devices, &drive_buses[i], origin) < 0)
            return -1;
    return virtio_serial_compat(devices);
}

/* The index-th <disk> element of the document. */
static xmlNodePtr disk_node(struct domain *d, size_t index)
{
    xmlNodePtr root = xmlDocGetRootElement((xmlDocPtr)d->doc);
    xmlNodePtr n = xml_child(xml_child(root, "devices"), "disk");
    for (size_t i = 0; n && i < index; i++)
        n = xml_next(n, "disk");
    return n;
}

int domain_set_disk_source(struct domain *d, size_t index, const char *path, bool block)
{
    xmlNodePtr n = index < d->ndisks ? disk_node(d, index) : NULL;
    if (!n)
        return err_set("disk #%zu not found in the document", index);
    struct domain_disk *disk = &d->disks[index];
    char *copy = NULL, *type = NULL;
    if (path && !(copy = strdup(path)))
        return err_set("out of memory");
    if (path && !(type = strdup(block ? "block" : "file"))) {
        free(copy);
        return err_set("out of memory");
    }
    xml_remove_children(n, "source");
    int rc = 0;
    if (path) {
        /* libvirt writes <source> after <driver>, first otherwise */
        xmlNodePtr src = xmlNewDocNode(n->doc, NULL, BAD_CAST "source", NULL);
        if (!src || !xml_insert_after(n, xml_child(n, "driver"), src) ||
            xml_set_prop(src, block ? "dev" : "file", path) < 0 ||
            xml_set_prop(n, "type", type) < 0)
            rc = err_set("out of memory");
    }
    if (rc < 0) {
        free(copy);
        free(type);
        return -1;
    }
    free(disk->source);
    disk->source = copy;
    if (type) {
        free(disk->type);
        disk->type = type;
    }
    return 0;
}

char *domain_disk_xml(struct domain *d, size_t index)
{
    xmlNodePtr n = index < d->ndisks ? disk_node(d, index) : NULL;
    if (!n) {
        err_set("disk #%zu not found in the document", index);
        return NULL;
    }
    /* formatted as dumpxml formats a document: a copy as a document's root */
    xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
    xmlNodePtr copy = doc ? xmlDocCopyNode(n, doc, 1) : NULL;
    if (!copy) {
        xmlFreeDoc(doc);
        err_set("out of memory");
        return NULL;
    }
    xmlDocSetRootElement(doc, copy);
    char *text = xml_format_doc(doc);
    xmlFreeDoc(doc);
    return text;
}
