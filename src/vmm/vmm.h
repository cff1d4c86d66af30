/* src/vmm: tvm-vmm, the KVM VMM that runs one guest per process.
 *   main.c      arguments, the main loop, the run directory's files
 *   board.c     the machine: one table of devices built from the domain
 *   vm.c mem.c io.c vcpu.c loop.c   the VM core (KVM VM, guest RAM, the
 *               I/O bus, vCPU threads, the epoll loop; struct vm in vm.h)
 *   pci.c       the PCI host bridge; dev/ legacy PC devices and ACPI PM;
 *               virtio/ the virtio devices; x86/ boot (direct, or a BIOS
 *               with fw_cfg), ACPI tables, CPUID
 *   vmstate.c x86/vcpu-state.c   the guest's saved state (every device's
 *               section through vm_add_state); migrate.c its QMP commands
 *   control.c   the QMP control socket; console.c sockserv.c the console
 *               sockets; tap.c taps for virtio-net
 * May use: core/base, core/model (board.c and main.c only: nothing else
 * sees struct domain), core/proto (the run-directory contract), core/image
 * (virtio-blk). Never SQLite, nftables or anything above core/proto.
 *
 * This header: interfaces shared by its parts: the event loop, guest
 * memory, the port-I/O/MMIO bus, interrupts, and the VM-level actions the
 * control socket and devices ask for. Device files and the control server
 * include this; struct vm itself is private to the VM core (vm.h).
 *
 * Threads: the main thread runs the event loop (control socket, console
 * socket, timers, eventfds); each vCPU runs in its own thread and calls
 * device handlers from KVM exits. Device state touched from both sides is
 * guarded by the device's own mutex.
 */
#ifndef TVM_VMM_VMM_H
#define TVM_VMM_VMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;

/* ---- event loop (main thread; epoll) ---- */
struct loop;
typedef void (*loop_fn)(void *opaque, uint32_t epoll_events);
struct loop *loop_new(void);
void loop_free(struct loop *l);
int loop_add(struct loop *l, int fd, uint32_t epoll_events, loop_fn fn, void *opaque);
int loop_mod(struct loop *l, int fd, uint32_t epoll_events);
void loop_del(struct loop *l, int fd);
/* Runs ready callbacks once; returns -1 on error, 0 otherwise. */
int loop_run_once(struct loop *l, int timeout_ms);

/* ---- guest memory: every guest-supplied address goes through these ---- */
/* Host pointer for [gpa, gpa+len) if the whole range is guest RAM, else NULL. */
void *vm_gpa_ptr(struct vm *vm, uint64_t gpa, uint64_t len);
uint64_t vm_ram_size(struct vm *vm);

/* Device memory: SIZE bytes (a multiple of 4 KiB) at HOST that the guest
 * reaches without exits, in a KVM memory slot of its own (never RAM in
 * e820). LOG_DIRTY: KVM logs the pages the guest writes. Returns an id
 * (>= 0), mapped nowhere until vm_devmem_map(). Before vm_start(). */
int vm_devmem_add(struct vm *vm, void *host, uint64_t size, bool log_dirty);
/* Maps device memory ID at GPA (0: unmaps it); any thread. The mapping
 * survives resets. */
int vm_devmem_map(struct vm *vm, int id, uint64_t gpa);
/* The pages written since the last call, one bit a 4 KiB page, into
 * BITMAP (size/4096 bits, rounded up to 64); any thread. Returns 1 when
 * the log is not available (not mapped, no KVM VM: unit tests, a reset):
 * then every bit is set, the caller treats everything as changed. */
int vm_devmem_dirty(struct vm *vm, int id, uint64_t *bitmap);

/* The boot display the boot loader announces in boot_params.screen_info
 * (x86/boot.c): VGA text mode, or a linear framebuffer at lfb_base
 * (32 bits a pixel, XRGB), which Linux's efifb drives. The display
 * device owns it and keeps lfb_base where its BAR is. */
struct vm_screen {
    bool text;
    uint64_t lfb_base;
    uint32_t lfb_size;
    uint16_t width, height, stride;
};

/* ---- I/O bus: devices claim port or MMIO ranges ---- */
struct io_ops {
    /* off is relative to the registered base; len is 1, 2, 4 or 8 */
    void (*read)(void *opaque, uint64_t off, uint8_t *data, uint32_t len);
    void (*write)(void *opaque, uint64_t off, const uint8_t *data, uint32_t len);
};
int vm_register_pio(struct vm *vm, uint16_t base, uint16_t len, const struct io_ops *ops,
                    void *opaque);
int vm_register_mmio(struct vm *vm, uint64_t base, uint64_t len, const struct io_ops *ops,
                     void *opaque);

/* ---- interrupts (in-kernel IOAPIC/PIC) ---- */
int vm_irq_line(struct vm *vm, unsigned gsi, bool level);
/* Edge: raise then lower. */
int vm_irq_pulse(struct vm *vm, unsigned gsi);

