/* Edits to a parsed domain: document and typed view change together. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/model/domain-priv.h"
#include "core/base/err.h"
#include "core/base/mac.h"
#include "core/base/uuid.h"
#include "core/xml/xml-util.h"

static xmlNodePtr root_of(struct domain *d)
{
    return xmlDocGetRootElement(d->doc);
}

/* Replace *field with a copy of value; -1 on allocation failure. */
static int replace(char **field, const char *value)
{
    char *copy = xml_strdup(value);
    if (value && !copy)
        return err_set("out of memory");
    free(*field);
    *field = copy;
    return 0;
}

int domain_set_name(struct domain *d, const char *name)
{
    if (name_check(name) < 0)
        return -1;
    if (!xml_set_child_text(root_of(d), "name", name, NULL))
        return err_set("out of memory");
    return replace(&d->name, name);
}

/* <title>/<description> live after <uuid> (libvirt's order); NULL or "" removes. */
static int set_optional_text(struct domain *d, const char *elem, const char *text, char **field)
{
    xmlNodePtr root = root_of(d);
    if (!text || !*text) {
        xml_remove_children(root, elem);
        return replace(field, NULL);
    }
    xmlNodePtr after = xml_child(root, "title");
    if (!after || !strcmp(elem, "title"))
        after = xml_child(root, "uuid");
    if (!xml_set_child_text(root, elem, text, after))
        return err_set("out of memory");
    return replace(field, text);
}

int domain_set_title(struct domain *d, const char *title)
{
    if (title && strchr(title, '\n'))
        return err_set("title must not contain newlines");
    return set_optional_text(d, "title", title, &d->title);
}

int domain_set_description(struct domain *d, const char *desc)
{
    return set_optional_text(d, "description", desc, &d->description);
}

int domain_set_uuid(struct domain *d, const char *uuid)
{
    char canon[UUID_STR_LEN];
    if (uuid_parse(uuid, canon) < 0)
        return -1;
    xmlNodePtr root = root_of(d);
    if (!xml_set_child_text(root, "uuid", canon, xml_child(root, "name")))
        return err_set("out of memory");
    memcpy(d->uuid, canon, sizeof(canon));
    return 0;
}

int domain_set_vcpus_current(struct domain *d, unsigned n)
{
    if (n < 1 || n > d->vcpus)
        return err_set("vcpu count must be between 1 and %u, not %u", d->vcpus, n);
    xmlNodePtr vcpu = xml_child(root_of(d), "vcpu");
    if (!vcpu)
        return err_set("domain has no <vcpu>");
    if (n == d->vcpus) {
        xmlUnsetProp(vcpu, BAD_CAST "current");
    } else {
        char buf[16];
        snprintf(buf, sizeof(buf), "%u", n);
        if (xml_set_prop(vcpu, "current", buf) < 0)
            return -1;
    }
    d->vcpus_current = n;
    return 0;
}

int domain_set_current_memory(struct domain *d, uint64_t kib)
{
    if (kib < 1 || kib > d->memory_kib)
        return err_set("current memory must be between 1 and %" PRIu64 " KiB, not %" PRIu64,
                       d->memory_kib, kib);
    xmlNodePtr root = root_of(d);
    xmlNodePtr cur = xml_child(root, "currentMemory");
    if (!cur)
        cur = xml_insert_after(root, xml_child(root, "memory"),
                               xmlNewDocNode(d->doc, NULL, BAD_CAST "currentMemory", NULL));
    if (!cur || domain_write_kib(cur, kib) < 0)
        return err_set("out of memory");
    d->current_memory_kib = kib;
    return 0;
}

/* The index-th <interface> under <devices>, in document order. */
/* The INDEXth <devices> child named ELEMENT (document order), or NULL. */
static xmlNodePtr nth_device(struct domain *d, const char *element, size_t index)
{
    xmlNodePtr n = xml_child(xml_child(root_of(d), "devices"), element);
    for (size_t i = 0; n && i < index; i++)
        n = xml_next(n, element);
    return n;
}

static xmlNodePtr nic_node(struct domain *d, size_t index)
{
    return nth_device(d, "interface", index);
}

int domain_set_nic_network_bridge(struct domain *d, size_t index, const char *bridge)
{
    if (index >= d->nnics)
        return err_set("no interface #%zu (domain has %zu)", index, d->nnics);
    xmlNodePtr n = nic_node(d, index);
    xmlNodePtr src = n ? xml_child(n, "source") : NULL;
    if (!src)
        return err_set("interface #%zu has no <source>", index);
    if (xml_set_prop_after(src, "bridge", bridge, "network") < 0)
        return -1;
    return replace(&d->nics[index].source_bridge, bridge);
}

