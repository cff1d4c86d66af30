/* PCI addresses of devices (<address type='pci' .../>).
 *
 * At define an address is range-checked the way libvirt checks it and
 * rewritten in libvirt's full form (domain, bus, slot, function in hex), so
 * dumpxml prints what virsh prints. Whether tvm-vmm can honour it (bus 0,
 * function 0, a slot no other device uses) is checked when the domain
 * starts: libvirt's test driver accepts such documents at define, and
 * tvm must keep accepting what virsh accepts.
 *
 * At start, domain_assign_pci() gives every device tvm-vmm puts on PCI and
 * that has no address the lowest free slot, in document order, and writes
 * the address into the document; tvm stores the result, so the next start
 * gives the guest the same slots. This file is the only place that picks
 * slots: tvm-vmm plugs each device where its <address> says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/model/domain-priv.h"
#include "core/base/err.h"
#include "core/xml/xml-util.h"

#define PCI_SLOTS 32

static bool is(const char *v, const char *want)
{
    return v && strcmp(v, want) == 0;
}

bool domain_disk_on_pci(const struct domain_disk *disk)
{
    return (!disk->device || is(disk->device, "disk")) && is(disk->target_bus, "virtio");
}

bool domain_nic_on_pci(const struct domain_nic *nic)
{
    return !nic->model || is(nic->model, "virtio");
}

bool domain_device_on_pci(const struct domain_device *dev)
{
    if (is(dev->element, "rng") || is(dev->element, "memballoon"))
        return is(dev->model, "virtio");
    /* tvm-vmm's display function (src/vmm/dev/vga.c) takes any model but none */
    if (is(dev->element, "video"))
        return !is(dev->type, "none");
    /* virtio-input (src/vmm/virtio/input.c) */
    if (is(dev->element, "input") && is(dev->bus, "virtio"))
        return is(dev->type, "tablet") || is(dev->type, "mouse") || is(dev->type, "keyboard");
    if (is(dev->element, "controller") && is(dev->type, "scsi"))
        return is(dev->model, "virtio-scsi");
    return is(dev->element, "controller") && is(dev->type, "virtio-serial");
}

/* ---- parsing ---- */

/* libvirt reads these numbers with strtoul base 0: "0x05", "5" and "05". */
static int parse_number(xmlNodePtr n, const char *origin, const char *attr, unsigned long max,
                        const char *fmt, unsigned *out)
{
    char *v = xml_prop(n, attr);
    if (!v) {
        *out = 0;
        return 0;
    }
    char *end;
    unsigned long x = strtoul(v, &end, 0);
    int rc = 0;
    if (!*v || *end || *v == '-' || *v == '+' || *v == ' ')
        rc = xml_err(origin, n, NULL,
                     "invalid value for attribute '%s': '%s'. Expected non-negative integer value",
                     attr, v);
    else if (x > max) {
        char lim[16];
        snprintf(lim, sizeof lim, fmt, (unsigned)max);
        rc = xml_err(origin, n, NULL, "invalid PCI address %s='%s', must be <= %s", attr, v, lim);
    } else
        *out = (unsigned)x;
    free(v);
    return rc;
}

static int set_hex(xmlNodePtr n, const char *attr, const char *fmt, unsigned v)
{
    char buf[16];
    snprintf(buf, sizeof buf, fmt, v);
    return xml_set_prop(n, attr, buf);
}

/* Rewrites the attributes in libvirt's order and form. */
static int normalise(xmlNodePtr n, const struct domain_pci_addr *a)
{
    char *mf = xml_prop(n, "multifunction");
    static const char *const attrs[] = {"domain", "bus", "slot", "function", "multifunction"};
    for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++)
        xmlUnsetProp(n, BAD_CAST attrs[i]);
    int rc = set_hex(n, "domain", "0x%04x", a->domain) < 0 ||
                     set_hex(n, "bus", "0x%02x", a->bus) < 0 ||
                     set_hex(n, "slot", "0x%02x", a->slot) < 0 ||
                     set_hex(n, "function", "0x%x", a->function) < 0 ||
                     (mf && xml_set_prop(n, "multifunction", mf) < 0)
                 ? err_set("out of memory")
                 : 0;
    free(mf);
    return rc;
}

