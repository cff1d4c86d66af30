/* Disks on a SCSI controller: <address type='drive' controller= bus=
 * target= unit=/> and the controllers they need, as libvirt writes them.
 *
 * libvirt (9.0, src/conf/domain_conf.c, virDomainDiskDefAssignAddress)
 * gives a bus='scsi' disk without an address the one its target name
 * implies: sda is index 0, sdz 25, sdaa 26; controller = index / 7, bus 0,
 * target 0, unit = index % 7. It then adds every SCSI controller a disk
 * names that the domain lacks. Done here on the document before the
 * devices are parsed, so the arrays see the result. tvm's hypervisor
 * default for a SCSI controller's model is virtio-scsi (the only one
 * tvm-vmm has), written into the document as libvirt's QEMU driver writes
 * its own default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/base/err.h"
#include "core/model/domain-priv.h"
#include "core/xml/xml-util.h"

#define UNITS_PER_CONTROLLER 7
/* More SCSI controllers than this is a typo, not a machine: refused
 * rather than adding them all. */
#define MAX_CONTROLLER 31

static bool is(const char *v, const char *want)
{
    return v && strcmp(v, want) == 0;
}

/* libvirt's virDiskNameToIndex for "sd...": letters after the prefix in
 * bijective base 26; -1 if NAME is not one. */
static long disk_index(const char *name)
{
    if (strncmp(name, "sd", 2) != 0 || !name[2])
        return -1;
    long idx = 0;
    for (const char *p = name + 2; *p; p++) {
        if (*p < 'a' || *p > 'z' || idx > 100000)
            return -1;
        idx = (p == name + 2 ? 0 : (idx + 1) * 26) + (*p - 'a');
    }
    return idx;
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

/* The SCSI disk's bus, as domain_disk_defaults() will decide it. */
static bool on_scsi(xmlNodePtr disk)
{
    xmlNodePtr target = xml_child(disk, "target");
    char *bus = xml_prop(target, "bus"), *dev = xml_prop(target, "dev");
    bool scsi = bus ? is(bus, "scsi") : dev && strncmp(dev, "sd", 2) == 0;
    free(bus);
    free(dev);
    return scsi;
}

/* The controller a SCSI disk sits on, writing libvirt's address when it
 * has none; -1 with a message; -2 when its name gives no address (the
 * disk's own parse reports what is wrong with it). */
static long disk_controller(xmlNodePtr disk, const char *origin)
{
    struct domain_drive_addr a;
    if (domain_parse_drive_addr(disk, origin, &a) < 0)
        return -1;
    if (!a.set) {
        char *dev = xml_child_prop(disk, "target", "dev");
        long idx = dev ? disk_index(dev) : -1;
        free(dev);
        if (idx < 0)
            return -2;
        a.controller = (unsigned)(idx / UNITS_PER_CONTROLLER);
        a.unit = (unsigned)(idx % UNITS_PER_CONTROLLER);
        xml_remove_children(disk, "address");
        xmlNodePtr n = xmlNewChild(disk, NULL, BAD_CAST "address", NULL);
        if (!n || xml_set_prop(n, "type", "drive") < 0 ||
            set_uint(n, "controller", a.controller) < 0 || set_uint(n, "bus", 0) < 0 ||
            set_uint(n, "target", 0) < 0 || set_uint(n, "unit", a.unit) < 0)
            return err_set("out of memory");
    }
    if (a.controller > MAX_CONTROLLER)
        return xml_err(origin, xml_child(disk, "address"), NULL,
                       "<address type='drive'>: controller %u: tvm allows SCSI controllers 0 to "
                       "%d",
                       a.controller, MAX_CONTROLLER);
    return a.controller;
}

/* Marks each <controller type='scsi'> index in HAVE, numbering those
 * without one as libvirt does (the lowest free index) and giving those
 * without a model tvm's default; returns the last <controller>, or NULL. */
static xmlNodePtr scan_controllers(xmlNodePtr devices, bool *have)
{
    xmlNodePtr last = NULL;
    for (int pass = 0; pass < 2; pass++) {
        for (xmlNodePtr c = xml_child(devices, "controller"); c; c = xml_next(c, "controller")) {
            last = c;
            char *type = xml_prop(c, "type"), *index = xml_prop(c, "index");
            int i;
            if (!is(type, "scsi")) {
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
    return last;
}

int domain_scsi_compat(xmlNodePtr devices, const char *origin)
{
    bool need[MAX_CONTROLLER + 1] = {false}, have[MAX_CONTROLLER + 1] = {false};
    xmlNodePtr last_disk = NULL;
    for (xmlNodePtr d = xml_child(devices, "disk"); d; d = xml_next(d, "disk")) {
        last_disk = d;
        if (!on_scsi(d))
            continue;
        long c = disk_controller(d, origin);
        if (c == -1)
            return -1;
        if (c >= 0)
            need[c] = true;
    }
    xmlNodePtr after = scan_controllers(devices, have);
    if (!after)
        after = last_disk;
    for (unsigned i = 0; i <= MAX_CONTROLLER; i++) {
        if (!need[i] || have[i])
            continue;
        xmlNodePtr n = xmlNewDocNode(devices->doc, NULL, BAD_CAST "controller", NULL);
        if (!n || !xmlAddNextSibling(after, n)) {
            xmlFreeNode(n);
            return err_set("out of memory");
        }
        if (xml_set_prop(n, "type", "scsi") < 0 || set_uint(n, "index", i) < 0 ||
            xml_set_prop(n, "model", "virtio-scsi") < 0)
            return err_set("out of memory");
        after = n;
    }
    return 0;
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
