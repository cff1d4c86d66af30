/* Which virtio devices a guest gets, from its domain, in one explicit
 * table (no constructor magic): every <disk device='disk'> on bus virtio
 * becomes a virtio-blk, every <rng model='virtio'> a virtio-rng, each on
 * the PCI bus in document order.
 */
#include <stdio.h>
#include <string.h>

#include "core/domain.h"
#include "core/err.h"
#include "pci.h"
#include "virtio/virtio.h"

#define MAX_DEVICES (PCI_MAX_DEVICES - 1)

/* Started devices, stopped by virtio_devices_exit() (one VM per process). */
static struct virtio_dev *started[MAX_DEVICES];
static unsigned nstarted;

static bool is(const char *v, const char *want)
{
    return v && strcmp(v, want) == 0;
}

static int plug(struct pci_bus *bus, struct virtio_dev *dev)
{
    if (!dev)
        return -1;
    if (nstarted == MAX_DEVICES) {
        virtio_dev_free(dev);
        return err_set("too many virtio devices (at most %d)", MAX_DEVICES);
    }
    if (virtio_pci_add(bus, dev) < 0 || virtio_dev_start(dev) < 0) {
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
    return plug(bus, virtio_blk_new(pci_vm(bus), &c));
}

static int add_disks(struct pci_bus *bus, const struct domain *dom)
{
    for (size_t i = 0; i < dom->ndisks; i++) {
        const struct domain_disk *d = &dom->disks[i];
        bool disk = !d->device || is(d->device, "disk");
        if (disk && is(d->target_bus, "virtio")) {
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
            plug(bus, virtio_rng_new(pci_vm(bus))) < 0)
            return -1;
    }
    return 0;
}

static const struct {
    const char *what;
    int (*add)(struct pci_bus *bus, const struct domain *dom);
} kinds[] = {
    {"disks", add_disks},
    {"rng", add_rngs},
};

int virtio_devices_init(struct vm *vm, const struct domain *dom)
{
    struct pci_bus *bus = pci_init(vm);
    if (!bus)
        return err_prefix("PCI: ");
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
