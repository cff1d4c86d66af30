/* Threads that share VMM state, as tvm-vmm runs them, for ThreadSanitizer
 * (a -fsanitize=thread build of the unit tests reports any data race and
 * fails): a vCPU writing a virtio device's PCI config (command register,
 * MSI-X control) while the device's worker interrupts the guest, which
 * reads them; and a device interrupting the guest while the main loop
 * resets the VM, which closes and recreates the KVM VM fd. In an ordinary
 * build the same code runs and must simply work.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "pci.h"
#include "virtio/virtio.h"
#include "vm.h"

#define ROUNDS 20000

static atomic_bool stop;

struct t {
    struct vm *vm;
    struct pci_bus *bus;
    struct virtio_dev *dev;
};

static void cfg_write(struct t *t, uint8_t reg, uint32_t v, uint32_t len)
{
    uint32_t a = 0x80000000u | 1u << 11 | (reg & 0xFC);
    io_dispatch_pio(t->vm, 0xCF8, (uint8_t *)&a, 4, true);
    io_dispatch_pio(t->vm, 0xCFC + (reg & 3), (uint8_t *)&v, len, true);
}

/* The worker's side: an interrupt for queue 0, as after a used-ring push. */
static void *interrupter(void *opaque)
{
    struct t *t = opaque;
    while (!atomic_load(&stop)) {
        virtio_dev_lock(t->dev);
        t->dev->transport.signal_queue(t->dev->transport.opaque, 0);
        t->dev->transport.signal_config(t->dev->transport.opaque);
        virtio_dev_unlock(t->dev);
    }
    return NULL;
}

static void setup_vm(struct t *t, bool reboot_restarts)
{
    memset(t, 0, sizeof *t);
    struct vm_config cfg = {.ram_bytes = 32 << 20, .vcpus = 1, .reboot_restarts = reboot_restarts};
    t->vm = vm_new(&cfg);
    assert_non_null(t->vm);
    t->bus = pci_init(t->vm);
    assert_non_null(t->bus);
    t->dev = virtio_rng_new(t->vm);
    assert_non_null(t->dev);
    assert_int_equal(virtio_pci_add(t->bus, t->dev, 1), 0);
}

static void test_config_space_vs_interrupts(void **state)
{
    (void)state;
    struct t t;
    setup_vm(&t, true);
    uint8_t msix = 0;
    for (uint8_t at = t.dev ? 0x40 : 0; at && at < 0xF0; at += 4) {
        uint32_t a = 0x80000000u | 1u << 11 | at, v = 0;
        io_dispatch_pio(t.vm, 0xCF8, (uint8_t *)&a, 4, true);
        io_dispatch_pio(t.vm, 0xCFC, (uint8_t *)&v, 1, false);
        if (v == PCI_CAP_ID_MSIX) {
            msix = at;
            break;
        }
    }
    assert_int_not_equal(msix, 0);
    atomic_store(&stop, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, interrupter, &t), 0);
    for (unsigned i = 0; i < ROUNDS; i++) {
        cfg_write(&t, PCI_COMMAND, i & 1 ? PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE : 0, 2);
        cfg_write(&t, msix + 2, i & 2 ? 0x8000 : 0x4000, 2);
    }
    atomic_store(&stop, true);
    pthread_join(th, NULL);
    virtio_dev_free(t.dev);
    vm_free(t.vm);
}

/* A device raising its INTx line while the VM is reset. */
static void *line_raiser(void *opaque)
{
    struct t *t = opaque;
    while (!atomic_load(&stop)) {
        vm_irq_line(t->vm, 10, true);
        vm_irq_line(t->vm, 10, false);
    }
    return NULL;
}

static void test_reset_vs_interrupts(void **state)
{
    (void)state;
    struct t t;
    setup_vm(&t, true);
    atomic_store(&stop, false);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, line_raiser, &t), 0);
    /* The guest reboots: the main loop throws the KVM VM away and builds
     * another (which fails here, without a kernel; the fd changes anyway). */
    vm_guest_reboot(t.vm);
    vm_poll(t.vm);
    atomic_store(&stop, true);
    pthread_join(th, NULL);
    err_clear();
    virtio_dev_free(t.dev);
    vm_free(t.vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_space_vs_interrupts),
        cmocka_unit_test(test_reset_vs_interrupts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
