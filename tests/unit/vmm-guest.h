/* The driver's side of a split virtqueue in synthetic guest memory, shared
 * by the VMM's device unit tests (vmm-test-virtq, -net, -balloon,
 * -vconsole): every access goes through vm_gpa_ptr(), as the device's own
 * accesses do, and fails the test if the address is outside guest RAM.
 * Include after <cmocka.h>.
 */
#ifndef TVM_TESTS_VMM_GUEST_H
#define TVM_TESTS_VMM_GUEST_H

#include <stdint.h>
#include <string.h>

#include "vmm.h"

static inline void *guest_ptr(struct vm *vm, uint64_t gpa, uint64_t len)
{
    void *p = vm_gpa_ptr(vm, gpa, len);
    assert_non_null(p);
    return p;
}

/* Descriptor I of the descriptor table at TABLE (2.7.5: le64 addr, le32
 * len, le16 flags, le16 next). */
static inline void guest_put_desc(struct vm *vm, uint64_t table, unsigned i, uint64_t addr,
                                  uint32_t len, uint16_t flags, uint16_t next)
{
    uint8_t *d = guest_ptr(vm, table + 16 * i, 16);
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
}

/* used->idx of the used ring at USED. */
static inline uint16_t guest_used_idx(struct vm *vm, uint64_t used)
{
    uint16_t v;
    memcpy(&v, guest_ptr(vm, used + 2, 2), 2);
    return v;
}

#endif
