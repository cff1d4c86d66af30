/* The virtio-pci transport gives back every descriptor it opens: one
 * eventfd per MSI-X vector, closed when the VM goes, and none left behind
 * when virtio_pci_add() fails half-way (a taken slot). The fuzzer found
 * these leaking; tvm-vmm runs one VM per process, so only a test that
 * makes many VMs in one process notices.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "pci.h"
#include "virtio/virtio.h"
#include "vm.h"

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    assert_non_null(d);
    int n = 0;
    while (readdir(d))
        n++;
    closedir(d);
    return n;
}

static struct vm *new_vm(struct pci_bus **bus)
{
    struct vm_config cfg = {.ram_bytes = 32 << 20, .vcpus = 1};
    struct vm *vm = vm_new(&cfg);
    assert_non_null(vm);
    *bus = pci_init(vm);
    if (!*bus)
        fail_msg("pci_init: %s", err_msg());
    return vm;
}

static void test_vm_free_closes_vectors(void **state)
{
    (void)state;
    int before = open_fds();
    for (int round = 0; round < 8; round++) {
        struct pci_bus *bus;
        struct vm *vm = new_vm(&bus);
        struct virtio_dev *dev = virtio_rng_new(vm);
        assert_non_null(dev);
        assert_int_equal(virtio_pci_add(bus, dev, 3), 0);
        virtio_dev_free(dev);
        vm_free(vm);
    }
    assert_int_equal(open_fds(), before);
}

static void test_failed_add_closes_vectors(void **state)
{
    (void)state;
    struct pci_bus *bus;
    struct vm *vm = new_vm(&bus);
    struct virtio_dev *dev = virtio_rng_new(vm);
    assert_non_null(dev);
    int before = open_fds();
    /* slot 0 is the host bridge's: refused after the vectors were made */
    assert_int_equal(virtio_pci_add(bus, dev, 0), -1);
    assert_int_equal(open_fds(), before);
    err_clear();
    virtio_dev_free(dev);
    vm_free(vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vm_free_closes_vectors),
        cmocka_unit_test(test_failed_add_closes_vectors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
