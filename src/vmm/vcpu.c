/* vCPUs: one thread each, running KVM_RUN and routing exits to the I/O
 * bus or to the VM-level actions. A vCPU parks (off KVM_RUN, waiting on
 * vm->cond) whenever the VM asks: pause, a guest request the main loop
 * must act on, or teardown. To get a vCPU out of KVM_RUN we set
 * kvm_run.immediate_exit and send SIGUSR1 to its thread: the flag covers
 * the window where the signal lands just before KVM_RUN is entered.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/base/err.h"
#include "sandbox.h"
#include "vm.h"

#define KICK_SIGNAL SIGUSR1

#define X86_CR0_PE (1ULL << 0)
#define X86_CR0_MP (1ULL << 1)
#define X86_CR0_ET (1ULL << 4)
#define X86_CR0_NE (1ULL << 5)
#define X86_CR0_WP (1ULL << 16)
#define X86_CR0_PG (1ULL << 31)
#define X86_CR4_PAE (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)

#define APIC_LVT0 0x350
#define APIC_LVT1 0x360
#define APIC_MODE_EXTINT 0x7
#define APIC_MODE_NMI 0x4

static void kick_handler(int sig)
{
    (void)sig;
}

static int install_kick_handler(void)
{
    static bool done;
    if (done)
        return 0;
    struct sigaction sa = {.sa_handler = kick_handler}; /* no SA_RESTART: KVM_RUN returns EINTR */
    sigemptyset(&sa.sa_mask);
    if (sigaction(KICK_SIGNAL, &sa, NULL) < 0)
        return err_errno("sigaction");
    done = true;
    return 0;
}

static void flat_segment(struct kvm_segment *s, uint16_t sel, uint8_t type, bool code64)
{
    *s = (struct kvm_segment){
        .base = 0,
        .limit = 0xFFFFFFFF,
        .selector = sel,
        .type = type,
        .present = 1,
        .dpl = 0,
        .db = code64 ? 0 : 1,
        .s = 1,
        .l = code64 ? 1 : 0,
        .g = 1,
    };
}

/* The BSP's state at the kernel entry, as a boot loader leaves it. */
static int setup_boot_regs(struct vm *vm, struct vcpu *v)
{
    const struct boot_entry *be = &vm->entry;
    struct kvm_sregs sr;
    if (ioctl(v->fd, KVM_GET_SREGS, &sr) < 0)
        return err_errno("KVM_GET_SREGS");
    flat_segment(&sr.cs, 0x10, 0xB, !be->pvh);
    flat_segment(&sr.ds, 0x18, 0x3, false);
    sr.es = sr.fs = sr.gs = sr.ss = sr.ds;
    sr.gdt.base = be->gdt;
    sr.gdt.limit = 5 * 8 - 1;
    sr.idt.base = 0;
    sr.idt.limit = 0;
    if (be->pvh) {
        sr.cr0 = X86_CR0_PE | X86_CR0_ET;
        sr.cr4 = 0;
        sr.efer = 0;
    } else {
        sr.cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP | X86_CR0_PG;
        sr.cr3 = be->cr3;
        sr.cr4 = X86_CR4_PAE;
        sr.efer = EFER_LME | EFER_LMA;
    }
    if (ioctl(v->fd, KVM_SET_SREGS, &sr) < 0)
        return err_errno("KVM_SET_SREGS");

    struct kvm_regs r = {.rflags = 0x2, .rip = be->rip, .rsp = be->rsp};
    if (be->pvh)
        r.rbx = be->zero_page;
    else
        r.rsi = be->zero_page;
    if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
        return err_errno("KVM_SET_REGS");
    return 0;
}

/* What a BIOS leaves in every local APIC: LINT0 as ExtINT (the 8259 is
 * wired through, "virtual wire" mode) and LINT1 as NMI. */
