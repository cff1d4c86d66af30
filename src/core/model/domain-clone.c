/* Templates and clones: tvm's template mark in <metadata>, and the edits
 * virt-clone makes to a copy of a definition. */
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/model/domain-priv.h"
#include "core/base/err.h"
#include "core/xml/xml-util.h"

static xmlNodePtr template_node(xmlNodePtr root)
{
    xmlNodePtr md = xml_child(root, "metadata");
    for (xmlNodePtr c = md ? md->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && c->ns && c->ns->href &&
            !strcmp((const char *)c->ns->href, DOMAIN_TVM_NS) &&
            !strcmp((const char *)c->name, "template"))
            return c;
    return NULL;
}

bool domain_metadata_template(xmlNodePtr root)
{
    return template_node(root) != NULL;
}

/* <metadata>, made where libvirt writes it (after <description>, <title>
 * or <uuid>) when there is none. */
static xmlNodePtr metadata_node(struct domain *d, xmlNodePtr root)
{
    xmlNodePtr md = xml_child(root, "metadata");
    if (md)
        return md;
    xmlNodePtr after = xml_child(root, "description");
    if (!after)
        after = xml_child(root, "title");
    if (!after)
        after = xml_child(root, "uuid");
    return xml_insert_after(root, after, xmlNewDocNode(d->doc, NULL, BAD_CAST "metadata", NULL));
}

int domain_set_template(struct domain *d, bool on)
{
    xmlNodePtr root = xmlDocGetRootElement(d->doc);
    xmlNodePtr t = template_node(root);
    if (on && !t) {
        xmlNodePtr md = metadata_node(d, root);
        t = md ? xmlNewDocNode(d->doc, NULL, BAD_CAST "template", NULL) : NULL;
        xmlNsPtr ns = t ? xmlNewNs(t, BAD_CAST DOMAIN_TVM_NS, BAD_CAST "tvm") : NULL;
        if (!ns) {
            xmlFreeNode(t);
            return err_set("out of memory");
        }
        xmlSetNs(t, ns);
        xmlAddChild(md, t);
    } else if (!on && t) {
        xmlNodePtr md = t->parent;
        xmlUnlinkNode(t);
        xmlFreeNode(t);
        if (!xml_child(md, NULL) && !md->children) {
            xmlUnlinkNode(md);
            xmlFreeNode(md);
        }
    }
    d->is_template = on;
    return 0;
}

static xmlNodePtr nth_device(struct domain *d, const char *elem, size_t index)
{
    xmlNodePtr n = xml_child(xml_child(xmlDocGetRootElement(d->doc), "devices"), elem);
    for (size_t i = 0; n && i < index; i++)
        n = xml_next(n, elem);
    return n;
}

int domain_set_disk_volume(struct domain *d, size_t index, const char *volume)
{
    if (index >= d->ndisks)
        return err_set("no disk #%zu (domain has %zu)", index, d->ndisks);
    xmlNodePtr n = nth_device(d, "disk", index);
    xmlNodePtr src = n ? xml_child(n, "source") : NULL;
    if (!src || !d->disks[index].source_pool)
        return err_set("disk #%zu is not a pool volume", index);
    char *copy = strdup(volume);
    if (!copy || xml_set_prop(src, "volume", volume) < 0) {
        free(copy);
        return err_set("out of memory");
    }
    free(d->disks[index].source_volume);
    d->disks[index].source_volume = copy;
    return 0;
}

/* Graphics with a fixed TCP port would collide with the original's. */
static int graphics_autoport(struct domain *d)
{
    for (size_t i = 0; i < d->ngraphics; i++) {
        struct domain_graphics *g = &d->graphics[i];
        if (g->autoport)
            continue;
        xmlNodePtr n = nth_device(d, "graphics", i);
        if (!n || xml_set_prop(n, "autoport", "yes") < 0)
            return err_set("out of memory");
        /* as libvirt writes an automatic port: -1 for VNC, none for SPICE */
        if (!strcmp(g->type, "vnc") ? xml_set_prop(n, "port", "-1") < 0
                                    : (xmlUnsetProp(n, BAD_CAST "port"), 0))
            return err_set("out of memory");
        g->autoport = true;
        g->port = -1;
    }
    return 0;
}

static void drop_nic_targets(struct domain *d)
{
    for (size_t i = 0; i < d->nnics; i++) {
        xmlNodePtr n = nth_device(d, "interface", i);
        if (n)
            xml_remove_children(n, "target");
        free(d->nics[i].target_dev);
        d->nics[i].target_dev = NULL;
    }
}

/* <sysinfo type='smbios'><system><entry name='uuid'>: the guest's own view. */
static void sysinfo_uuid(struct domain *d)
{
    xmlNodePtr si = xml_child(xmlDocGetRootElement(d->doc), "sysinfo");
    for (xmlNodePtr e = xml_child(xml_child(si, "system"), "entry"); e; e = xml_next(e, "entry")) {
        char *name = xml_prop(e, "name");
        bool is_uuid = name && !strcmp(name, "uuid");
        free(name);
        if (is_uuid)
            xmlNodeSetContent(e, BAD_CAST d->uuid);
    }
}

int domain_prepare_clone(struct domain *d, const char *name, const char *uuid)
{
    if (domain_set_name(d, name) < 0 || domain_set_uuid(d, uuid) < 0 ||
        domain_set_title(d, NULL) < 0 || domain_set_template(d, false) < 0 ||
        graphics_autoport(d) < 0)
        return -1;
    drop_nic_targets(d);
    sysinfo_uuid(d);
    return 0;
}
