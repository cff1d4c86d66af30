/* PCI host bridge: see pci.h. Config mechanism #1: the guest writes
 * 0x80000000 | bus << 16 | slot << 11 | func << 8 | reg to 0xCF8 and
 * accesses the dword at 0xCFC (bytes 0xCFC-0xCFF pick a byte lane).
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "pci.h"
#include "vm.h"
#include "x86/acpi.h"

#define CF8_ENABLE 0x80000000u
#define IOAPIC_PINS 24
#define PIC_PINS 16

struct pci_bus {
    struct vm *vm;
    pthread_mutex_t lock;
    uint32_t cf8;
    struct pci_device *dev[PCI_MAX_DEVICES];
    struct pci_device host;
    uint64_t next_bar;
    /* MSI routes by GSI - PCI_MSI_GSI_BASE */
    struct {
        bool used;
        uint64_t addr;
        uint32_t data;
    } msi[PCI_MSI_MAX];
    unsigned generation;
};

/* ---- config space ---- */

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

void pci_device_setup(struct pci_device *d, uint16_t vendor, uint16_t device, uint8_t revision,
                      uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys_id)
{
    memset(d->cfg, 0, sizeof d->cfg);
    memset(d->wmask, 0, sizeof d->wmask);
    put16(d->cfg + PCI_VENDOR_ID, vendor);
    put16(d->cfg + PCI_DEVICE_ID, device);
    d->cfg[PCI_REVISION_ID] = revision;
    d->cfg[PCI_CLASS_PROG] = class_code & 0xFF;
    put16(d->cfg + PCI_CLASS_DEVICE, class_code >> 8);
    put16(d->cfg + PCI_SUBSYSTEM_VENDOR_ID, subsys_vendor);
    put16(d->cfg + PCI_SUBSYSTEM_ID, subsys_id);
    /* command: memory space, bus master, INTx disable */
    put16(d->wmask + PCI_COMMAND,
          PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
    d->wmask[0x0C] = 0xFF; /* cache line size */
    d->wmask[0x0D] = 0xFF; /* latency timer */
    d->wmask[PCI_INTERRUPT_LINE] = 0xFF;
    for (unsigned i = 0; i < PCI_NUM_BARS; i++)
        if (d->bar_size[i])
            put32(d->wmask + PCI_BAR0 + 4 * i, ~(d->bar_size[i] - 1) & ~0xFu);
    d->next_cap = 0x40;
}

uint8_t pci_add_cap(struct pci_device *d, uint8_t id, uint8_t len)
{
    unsigned at = (d->next_cap + 3) & ~3u;
    if (at + len > sizeof d->cfg)
        return 0;
    d->cfg[at] = id;
    d->cfg[at + 1] = d->cfg[PCI_CAPABILITY_LIST]; /* newest first */
    d->cfg[PCI_CAPABILITY_LIST] = at;
    d->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
    d->next_cap = at + len;
    return at;
}

void pci_device_decode(struct pci_device *d)
{
    uint16_t cmd;
    memcpy(&cmd, d->cfg + PCI_COMMAND, 2);
    for (unsigned bar = 0; bar < PCI_NUM_BARS; bar++) {
        uint32_t v;
        memcpy(&v, d->cfg + PCI_BAR0 + 4 * bar, 4);
        uint64_t at = d->bar_size[bar] && (cmd & PCI_COMMAND_MEMORY) ? v & ~0xFu : 0;
        __atomic_store_n(&d->decode[bar], at, __ATOMIC_RELEASE);
    }
}

uint64_t pci_bar_addr(const struct pci_device *d, unsigned bar)
{
    if (bar >= PCI_NUM_BARS)
        return 0;
    return __atomic_load_n(&d->decode[bar], __ATOMIC_ACQUIRE);
}

static struct pci_device *slot_dev(struct pci_bus *bus, uint8_t slot)
{
    return slot < PCI_MAX_DEVICES ? bus->dev[slot] : NULL;
}

uint32_t pci_cfg_read(struct pci_bus *bus, uint8_t slot, uint32_t off, uint32_t len)
{
    struct pci_device *d = slot_dev(bus, slot);
    if (!d || off >= 256 || len > 4 || off + len > 256)
        return 0xFFFFFFFFu >> (32 - 8 * len);
    if (d->lock)
        d->lock(d);
    if (d->cfg_reading)
        d->cfg_reading(d, off, len);
    uint32_t v = 0;
    memcpy(&v, d->cfg + off, len);
    if (d->unlock)
        d->unlock(d);
    return v;
}

void pci_cfg_write(struct pci_bus *bus, uint8_t slot, uint32_t off, uint32_t val, uint32_t len)
{
    struct pci_device *d = slot_dev(bus, slot);
    if (!d || off >= 256 || len > 4 || off + len > 256)
        return;
    if (d->lock)
        d->lock(d);
    for (uint32_t i = 0; i < len; i++) {
        uint8_t m = d->wmask[off + i], b = val >> (8 * i);
        d->cfg[off + i] = (d->cfg[off + i] & ~m) | (b & m);
    }
    pci_device_decode(d);
    if (d->cfg_written)
        d->cfg_written(d, off, len);
    if (d->unlock)
        d->unlock(d);
}

/* ---- ports 0xCF8-0xCFF ---- */

/* The latch is the only bus state config accesses share; device config
 * writes then run without the bus lock, because device handlers take their
 * own lock and may call pci_msi_route() (bus lock) with it held. */
static uint32_t latch_get(struct pci_bus *bus)
{
    pthread_mutex_lock(&bus->lock);
    uint32_t v = bus->cf8;
    pthread_mutex_unlock(&bus->lock);
    return v;
}

static void latch_set(struct pci_bus *bus, uint32_t v)
{
    pthread_mutex_lock(&bus->lock);
    bus->cf8 = v;
    pthread_mutex_unlock(&bus->lock);
}

static bool cf8_target(struct pci_bus *bus, uint64_t port_off, uint32_t len, uint8_t *slot,
                       uint32_t *reg)
{
    uint32_t a = latch_get(bus);
    if (!(a & CF8_ENABLE) || ((a >> 16) & 0xFF) != 0 || ((a >> 8) & 7) != 0)
        return false; /* only bus 0, function 0 exist */
    *slot = (a >> 11) & 0x1F;
    *reg = (a & 0xFC) + (uint32_t)(port_off - 4);
    return *reg + len <= 256;
}

static void port_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    struct pci_bus *bus = opaque;
    uint8_t slot;
    uint32_t reg, v = 0xFFFFFFFFu;
    if (off == 0 && len == 4)
        v = latch_get(bus);
    else if (off >= 4 && cf8_target(bus, off, len, &slot, &reg))
        v = pci_cfg_read(bus, slot, reg, len);
    memcpy(data, &v, len > 4 ? 4 : len);
}