int domain_set_nic_mac(struct domain *d, size_t index, const char *mac)
{
    if (index >= d->nnics)
        return err_set("no interface #%zu (domain has %zu)", index, d->nnics);
    char canon[MAC_STR_LEN];
    if (mac_parse(mac, canon) < 0)
        return -1;
    if (mac_is_multicast(canon))
        return err_set("MAC address '%s' is a multicast address", mac);
    xmlNodePtr n = nic_node(d, index);
    if (!n)
        return err_set("interface #%zu not found in the document", index);
    xmlNodePtr m = xml_child(n, "mac");
    if (!m)
        m = xml_insert_after(n, NULL, xmlNewDocNode(d->doc, NULL, BAD_CAST "mac", NULL));
    if (!m || xml_set_prop(m, "address", canon) < 0)
        return -1;
    memcpy(d->nics[index].mac, canon, sizeof(canon));
    return 0;
}

int domain_set_memballoon_period(struct domain *d, unsigned period)
{
    xmlNodePtr mb = xml_child(xml_child(root_of(d), "devices"), "memballoon");
    if (!mb || !d->memballoon.present)
        return err_set("Requested operation is not valid: domain '%s' has no memballoon", d->name);
    xml_remove_children(mb, "stats");
    if (period > 0) {
        char buf[16];
        snprintf(buf, sizeof(buf), "%u", period);
        xmlNodePtr s = xmlNewDocNode(d->doc, NULL, BAD_CAST "stats", NULL);
        if (!s || !xml_insert_after(mb, NULL, s) || xml_set_prop(s, "period", buf) < 0)
            return err_set("out of memory");
    }
    d->memballoon.stats_period = period;
    return 0;
}

/* ---- the live XML of a running guest: state, not definition ---- */

int domain_set_run_id(struct domain *d, int64_t id)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "%" PRId64, id);
    /* virsh: <domain type='kvm' id='N'> */
    return xml_set_prop_after(root_of(d), "id", buf, "type");
}

int domain_set_graphics_port(struct domain *d, size_t index, int port)
{
    if (index >= d->ngraphics)
        return err_set("no graphics #%zu (domain has %zu)", index, d->ngraphics);
    if (port < 1 || port > 65535)
        return err_set("graphics #%zu: port %d out of range", index, port);
    xmlNodePtr n = nth_device(d, "graphics", index);
    if (!n)
        return err_set("graphics #%zu not found in the document", index);
    char buf[8];
    snprintf(buf, sizeof buf, "%d", port);
    if (xml_set_prop_after(n, "port", buf, "type") < 0)
        return -1;
    d->graphics[index].port = port;
    return 0;
}

int domain_set_nic_target_dev(struct domain *d, size_t index, const char *dev)
{
    if (index >= d->nnics)
        return err_set("no interface #%zu (domain has %zu)", index, d->nnics);
    xmlNodePtr n = nic_node(d, index);
    if (!n)
        return err_set("interface #%zu not found in the document", index);
    xmlNodePtr t = xml_child(n, "target");
    if (!t) {
        /* libvirt's order: <target> follows mac, source, virtualport, ip,
         * route, script and backenddomain, and precedes everything else. */
        static const char *const earlier[] = {"mac",   "source", "virtualport",   "ip",
                                              "route", "script", "backenddomain", NULL};
        xmlNodePtr after = NULL;
        for (xmlNodePtr c = n->children; c; c = c->next)
            if (c->type == XML_ELEMENT_NODE && xml_in_list((const char *)c->name, earlier))
                after = c;
        t = xml_insert_after(n, after, xmlNewDocNode(d->doc, NULL, BAD_CAST "target", NULL));
        if (!t)
            return err_set("out of memory");
    }
    if (xml_set_prop(t, "dev", dev) < 0)
        return -1;
    return replace(&d->nics[index].target_dev, dev);
}

static xmlNodePtr disk_node(struct domain *d, size_t index)
{
    return nth_device(d, "disk", index);
}

