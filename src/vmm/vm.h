/* The VM object private to the VMM core (vm.c, mem.c, io.c, vcpu.c,
 * x86/boot.c, x86/cpuid.c, x86/msr.c). Devices see only vmm.h.
 *
 * Life of a VM: vm_new() (memory, no KVM: usable by unit tests) ->
 * vm_start() (KVM VM, kernel loaded, vCPU threads running) -> the main
 * loop calls vm_poll() when the VM's eventfd fires, which carries out what
 * the guest asked for (poweroff, reboot, crash) -> vm_free().
 *
 * A reset (guest reboot with on_reboot=restart, or system_reset) throws
 * the KVM VM away and builds a fresh one over the same guest RAM: the
 * in-kernel irqchip, PIT, LAPICs, kvmclock and every vCPU register come
 * back in their power-on state without us having to list them all.
 */
#ifndef TVM_VMM_VM_H
#define TVM_VMM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/model/domain.h"
#include "vmm.h"

#define VM_MAX_VCPUS DOMAIN_MAX_VCPUS
#define VM_MAX_IO 64
#define VM_MAX_RESET_HOOKS 16
#define VM_MAX_DEVMEM 2
#define VM_MAX_STATES 64
/* KVM memory slots: RAM takes 0 and 1, device memory (vm_devmem_add) the
 * next, the firmware ROM the one after. */
#define VM_DEVMEM_SLOT0 2
#define VM_ROM_SLOT (VM_DEVMEM_SLOT0 + VM_MAX_DEVMEM)

/* The 32-bit PCI hole: RAM beyond it moves above 4 GiB. */
#define MEM_HOLE_START 0xC0000000ULL
#define MEM_4G 0x100000000ULL
/* KVM's identity map (one page) and TSS (three): below the firmware ROM
 * (at most 256 KiB under 4 GiB), inside the PCI hole, never RAM. */
#define KVM_IDENTITY_MAP_GPA 0xFFFBC000ULL
#define KVM_TSS_GPA 0xFFFBD000ULL
#define KVM_PRIVATE_END 0xFFFC0000ULL

struct mem_region {
    uint64_t gpa;
    uint64_t size;
    uint8_t *host;
};

/* What the VMM needs from the domain XML. */
struct vm_config {
    uint64_t ram_bytes;
    unsigned vcpus;
    unsigned sockets, cores, threads; /* 0 = derive (1 socket, vcpus cores, 1 thread) */
    const char *kernel;
    const char *initrd;     /* may be NULL */
    const char *cmdline;    /* may be NULL */
    /* Descriptors of kernel and initrd opened before the sandbox (main.c),
     * read again at every boot; 0 or less: open the paths instead. */
    int kernel_fd, initrd_fd;
    /* No kernel: the BIOS image booted from the reset vector (x86/bios.c),
     * and its descriptor opened before the sandbox (0 or less: the path). */
    const char *bios;
    int bios_fd;
    /* /dev/kvm opened before the sandbox; the VM owns it. 0 or less: open it. */
    int kvm_fd;
    bool reboot_restarts;   /* on_reboot == restart (default) */
    bool crash_restarts;    /* on_crash == restart */
    bool poweroff_restarts; /* on_poweroff == restart */
    /* Called after the kernel is loaded at every (re)boot, before vCPUs run,
     * to place firmware tables; may be NULL. Returns the RSDP address (0 if none) or -1. */
    int (*firmware)(struct vm *vm, void *opaque, uint64_t *rsdp_gpa);
    void *firmware_opaque;
    /* The boot display for screen_info, NULL: none (the board sets it). */
    const struct vm_screen *screen;
};

struct io_range {
    uint64_t base, len;
    const struct io_ops *ops;
    void *opaque;
};

struct vcpu {
    struct vm *vm;
    unsigned index;
    unsigned apic_id;
    int fd;
    struct kvm_run *run;
    pthread_t thread;
    bool started;
    int tid;
    bool parked;
    bool exited;
};

