/* The VM: KVM setup, the VM-level actions of vmm.h, and how guest
 * requests (poweroff, reboot, crash) coming from vCPU threads are carried
 * out on the main thread. See vm.h for the life cycle.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/base/host.h"
#include "vm.h"
#include "x86/boot.h"

void vm_set_event_sink(struct vm *vm, vm_event_fn fn, void *opaque)
{
    vm->event_sink = fn;
    vm->event_opaque = opaque;
}

void vm_emit_event(struct vm *vm, const char *name, const char *data_json)
{
    if (vm->event_sink)
        vm->event_sink(vm->event_opaque, name, data_json);
}

static void emit(struct vm *vm, const char *name, const char *data)
{
    vm_emit_event(vm, name, data);
}

void vm_set_power_button(struct vm *vm, void (*press)(void *opaque), void *opaque)
{
    vm->power_button = press;
    vm->power_button_opaque = opaque;
}

struct vm *vm_new(const struct vm_config *cfg)
{
    if (cfg->vcpus == 0 || cfg->vcpus > VM_MAX_VCPUS) {
        err_set("vcpu: %u vCPUs is out of range (1-%u)", cfg->vcpus, VM_MAX_VCPUS);
        return NULL;
    }
    struct vm *vm = calloc(1, sizeof *vm);
    if (!vm) {
        err_set("out of memory");
        return NULL;
    }
    vm->cfg = *cfg;
    vm->nvcpus = cfg->vcpus;
    vm->kvm_fd = vm->vm_fd = vm->event_fd = -1;
    for (unsigned i = 0; i < VM_MAX_VCPUS; i++)
        vm->vcpus[i].fd = -1;
    pthread_mutex_init(&vm->lock, NULL);
    pthread_mutex_init(&vm->devmem_lock, NULL);
    pthread_cond_init(&vm->cond, NULL);
    pthread_rwlock_init(&vm->fd_lock, NULL);
    vm->state = VM_STOPPED;
    vm->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (vm->event_fd < 0 || mem_alloc(vm) < 0 || io_register_legacy(vm) < 0) {
        if (vm->event_fd < 0)
            err_errno("eventfd");
        vm_free(vm);
        return NULL;
    }
    return vm;
}

void vm_free(struct vm *vm)
{
    if (!vm)
        return;
    vcpu_stop_all(vm);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    if (vm->kvm_fd >= 0)
        close(vm->kvm_fd);
    if (vm->event_fd >= 0)
        close(vm->event_fd);
    mem_release(vm);
    for (unsigned i = 0; i < vm->nowned; i++) {
        if (vm->owned_free[i])
            vm->owned_free[i](vm->owned[i]);
        else
            free(vm->owned[i]);
    }
    free(vm->cpuid);
    free(vm->unknown_pio);
    pthread_mutex_destroy(&vm->lock);
    pthread_mutex_destroy(&vm->devmem_lock);
    pthread_cond_destroy(&vm->cond);
    pthread_rwlock_destroy(&vm->fd_lock);
    free(vm);
}

static int open_kvm(struct vm *vm)
{
    if (vm->kvm_fd >= 0)
        return 0;
    vm->kvm_fd = vm->cfg.kvm_fd > 0 ? vm->cfg.kvm_fd : host_kvm_open();
    if (vm->kvm_fd < 0)
        return -1;
    int v = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0);
    if (v != KVM_API_VERSION)
        return err_set("/dev/kvm: KVM API version %d, tvm-vmm needs %d", v, KVM_API_VERSION);
    int sz = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (sz <= 0)
        return err_errno("KVM_GET_VCPU_MMAP_SIZE");
    vm->run_size = sz;
    return cpuid_init(vm);
}

/* A fresh KVM VM over our RAM, the kernel loaded, vCPUs created (not running). */
static int build_machine(struct vm *vm)
{
    /* Images first: a missing kernel is reported the same with or without KVM. */
    uint64_t rsdp = 0;
    if (vm->cfg.firmware && vm->cfg.firmware(vm, vm->cfg.firmware_opaque, &rsdp) < 0)
        return err_prefix("firmware: ");
    if (boot_load(vm, rsdp) < 0)
        return -1;
    if (open_kvm(vm) < 0)
        return -1;
    int fd;
    do
        fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
    while (fd < 0 && errno == EINTR);
    if (fd < 0)
        return err_errno("KVM_CREATE_VM");
    pthread_rwlock_wrlock(&vm->fd_lock);
    vm->vm_fd = fd;
    pthread_rwlock_unlock(&vm->fd_lock);
    fcntl(vm->vm_fd, F_SETFD, FD_CLOEXEC);
    uint64_t idmap = KVM_IDENTITY_MAP_GPA;
    if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
        return err_errno("KVM_SET_IDENTITY_MAP_ADDR");
    if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0)
        return err_errno("KVM_SET_TSS_ADDR");
    if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
        return err_errno("KVM_CREATE_IRQCHIP");
    struct kvm_pit_config pit = {.flags = 0};
    if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
        return err_errno("KVM_CREATE_PIT2");
    if (mem_kvm_map(vm) < 0)
        return -1;
    return vcpu_create_all(vm);
}