static int setup_lapic(struct vcpu *v)
{
    struct kvm_lapic_state la;
    if (ioctl(v->fd, KVM_GET_LAPIC, &la) < 0)
        return err_errno("KVM_GET_LAPIC");
    uint32_t lvt0, lvt1;
    memcpy(&lvt0, la.regs + APIC_LVT0, 4);
    memcpy(&lvt1, la.regs + APIC_LVT1, 4);
    lvt0 = (lvt0 & ~0x700u & ~(1u << 16)) | (APIC_MODE_EXTINT << 8);
    lvt1 = (lvt1 & ~0x700u & ~(1u << 16)) | (APIC_MODE_NMI << 8);
    memcpy(la.regs + APIC_LVT0, &lvt0, 4);
    memcpy(la.regs + APIC_LVT1, &lvt1, 4);
    if (ioctl(v->fd, KVM_SET_LAPIC, &la) < 0)
        return err_errno("KVM_SET_LAPIC");
    return 0;
}

static int setup_fpu(struct vcpu *v)
{
    struct kvm_fpu f = {.fcw = 0x37F, .mxcsr = 0x1F80};
    if (ioctl(v->fd, KVM_SET_FPU, &f) < 0)
        return err_errno("KVM_SET_FPU");
    return 0;
}

int vcpu_create_all(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        *v = (struct vcpu){.vm = vm, .index = i, .fd = -1};
        v->apic_id = vcpu_apic_id(&vm->cfg, i);
        v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)v->apic_id);
        if (v->fd < 0)
            return err_errno("KVM_CREATE_VCPU %u", i);
        v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
        if (v->run == MAP_FAILED) {
            v->run = NULL;
            return err_errno("mmap of vCPU %u's kvm_run", i);
        }
        if (cpuid_setup_vcpu(vm, v) < 0 || msr_setup_vcpu(vm, v) < 0 || setup_fpu(v) < 0 ||
            setup_lapic(v) < 0)
            return err_prefix("vCPU %u: ", i);
        /* APs wait in the in-kernel LAPIC for INIT/SIPI from the BSP; a
         * firmware boot starts the BSP where KVM's reset left it
         * (CS base 0xFFFF0000, IP 0xFFF0: the ROM's reset vector). */
        if (i == 0 && !vm->entry.reset && setup_boot_regs(vm, v) < 0)
            return err_prefix("vCPU 0: ");
    }
    return 0;
}

static const char *exit_name(uint32_t reason)
{
    switch (reason) {
    case KVM_EXIT_FAIL_ENTRY:
        return "VM entry failed";
    case KVM_EXIT_INTERNAL_ERROR:
        return "KVM internal error";
    case KVM_EXIT_UNKNOWN:
        return "unknown exit";
    default:
        return "unexpected exit";
    }
}

static void crash(struct vcpu *v, const char *what, uint64_t code)
{
    struct kvm_regs r = {0};
    ioctl(v->fd, KVM_GET_REGS, &r);
    char why[200];
    snprintf(why, sizeof why, "vCPU %u: %s (code 0x%" PRIx64 ") at rip 0x%llx", v->index, what,
             code, (unsigned long long)r.rip);
    vm_guest_crashed(v->vm, why);
}

static void handle_exit(struct vcpu *v)
{
    struct kvm_run *run = v->run;
    struct vm *vm = v->vm;
    switch (run->exit_reason) {
    case KVM_EXIT_IO: {
        uint8_t *data = (uint8_t *)run + run->io.data_offset;
        for (uint32_t i = 0; i < run->io.count; i++)
            io_dispatch_pio(vm, run->io.port, data + i * run->io.size, run->io.size,
                            run->io.direction == KVM_EXIT_IO_OUT);
        break;
    }
    case KVM_EXIT_MMIO:
        io_dispatch_mmio(vm, run->mmio.phys_addr, run->mmio.data,
                         run->mmio.len <= 8 ? run->mmio.len : 8, run->mmio.is_write);
        break;
    case KVM_EXIT_HLT:
    case KVM_EXIT_INTR:
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        break;
    case KVM_EXIT_SHUTDOWN: {
        /* Triple fault: the CPU resets, which on a PC resets the machine. */
        static struct guest_log_site triple_fault;
        guest_log(&triple_fault, "vCPU %u: triple fault, resetting the guest", v->index);
        vm_guest_reboot(vm);
        break;
    }
    case KVM_EXIT_SYSTEM_EVENT:
        switch (run->system_event.type) {
        case KVM_SYSTEM_EVENT_SHUTDOWN:
            vm_guest_poweroff(vm);
            break;
        case KVM_SYSTEM_EVENT_RESET:
            vm_guest_reboot(vm);
            break;
        default:
            crash(v, "system event crash", run->system_event.type);
            break;
        }
        break;
    case KVM_EXIT_INTERNAL_ERROR:
        crash(v,
              run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ? "emulation failure"
                                                                     : "KVM internal error",
              run->internal.suberror);
        break;
    case KVM_EXIT_FAIL_ENTRY:
        crash(v, exit_name(run->exit_reason), run->fail_entry.hardware_entry_failure_reason);
        break;
    default:
        crash(v, exit_name(run->exit_reason), run->exit_reason);
        break;
    }
}

