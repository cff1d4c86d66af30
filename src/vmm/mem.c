/* Guest RAM: one anonymous host mapping (MAP_NORESERVE: pages cost host
 * memory only once the guest touches them), laid out in guest-physical
 * space below the 32-bit PCI hole and, for the remainder, above 4 GiB.
 * Every guest-supplied address is checked here before it is dereferenced.
 */
#include <errno.h>
#include <pthread.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "core/base/err.h"
#include "core/base/host.h"
#include "vm.h"

#define MIN_RAM (16ULL << 20)
/* The guest-physical address space a 4-level guest can reach with room to spare. */
#define MAX_RAM (1ULL << 40)

int mem_layout(uint64_t ram_bytes, struct mem_region *out, unsigned *n)
{
    if (ram_bytes < MIN_RAM)
        return err_set("memory: %" PRIu64 " KiB is too little (at least %llu MiB)", ram_bytes >> 10,
                       MIN_RAM >> 20);
    if (ram_bytes > MAX_RAM)
        return err_set("memory: %" PRIu64 " KiB is more than tvm-vmm supports (%llu GiB)",
                       ram_bytes >> 10, MAX_RAM >> 30);
    if (ram_bytes & 0xFFF)
        return err_set("memory: %" PRIu64 " bytes is not a whole number of 4 KiB pages", ram_bytes);
    uint64_t low = ram_bytes < MEM_HOLE_START ? ram_bytes : MEM_HOLE_START;
    out[0] = (struct mem_region){.gpa = 0, .size = low};
    *n = 1;
    if (ram_bytes > low) {
        out[1] = (struct mem_region){.gpa = MEM_4G, .size = ram_bytes - low};
        *n = 2;
    }
    return 0;
}

int mem_alloc(struct vm *vm)
{
    if (mem_layout(vm->cfg.ram_bytes, vm->regions, &vm->nregions) < 0)
        return -1;
    void *p = mmap(NULL, vm->cfg.ram_bytes, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return err_errno("cannot map %" PRIu64 " MiB of guest memory", vm->cfg.ram_bytes >> 20);
    /* Large guests benefit from THP; failure only costs speed. */
    madvise(p, vm->cfg.ram_bytes, MADV_HUGEPAGE);
    /* The guest's memory is the guest's: never in a core dump of ours. */
    madvise(p, vm->cfg.ram_bytes, MADV_DONTDUMP);
    vm->ram = p;
    vm->ram_size = vm->cfg.ram_bytes;
    uint64_t off = 0;
    for (unsigned i = 0; i < vm->nregions; i++) {
        vm->regions[i].host = vm->ram + off;
        off += vm->regions[i].size;
    }
    return 0;
}

void mem_release(struct vm *vm)
{
    if (vm->rom.host)
        munmap(vm->rom.host, vm->rom.size);
    vm->rom.host = NULL;
    vm->rom.size = 0;
    if (vm->ram)
        munmap(vm->ram, vm->ram_size);
    vm->ram = NULL;
    vm->nregions = 0;
}

void *vm_gpa_ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
    for (unsigned i = 0; i < vm->nregions; i++) {
        const struct mem_region *r = &vm->regions[i];
        if (gpa < r->gpa)
            continue;
        uint64_t off = gpa - r->gpa;
        /* Written so no sum can overflow: off <= size and len <= size - off. */
        if (off > r->size || len > r->size - off)
            continue;
        if (len == 0 && off == r->size)
            continue;
        return r->host + off;
    }
    return NULL;
}

uint64_t vm_ram_size(struct vm *vm)
{
    return vm->ram_size;
}

uint64_t mem_low_end(const struct vm *vm)
{
    return vm->nregions ? vm->regions[0].size : 0;
}

/* Refuse up front what the host cannot back, rather than have the guest
 * die later of an OOM kill: MemAvailable plus free swap is the honest bound. */
int mem_check_host(uint64_t bytes)
{
    uint64_t avail, swap;
    if (host_meminfo_kib("MemAvailable", &avail) < 0)
        return 0; /* cannot tell: let the kernel decide */
    if (host_meminfo_kib("SwapFree", &swap) < 0)
        swap = 0;
    uint64_t can_kib = avail + swap;
    if ((bytes >> 10) > can_kib)
        return err_set("memory: the guest wants %" PRIu64 " MiB but the host can give only %" PRIu64
                       " MiB (MemAvailable + SwapFree)",
                       bytes >> 20, can_kib >> 10);
    return 0;
}

/* ---- device memory ---- */