int domain_parse_pci_addr(xmlNodePtr dev, const char *origin, struct domain_pci_addr *a)
{
    memset(a, 0, sizeof *a);
    xmlNodePtr n = xml_child(dev, "address");
    char *type = xml_prop(n, "type");
    bool pci = is(type, "pci");
    free(type);
    if (!pci)
        return 0;
    if (parse_number(n, origin, "domain", 0xFFFFFFFFul, "0x%X", &a->domain) < 0 ||
        parse_number(n, origin, "bus", 0xFF, "0x%X", &a->bus) < 0 ||
        parse_number(n, origin, "slot", 0x1F, "0x%X", &a->slot) < 0 ||
        parse_number(n, origin, "function", 7, "%u", &a->function) < 0)
        return -1;
    char *mf = xml_prop(n, "multifunction");
    int rc = 0;
    if (mf && xml_parse_yesno(mf, &a->multifunction) < 0)
        rc = xml_err(origin, n, "address multifunction", "invalid value '%s'", mf);
    free(mf);
    if (rc < 0)
        return -1;
    a->set = true;
    return normalise(n, a);
}

/* ---- checking and assignment ---- */

/* One device element with the struct entry parsed from it. */
struct pci_ref {
    xmlNodePtr node;
    struct domain_pci_addr *pci;
    bool on_pci;
    char what[96]; /* "disk vda" for messages */
};

/* Walks <devices> the way domain_parse_devices() fills the arrays, so the
 * k-th <disk> is disks[k], and so on. */
static size_t collect(struct domain *d, struct pci_ref *refs, size_t max)
{
    xmlNodePtr root = xmlDocGetRootElement((xmlDocPtr)d->doc);
    size_t n = 0, disk = 0, nic = 0, other = 0;
    for (xmlNodePtr e = xml_child(xml_child(root, "devices"), NULL); e && n < max;
         e = xml_next(e, NULL)) {
        struct pci_ref *r = &refs[n];
        r->node = e;
        if (xml_is(e, "disk") && disk < d->ndisks) {
            struct domain_disk *x = &d->disks[disk++];
            r->pci = &x->pci;
            r->on_pci = domain_disk_on_pci(x);
            snprintf(r->what, sizeof r->what, "disk %s", x->target_dev);
        } else if (xml_is(e, "interface") && nic < d->nnics) {
            struct domain_nic *x = &d->nics[nic++];
            r->pci = &x->pci;
            r->on_pci = domain_nic_on_pci(x);
            snprintf(r->what, sizeof r->what, "interface %s", x->mac);
        } else if (xml_is(e, "graphics") || xml_is(e, "serial") || xml_is(e, "console") ||
                   xml_is(e, "channel") || xml_is(e, "parallel") || xml_is(e, "emulator")) {
            continue;
        } else if (other < d->ndevices) {
            struct domain_device *x = &d->devices[other++];
            r->pci = &x->pci;
            r->on_pci = domain_device_on_pci(x);
            if (x->type)
                snprintf(r->what, sizeof r->what, "%s %s", x->element, x->type);
            else
                snprintf(r->what, sizeof r->what, "%s", x->element);
        } else {
            continue;
        }
        n++;
    }
    return n;
}

static int check_own(const struct pci_ref *r)
{
    const struct domain_pci_addr *a = r->pci;
    if (a->domain != 0 || a->bus != 0)
        return err_set("%s: PCI address %04x:%02x:%02x.%x is not on bus 0, the only PCI bus "
                       "tvm-vmm has",
                       r->what, a->domain, a->bus, a->slot, a->function);
    if (a->slot == 0)
        return err_set("%s: PCI slot 0 belongs to the host bridge", r->what);
    if (a->function != 0)
        return err_set("%s: PCI function %u: tvm-vmm puts each device in a slot of its own "
                       "(function 0)",
                       r->what, a->function);
    return 0;
}

static int write_address(struct pci_ref *r)
{
    xmlNodePtr n = xml_child(r->node, "address");
    if (!n)
        n = xmlNewChild(r->node, NULL, BAD_CAST "address", NULL);
    if (!n || xml_set_prop(n, "type", "pci") < 0)
        return err_set("out of memory");
    return normalise(n, r->pci);
}

