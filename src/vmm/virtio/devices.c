/* Which virtio devices a guest gets, from its domain, in one explicit
 * table (no constructor magic): every <disk device='disk'> on bus virtio
 * becomes a virtio-blk, every <rng model='virtio'> a virtio-rng, a
 * <memballoon model='virtio'> the virtio-balloon.
 *
 * PCI slots: domain_assign_pci() (src/core/domain-address.c) first checks
 * the <address> of every device the domain puts on PCI and gives those
 * without one the lowest free slot in document order, the same thing tvm
 * does and stores at start; plug() then puts each device at its address.
 * A device kind domain_assign_pci() does not know plugs with NULL and
 * gets the lowest slot no device of the domain has.
 */
#include <stdio.h>
#include <string.h>

#include "core/model/domain.h"
#include "core/base/err.h"
#include "pci.h"
#include "virtio/vconsole.h"
#include "virtio/virtio.h"

#define MAX_DEVICES (PCI_MAX_DEVICES - 1)

/* Started devices, stopped by virtio_devices_exit() (one VM per process). */
static struct virtio_dev *started[MAX_DEVICES];
static unsigned nstarted;

static bool is(const char *v, const char *want)
{
    return v && strcmp(v, want) == 0;
}

/* Puts DEV on the bus at ADDR (NULL or unset: the lowest free slot). */
static int plug(struct pci_bus *bus, struct virtio_dev *dev, const struct domain_pci_addr *addr)
{
    if (!dev)
        return -1;
    if (nstarted == MAX_DEVICES) {
        virtio_dev_free(dev);
        return err_set("too many virtio devices (at most %d)", MAX_DEVICES);
    }
    int slot = addr && addr->set ? (int)addr->slot : -1;
    if (virtio_pci_add_at(bus, dev, slot) < 0) {
        err_prefix("%s: ", dev->id);
        virtio_dev_free(dev);
        return -1;
    }
    if (virtio_dev_start(dev) < 0) {
        virtio_dev_free(dev);
        return -1;
    }
    started[nstarted++] = dev;
    return 0;
}

static int add_disk(struct pci_bus *bus, const struct domain_disk *d)
{
    const char *t = d->target_dev ? d->target_dev : "?";
    if (!is(d->type, "file") && !is(d->type, "block"))
        return err_set("disk %s: type '%s' is not supported (file or block)", t,
                       d->type ? d->type : "");
    if (!d->source || !*d->source)
        return err_set("disk %s: no <source>", t);
    struct virtio_blk_config_in c = {
        .path = d->source,
        .format = d->driver_type,
        .serial = d->serial,
        .target = t,
        .readonly = d->readonly,
        .direct = is(d->cache, "none") || is(d->cache, "directsync"),
    };
    return plug(bus, virtio_blk_new(pci_vm(bus), &c), &d->pci);
}

static int add_disks(struct pci_bus *bus, const struct domain *dom)
{
    for (size_t i = 0; i < dom->ndisks; i++) {
        const struct domain_disk *d = &dom->disks[i];
        if (domain_disk_on_pci(d)) {
            if (add_disk(bus, d) < 0)
                return -1;
        } else {
            fprintf(stderr, "tvm-vmm: warning: %s %s on bus %s is not emulated; ignored\n",
                    d->device ? d->device : "disk", d->target_dev ? d->target_dev : "?",
                    d->target_bus ? d->target_bus : "?");
        }
    }
    return 0;
}

static int add_rngs(struct pci_bus *bus, const struct domain *dom)
{
    for (size_t i = 0; i < dom->ndevices; i++) {
        const struct domain_device *d = &dom->devices[i];
        if (is(d->element, "rng") && is(d->model, "virtio") &&
            plug(bus, virtio_rng_new(pci_vm(bus)), &d->pci) < 0)
            return -1;
    }
    return 0;
}

/* One <memballoon model='virtio'> at most: a virtio-balloon whose target
 * at boot is <currentMemory>. */
static int add_balloon(struct pci_bus *bus, const struct domain *dom)
{
    struct virtio_balloon_config_in c;
    int found = virtio_balloon_from_domain(dom, &c);
    if (found <= 0)
        return found;
    const struct domain_pci_addr *addr = NULL;
    for (size_t i = 0; i < dom->ndevices; i++)
        if (is(dom->devices[i].element, "memballoon"))
            addr = &dom->devices[i].pci;
    return plug(bus, virtio_balloon_new(pci_vm(bus), &c), addr);
}

/* The bridge a NIC's tap joins: <source bridge> for type 'bridge', the
 * network's bridge that tvm wrote into the live XML for type 'network',
 * none for 'ethernet'. Other types are refused (a guest that silently
 * lacks its NIC is worse). */
