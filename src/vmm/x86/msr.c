/* Initial MSR values of a vCPU at power-on. A fresh KVM vCPU already has
 * architectural reset values (and every reset builds a fresh VM, see
 * vm.h), so only what a BIOS would have set differs: fast string
 * operations enabled, as Linux expects to find them.
 */
#include <linux/kvm.h>
#include <stdlib.h>
#include <sys/ioctl.h>

#include "core/base/err.h"
#include "vm.h"

#define MSR_IA32_MISC_ENABLE 0x000001a0
#define MISC_ENABLE_FAST_STRING (1ULL << 0)

int msr_setup_vcpu(struct vm *vm, struct vcpu *v)
{
    (void)vm;
    struct {
        struct kvm_msrs hdr;
        struct kvm_msr_entry e[1];
    } m = {.hdr.nmsrs = 1,
           .e[0] = {.index = MSR_IA32_MISC_ENABLE, .data = MISC_ENABLE_FAST_STRING}};
    int n = ioctl(v->fd, KVM_SET_MSRS, &m);
    if (n < 0)
        return err_errno("KVM_SET_MSRS (vCPU %u)", v->index);
    /* n < 1: KVM refused the MSR on this host; harmless, Linux copes. */
    return 0;
}