static void port_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct pci_bus *bus = opaque;
    uint8_t slot;
    uint32_t reg, v = 0;
    memcpy(&v, data, len > 4 ? 4 : len);
    if (off == 0 && len == 4)
        latch_set(bus, v);
    else if (off >= 4 && cf8_target(bus, off, len, &slot, &reg))
        pci_cfg_write(bus, slot, reg, v, len);
}

static const struct io_ops port_ops = {.read = port_read, .write = port_write};

/* io.c claims 0xCF8 with an empty bus so that probes see "no device" even
 * without us; the host bridge takes that range over. */
static int claim_ports(struct vm *vm, struct pci_bus *bus)
{
    for (unsigned i = 0; i < vm->npio; i++) {
        if (vm->pio[i].base == 0xCF8) {
            vm->pio[i].len = 8;
            vm->pio[i].ops = &port_ops;
            vm->pio[i].opaque = bus;
            return 0;
        }
    }
    return vm_register_pio(vm, 0xCF8, 8, &port_ops, bus);
}

/* ---- ECAM: bus << 20 | slot << 15 | function << 12 | register ---- */

static bool ecam_target(uint64_t off, uint32_t len, uint8_t *slot, uint32_t *reg)
{
    if ((len != 1 && len != 2 && len != 4) || (off & (len - 1)))
        return false; /* the spec leaves other accesses undefined */
    if ((off >> 20) != 0 || ((off >> 12) & 7) != 0)
        return false; /* only bus 0, function 0 exist */
    *slot = (off >> 15) & 0x1F;
    *reg = off & 0xFFF;
    return true;
}