/* Entry state a boot loader leaves for the BSP. */
struct boot_entry {
    bool reset; /* firmware: the vCPU's power-on state, nothing set */
    bool pvh;   /* 32-bit protected mode PVH entry, else 64-bit */
    uint64_t rip;
    uint64_t zero_page; /* RSI (64-bit) or RBX = hvm_start_info (PVH) */
    uint64_t gdt;       /* GDT base (3 entries + TSS placeholder) */
    uint64_t cr3;       /* PML4 (64-bit entry only) */
    uint64_t rsp;
};

enum vm_request { VM_REQ_NONE, VM_REQ_RESET, VM_REQ_POWEROFF, VM_REQ_CRASH };

struct vm {
    struct vm_config cfg;

    /* guest RAM: one host mapping, split into at most two guest regions */
    uint8_t *ram;
    uint64_t ram_size;
    struct mem_region regions[2];
    unsigned nregions;
    /* Device memory (a framebuffer BAR): its own KVM slot, mapped where
     * the device says (gpa 0: nowhere), again after every reset. */
    struct {
        uint8_t *host;
        uint64_t size, gpa;
        bool log_dirty;
    } devmem[VM_MAX_DEVMEM];
    unsigned ndevmem;
    pthread_mutex_t devmem_lock;
    /* The firmware ROM just below 4 GiB (read-only slot VM_ROM_SLOT);
     * size 0: none. */
    struct {
        uint8_t *host;
        uint64_t size;
    } rom;

    int kvm_fd;
    /* The KVM VM. The main thread closes and recreates it at every reset
     * while device workers and vCPUs still raise interrupts: it changes
     * only under fd_lock's write side, and other threads use it only
     * under its read side (vm_irq_line, vm_vm_ioctl). */
    int vm_fd;
    pthread_rwlock_t fd_lock;
    size_t run_size;
    void *cpuid; /* struct kvm_cpuid2 *, as KVM supports it */

    struct io_range pio[VM_MAX_IO];
    unsigned npio;
    struct io_range mmio[VM_MAX_IO];
    unsigned nmmio;
    uint8_t port92;        /* system control port A: the A20 bit */
    uint32_t *unknown_pio; /* per port access counts */
    unsigned unknown_logged;
    uint64_t unknown_mmio;

    struct vcpu vcpus[VM_MAX_VCPUS];
    unsigned nvcpus;

    pthread_mutex_t lock;
    pthread_cond_t cond;
    enum vm_run_state state;
    bool pause_req; /* vCPUs park */
    bool stop_req;  /* vCPU threads exit */
    enum vm_request req;
    char req_detail[256];
    bool reboot_on_poweroff; /* vm_powerdown(reboot): next poweroff resets */
    int event_fd;            /* vCPU threads -> main loop */

    bool quit;
    char quit_reason[32];
    char quit_detail[256];

    struct {
        void (*fn)(void *opaque);
        void *opaque;
    } reset_hooks[VM_MAX_RESET_HOOKS];
    unsigned nreset_hooks;

    struct boot_entry entry;

    /* Saved-state sections (vm_add_state), in the order they were added. */
    struct {
        char name[24];
        const struct vm_state_ops *ops;
        void *opaque;
    } states[VM_MAX_STATES];
    unsigned nstates;
    /* The guest has run (vm_start without paused, or vm_resume): a saved
     * state may be loaded only into a machine that never ran. */
    bool ran;

    /* Set before vm_start(), read from any thread after. */
    vm_event_fn event_sink;
    void *event_opaque;
    void (*power_button)(void *opaque);
    void *power_button_opaque;

    void *owned[VM_MAX_IO]; /* device state freed with the VM */
    void (*owned_free[VM_MAX_IO])(void *p); /* NULL: free() */
    unsigned nowned;
};

/* vm.c */
struct vm *vm_new(const struct vm_config *cfg);
void vm_free(struct vm *vm);
/* paused: the vCPU threads start parked, the guest has not run a single
 * instruction until vm_resume() (QEMU's -S, virsh start --paused). */
