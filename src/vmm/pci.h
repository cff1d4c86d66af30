/* The PCI host bridge of tvm-vmm: configuration mechanism #1 (ports
 * 0xCF8/0xCFC) and ECAM (memory-mapped config space, which the ACPI MCFG
 * table describes), bus 0 only, single-function devices, 32-bit memory
 * BARs inside one MMIO window, and the VM-wide MSI routing table that
 * MSI-X capable devices share (KVM_SET_GSI_ROUTING replaces the whole
 * table).
 *
 * Both config paths end in pci_cfg_read()/pci_cfg_write(). Through ECAM
 * the extended space (offsets 256-4095) reads as zero: no extended
 * capabilities.
 */
#ifndef TVM_VMM_PCI_H
#define TVM_VMM_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm.h"

#define PCI_MAX_DEVICES 32
#define PCI_NUM_BARS 6
/* The window BARs are placed in, inside the 32-bit hole up to the IOAPIC:
 * tvm-vmm places them from its bottom, a BIOS (SeaBIOS) moves them to its
 * top, just below 0xFEC00000. */
#define PCI_MMIO_BASE 0xE0000000ULL
#define PCI_MMIO_SIZE 0x1EC00000ULL
/* ECAM: 1 MiB of config space per bus, bus 0 only; in the 32-bit hole
 * between the end of low RAM (MEM_HOLE_START) and the BAR window. */
#define PCI_ECAM_BASE 0xD0000000ULL
#define PCI_ECAM_BUSES 1
#define PCI_ECAM_SIZE ((uint64_t)PCI_ECAM_BUSES << 20)
/* GSIs above the IOAPIC pins are ours to route as MSIs. */
#define PCI_MSI_GSI_BASE 24
#define PCI_MSI_MAX 256

/* Config space offsets */
#define PCI_VENDOR_ID 0x00
#define PCI_DEVICE_ID 0x02
#define PCI_COMMAND 0x04
#define PCI_STATUS 0x06
#define PCI_REVISION_ID 0x08
#define PCI_CLASS_PROG 0x09
#define PCI_CLASS_DEVICE 0x0A
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2C
#define PCI_SUBSYSTEM_ID 0x2E
#define PCI_CAPABILITY_LIST 0x34
#define PCI_INTERRUPT_LINE 0x3C
#define PCI_INTERRUPT_PIN 0x3D
#define PCI_COMMAND_MEMORY 0x2
#define PCI_COMMAND_MASTER 0x4
#define PCI_COMMAND_INTX_DISABLE 0x400
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

struct pci_bus;
struct acpi_pci;

struct pci_device {
    uint8_t cfg[256];
    uint8_t wmask[256];              /* bits the guest may change */
    uint32_t bar_size[PCI_NUM_BARS]; /* 0: no BAR; else a power of two >= 16 */
    const struct io_ops *bar_ops[PCI_NUM_BARS];
    void *opaque;
    /* Optional: after the guest wrote config bytes [off, off+len). */
    void (*cfg_written)(struct pci_device *d, uint32_t off, uint32_t len);
    /* Optional: before the guest reads [off, off+len), to refresh live bytes. */
    void (*cfg_reading)(struct pci_device *d, uint32_t off, uint32_t len);
    /* Optional: the device's own lock. vCPUs change cfg while the device's
     * threads read it (MSI-X control, INTx disable), so config accesses
     * and the two callbacks above run with it held. */
    void (*lock)(struct pci_device *d);
    void (*unlock)(struct pci_device *d);
    /* What each BAR decodes now (0: nothing), for lookups on any thread
     * without the lock; atomic, kept by pci_device_decode(). */
    uint64_t decode[PCI_NUM_BARS];
    uint8_t slot;
    uint8_t next_cap; /* where pci_add_cap puts the next capability */
};

/* Creates the bus with its host bridge at 00:00.0, takes over ports
 * 0xCF8-0xCFF and the MMIO window. The VM frees it. */
struct pci_bus *pci_init(struct vm *vm);
/* Fills the header of D (ids, class, BARs from bar_size); call before pci_add_device. */
void pci_device_setup(struct pci_device *d, uint16_t vendor, uint16_t device, uint8_t revision,
                      uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys_id);
/* Appends a capability of LEN bytes (ID and next pointer filled in);
 * returns its offset, or 0 if the config space is full. */
uint8_t pci_add_cap(struct pci_device *d, uint8_t id, uint8_t len);
/* Plugs D into SLOT (1..31) and gives its BARs addresses in the window.
 * The bus never picks a slot: they come from the domain's <address>es,
 * which tvm assigns at start. A taken slot, slot 0 (the host bridge) or
 * one past the bus is an error. */
int pci_add_device(struct pci_bus *bus, struct pci_device *d, int slot);
/* The GSI that INTA# of SLOT raises: the DSDT's _PRT says the same, and
 * pci_add_device writes it into the interrupt line register. */
uint8_t pci_intx_gsi(unsigned slot);
/* What the DSDT and MCFG say about this bus: ECAM, BAR window, INTx routes. */
void pci_acpi_describe(struct acpi_pci *out);
/* Guest address of BAR n, 0 while memory decoding is off. */
uint64_t pci_bar_addr(const struct pci_device *d, unsigned bar);
/* After a device changed its command register or BARs itself (a reset):
 * what pci_bar_addr() says follows. With the device's lock held. */
void pci_device_decode(struct pci_device *d);

/* Guest config accesses, as the 0xCFC port handler does them (unit tests). */
uint32_t pci_cfg_read(struct pci_bus *bus, uint8_t slot, uint32_t off, uint32_t len);
void pci_cfg_write(struct pci_bus *bus, uint8_t slot, uint32_t off, uint32_t val, uint32_t len);

/* MSI routes. *gsi < 0 allocates one. Returns 0, or -1 (message set) when
 * KVM refuses; with no KVM VM yet the route is only recorded. */
int pci_msi_route(struct pci_bus *bus, int *gsi, uint64_t addr, uint32_t data);
/* Changes at every VM reset: routes and irqfds made before are gone. */
unsigned pci_generation(struct pci_bus *bus);
struct vm *pci_vm(struct pci_bus *bus);
/* Whether there is a KVM VM now (not in unit tests, nor during a reset),
 * and an ioctl on it from any thread (vm_vm_ioctl: ENODEV without one). */
bool pci_has_vm(struct pci_bus *bus);
int pci_vm_ioctl(struct pci_bus *bus, unsigned long req, void *arg);

#endif
