/* libvirt's capabilities and domain-capabilities documents for tvm: what
 * this host is (from core/base/hostinfo) and what a guest on tvm-vmm can
 * be (the same limits domain_check_runnable() enforces at define). */
#ifndef TVM_CORE_MODEL_CAPABILITIES_H
#define TVM_CORE_MODEL_CAPABILITIES_H

#include <stdbool.h>

/* <capabilities>: the host's CPU and NUMA topology and one <guest> per
 * architecture tvm-vmm runs, its emulator `vmm_path`. Caller frees; NULL
 * with err_msg(). */
char *capabilities_format(const char *vmm_path, bool kvm_usable);

/* <domainCapabilities> for one architecture ("x86_64" or "i686"; NULL:
 * the host's). -1-free: NULL with err_msg() for an architecture tvm-vmm
 * does not run or a virttype other than kvm. */
char *domcapabilities_format(const char *vmm_path, const char *arch, const char *virttype,
                             const char *bios_path);

#endif