static void ecam_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    struct pci_bus *bus = opaque;
    uint8_t slot;
    uint32_t reg, v = 0xFFFFFFFFu;
    if (ecam_target(off, len, &slot, &reg)) {
        if (reg < 256)
            v = pci_cfg_read(bus, slot, reg, len);
        else if (slot_dev(bus, slot))
            v = 0; /* extended space: no extended capabilities */
    }
    memcpy(data, &v, len > 4 ? 4 : len);
    if (len > 4)
        memset(data + 4, 0xFF, len - 4);
}

static void ecam_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct pci_bus *bus = opaque;
    uint8_t slot;
    uint32_t reg, v = 0;
    if (!ecam_target(off, len, &slot, &reg) || reg >= 256)
        return;
    memcpy(&v, data, len);
    pci_cfg_write(bus, slot, reg, v, len);
}

static const struct io_ops ecam_ops = {.read = ecam_read, .write = ecam_write};

/* ---- the MMIO window: forwarded to whichever BAR decodes the address ---- */

static bool find_bar(struct pci_bus *bus, uint64_t addr, uint32_t len, struct pci_device **dev,
                     unsigned *bar, uint64_t *off)
{
    for (unsigned s = 0; s < PCI_MAX_DEVICES; s++) {
        struct pci_device *d = bus->dev[s];
        for (unsigned b = 0; d && b < PCI_NUM_BARS; b++) {
            uint64_t base = pci_bar_addr(d, b);
            if (base && d->bar_ops[b] && addr >= base && addr - base + len <= d->bar_size[b]) {
                *dev = d;
                *bar = b;
                *off = addr - base;
                return true;
            }
        }
    }
    return false;
}

static void window_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    struct pci_bus *bus = opaque;
    struct pci_device *d;
    unsigned b;
    uint64_t o;
    if (find_bar(bus, PCI_MMIO_BASE + off, len, &d, &b, &o) && d->bar_ops[b]->read)
        d->bar_ops[b]->read(d->opaque, o, data, len);
    else
        memset(data, 0xFF, len);
}

static void window_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct pci_bus *bus = opaque;
    struct pci_device *d;
    unsigned b;
    uint64_t o;
    if (find_bar(bus, PCI_MMIO_BASE + off, len, &d, &b, &o) && d->bar_ops[b]->write)
        d->bar_ops[b]->write(d->opaque, o, data, len);
}

static const struct io_ops window_ops = {.read = window_read, .write = window_write};

/* ---- devices ---- */

/* INTx lines 10 and 11 also reach the PIC, so a guest without ACPI or an
 * IOAPIC can still take them; alternating spreads devices over both. */
uint8_t pci_intx_gsi(unsigned slot)
{
    static const uint8_t lines[] = {10, 11};
    return lines[slot % sizeof lines];
}

/* Pin p of slot s shares the line of INTA# of slot s + p, the usual swizzle. */
void pci_acpi_describe(struct acpi_pci *out)
{
    *out = (struct acpi_pci){
        .ecam_base = PCI_ECAM_BASE,
        .end_bus = PCI_ECAM_BUSES - 1,
        .mmio_base = (uint32_t)PCI_MMIO_BASE,
        .mmio_size = (uint32_t)PCI_MMIO_SIZE,
    };
    for (unsigned s = 0; s < ACPI_PCI_SLOTS; s++)
        for (unsigned p = 0; p < 4; p++)
            out->intx_gsi[s][p] = pci_intx_gsi(s + p);
}

/* Slots come from the domain (tvm assigns them, domain-address.c): the bus
 * only checks that one fits. */