/* Park while the VM says so; false when the thread should exit. */
static bool wait_runnable(struct vcpu *v)
{
    struct vm *vm = v->vm;
    pthread_mutex_lock(&vm->lock);
    while (vm->pause_req && !vm->stop_req) {
        if (!v->parked) {
            v->parked = true;
            pthread_cond_broadcast(&vm->cond);
        }
        pthread_cond_wait(&vm->cond, &vm->lock);
    }
    v->parked = false;
    bool go = !vm->stop_req;
    pthread_mutex_unlock(&vm->lock);
    return go;
}

static void *vcpu_thread(void *arg)
{
    struct vcpu *v = arg;
    struct vm *vm = v->vm;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, KICK_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    v->tid = gettid();
    char name[16];
    snprintf(name, sizeof name, "vcpu%u", v->index);
    pthread_setname_np(pthread_self(), name);
    /* Made by the main thread after the sandbox: its filter, narrowed. */
    sandbox_thread_enter(SANDBOX_THREAD_VCPU);

    while (wait_runnable(v)) {
        sandbox_selftest_point(SANDBOX_THREAD_VCPU);
        if (ioctl(v->fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                v->run->immediate_exit = 0;
                continue;
            }
            char why[128];
            snprintf(why, sizeof why, "vCPU %u: KVM_RUN: %s", v->index, strerror(errno));
            vm_guest_crashed(vm, why);
            continue;
        }
        handle_exit(v);
    }
    pthread_mutex_lock(&vm->lock);
    v->exited = true;
    pthread_cond_broadcast(&vm->cond);
    pthread_mutex_unlock(&vm->lock);
    return NULL;
}

int vcpu_start_all(struct vm *vm)
{
    if (install_kick_handler() < 0)
        return -1;
    /* vCPU threads inherit a mask with every signal blocked but the kick;
     * the main thread handles the rest through its signalfd. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = 0;
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        int e = pthread_create(&v->thread, NULL, vcpu_thread, v);
        if (e) {
            errno = e;
            rc = err_errno("cannot start vCPU thread %u", i);
            break;
        }
        v->started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Caller holds vm->lock. */
void vcpu_kick_all(struct vm *vm)
{
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (!v->started || v->exited)
            continue;
        if (v->run)
            __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        pthread_kill(v->thread, KICK_SIGNAL);
    }
}

void vcpu_stop_all(struct vm *vm)
{
    pthread_mutex_lock(&vm->lock);
    vm->stop_req = true;
    pthread_cond_broadcast(&vm->cond);
    vcpu_kick_all(vm);
    pthread_mutex_unlock(&vm->lock);
    for (unsigned i = 0; i < vm->nvcpus; i++) {
        struct vcpu *v = &vm->vcpus[i];
        if (v->started)
            pthread_join(v->thread, NULL);
        v->started = false;
        if (v->run)
            munmap(v->run, vm->run_size);
        v->run = NULL;
        if (v->fd >= 0)
            close(v->fd);
        v->fd = -1;
    }
    pthread_mutex_lock(&vm->lock);
    vm->stop_req = false;
    pthread_mutex_unlock(&vm->lock);
}
