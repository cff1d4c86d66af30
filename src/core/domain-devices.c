/* <devices> of a domain: the typed arrays, plus the MACs libvirt generates. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/domain-priv.h"
#include "core/err.h"
#include "core/mac.h"
#include "core/xml-util.h"

/* Grow `*arr` (of `*n` items of `size`) by one zeroed item. */
static void *grow(void **arr, size_t *n, size_t size)
{
    char *p = realloc(*arr, (*n + 1) * size);
    if (!p)
        return err_set("out of memory"), NULL;
    *arr = p;
    memset(p + *n * size, 0, size);
    return p + (*n)++ * size;
}

/* <boot order='N'/> inside a device: positive, unique across devices. */
static int parse_boot_order(struct domain *d, xmlNodePtr dev, const char *origin, unsigned *order)
{
    xmlNodePtr boot = xml_child(dev, "boot");
    if (!boot)
        return 0;
    char *v = xml_prop(boot, "order");
    uint64_t n = 0;
    int rc = xml_parse_u64(v, 65535, &n);
    if (rc < 0 || n == 0)
        rc = xml_err(origin, boot, "boot order", "invalid value '%s'", v ? v : "");
    free(v);
    if (rc < 0)
        return -1;
    if (d->os_nboot)
        return xml_err(origin, boot, "boot order",
                       "per-device boot order cannot be used together with <os><boot>");
    for (size_t i = 0; i < d->ndisks; i++)
        if (d->disks[i].boot_order == n)
            return xml_err(origin, boot, "boot order", "order %u used by more than one device",
                           (unsigned)n);
    for (size_t i = 0; i < d->nnics; i++)
        if (d->nics[i].boot_order == n)
            return xml_err(origin, boot, "boot order", "order %u used by more than one device",
                           (unsigned)n);
    *order = (unsigned)n;
    return 0;
}

/* libvirt's defaults, written into the document as virsh shows them:
 * device 'disk', and a bus named by the target's prefix (vda: virtio ...). */
static int disk_defaults(struct domain_disk *disk, xmlNodePtr n, xmlNodePtr target)
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

static int parse_disk(struct domain *d, xmlNodePtr n, const char *origin)
{
    struct domain_disk *disk = grow((void **)&d->disks, &d->ndisks, sizeof(*disk));
    if (!disk)
        return -1;
    disk->type = xml_prop(n, "type");
    disk->device = xml_prop(n, "device");
    static const char *const types[] = {"file", "block", "volume", "network", "dir", NULL};
    if (disk->type && !xml_in_list(disk->type, types))
        return xml_err(origin, n, "disk type", "invalid value '%s'", disk->type);
    static const char *const devices[] = {"disk", "cdrom", "floppy", "lun", NULL};
    if (disk->device && !xml_in_list(disk->device, devices))
        return xml_err(origin, n, "disk device", "invalid value '%s'", disk->device);

    xmlNodePtr drv = xml_child(n, "driver");
    disk->driver_name = xml_prop(drv, "name");
    disk->driver_type = xml_prop(drv, "type");
    disk->cache = xml_prop(drv, "cache");
    disk->discard = xml_prop(drv, "discard");
    static const char *const caches[] = {
        "default", "none", "writethrough", "writeback", "directsync", "unsafe", NULL};
    if (disk->cache && !xml_in_list(disk->cache, caches))
        return xml_err(origin, drv, "driver cache", "invalid value '%s'", disk->cache);
    static const char *const discards[] = {"default", "unmap", "ignore", NULL};
    if (disk->discard && !xml_in_list(disk->discard, discards))
        return xml_err(origin, drv, "driver discard", "invalid value '%s'", disk->discard);

    xmlNodePtr src = xml_child(n, "source");
    disk->source = xml_prop(src, "file");
    if (!disk->source)
        disk->source = xml_prop(src, "dev");
    if (!disk->source)
        disk->source = xml_prop(src, "dir");
    if (!disk->source)
        disk->source = xml_prop(src, "name");
    disk->source_pool = xml_prop(src, "pool");
    disk->source_volume = xml_prop(src, "volume");
    if (disk->type && !strcmp(disk->type, "volume") && src &&
        (!disk->source_pool || !disk->source_volume))
        return xml_err(origin, src, "source", "a volume disk needs pool and volume");

    xmlNodePtr target = xml_child(n, "target");
    disk->target_dev = xml_prop(target, "dev");
    if (!disk->target_dev || !*disk->target_dev)
        return xml_err(origin, target ? target : n, "target dev", "missing");
    disk->target_bus = xml_prop(target, "bus");
    if (disk_defaults(disk, n, target) < 0)
        return -1;
    for (size_t i = 0; i + 1 < d->ndisks; i++)
        if (!strcmp(d->disks[i].target_dev, disk->target_dev))
            return xml_err(origin, target, "target dev", "'%s' used by more than one disk",
                           disk->target_dev);
    disk->readonly = xml_child(n, "readonly") != NULL;
    disk->shareable = xml_child(n, "shareable") != NULL;
    disk->serial = xml_child_text(n, "serial");
    return parse_boot_order(d, n, origin, &disk->boot_order);
}