int domain_set_disk_path(struct domain *d, size_t index, const char *path, bool block)
{
    if (index >= d->ndisks)
        return err_set("no disk #%zu (domain has %zu)", index, d->ndisks);
    xmlNodePtr n = disk_node(d, index);
    xmlNodePtr src = n ? xml_child(n, "source") : NULL;
    if (!src)
        return err_set("disk #%zu has no <source>", index);
    const char *type = block ? "block" : "file";
    xmlUnsetProp(src, BAD_CAST "pool");
    xmlUnsetProp(src, BAD_CAST "volume");
    xmlUnsetProp(src, BAD_CAST "mode");
    if (xml_set_prop(n, "type", type) < 0 || xml_set_prop(src, block ? "dev" : "file", path) < 0)
        return -1;
    struct domain_disk *disk = &d->disks[index];
    if (replace(&disk->type, type) < 0 || replace(&disk->source, path) < 0)
        return -1;
    free(disk->source_pool);
    free(disk->source_volume);
    disk->source_pool = disk->source_volume = NULL;
    return 0;
}

int domain_set_disk_format(struct domain *d, size_t index, const char *format)
{
    if (index >= d->ndisks)
        return err_set("no disk #%zu (domain has %zu)", index, d->ndisks);
    xmlNodePtr n = disk_node(d, index);
    xmlNodePtr drv = n ? xml_child(n, "driver") : NULL;
    if (n && !drv) {
        drv = xmlNewDocNode(n->doc, NULL, BAD_CAST "driver", NULL);
        if (!drv || !xml_insert_after(n, NULL, drv) || xml_set_prop(drv, "name", "qemu") < 0)
            return err_set("out of memory");
    }
    if (!drv || xml_set_prop(drv, "type", format) < 0)
        return -1;
    return replace(&d->disks[index].driver_type, format);
}

int domain_push_disk_backing(struct domain *d, size_t index, const char *path, const char *format)
{
    if (index >= d->ndisks)
        return err_set("no disk #%zu (domain has %zu)", index, d->ndisks);
    xmlNodePtr n = disk_node(d, index);
    xmlNodePtr src = n ? xml_child(n, "source") : NULL;
    if (!src)
        return err_set("disk #%zu has no <source>", index);
    xmlNodePtr below = xml_child(n, "backingStore");
    xmlNodePtr bs = xmlNewDocNode(n->doc, NULL, BAD_CAST "backingStore", NULL);
    xmlNodePtr fmt = bs ? xmlNewChild(bs, NULL, BAD_CAST "format", NULL) : NULL;
    xmlNodePtr file = bs ? xmlNewChild(bs, NULL, BAD_CAST "source", NULL) : NULL;
    if (!fmt || !file || xml_set_prop(bs, "type", "file") < 0 ||
        xml_set_prop(fmt, "type", format) < 0 || xml_set_prop(file, "file", path) < 0) {
        xmlFreeNode(bs);
        return err_set("out of memory");
    }
    if (below)
        xmlUnlinkNode(below);
    else
        below = xmlNewDocNode(n->doc, NULL, BAD_CAST "backingStore", NULL);
    if (!below || !xmlAddChild(bs, below) || !xml_insert_after(n, src, bs)) {
        xmlFreeNode(bs);
        return err_set("out of memory");
    }
    return 0;
}

/* libvirt keeps the prefixes vnet, macvtap and macvlan for the taps it
 * names itself, and forgets such a name in a definition (a guest's tap
 * from an earlier run, written back by hand); a tap tvm is told not to
 * manage (managed='no') keeps its name. */
int domain_drop_generated_ifnames(struct domain *d)
{
    static const char *const prefixes[] = {"vnet", "macvtap", "macvlan"};
    for (size_t i = 0; i < d->nnics; i++) {
        const char *dev = d->nics[i].target_dev;
        bool generated = false;
        for (size_t k = 0; dev && k < sizeof prefixes / sizeof prefixes[0]; k++)
            generated = generated || !strncmp(dev, prefixes[k], strlen(prefixes[k]));
        xmlNodePtr n = generated ? nic_node(d, i) : NULL;
        xmlNodePtr t = n ? xml_child(n, "target") : NULL;
        char *managed = xml_prop(t, "managed");
        bool unmanaged = managed && !strcmp(managed, "no");
        free(managed);
        if (!t || unmanaged)
            continue;
        xmlUnsetProp(t, BAD_CAST "dev");
        if (!t->properties && !t->children) {
            xmlUnlinkNode(t);
            xmlFreeNode(t);
        }
        free(d->nics[i].target_dev);
        d->nics[i].target_dev = NULL;
    }
    return 0;
}