static void teardown_machine(struct vm *vm)
{
    vcpu_stop_all(vm);
    pthread_rwlock_wrlock(&vm->fd_lock);
    if (vm->vm_fd >= 0)
        close(vm->vm_fd);
    vm->vm_fd = -1;
    pthread_rwlock_unlock(&vm->fd_lock);
}

int vm_start(struct vm *vm, bool paused)
{
    if (build_machine(vm) < 0)
        return -1;
    pthread_mutex_lock(&vm->lock);
    vm->state = paused ? VM_PAUSED : VM_RUNNING;
    vm->pause_req = paused;
    vm->ran = !paused;
    pthread_mutex_unlock(&vm->lock);
    return vcpu_start_all(vm);
}

int vm_own_fn(struct vm *vm, void *p, void (*free_fn)(void *p))
{
    if (vm->nowned >= VM_MAX_IO)
        return err_set("too many devices");
    vm->owned[vm->nowned] = p;
    vm->owned_free[vm->nowned] = free_fn;
    vm->nowned++;
    return 0;
}

int vm_own(struct vm *vm, void *p)
{
    return vm_own_fn(vm, p, NULL);
}

int vm_event_fd(struct vm *vm)
{
    return vm->event_fd;
}

int vm_add_reset_hook(struct vm *vm, void (*fn)(void *opaque), void *opaque)
{
    if (vm->nreset_hooks >= VM_MAX_RESET_HOOKS)
        return err_set("too many reset hooks");
    vm->reset_hooks[vm->nreset_hooks].fn = fn;
    vm->reset_hooks[vm->nreset_hooks].opaque = opaque;
    vm->nreset_hooks++;
    return 0;
}

int vm_add_state(struct vm *vm, const char *name, const struct vm_state_ops *ops, void *opaque)
{
    if (vm->nstates >= VM_MAX_STATES)
        return err_set("too many saved-state sections");
    if (strlen(name) >= sizeof vm->states[0].name)
        return err_set("saved-state section name '%s' is too long", name);
    for (unsigned i = 0; i < vm->nstates; i++)
        if (strcmp(vm->states[i].name, name) == 0)
            return err_set("saved-state section '%s' is registered twice", name);
    snprintf(vm->states[vm->nstates].name, sizeof vm->states[0].name, "%s", name);
    vm->states[vm->nstates].ops = ops;
    vm->states[vm->nstates].opaque = opaque;
    vm->nstates++;
    return 0;
}

bool vm_has_run(struct vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    bool ran = vm->ran;
    pthread_mutex_unlock(&vm->lock);
    return ran;
}

/* ---- pausing ---- */

/* Park every running vCPU and wait until they are all off KVM_RUN. */
static void park_all(struct vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    vm->pause_req = true;
    vcpu_kick_all(vm);
    for (;;) {
        bool all = true;
        for (unsigned i = 0; i < vm->nvcpus; i++) {
            const struct vcpu *v = &vm->vcpus[i];
            if (v->started && !v->exited && !v->parked)
                all = false;
        }
        if (all)
            break;
        pthread_cond_wait(&vm->cond, &vm->lock);
    }
    pthread_mutex_unlock(&vm->lock);
}

enum vm_run_state vm_run_state(struct vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    enum vm_run_state s = vm->state;
    pthread_mutex_unlock(&vm->lock);
    return s;
}

int vm_pause(struct vm *vm)
{
    if (vm_run_state(vm) != VM_RUNNING)
        return vm_run_state(vm) == VM_PAUSED ? 0 : err_set("the guest is not running");
    park_all(vm);
    pthread_mutex_lock(&vm->lock);
    vm->state = VM_PAUSED;
    pthread_mutex_unlock(&vm->lock);
    emit(vm, "STOP", NULL);
    return 0;
}

int vm_resume(struct vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    if (vm->state != VM_PAUSED) {
        bool running = vm->state == VM_RUNNING;
        pthread_mutex_unlock(&vm->lock);
        return running ? 0 : err_set("the guest is not paused");
    }
    vm->state = VM_RUNNING;
    vm->ran = true;
    /* A guest request still pending keeps the vCPUs parked. */
    if (vm->req == VM_REQ_NONE)
        vm->pause_req = false;
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
    emit(vm, "RESUME", NULL);
    return 0;
}

