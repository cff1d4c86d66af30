/* One vCPU's saved state: what KVM keeps of it, read and written through
 * its ioctls. The payload is the KVM ABI structures as the kernel lays
 * them out on x86-64 (fixed sizes, each preceded by its size so a file
 * from another layout is refused), then the MSRs as (index, value) pairs.
 *
 * Restore order, as KVM needs it (cloud-hypervisor and Firecracker do
 * the same): MP state, general registers, special registers (with the
 * APIC base, so the LAPIC is set after them), XSAVE, XCRs, LAPIC, MSRs
 * (the TSC before the TSC deadline, which counts in its units), debug
 * registers, and the pending events last.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "vm.h"

/* The MSRs that hold guest state KVM does not give through the other
 * ioctls (QEMU's target/i386/kvm/kvm.c saves the same kind), in restore
 * order. Only those KVM lists (KVM_GET_MSR_INDEX_LIST) and reads are
 * saved; a file may name only these. */
static const uint32_t saved_msrs[] = {
    0x00000010,                         /* TSC: first, the deadline below counts in it */
    0x0000003b,                         /* TSC_ADJUST */
    0x00000174, 0x00000175, 0x00000176, /* SYSENTER_CS/ESP/EIP */
    0x000001a0,                         /* MISC_ENABLE */
    0x00000277,                         /* PAT */
    0x000002ff,                         /* MTRR default type */
    0x00000200, 0x00000201, 0x00000202, 0x00000203, 0x00000204, 0x00000205,
    0x00000206, 0x00000207, 0x00000208, 0x00000209, 0x0000020a, 0x0000020b,
    0x0000020c, 0x0000020d, 0x0000020e, 0x0000020f, /* variable MTRRs: base/mask pairs */
    0x00000250, 0x00000258, 0x00000259, 0x00000268, 0x00000269, 0x0000026a,
    0x0000026b, 0x0000026c, 0x0000026d, 0x0000026e, 0x0000026f, /* fixed MTRRs */
    0xc0000081,                                                 /* STAR */
    0xc0000082,                                                 /* LSTAR */
    0xc0000083,                                                 /* CSTAR */
    0xc0000084,                                                 /* SFMASK */
    0xc0000102,                                                 /* KERNEL_GS_BASE */
    0xc0000103,                                                 /* TSC_AUX */
    0x00000048,                                                 /* SPEC_CTRL */
    0x00000da0,                                                 /* XSS */
    0x0000017a,                                                 /* MCG_STATUS */
    0x4b564d00,                                                 /* KVM: wall clock */
    0x4b564d01,                                                 /* KVM: system time (kvm-clock) */
    0x4b564d02,                                                 /* KVM: async page faults */
    0x4b564d03,                                                 /* KVM: steal time */
    0x4b564d04,                                                 /* KVM: PV EOI */
    0x4b564d05,                                                 /* KVM: poll control */
    0x4b564d06, /* KVM: async page fault interrupt */
    0x00000011, /* KVM: wall clock (old) */
    0x00000012, /* KVM: system time (old) */
    0x000006e0, /* TSC_DEADLINE: after the TSC and the LAPIC */
};
#define NSAVED (sizeof saved_msrs / sizeof saved_msrs[0])
#define MAX_KVM_MSRS 1024

static bool known_msr(uint32_t index)
{
    for (size_t i = 0; i < NSAVED; i++)
        if (saved_msrs[i] == index)
            return true;
    return false;
}

static struct kvm_msrs *msrs_alloc(size_t n)
{
    struct kvm_msrs *m = calloc(1, sizeof *m + n * sizeof(struct kvm_msr_entry));
    if (m)
        m->nmsrs = (uint32_t)n;
    else
        err_set("out of memory");
    return m;
}