int domain_assign_pci(struct domain *d)
{
    size_t max = d->ndisks + d->nnics + d->ndevices;
    struct pci_ref *refs = calloc(max ? max : 1, sizeof *refs);
    if (!refs)
        return err_set("out of memory");
    size_t n = collect(d, refs, max);
    const struct pci_ref *owner[PCI_SLOTS] = {0}; /* device on PCI in the slot */
    const struct pci_ref *other[PCI_SLOTS] = {0}; /* any other device there */
    int rc = 0, assigned = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct pci_ref *r = &refs[i];
        const struct domain_pci_addr *a = r->pci;
        if (!a->set)
            continue;
        if (r->on_pci && check_own(r) < 0)
            rc = -1;
        else if (a->domain != 0 || a->bus != 0)
            continue; /* not on tvm-vmm's bus: nobody sees it */
        else if (owner[a->slot] || (r->on_pci && other[a->slot]))
            rc = err_set("%s: PCI slot 0x%02x is also used by %s", r->what, a->slot,
                         (owner[a->slot] ? owner[a->slot] : other[a->slot])->what);
        else if (r->on_pci)
            owner[a->slot] = r;
        else if (!other[a->slot])
            other[a->slot] = r;
    }
    unsigned slot = 1;
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct pci_ref *r = &refs[i];
        if (!r->on_pci || r->pci->set)
            continue;
        while (slot < PCI_SLOTS && (owner[slot] || other[slot]))
            slot++;
        if (slot == PCI_SLOTS) {
            rc = err_set("%s: no free PCI slot left on bus 0", r->what);
            break;
        }
        *r->pci = (struct domain_pci_addr){.set = true, .slot = slot};
        owner[slot] = r;
        rc = write_address(r);
        assigned++;
    }
    free(refs);
    return rc < 0 ? -1 : assigned;
}

bool domain_pci_complete(const struct domain *d)
{
    for (size_t i = 0; i < d->ndisks; i++)
        if (domain_disk_on_pci(&d->disks[i]) && !d->disks[i].pci.set)
            return false;
    for (size_t i = 0; i < d->nnics; i++)
        if (domain_nic_on_pci(&d->nics[i]) && !d->nics[i].pci.set)
            return false;
    for (size_t i = 0; i < d->ndevices; i++)
        if (domain_device_on_pci(&d->devices[i]) && !d->devices[i].pci.set)
            return false;
    return true;
}

static void mark(bool *used, const struct domain_pci_addr *a)
{
    if (a->set && a->domain == 0 && a->bus == 0 && a->slot < PCI_SLOTS)
        used[a->slot] = true;
}

/* The virtio-serial controller with index 0 that has a slot on bus 0. */
static const struct domain_device *virtio_serial0(const struct domain *d)
{
    for (size_t i = 0; i < d->ndevices; i++) {
        const struct domain_device *x = &d->devices[i];
        if (is(x->element, "controller") && is(x->type, "virtio-serial") && x->index == 0 &&
            x->pci.set && x->pci.domain == 0 && x->pci.bus == 0 && x->pci.slot < PCI_SLOTS)
            return x;
    }
    return NULL;
}

unsigned domain_console_pci_slot(const struct domain *d, unsigned n)
{
    /* The first virtio console is where the domain's virtio-serial
     * controller is (libvirt adds one for it): the slot that controller
     * holds is the console's, not an empty one. */
    const struct domain_device *vs = virtio_serial0(d);
    if (vs && n == 1)
        return vs->pci.slot;
    if (vs)
        n--;
    bool used[PCI_SLOTS] = {true}; /* slot 0: the host bridge */
    for (size_t i = 0; i < d->ndisks; i++)
        mark(used, &d->disks[i].pci);
    for (size_t i = 0; i < d->nnics; i++)
        mark(used, &d->nics[i].pci);
    for (size_t i = 0; i < d->ndevices; i++)
        mark(used, &d->devices[i].pci);
    for (unsigned s = 1; s < PCI_SLOTS; s++)
        if (!used[s] && --n == 0)
            return s;
    return 0;
}