/* ---- actions ---- */

int vm_powerdown(struct vm *vm, bool reboot)
{
    enum vm_run_state s = vm_run_state(vm);
    if (s != VM_RUNNING && s != VM_PAUSED)
        return err_set("the guest is not running");
    if (!vm->power_button)
        return err_set("the guest has no ACPI power button (no <features><acpi/>)");
    pthread_mutex_lock(&vm->lock);
    vm->reboot_on_poweroff = reboot;
    pthread_mutex_unlock(&vm->lock);
    emit(vm, "POWERDOWN", NULL);
    vm->power_button(vm->power_button_opaque);
    return 0;
}

static void set_quit(struct vm *vm, const char *reason, const char *detail);

/* Main thread: throw the KVM VM away and boot again in the same process. */
static int do_reset(struct vm *vm)
{
    bool was_paused = vm_run_state(vm) == VM_PAUSED;
    teardown_machine(vm);
    for (unsigned i = 0; i < vm->nreset_hooks; i++)
        vm->reset_hooks[i].fn(vm->reset_hooks[i].opaque);
    if (build_machine(vm) < 0) {
        err_prefix("reset: ");
        fprintf(stderr, "tvm-vmm: %s\n", err_msg());
        set_quit(vm, "error", err_msg());
        return -1;
    }
    pthread_mutex_lock(&vm->lock);
    vm->state = was_paused ? VM_PAUSED : VM_RUNNING;
    vm->pause_req = was_paused;
    pthread_mutex_unlock(&vm->lock);
    return vcpu_start_all(vm);
}

int vm_reset(struct vm *vm)
{
    enum vm_run_state s = vm_run_state(vm);
    if (s != VM_RUNNING && s != VM_PAUSED)
        return err_set("the guest is not running");
    park_all(vm);
    if (do_reset(vm) < 0)
        return -1;
    emit(vm, "RESET", "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}");
    return 0;
}

static void set_quit(struct vm *vm, const char *reason, const char *detail)
{
    pthread_mutex_lock(&vm->lock);
    if (!vm->quit) {
        vm->quit = true;
        snprintf(vm->quit_reason, sizeof vm->quit_reason, "%s", reason);
        snprintf(vm->quit_detail, sizeof vm->quit_detail, "%s", detail ? detail : "");
    }
    vm->state = VM_SHUTTING_DOWN;
    vm->pause_req = true;
    vcpu_kick_all(vm);
    pthread_mutex_unlock(&vm->lock);
    /* Wake the main loop so it notices. */
    uint64_t one = 1;
    if (write(vm->event_fd, &one, sizeof one) < 0) {
        /* counter saturated: already awake */
    }
}

int vm_quit(struct vm *vm, const char *reason)
{
    set_quit(vm, reason ? reason : "destroyed", NULL);
    return 0;
}

bool vm_quit_requested(struct vm *vm, const char **reason, const char **detail)
{
    pthread_mutex_lock(&vm->lock);
    bool q = vm->quit;
    pthread_mutex_unlock(&vm->lock);
    if (q) {
        *reason = vm->quit_reason;
        *detail = vm->quit_detail;
    }
    return q;
}

unsigned vm_vcpu_count(struct vm *vm)
{
    return vm->nvcpus;
}

int vm_vcpu_info(struct vm *vm, unsigned i, int *thread_id, unsigned *apic_id)
{
    if (i >= vm->nvcpus)
        return err_set("no vCPU %u", i);
    *thread_id = vm->vcpus[i].tid;
    *apic_id = vcpu_apic_id(&vm->cfg, i);
    return 0;
}

int vm_vm_ioctl(struct vm *vm, unsigned long req, void *arg)
{
    pthread_rwlock_rdlock(&vm->fd_lock);
    int r = -1;
    if (vm->vm_fd >= 0)
        r = ioctl(vm->vm_fd, req, arg);
    else
        errno = ENODEV;
    int saved = errno;
    pthread_rwlock_unlock(&vm->fd_lock);
    errno = saved;
    return r;
}

bool vm_has_kvm_vm(struct vm *vm)
{
    pthread_rwlock_rdlock(&vm->fd_lock);
    bool has = vm->vm_fd >= 0;
    pthread_rwlock_unlock(&vm->fd_lock);
    return has;
}