int vm_devmem_add(struct vm *vm, void *host, uint64_t size, bool log_dirty)
{
    if (vm->ndevmem == VM_MAX_DEVMEM)
        return err_set("too many device memory regions (at most %d)", VM_MAX_DEVMEM);
    if (!size || (size & 0xFFF) || ((uintptr_t)host & 0xFFF))
        return err_set("device memory: %" PRIu64 " bytes is not whole 4 KiB pages", size);
    unsigned id = vm->ndevmem++;
    vm->devmem[id].host = host;
    vm->devmem[id].size = size;
    vm->devmem[id].gpa = 0;
    vm->devmem[id].log_dirty = log_dirty;
    return (int)id;
}

/* The KVM slot of device memory ID at GPA (size 0 deletes it). With devmem_lock held. */
static int devmem_slot(struct vm *vm, unsigned id, uint64_t gpa, bool via_lock)
{
    struct kvm_userspace_memory_region r = {
        .slot = VM_DEVMEM_SLOT0 + id,
        .flags = vm->devmem[id].log_dirty ? KVM_MEM_LOG_DIRTY_PAGES : 0,
        .guest_phys_addr = gpa,
        .memory_size = gpa ? vm->devmem[id].size : 0,
        .userspace_addr = (uint64_t)(uintptr_t)vm->devmem[id].host,
    };
    int rc = via_lock ? vm_vm_ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r)
                      : ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r);
    if (rc < 0 && errno == ENODEV)
        return 0; /* no KVM VM (a reset): the next one maps it */
    return rc < 0 ? err_errno("KVM_SET_USER_MEMORY_REGION (device memory %u)", id) : 0;
}

int vm_devmem_map(struct vm *vm, int id, uint64_t gpa)
{
    if (id < 0 || (unsigned)id >= vm->ndevmem)
        return err_set("no device memory %d", id);
    pthread_mutex_lock(&vm->devmem_lock);
    int rc = 0;
    if (vm->devmem[id].gpa != gpa) {
        /* A slot moves by going away and coming back: KVM refuses to
         * move one whose flags log dirty pages only on old kernels. */
        if (vm->devmem[id].gpa)
            rc = devmem_slot(vm, (unsigned)id, 0, true);
        vm->devmem[id].gpa = gpa;
        if (rc == 0 && gpa)
            rc = devmem_slot(vm, (unsigned)id, gpa, true);
    }
    pthread_mutex_unlock(&vm->devmem_lock);
    return rc;
}

int vm_devmem_dirty(struct vm *vm, int id, uint64_t *bitmap)
{
    if (id < 0 || (unsigned)id >= vm->ndevmem)
        return err_set("no device memory %d", id);
    uint64_t pages = vm->devmem[id].size >> 12;
    size_t words = (size_t)((pages + 63) / 64);
    pthread_mutex_lock(&vm->devmem_lock);
    int rc = -1;
    if (vm->devmem[id].gpa && vm->devmem[id].log_dirty) {
        memset(bitmap, 0, words * 8);
        struct kvm_dirty_log log = {.slot = VM_DEVMEM_SLOT0 + (unsigned)id, .dirty_bitmap = bitmap};
        rc = vm_vm_ioctl(vm, KVM_GET_DIRTY_LOG, &log);
    }
    pthread_mutex_unlock(&vm->devmem_lock);
    if (rc == 0)
        return 0;
    memset(bitmap, 0xFF, words * 8);
    return 1;
}

int mem_kvm_map(struct vm *vm)
{
    pthread_mutex_lock(&vm->devmem_lock);
    int rc = 0;
    for (unsigned i = 0; i < vm->ndevmem && rc == 0; i++)
        if (vm->devmem[i].gpa)
            rc = devmem_slot(vm, i, vm->devmem[i].gpa, false);
    pthread_mutex_unlock(&vm->devmem_lock);
    if (rc < 0)
        return -1;
    if (vm->rom.size) {
        struct kvm_userspace_memory_region r = {
            .slot = VM_ROM_SLOT,
            .flags = KVM_MEM_READONLY,
            .guest_phys_addr = MEM_4G - vm->rom.size,
            .memory_size = vm->rom.size,
            .userspace_addr = (uint64_t)(uintptr_t)vm->rom.host,
        };
        if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
            return err_errno("KVM_SET_USER_MEMORY_REGION (firmware ROM, read-only)");
    }
    for (unsigned i = 0; i < vm->nregions; i++) {
        struct kvm_userspace_memory_region r = {
            .slot = i,
            .guest_phys_addr = vm->regions[i].gpa,
            .memory_size = vm->regions[i].size,
            .userspace_addr = (uint64_t)(uintptr_t)vm->regions[i].host,
        };
        if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0)
            return err_errno("KVM_SET_USER_MEMORY_REGION (slot %u)", i);
    }
    return 0;
}