static int parse_nic(struct domain *d, xmlNodePtr n, const char *origin)
{
    struct domain_nic *nic = grow((void **)&d->nics, &d->nnics, sizeof(*nic));
    if (!nic)
        return -1;
    nic->type = xml_prop(n, "type");
    if (!nic->type)
        return xml_err(origin, n, "interface type", "missing");
    xmlNodePtr mac = xml_child(n, "mac");
    if (mac) {
        char *addr = xml_prop(mac, "address");
        int rc = mac_parse(addr, nic->mac);
        if (rc < 0)
            xml_err(origin, mac, "mac address", "invalid '%s'", addr ? addr : "");
        else if (mac_is_multicast(nic->mac))
            rc = xml_err(origin, mac, "mac address", "'%s' is a multicast address", addr);
        free(addr);
        if (rc < 0)
            return -1;
    } else {
        if (mac_generate(nic->mac) < 0)
            return -1;
        mac = xml_insert_after(n, NULL, xmlNewDocNode(n->doc, NULL, BAD_CAST "mac", NULL));
    }
    xml_set_prop(mac, "address", nic->mac);

    xmlNodePtr src = xml_child(n, "source");
    static const char *const src_attrs[] = {"network", "bridge", "dev", "name", NULL};
    for (const char *const *a = src_attrs; *a && !nic->source; a++)
        nic->source = xml_prop(src, *a);
    nic->model = xml_child_prop(n, "model", "type");
    nic->target_dev = xml_child_prop(n, "target", "dev");
    xmlNodePtr link = xml_child(n, "link");
    nic->link_state = xml_prop(link, "state");
    static const char *const states[] = {"up", "down", NULL};
    if (nic->link_state && !xml_in_list(nic->link_state, states))
        return xml_err(origin, link, "link state", "invalid value '%s'", nic->link_state);
    return parse_boot_order(d, n, origin, &nic->boot_order);
}

/* As virsh shows an inactive definition: autoport spelled out (and no
 * port when it is automatic), the listen address also as a <listen> child. */
static int graphics_normalise(const struct domain_graphics *g, xmlNodePtr n)
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
    if (g->listen && !xml_child(n, "listen")) {
        xmlNodePtr l =
            xml_insert_after(n, NULL, xmlNewDocNode(n->doc, NULL, BAD_CAST "listen", NULL));
        if (!l || xml_set_prop(l, "type", "address") < 0 ||
            xml_set_prop(l, "address", g->listen) < 0)
            return err_set("out of memory");
    }
    return 0;
}

static int parse_graphics(struct domain *d, xmlNodePtr n, const char *origin)
{
    struct domain_graphics *g = grow((void **)&d->graphics, &d->ngraphics, sizeof(*g));
    if (!g)
        return -1;
    g->type = xml_prop(n, "type");
    if (!g->type)
        return xml_err(origin, n, "graphics type", "missing");
    char *port = xml_prop(n, "port"), *autoport = xml_prop(n, "autoport");
    g->port = -1;
    int rc = 0;
    if (port && xml_parse_int(port, -1, 65535, &g->port) < 0)
        rc = xml_err(origin, n, "graphics port", "invalid value '%s'", port);
    else if (autoport && xml_parse_yesno(autoport, &g->autoport) < 0)
        rc = xml_err(origin, n, "graphics autoport", "invalid value '%s'", autoport);
    free(port);
    free(autoport);
    if (rc < 0)
        return -1;
    /* libvirt: port -1 (or none) means "pick one", i.e. autoport. */
    if (g->port == -1)
        g->autoport = true;
    if (g->autoport)
        g->port = -1;
    g->listen = xml_prop(n, "listen");
    if (!g->listen)
        g->listen = xml_child_prop(n, "listen", "address");
    g->passwd = xml_prop(n, "passwd");
    return graphics_normalise(g, n);
}

/* A <serial> without a target port gets the next one, as libvirt numbers them. */
static int serial_port(struct domain *d, xmlNodePtr n)
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

