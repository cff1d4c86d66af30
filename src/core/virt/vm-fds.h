/* What tvm opens for a guest with its own privileges and hands to tvm-vmm
 * (vmm-protocol.h, "Descriptors"): /dev/kvm, kernel, initrd, each disk's
 * chain with its locks, each NIC's tap on its bridge. tvm-vmm inherits
 * them as descriptors 3, 4, ... in list order and reads which is which
 * from the map file. */
#ifndef TVM_CORE_VM_FDS_H
#define TVM_CORE_VM_FDS_H

#include "core/base/tap.h"
#include "core/model/domain.h"
#include "core/proto/vmm-protocol.h"

struct vm_fds {
    int fd[VMM_FDS_MAX];     /* close-on-exec here; spawn moves them to 3 + i */
    char *line[VMM_FDS_MAX]; /* "KIND KEY PATH" */
    bool is_tap[VMM_FDS_MAX];
    struct tap tap[VMM_FDS_MAX]; /* is_tap: to undo its bridge if the start fails */
    int n;
};

/* Opens everything D's tvm-vmm will use. Errors name the device and the
 * file; nothing stays open then. */
int vm_fds_open(const struct domain *d, struct vm_fds *f);
/* The map file at PATH (0600): "FD KIND KEY PATH" per descriptor. */
int vm_fds_write_map(const struct vm_fds *f, const char *path);
/* After tvm-vmm has its copies: ours go (locks and taps stay with it). */
void vm_fds_release(struct vm_fds *f);
/* A start that failed: taps leave their bridges, everything closes. */
void vm_fds_abandon(struct vm_fds *f);

#endif