static int check_slot(struct pci_bus *bus, int want)
{
    if (want <= 0)
        return err_set(want == 0 ? "PCI slot 0 is the host bridge's" : "no PCI slot given");
    if (want >= PCI_MAX_DEVICES)
        return err_set("PCI slot %d is beyond bus 0's %d slots", want, PCI_MAX_DEVICES);
    if (bus->dev[want])
        return err_set("PCI slot 0x%02x is already taken by another device", (unsigned)want);
    return want;
}

static int place_bars(struct pci_bus *bus, struct pci_device *d)
{
    uint64_t next = bus->next_bar;
    for (unsigned i = 0; i < PCI_NUM_BARS; i++) {
        uint32_t size = d->bar_size[i];
        if (!size)
            continue;
        uint64_t at = (next + size - 1) & ~(uint64_t)(size - 1);
        if (at + size > PCI_MMIO_BASE + PCI_MMIO_SIZE)
            return err_set("PCI MMIO window is full");
        put32(d->cfg + PCI_BAR0 + 4 * i, (uint32_t)at);
        next = at + size;
    }
    bus->next_bar = next;
    return 0;
}

int pci_add_device(struct pci_bus *bus, struct pci_device *d, int slot)
{
    slot = check_slot(bus, slot);
    if (slot < 0 || place_bars(bus, d) < 0)
        return -1;
    d->slot = (uint8_t)slot;
    d->cfg[PCI_INTERRUPT_PIN] = 1; /* INTA# */
    d->cfg[PCI_INTERRUPT_LINE] = pci_intx_gsi((unsigned)slot);
    pci_device_decode(d);
    bus->dev[slot] = d;
    return 0;
}

/* ---- MSI routing ---- */

static int set_routing(struct pci_bus *bus)
{
    if (!pci_has_vm(bus))
        return 0;
    unsigned n = IOAPIC_PINS + PIC_PINS;
    for (unsigned i = 0; i < PCI_MSI_MAX; i++)
        n += bus->msi[i].used;
    struct kvm_irq_routing *r = calloc(1, sizeof *r + n * sizeof(struct kvm_irq_routing_entry));
    if (!r)
        return err_set("out of memory");
    unsigned k = 0;
    /* KVM's defaults, which the new table replaces: GSI i is IOAPIC pin i
     * and, below 16, PIC pin i % 8 of the master or slave. */
    for (unsigned i = 0; i < IOAPIC_PINS; i++)
        r->entries[k++] =
            (struct kvm_irq_routing_entry){.gsi = i,
                                           .type = KVM_IRQ_ROUTING_IRQCHIP,
                                           .u.irqchip = {.irqchip = KVM_IRQCHIP_IOAPIC, .pin = i}};
    for (unsigned i = 0; i < PIC_PINS; i++)
        r->entries[k++] = (struct kvm_irq_routing_entry){
            .gsi = i,
            .type = KVM_IRQ_ROUTING_IRQCHIP,
            .u.irqchip = {.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
                          .pin = i % 8}};
    for (unsigned i = 0; i < PCI_MSI_MAX; i++) {
        if (!bus->msi[i].used)
            continue;
        r->entries[k++] = (struct kvm_irq_routing_entry){
            .gsi = PCI_MSI_GSI_BASE + i,
            .type = KVM_IRQ_ROUTING_MSI,
            .u.msi = {.address_lo = (uint32_t)bus->msi[i].addr,
                      .address_hi = (uint32_t)(bus->msi[i].addr >> 32),
                      .data = bus->msi[i].data}};
    }
    r->nr = k;
    int rc = pci_vm_ioctl(bus, KVM_SET_GSI_ROUTING, r);
    if (rc < 0 && errno == ENODEV)
        rc = 0; /* the VM went meanwhile (a reset): its routes went with it */
    free(r);
    return rc < 0 ? err_errno("KVM_SET_GSI_ROUTING") : 0;
}