int vm_irq_line(struct vm *vm, unsigned gsi, bool level)
{
    struct kvm_irq_level irq = {.irq = gsi, .level = level ? 1 : 0};
    if (vm_vm_ioctl(vm, KVM_IRQ_LINE, &irq) < 0) {
        if (errno == ENODEV)
            return 0; /* no machine yet (or between resets): nobody to interrupt */
        return err_errno("KVM_IRQ_LINE %u", gsi);
    }
    return 0;
}

int vm_irq_pulse(struct vm *vm, unsigned gsi)
{
    if (vm_irq_line(vm, gsi, true) < 0)
        return -1;
    return vm_irq_line(vm, gsi, false);
}

/* ---- guest requests: any thread; the main loop acts in vm_poll() ---- */

static void request(struct vm *vm, enum vm_request r, const char *detail)
{
    pthread_mutex_lock(&vm->lock);
    if (vm->req == VM_REQ_NONE && !vm->quit) {
        vm->req = r;
        snprintf(vm->req_detail, sizeof vm->req_detail, "%s", detail ? detail : "");
    }
    /* Stop running guest code now; the main loop decides what comes next. */
    vm->pause_req = true;
    vcpu_kick_all(vm);
    pthread_mutex_unlock(&vm->lock);
    uint64_t one = 1;
    if (write(vm->event_fd, &one, sizeof one) < 0) {
        /* already signalled */
    }
}

void vm_guest_poweroff(struct vm *vm)
{
    request(vm, VM_REQ_POWEROFF, NULL);
}

void vm_guest_reboot(struct vm *vm)
{
    request(vm, VM_REQ_RESET, NULL);
}

void vm_guest_crashed(struct vm *vm, const char *why)
{
    request(vm, VM_REQ_CRASH, why);
}

/* A guest that reboots, powers off (on_poweroff=restart) or crashes
 * (on_crash=restart) in a loop says so a limited number of times. */
static struct guest_log_site poweroff_site, reboot_site, crash_site;

void vm_poll(struct vm *vm)
{
    uint64_t n;
    if (read(vm->event_fd, &n, sizeof n) < 0) {
        /* spurious wake-up */
    }
    pthread_mutex_lock(&vm->lock);
    enum vm_request r = vm->req;
    char detail[sizeof vm->req_detail];
    memcpy(detail, vm->req_detail, sizeof detail);
    bool quitting = vm->quit;
    pthread_mutex_unlock(&vm->lock);
    if (r == VM_REQ_NONE || quitting)
        return;
    park_all(vm);
    pthread_mutex_lock(&vm->lock);
    vm->req = VM_REQ_NONE;
    /* Whatever the guest did, a requested reboot has now been answered. */
    bool reboot_asked = vm->reboot_on_poweroff;
    vm->reboot_on_poweroff = false;
    pthread_mutex_unlock(&vm->lock);

    switch (r) {
    case VM_REQ_POWEROFF:
        guest_log(&poweroff_site, "guest powered off");
        emit(vm, "SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
        if (reboot_asked) {
            /* As libvirt does after an ACPI reboot's SHUTDOWN: system_reset. */
            guest_log(&reboot_site, "reboot requested, booting the guest again");
            if (do_reset(vm) == 0)
                emit(vm, "RESET", "{\"guest\": false, \"reason\": \"host-qmp-system-reset\"}");
        } else if (vm->cfg.poweroff_restarts) {
            if (do_reset(vm) == 0)
                emit(vm, "RESET", "{\"guest\": true, \"reason\": \"guest-shutdown\"}");
        } else {
            set_quit(vm, "shutdown", "guest powered off");
        }
        break;
    case VM_REQ_RESET:
        if (vm->cfg.reboot_restarts) {
            guest_log(&reboot_site, "guest rebooted, restarting it");
            if (do_reset(vm) == 0)
                emit(vm, "RESET", "{\"guest\": true, \"reason\": \"guest-reset\"}");
        } else {
            fprintf(stderr, "tvm-vmm: guest rebooted, stopping (on_reboot=destroy)\n");
            emit(vm, "SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-reset\"}");
            set_quit(vm, "shutdown", "guest rebooted (on_reboot=destroy)");
        }
        break;
    case VM_REQ_CRASH:
        guest_log(&crash_site, "guest crashed: %s", detail);
        if (vm->cfg.crash_restarts) {
            if (do_reset(vm) == 0)
                emit(vm, "RESET", "{\"guest\": true, \"reason\": \"guest-panic\"}");
        } else {
            emit(vm, "SHUTDOWN", "{\"guest\": true, \"reason\": \"guest-panic\"}");
            set_quit(vm, "crashed", detail);
        }
        break;
    case VM_REQ_NONE:
        break;
    }
}
