/* <devices> of a domain: the typed arrays, plus the MACs libvirt generates. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/model/domain-priv.h"
#include "core/base/err.h"
#include "core/base/mac.h"
#include "core/xml/xml-util.h"

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
    if (domain_disk_defaults(disk, n, target) < 0)
        return -1;
    for (size_t i = 0; i + 1 < d->ndisks; i++)
        if (!strcmp(d->disks[i].target_dev, disk->target_dev))
            return xml_err(origin, target, "target dev", "'%s' used by more than one disk",
                           disk->target_dev);
    disk->readonly = xml_child(n, "readonly") != NULL;
    disk->shareable = xml_child(n, "shareable") != NULL;
    disk->serial = xml_child_text(n, "serial");
    if (domain_parse_pci_addr(n, origin, &disk->pci) < 0 ||
        domain_parse_drive_addr(n, origin, &disk->drive) < 0)
        return -1;
    return parse_boot_order(d, n, origin, &disk->boot_order);
}

static int parse_nic(struct domain *d, xmlNodePtr n, const char *origin)
{
    struct domain_nic *nic = grow((void **)&d->nics, &d->nnics, sizeof(*nic));
    if (!nic)
        return -1;
    domain_nic_order(n);
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
    if (nic->type && !strcmp(nic->type, "network"))
        nic->source_bridge = xml_prop(src, "bridge");
    nic->model = xml_child_prop(n, "model", "type");
    nic->target_dev = xml_child_prop(n, "target", "dev");
    xmlNodePtr link = xml_child(n, "link");
    nic->link_state = xml_prop(link, "state");
    static const char *const states[] = {"up", "down", NULL};
    if (nic->link_state && !xml_in_list(nic->link_state, states))
        return xml_err(origin, link, "link state", "invalid value '%s'", nic->link_state);
    if (domain_parse_pci_addr(n, origin, &nic->pci) < 0)
        return -1;
    return parse_boot_order(d, n, origin, &nic->boot_order);
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
    return domain_graphics_defaults(g, n);
}

static int parse_chardev(struct domain *d, xmlNodePtr n, const char *origin)
{
    if (domain_serial_port(d, n) < 0)
        return -1;
    struct domain_chardev *c = grow((void **)&d->chardevs, &d->nchardevs, sizeof(*c));
    if (!c)
        return -1;
    c->element = strdup((const char *)n->name);
    c->type = xml_prop(n, "type");
    c->source_path = xml_child_prop(n, "source", "path");
    /* A unix socket without a path is one the hypervisor names at start:
     * libvirt keeps no <source> for it in the definition. */
    if (c->type && !strcmp(c->type, "unix") && !c->source_path)
        xml_remove_children(n, "source");
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

/* <memballoon autodeflate='on|off'><stats period='S'/></memballoon>, with
 * libvirt's messages. A negative period means none, as in libvirt. */
static int parse_memballoon(struct domain *d, xmlNodePtr n, const char *origin)
{
    if (d->memballoon.present)
        return xml_err(origin, n, NULL, "only a single memory balloon device is supported");
    d->memballoon.present = true;
    char *v = xml_prop(n, "autodeflate");
    int rc = 0;
    if (v && strcmp(v, "on") == 0)
        d->memballoon.autodeflate = true;
    else if (v && strcmp(v, "off") != 0)
        rc = xml_err(origin, n, NULL,
                     "Invalid value for attribute 'autodeflate' in element 'memballoon': '%s'.", v);
    free(v);
    if (rc < 0)
        return -1;
    v = xml_child_prop(n, "stats", "period");
    int period = 0;
    if (v && xml_parse_int(v, INT32_MIN, INT32_MAX, &period) < 0)
        rc = xml_err(origin, n, NULL, "invalid statistics collection period");
    free(v);
    d->memballoon.stats_period = period > 0 ? (unsigned)period : 0;
    return rc;
}

/* <video><model type= vram=><resolution x= y=/></model></video> and
 * <input type= bus=>, with libvirt's messages (virsh's test driver). */
static int parse_video(struct domain_device *dev, xmlNodePtr n, const char *origin)
{
    static const char *const models[] = {"vga",   "cirrus", "vmvga",  "xen",  "vbox", "qxl",
                                         "parallels", "virtio", "gop", "none", "bochs",
                                         "ramfb", NULL};
    xmlNodePtr model = xml_child(n, "model");
    if (dev->type && !xml_in_list(dev->type, models))
        return xml_err(origin, n, NULL, "unknown video model '%s'", dev->type);
    char *vram = xml_prop(model, "vram");
    int v = 0, rc = 0;
    if (vram && xml_parse_int(vram, 0, INT32_MAX, &v) < 0)
        rc = xml_err(origin, model, NULL, "cannot parse video vram '%s'", vram);
    free(vram);
    dev->vram_kib = (unsigned)v;
    xmlNodePtr res = xml_child(model, "resolution");
    const char *axis[] = {"x", "y"};
    unsigned *out[] = {&dev->res_x, &dev->res_y};
    for (int i = 0; res && rc == 0 && i < 2; i++) {
        char *s = xml_prop(res, axis[i]);
        int r = 0;
        if (!s)
            rc = xml_err(origin, res, NULL, "Missing required attribute '%s' in element "
                         "'resolution'", axis[i]);
        else if (xml_parse_int(s, 0, INT32_MAX, &r) < 0)
            rc = xml_err(origin, res, NULL, "Invalid value for attribute '%s' in element "
                         "'resolution': '%s'. Expected non-negative integer value", axis[i], s);
        free(s);
        *out[i] = (unsigned)r;
    }
    if (rc == 0 && res && (!dev->res_x || !dev->res_y))
        rc = xml_err(origin, res, NULL, "video resolution values must be greater than 0");
    return rc;
}

static int check_input(const struct domain_device *dev, xmlNodePtr n, const char *origin)
{
    static const char *const types[] = {"mouse", "tablet", "keyboard", "passthrough", "evdev", NULL};
    static const char *const buses[] = {"ps2", "usb", "xen", "parallels", "virtio", "none", NULL};
    if (dev->type && !xml_in_list(dev->type, types))
        return xml_err(origin, n, NULL, "unknown input device type '%s'", dev->type);
    if (dev->bus && !xml_in_list(dev->bus, buses))
        return xml_err(origin, n, NULL, "unknown input bus type '%s'", dev->bus);
    return 0;
}

static int parse_other(struct domain *d, xmlNodePtr n, const char *origin)
{
    struct domain_device *dev = grow((void **)&d->devices, &d->ndevices, sizeof(*dev));
    if (!dev)
        return -1;
    dev->element = strdup((const char *)n->name);
    dev->index = -1;
    if (xml_is(n, "video") && domain_video_defaults(n) < 0)
        return -1;
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
        rc = domain_controller_index(dev, n);
    if (rc == 0 && xml_is(n, "memballoon"))
        rc = parse_memballoon(d, n, origin);
    if (rc == 0 && xml_is(n, "video"))
        rc = parse_video(dev, n, origin);
    if (rc == 0 && xml_is(n, "input"))
        rc = check_input(dev, n, origin);
    if (rc == 0)
        rc = domain_parse_pci_addr(n, origin, &dev->pci);
    return rc;
}

int domain_parse_devices(struct domain *d, xmlNodePtr devices, const char *origin)
{
    if (domain_devices_compat(devices) < 0 || domain_console_compat(d, devices) < 0 || domain_disks_order(devices) < 0 ||
        domain_controllers_compat(devices, origin) < 0)
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
        char *s[] = {x->type, x->source, x->source_bridge, x->model, x->target_dev, x->link_state};
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