static int parse_chardev(struct domain *d, xmlNodePtr n, const char *origin)
{
    if (serial_port(d, n) < 0)
        return -1;
    struct domain_chardev *c = grow((void **)&d->chardevs, &d->nchardevs, sizeof(*c));
    if (!c)
        return -1;
    c->element = strdup((const char *)n->name);
    c->type = xml_prop(n, "type");
    c->source_path = xml_child_prop(n, "source", "path");
    xmlNodePtr target = xml_child(n, "target");
    c->target_type = xml_prop(target, "type");
    c->target_name = xml_prop(target, "name");
    c->target_port = -1;
    char *port = xml_prop(target, "port");
    int rc = 0;
    if (port && xml_parse_int(port, 0, 65535, &c->target_port) < 0)
        rc = xml_err(origin, target, "target port", "invalid value '%s'", port);
    free(port);
    return rc;
}

/* libvirt gives a controller without an index the lowest one its type
 * does not use yet. */
static int controller_index(struct domain_device *dev, xmlNodePtr n)
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

static int parse_other(struct domain *d, xmlNodePtr n, const char *origin)
{
    struct domain_device *dev = grow((void **)&d->devices, &d->ndevices, sizeof(*dev));
    if (!dev)
        return -1;
    dev->element = strdup((const char *)n->name);
    dev->index = -1;
    if (xml_is(n, "video"))
        dev->type = xml_child_prop(n, "model", "type");
    else
        dev->type = xml_prop(n, "type");
    dev->bus = xml_prop(n, "bus");
    dev->model = xml_prop(n, "model");
    if (xml_is(n, "rng"))
        dev->backend = xml_child_text(n, "backend");
    char *index = xml_prop(n, "index");
    int rc = 0;
    if (index && xml_parse_int(index, 0, 65535, &dev->index) < 0)
        rc = xml_err(origin, n, "controller index", "invalid value '%s'", index);
    free(index);
    if (rc == 0 && dev->index < 0 && xml_is(n, "controller"))
        rc = controller_index(dev, n);
    return rc;
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
static int console_compat(struct domain *d, xmlNodePtr devices)
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

int domain_parse_devices(struct domain *d, xmlNodePtr devices, const char *origin)
{
    if (console_compat(d, devices) < 0)
        return -1;
    for (xmlNodePtr n = xml_child(devices, NULL); n; n = xml_next(n, NULL)) {
        int rc;
        if (xml_is(n, "disk"))
            rc = parse_disk(d, n, origin);
        else if (xml_is(n, "interface"))
            rc = parse_nic(d, n, origin);
        else if (xml_is(n, "graphics"))
            rc = parse_graphics(d, n, origin);
        else if (xml_is(n, "serial") || xml_is(n, "console") || xml_is(n, "channel") ||
                 xml_is(n, "parallel"))
            rc = parse_chardev(d, n, origin);
        else if (xml_is(n, "emulator"))
            rc = 0; /* a QEMU path: meaningless to tvm-vmm, kept in the document */
        else
            rc = parse_other(d, n, origin);
        if (rc < 0)
            return -1;
    }
    return 0;
}

void domain_free_devices(struct domain *d)
{
    for (size_t i = 0; i < d->ndisks; i++) {
        struct domain_disk *x = &d->disks[i];
        char *s[] = {x->type,          x->device,     x->driver_name, x->driver_type,
                     x->cache,         x->discard,    x->source,      x->source_pool,
                     x->source_volume, x->target_dev, x->target_bus,  x->serial};
        for (size_t j = 0; j < sizeof(s) / sizeof(s[0]); j++)
            free(s[j]);
    }
    for (size_t i = 0; i < d->nnics; i++) {
        struct domain_nic *x = &d->nics[i];
        char *s[] = {x->type, x->source, x->model, x->target_dev, x->link_state};
        for (size_t j = 0; j < sizeof(s) / sizeof(s[0]); j++)
            free(s[j]);
    }
    for (size_t i = 0; i < d->ngraphics; i++) {
        free(d->graphics[i].type);
        free(d->graphics[i].listen);
        free(d->graphics[i].passwd);
    }
    for (size_t i = 0; i < d->nchardevs; i++) {
        struct domain_chardev *x = &d->chardevs[i];
        char *s[] = {x->element, x->type, x->source_path, x->target_type, x->target_name};
        for (size_t j = 0; j < sizeof(s) / sizeof(s[0]); j++)
            free(s[j]);
    }
    for (size_t i = 0; i < d->ndevices; i++) {
        struct domain_device *x = &d->devices[i];
        char *s[] = {x->element, x->type, x->model, x->bus, x->backend};
        for (size_t j = 0; j < sizeof(s) / sizeof(s[0]); j++)
            free(s[j]);
    }
    free(d->disks);
    free(d->nics);
    free(d->graphics);
    free(d->chardevs);
    free(d->devices);
}