/* Our list, less what this KVM does not list. */
static int listed_msrs(struct vm *vm, struct kvm_msrs *out)
{
    struct kvm_msr_list *l = calloc(1, sizeof *l + MAX_KVM_MSRS * sizeof(uint32_t));
    if (!l)
        return err_set("out of memory");
    l->nmsrs = MAX_KVM_MSRS;
    if (ioctl(vm->kvm_fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
        free(l);
        return err_errno("KVM_GET_MSR_INDEX_LIST");
    }
    unsigned n = 0;
    for (size_t i = 0; i < NSAVED; i++)
        for (uint32_t j = 0; j < l->nmsrs; j++)
            if (l->indices[j] == saved_msrs[i]) {
                out->entries[n++].index = saved_msrs[i];
                break;
            }
    out->nmsrs = n;
    free(l);
    return 0;
}

/* KVM_GET_MSRS stops at the first MSR it cannot read: that one is left
 * out and the rest read again. */
static int read_msrs(struct vcpu *v, struct kvm_msrs *m)
{
    for (uint32_t done = 0; done < m->nmsrs;) {
        struct kvm_msrs *rest = msrs_alloc(m->nmsrs - done);
        if (!rest)
            return -1;
        memcpy(rest->entries, m->entries + done, rest->nmsrs * sizeof(struct kvm_msr_entry));
        int n = ioctl(v->fd, KVM_GET_MSRS, rest);
        if (n < 0) {
            free(rest);
            return err_errno("KVM_GET_MSRS");
        }
        memcpy(m->entries + done, rest->entries, (size_t)n * sizeof(struct kvm_msr_entry));
        free(rest);
        done += (uint32_t)n;
        if (done < m->nmsrs) { /* drop entry `done` */
            memmove(m->entries + done, m->entries + done + 1,
                    (m->nmsrs - done - 1) * sizeof(struct kvm_msr_entry));
            m->nmsrs--;
        }
    }
    return 0;
}

static void put_blob(struct vsf_out *o, const void *p, uint32_t n)
{
    vsf_put_u32(o, n);
    vsf_put_bytes(o, p, n);
}

static int get_blob(struct vsf_in *in, const char *field, void *p, uint32_t n)
{
    uint32_t size;
    if (vsf_get_u32(in, field, &size) < 0)
        return -1;
    if (size != n)
        return vsf_bad(in, field, size, "the size of KVM's structure here");
    return vsf_get_bytes(in, field, p, n);
}

/* One ioctl into a buffer, named in its error. */
#define VCPU_GET(v, req, buf)                                                                      \
    (ioctl((v)->fd, req, buf) < 0 ? err_errno("vCPU %u: " #req, (v)->index) : 0)

int vcpu_state_save(struct vm *vm, struct vcpu *v, struct vsf_out *o)
{
    struct kvm_mp_state mp;
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_xsave xsave;
    struct kvm_xcrs xcrs;
    struct kvm_lapic_state lapic;
    struct kvm_debugregs dbg;
    struct kvm_vcpu_events ev;
    if (VCPU_GET(v, KVM_GET_MP_STATE, &mp) < 0 || VCPU_GET(v, KVM_GET_REGS, &regs) < 0 ||
        VCPU_GET(v, KVM_GET_SREGS, &sregs) < 0 || VCPU_GET(v, KVM_GET_XSAVE, &xsave) < 0 ||
        VCPU_GET(v, KVM_GET_XCRS, &xcrs) < 0 || VCPU_GET(v, KVM_GET_LAPIC, &lapic) < 0 ||
        VCPU_GET(v, KVM_GET_DEBUGREGS, &dbg) < 0 || VCPU_GET(v, KVM_GET_VCPU_EVENTS, &ev) < 0)
        return -1;
    struct kvm_msrs *m = msrs_alloc(NSAVED);
    if (!m)
        return -1;
    if (listed_msrs(vm, m) < 0 || read_msrs(v, m) < 0) {
        free(m);
        return err_prefix("vCPU %u: ", v->index);
    }
    vsf_put_u32(o, mp.mp_state);
    put_blob(o, &regs, sizeof regs);
    put_blob(o, &sregs, sizeof sregs);
    put_blob(o, &xsave, sizeof xsave);
    put_blob(o, &xcrs, sizeof xcrs);
    put_blob(o, &lapic, sizeof lapic);
    put_blob(o, &dbg, sizeof dbg);
    put_blob(o, &ev, sizeof ev);
    vsf_put_u32(o, m->nmsrs);
    for (uint32_t i = 0; i < m->nmsrs; i++) {
        vsf_put_u32(o, m->entries[i].index);
        vsf_put_u64(o, m->entries[i].data);
    }
    free(m);
    return 0;
}

#define VCPU_SET(v, req, buf)                                                                      \
    (ioctl((v)->fd, req, buf) < 0                                                                  \
         ? err_errno("vCPU %u: " #req " refused the saved value", (v)->index)                      \
         : 0)

static int load_msrs(struct vcpu *v, struct vsf_in *in)
{
    uint32_t n;
    if (vsf_get_u32(in, "msr count", &n) < 0)
        return -1;
    if (n > NSAVED)
        return vsf_bad(in, "msr count", n, "at most the MSRs tvm-vmm saves");
    struct kvm_msrs *m = msrs_alloc(n);
    if (!m)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t index;
        uint64_t data;
        if (vsf_get_u32(in, "msr index", &index) < 0 || vsf_get_u64(in, "msr value", &data) < 0) {
            free(m);
            return -1;
        }
        if (!known_msr(index)) {
            free(m);
            return vsf_bad(in, "msr index", index, "an MSR tvm-vmm saves");
        }
        m->entries[i] = (struct kvm_msr_entry){.index = index, .data = data};
    }
    int set = ioctl(v->fd, KVM_SET_MSRS, m);
    int rc = 0;
    if (set < 0)
        rc = err_errno("vCPU %u: KVM_SET_MSRS", v->index);
    else if ((uint32_t)set < n)
        rc = err_set("vCPU %u: KVM refused the saved value of MSR 0x%x", v->index,
                     m->entries[set].index);
    free(m);
    return rc;
}

int vcpu_state_load(struct vm *vm, struct vcpu *v, struct vsf_in *in)
{
    (void)vm;
    struct kvm_mp_state mp;
    struct kvm_regs regs;
    struct kvm_sregs sregs;
    struct kvm_xsave xsave;
    struct kvm_xcrs xcrs;
    struct kvm_lapic_state lapic;
    struct kvm_debugregs dbg;
    struct kvm_vcpu_events ev;
    if (vsf_get_u32(in, "mp_state", &mp.mp_state) < 0 ||
        get_blob(in, "regs", &regs, sizeof regs) < 0 ||
        get_blob(in, "sregs", &sregs, sizeof sregs) < 0 ||
        get_blob(in, "xsave", &xsave, sizeof xsave) < 0 ||
        get_blob(in, "xcrs", &xcrs, sizeof xcrs) < 0 ||
        get_blob(in, "lapic", &lapic, sizeof lapic) < 0 ||
        get_blob(in, "debugregs", &dbg, sizeof dbg) < 0 ||
        get_blob(in, "vcpu_events", &ev, sizeof ev) < 0)
        return -1;
    /* KVM_MP_STATE_RUNNABLE .. KVM_MP_STATE_AP_RESET_HOLD: x86's. */
    if (mp.mp_state > KVM_MP_STATE_AP_RESET_HOLD)
        return vsf_bad(in, "mp_state", mp.mp_state, "a KVM MP state");
    if (xcrs.nr_xcrs > KVM_MAX_XCRS)
        return vsf_bad(in, "xcrs", xcrs.nr_xcrs, "at most KVM_MAX_XCRS");
    /* What QEMU marks valid when it puts events back: the NMI and SIPI
     * fields too, which KVM's own get does not flag. */
    ev.flags &= KVM_VCPUEVENT_VALID_SHADOW | KVM_VCPUEVENT_VALID_SMM;
    ev.flags |= KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SIPI_VECTOR;
    if (VCPU_SET(v, KVM_SET_MP_STATE, &mp) < 0 || VCPU_SET(v, KVM_SET_REGS, &regs) < 0 ||
        VCPU_SET(v, KVM_SET_SREGS, &sregs) < 0 || VCPU_SET(v, KVM_SET_XSAVE, &xsave) < 0 ||
        VCPU_SET(v, KVM_SET_XCRS, &xcrs) < 0 || VCPU_SET(v, KVM_SET_LAPIC, &lapic) < 0 ||
        load_msrs(v, in) < 0 || VCPU_SET(v, KVM_SET_DEBUGREGS, &dbg) < 0 ||
        VCPU_SET(v, KVM_SET_VCPU_EVENTS, &ev) < 0)
        return -1;
    return vsf_in_done(in);
}

void vcpu_state_clock_stopped(struct vcpu *v)
{
    /* EINVAL when the guest has no kvm-clock: nothing to tell it. */
    ioctl(v->fd, KVM_KVMCLOCK_CTRL, 0);
}