int vm_start(struct vm *vm, bool paused);
int vm_event_fd(struct vm *vm);
/* Hand device state to the VM: vm_free() frees it. */
int vm_own(struct vm *vm, void *p);
/* The same for state holding more than memory (descriptors): vm_free()
 * calls FREE_FN(P) instead of free(P). */
int vm_own_fn(struct vm *vm, void *p, void (*free_fn)(void *p));
/* An ioctl on the KVM VM from any thread: -1 with errno ENODEV while
 * there is none (unit tests, during a reset). */
int vm_vm_ioctl(struct vm *vm, unsigned long req, void *arg);
bool vm_has_kvm_vm(struct vm *vm);
/* Main loop: handle what vCPU threads asked for. */
void vm_poll(struct vm *vm);
bool vm_quit_requested(struct vm *vm, const char **reason, const char **detail);

/* mem.c */
int mem_layout(uint64_t ram_bytes, struct mem_region *out, unsigned *n);
int mem_alloc(struct vm *vm);
void mem_release(struct vm *vm);
int mem_check_host(uint64_t bytes);
int mem_kvm_map(struct vm *vm);
/* Bytes of RAM below the hole (the part the boot loader can use for the kernel). */
uint64_t mem_low_end(const struct vm *vm);

/* io.c */
int io_dispatch_pio(struct vm *vm, uint16_t port, uint8_t *data, uint32_t len, bool write);
int io_dispatch_mmio(struct vm *vm, uint64_t addr, uint8_t *data, uint32_t len, bool write);
int io_register_legacy(struct vm *vm);

/* vcpu.c */
int vcpu_create_all(struct vm *vm);
int vcpu_start_all(struct vm *vm);
void vcpu_stop_all(struct vm *vm); /* threads exit, fds closed */
void vcpu_kick_all(struct vm *vm);
unsigned vcpu_apic_id(const struct vm_config *cfg, unsigned index);

/* x86/cpuid.c */
int cpuid_init(struct vm *vm);
int cpuid_setup_vcpu(struct vm *vm, struct vcpu *v);

/* vmstate.c: the saved state of the whole machine (file format in
 * core/proto/vmstate-file.h). Main thread, every vCPU parked. */
/* Writes the machine to FD: DOMAIN_XML first (what restore starts from),
 * WAS_RUNNING (the state restore brings back by default), then every
 * vCPU, the in-kernel irqchip, PIT and clock, every vm_add_state section,
 * and guest RAM without its zero pages. *BYTES: the file's size. */
int vm_state_save(struct vm *vm, int fd, const char *domain_xml, bool was_running, uint64_t *bytes);
/* vm_state_save() that first runs FROZEN(OPAQUE) once every device is
 * frozen (no device thread touches RAM, queues or disks), before a byte is
 * written: what it does to the disks and what the file holds are one
 * instant (a checkpoint's internal disk snapshots). Its failure fails the
 * save. */
int vm_state_save_with(struct vm *vm, int fd, const char *domain_xml, bool was_running,
                       int (*frozen)(void *opaque), void *opaque, uint64_t *bytes);
/* Loads a saved state from FD (WHAT names it in messages) into a machine
 * built from the same domain that has not run. Nothing of KVM's or the
 * devices' state is touched until the whole file has been read and its
 * checksum matched; guest RAM is written as it is read. */
int vm_state_load(struct vm *vm, int fd, const char *what);
bool vm_has_run(struct vm *vm);

/* x86/vcpu-state.c: one vCPU's registers, MSRs, LAPIC and events. */
struct vsf_out;
struct vsf_in;
int vcpu_state_save(struct vm *vm, struct vcpu *v, struct vsf_out *o);
int vcpu_state_load(struct vm *vm, struct vcpu *v, struct vsf_in *in);
/* After the clock is set: tell the guest's kvm-clock it was stopped, so
 * its watchdogs do not take the gap for a lockup. */
void vcpu_state_clock_stopped(struct vcpu *v);

/* x86/msr.c */
int msr_setup_vcpu(struct vm *vm, struct vcpu *v);

#endif