static int nic_bridge(const struct domain_nic *n, const char **bridge)
{
    *bridge = NULL;
    if (is(n->type, "ethernet"))
        return 0;
    if (is(n->type, "bridge")) {
        if (!n->source || !*n->source)
            return err_set("interface %s: type 'bridge' needs <source bridge='...'/>", n->mac);
        *bridge = n->source;
        return 0;
    }
    if (is(n->type, "network")) {
        if (!n->source_bridge || !*n->source_bridge)
            return err_set("interface %s: network '%s' has no bridge in the live XML (start "
                           "the guest with tvm, which starts the network)",
                           n->mac, n->source ? n->source : "");
        *bridge = n->source_bridge;
        return 0;
    }
    return err_set("interface %s: type '%s' is not supported (use 'network', 'bridge' or "
                   "'ethernet')",
                   n->mac, n->type ? n->type : "");
}

/* <interface> with model virtio (or none) is a virtio-net on a tap; other
 * models are ignored with a warning. */
static int add_nic(struct pci_bus *bus, const struct domain_nic *n)
{
    const char *bridge;
    if (nic_bridge(n, &bridge) < 0)
        return -1;
    struct virtio_net_config_in c = {
        .mac = n->mac,
        .ifname = n->target_dev,
        .bridge = bridge,
        .link_down = is(n->link_state, "down"),
        .fd = -1,
    };
    if (plug(bus, virtio_net_new(pci_vm(bus), &c), &n->pci) < 0)
        return err_prefix("interface %s: ", n->mac);
    return 0;
}

static int add_nics(struct pci_bus *bus, const struct domain *dom)
{
    for (size_t i = 0; i < dom->nnics; i++) {
        const struct domain_nic *n = &dom->nics[i];
        if (!domain_nic_on_pci(n)) {
            fprintf(stderr, "tvm-vmm: warning: interface %s: model '%s' is not emulated; ignored\n",
                    n->mac, n->model);
        } else if (add_nic(bus, n) < 0) {
            return -1;
        }
    }
    return 0;
}

/* Socket servers for the virtio consoles, from main.c. */
static struct console *(*console_factory)(void *opaque, unsigned n);
static void *console_factory_opaque;

void virtio_devices_set_console_factory(struct console *(*fn)(void *opaque, unsigned n),
                                        void *opaque)
{
    console_factory = fn;
    console_factory_opaque = opaque;
}

/* Every <console><target type='virtio'/></console> is a one-port virtio
 * console, the Nth of them named consoleN (libvirt's alias when the first
 * console is the serial one), on socket VMM_SOCK_VCONSOLE_FMT. */
static int add_consoles(struct pci_bus *bus, const struct domain *dom)
{
    unsigned n = 0;
    for (size_t i = 0; i < dom->nchardevs; i++) {
        const struct domain_chardev *cd = &dom->chardevs[i];
        if (!is(cd->element, "console") || !is(cd->target_type, "virtio"))
            continue;
        char name[16];
        snprintf(name, sizeof name, "console%u", ++n);
        struct console *con = NULL;
        if (console_factory && !(con = console_factory(console_factory_opaque, n)))
            return err_prefix("%s: ", name);
        struct virtio_console_config_in c = {.con = con, .name = name};
        if (plug(bus, virtio_console_new(pci_vm(bus), &c), NULL) < 0)
            return err_prefix("%s: ", name);
    }
    return 0;
}

static const struct {
    const char *what;
    int (*add)(struct pci_bus *bus, const struct domain *dom);
} kinds[] = {
    {"disks", add_disks},       {"network interfaces", add_nics}, {"rng", add_rngs},
    {"consoles", add_consoles}, {"memballoon", add_balloon},
};

/* Slots the domain gives its devices are not for devices without one. */
static void reserve_slots(struct pci_bus *bus, const struct domain *dom)
{
    for (size_t i = 0; i < dom->ndisks; i++)
        if (dom->disks[i].pci.set)
            pci_reserve_slot(bus, dom->disks[i].pci.slot);
    for (size_t i = 0; i < dom->nnics; i++)
        if (dom->nics[i].pci.set)
            pci_reserve_slot(bus, dom->nics[i].pci.slot);
    for (size_t i = 0; i < dom->ndevices; i++)
        if (dom->devices[i].pci.set)
            pci_reserve_slot(bus, dom->devices[i].pci.slot);
}

int virtio_devices_init(struct vm *vm, struct domain *dom)
{
    /* tvm assigned and stored the addresses at start; a domain file given
     * to tvm-vmm directly gets the same assignment here. */
    if (domain_assign_pci(dom) < 0)
        return err_prefix("PCI: ");
    struct pci_bus *bus = pci_init(vm);
    if (!bus)
        return err_prefix("PCI: ");
    reserve_slots(bus, dom);
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (kinds[i].add(bus, dom) < 0) {
            virtio_devices_exit();
            return err_prefix("%s: ", kinds[i].what);
        }
    }
    return 0;
}

void virtio_devices_exit(void)
{
    while (nstarted > 0)
        virtio_dev_free(started[--nstarted]);
}