/* ---- VM-level actions (main thread) ---- */
enum vm_run_state { VM_RUNNING, VM_PAUSED, VM_SHUTTING_DOWN, VM_STOPPED };
enum vm_run_state vm_run_state(struct vm *vm);
int vm_pause(struct vm *vm); /* all vCPUs out of KVM_RUN and parked */
int vm_resume(struct vm *vm);
/* Press the ACPI power button. With reboot, the guest's next poweroff
 * boots it again in place (libvirt's ACPI reboot: the guest shuts down
 * cleanly, then the machine is reset); without, a pending reboot is
 * cancelled, so a shutdown after a reboot the guest ignored powers off. */
int vm_powerdown(struct vm *vm, bool reboot);
int vm_reset(struct vm *vm);                    /* system_reset: as if the guest rebooted */
int vm_quit(struct vm *vm, const char *reason); /* stop now, VMM exits (destroy) */
unsigned vm_vcpu_count(struct vm *vm);
/* For query-cpus-fast: host thread id of vCPU i, and its APIC id. */
int vm_vcpu_info(struct vm *vm, unsigned i, int *thread_id, unsigned *apic_id);

/* Devices with state of their own register a hook that puts them back
 * in power-on state; it runs on the main thread while no vCPU runs, at
 * every reset (guest reboot with on_reboot=restart, system_reset). */
int vm_add_reset_hook(struct vm *vm, void (*fn)(void *opaque), void *opaque);

/* Guest-originated events (called from vCPU threads or devices). */
void vm_guest_poweroff(struct vm *vm); /* ACPI S5 / shutdown */
void vm_guest_reboot(
    struct vm *vm); /* i8042 reset, ACPI reset register, triple fault -> on_reboot */
void vm_guest_crashed(struct vm *vm, const char *why); /* emulation failure -> on_crash */

/* ---- messages about what the guest did (guestlog.c) ----
 * Anything a guest can repeat at will (a device it breaks, a reboot loop,
 * interrupts it misconfigures) goes to vmm.log through guest_log(): per
 * call site a burst of GUEST_LOG_BURST messages, then one per
 * GUEST_LOG_INTERVAL_MS (the next one says how many were left out), and
 * for all sites together at most GUEST_LOG_MAX_BYTES per process. A site
 * is a zeroed static: `static struct guest_log_site site;`. Any thread. */
#define GUEST_LOG_BURST 10
#define GUEST_LOG_INTERVAL_MS 10000
#define GUEST_LOG_MAX_BYTES (256 * 1024)
struct guest_log_site {
    bool started;
    int tokens;
    int64_t refilled_ms;
    unsigned long long suppressed;
};
/* FMT without the "tvm-vmm: " prefix or a newline. */
void guest_log(struct guest_log_site *site, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- saved state (vmstate.c; the file format is core/proto/vmstate-file.h) ----
 * Every part of the machine with state of its own registers one section
 * with a save/load pair, from its own file. A section whose save is NULL
 * makes a save fail, naming it, rather than write a file that would not
 * bring the guest back. Both run on the main thread while no vCPU runs;
 * load runs on a freshly built machine that has not run yet and must
 * check every value it reads (the file is hostile input). freeze/thaw
 * (optional) bracket a whole save or load: a device whose own threads
 * touch guest RAM or its state keeps them out meanwhile. */
struct vsf_out;
struct vsf_in;
struct vm_state_ops {
    int (*save)(void *opaque, struct vsf_out *out);
    int (*load)(void *opaque, struct vsf_in *in);
    void (*freeze)(void *opaque);
    void (*thaw)(void *opaque);
};
/* NAME: the section's name (unique, at most 23 characters). */
int vm_add_state(struct vm *vm, const char *name, const struct vm_state_ops *ops, void *opaque);

/* ---- who the VM tells: hooks set before vm_start(), none in unit tests ---- */
/* QMP events out. vm.c emits STOP/RESUME from vm_pause/vm_resume, POWERDOWN
 * from vm_powerdown, SHUTDOWN and RESET when the guest powers off, reboots
 * or crashes (and RESET from vm_reset); devices emit their own
 * (BALLOON_CHANGE). The sink is whoever owns the control socket (main.c
 * hands them to control_emit_event()); without one they go nowhere. Called
 * from any thread. data_json may be NULL ({}). */
typedef void (*vm_event_fn)(void *opaque, const char *name, const char *data_json);
void vm_set_event_sink(struct vm *vm, vm_event_fn fn, void *opaque);
void vm_emit_event(struct vm *vm, const char *name, const char *data_json);
/* The button vm_powerdown() presses: the ACPI PM block registers it when
 * the guest has <features><acpi/>; without one vm_powerdown() fails. */
void vm_set_power_button(struct vm *vm, void (*press)(void *opaque), void *opaque);

#endif
