/* The port-I/O and MMIO bus: devices claim ranges, vCPU exits are routed
 * to them. Nobody's access is fatal: an unclaimed port reads as all ones
 * (an empty ISA bus) and is counted, and the first few are logged.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"
#include "vm.h"

#define UNKNOWN_LOG_MAX 8

static bool overlaps(const struct io_range *r, unsigned n, uint64_t base, uint64_t len)
{
    for (unsigned i = 0; i < n; i++)
        if (base < r[i].base + r[i].len && r[i].base < base + len)
            return true;
    return false;
}

static int add_range(struct io_range *r, unsigned *n, const char *what, uint64_t base, uint64_t len,
                     const struct io_ops *ops, void *opaque)
{
    if (len == 0 || !ops)
        return err_set("%s 0x%" PRIx64 ": empty range or no handlers", what, base);
    if (*n >= VM_MAX_IO)
        return err_set("%s 0x%" PRIx64 ": too many device ranges", what, base);
    if (overlaps(r, *n, base, len))
        return err_set("%s 0x%" PRIx64 "+0x%" PRIx64 ": overlaps a range already claimed", what,
                       base, len);
    r[(*n)++] = (struct io_range){.base = base, .len = len, .ops = ops, .opaque = opaque};
    return 0;
}

int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len, const struct io_ops *ops,
                    void *opaque)
{
    if ((uint32_t)base + len > 0x10000)
        return err_set("port range 0x%x+0x%x runs past 0xffff", base, len);
    return add_range(vm->pio, &vm->npio, "port", base, len, ops, opaque);
}

int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len, const struct io_ops *ops,
                     void *opaque)
{
    if (base + len < base)
        return err_set("MMIO range 0x%" PRIx64 "+0x%" PRIx64 " wraps", base, len);
    return add_range(vm->mmio, &vm->nmmio, "MMIO", base, len, ops, opaque);
}

static const struct io_range *find(const struct io_range *r, unsigned n, uint64_t addr,
                                   uint32_t len)
{
    for (unsigned i = 0; i < n; i++)
        if (addr >= r[i].base && addr - r[i].base < r[i].len &&
            len <= r[i].len - (addr - r[i].base))
            return &r[i];
    return NULL;
}

static void call(const struct io_range *r, uint64_t addr, uint8_t *data, uint32_t len, bool write)
{
    if (write) {
        if (r->ops->write)
            r->ops->write(r->opaque, addr - r->base, data, len);
    } else if (r->ops->read) {
        r->ops->read(r->opaque, addr - r->base, data, len);
    } else {
        memset(data, 0xFF, len);
    }
}

int io_dispatch_pio(struct vm *vm, uint16_t port, uint8_t *data, uint32_t len, bool write)
{
    const struct io_range *r = find(vm->pio, vm->npio, port, len);
    if (r) {
        call(r, port, data, len, write);
        return 0;
    }
    if (!write)
        memset(data, 0xFF, len);
    /* Counting is racy between vCPUs on purpose: it is a diagnostic. */
    if (vm->unknown_pio && vm->unknown_pio[port]++ == 0 && vm->unknown_logged < UNKNOWN_LOG_MAX) {
        vm->unknown_logged++;
        fprintf(stderr, "tvm-vmm: guest %s unclaimed port 0x%x (%u bytes), ignored\n",
                write ? "wrote" : "read", port, len);
    }
    return 1;
}

int io_dispatch_mmio(struct vm *vm, uint64_t addr, uint8_t *data, uint32_t len, bool write)
{
    const struct io_range *r = find(vm->mmio, vm->nmmio, addr, len);
    if (r) {
        call(r, addr, data, len, write);
        return 0;
    }
    if (!write)
        memset(data, 0xFF, len);
    if (vm->unknown_mmio++ < UNKNOWN_LOG_MAX)
        fprintf(stderr, "tvm-vmm: guest %s unclaimed MMIO 0x%" PRIx64 " (%u bytes), ignored\n",
                write ? "wrote" : "read", addr, len);
    return 1;
}

/* ---- small legacy ports: claimed so they are neither logged nor counted ---- */

static void ones_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    (void)opaque;
    (void)off;
    memset(data, 0xFF, len);
}

static void ignore_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    (void)opaque;
    (void)off;
    (void)data;
    (void)len;
}

/* POST code port 0x80 (also used by Linux as an I/O delay), absent UARTs
 * COM2-COM4 (all-ones reads make the 8250 probe find nothing), the second
 * DMA controller and the VGA/PS2 ports Linux pokes at while probing. */
static const struct io_ops absorb_ops = {.read = ones_read, .write = ignore_write};

/* PCI configuration mechanism #1 with no device behind it yet: the
 * address latch keeps what was written so probes read it back, and every
 * data read is 0xFFFFFFFF ("no device"). */
struct pci_cfg {
    uint32_t addr;
};
static struct pci_cfg pci_cfg;

static void pci_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    struct pci_cfg *p = opaque;
    if (off == 0 && len == 4) {
        memcpy(data, &p->addr, 4);
        return;
    }
    memset(data, 0xFF, len);
}

static void pci_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct pci_cfg *p = opaque;
    if (off == 0 && len == 4)
        memcpy(&p->addr, data, 4);
}

static const struct io_ops pci_ops = {.read = pci_read, .write = pci_write};

/* System control port A (0x92): bit 1 gates A20, bit 0 resets the
 * machine (a BIOS enables A20 here). KVM never wraps at 1 MiB, so the
 * gate is only remembered for reads back. */
#define PORT92_RESET 0x01
#define PORT92_A20 0x02

static void port92_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    struct vm *vm = opaque;
    (void)off;
    memset(data, 0, len);
    data[0] = __atomic_load_n(&vm->port92, __ATOMIC_RELAXED);
}

static void port92_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct vm *vm = opaque;
    (void)off;
    (void)len;
    __atomic_store_n(&vm->port92, data[0] & PORT92_A20, __ATOMIC_RELAXED);
    if (data[0] & PORT92_RESET)
        vm_guest_reboot(vm);
}

static const struct io_ops port92_ops = {.read = port92_read, .write = port92_write};

int io_register_legacy(struct vm *vm)
{
    static const struct {
        uint16_t base, len;
    } absorbed[] = {
        {0x80, 1},  /* POST / delay */
        {0x2F8, 8}, /* COM2 */
        {0x3E8, 8}, /* COM3 */
        {0x2E8, 8}, /* COM4 */
        {0x87, 1},  /* DMA page */
        {0xED, 1},  /* alternative delay port */
    };
    if (!vm->unknown_pio) {
        vm->unknown_pio = calloc(0x10000, sizeof *vm->unknown_pio);
        if (!vm->unknown_pio)
            return err_set("out of memory");
    }
    for (size_t i = 0; i < sizeof absorbed / sizeof absorbed[0]; i++)
        if (vm_register_pio(vm, absorbed[i].base, absorbed[i].len, &absorb_ops, NULL) < 0)
            return -1;
    if (vm_register_pio(vm, 0x92, 1, &port92_ops, vm) < 0)
        return -1;
    return vm_register_pio(vm, 0xCF8, 8, &pci_ops, &pci_cfg);
}
