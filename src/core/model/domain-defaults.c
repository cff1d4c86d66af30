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