int pci_msi_route(struct pci_bus *bus, int *gsi, uint64_t addr, uint32_t data)
{
    pthread_mutex_lock(&bus->lock);
    int i = *gsi - PCI_MSI_GSI_BASE;
    if (*gsi < 0) {
        for (i = 0; i < PCI_MSI_MAX && bus->msi[i].used; i++)
            ;
        if (i == PCI_MSI_MAX) {
            pthread_mutex_unlock(&bus->lock);
            return err_set("no free MSI routes");
        }
    } else if (i < 0 || i >= PCI_MSI_MAX) {
        pthread_mutex_unlock(&bus->lock);
        return err_set("GSI %d is not an MSI route", *gsi);
    }
    bus->msi[i].used = true;
    bus->msi[i].addr = addr;
    bus->msi[i].data = data;
    *gsi = PCI_MSI_GSI_BASE + i;
    int rc = set_routing(bus);
    pthread_mutex_unlock(&bus->lock);
    return rc;
}

unsigned pci_generation(struct pci_bus *bus)
{
    pthread_mutex_lock(&bus->lock);
    unsigned g = bus->generation;
    pthread_mutex_unlock(&bus->lock);
    return g;
}

struct vm *pci_vm(struct pci_bus *bus)
{
    return bus->vm;
}

bool pci_has_vm(struct pci_bus *bus)
{
    return vm_has_kvm_vm(bus->vm);
}

int pci_vm_ioctl(struct pci_bus *bus, unsigned long req, void *arg)
{
    return vm_vm_ioctl(bus->vm, req, arg);
}

/* Saved state: the 0xCF8 latch and the host bridge's config space (the
 * devices' own config spaces are in their sections). */
static int pci_save(void *opaque, struct vsf_out *o)
{
    struct pci_bus *bus = opaque;
    vsf_put_u32(o, latch_get(bus));
    vsf_put_bytes(o, bus->host.cfg, sizeof bus->host.cfg);
    return 0;
}

static int pci_load(void *opaque, struct vsf_in *in)
{
    struct pci_bus *bus = opaque;
    uint32_t cf8;
    uint8_t cfg[sizeof bus->host.cfg];
    if (vsf_get_u32(in, "cf8", &cf8) < 0 || vsf_get_bytes(in, "host config", cfg, sizeof cfg) < 0)
        return -1;
    latch_set(bus, cf8);
    for (size_t i = 0; i < sizeof cfg; i++)
        bus->host.cfg[i] =
            (uint8_t)((bus->host.cfg[i] & ~bus->host.wmask[i]) | (cfg[i] & bus->host.wmask[i]));
    return 0;
}

static const struct vm_state_ops pci_state = {.save = pci_save, .load = pci_load};

/* A VM reset built a fresh KVM VM: its routing is KVM's default again. */
static void pci_reset(void *opaque)
{
    struct pci_bus *bus = opaque;
    pthread_mutex_lock(&bus->lock);
    memset(bus->msi, 0, sizeof bus->msi);
    bus->generation++;
    bus->cf8 = 0;
    pthread_mutex_unlock(&bus->lock);
}

struct pci_bus *pci_init(struct vm *vm)
{
    struct pci_bus *bus = calloc(1, sizeof *bus);
    if (!bus) {
        err_set("out of memory");
        return NULL;
    }
    if (vm_own(vm, bus) < 0) {
        free(bus);
        return NULL;
    }
    bus->vm = vm;
    pthread_mutex_init(&bus->lock, NULL);
    bus->next_bar = PCI_MMIO_BASE;
    /* 00:00.0: a host bridge, which Linux's type-1 probe looks for. */
    pci_device_setup(&bus->host, 0x1B36, 0x0008, 0, 0x060000, 0x1AF4, 0x1100);
    bus->host.wmask[PCI_INTERRUPT_LINE] = 0;
    bus->dev[0] = &bus->host;
    if (claim_ports(vm, bus) < 0 ||
        vm_register_mmio(vm, PCI_MMIO_BASE, PCI_MMIO_SIZE, &window_ops, bus) < 0 ||
        vm_register_mmio(vm, PCI_ECAM_BASE, PCI_ECAM_SIZE, &ecam_ops, bus) < 0 ||
        vm_add_reset_hook(vm, pci_reset, bus) < 0 || vm_add_state(vm, "pci", &pci_state, bus) < 0)
        return NULL;
    return bus;
}
