/* The descriptors tvm opened for this guest and tvm-vmm inherited (see
 * "Descriptors" in vmm-protocol.h): /dev/kvm, the kernel and initrd, each
 * disk's chain and each NIC's tap. Given a map (--fds), tvm-vmm opens none
 * of these by path: what the map lacks is an error, never a fallback.
 * Start-up only (main thread, before the sandbox).
 */
#ifndef TVM_VMM_FDMAP_H
#define TVM_VMM_FDMAP_H

#include <stdbool.h>

#include "core/image/image.h"

/* Reads the map at PATH; every descriptor it names must be open here.
 * Errors name the file and line. */
int fdmap_load(const char *path);
/* True once a map was loaded: everything must come from it. */
bool fdmap_loaded(void);
/* The descriptor of KIND ("kvm", "kernel", "initrd", "bios", "disk", "tap") with
 * KEY (the disk's target dev, the NIC's index; NULL: "-") and PATH (NULL:
 * any), handed over to the caller; -1 with a message when tvm passed
 * none. */
int fdmap_take(const char *kind, const char *key, const char *path);
/* An image_opener for the disk with target dev TARGET: each file of its
 * chain from the map, O_DIRECT set on it as asked. */
struct image_opener fdmap_disk_opener(const char *target);
/* Closes what nobody took (WARN: with a warning naming it); returns how
 * many descriptors were taken in all, for the start-up log line. */
unsigned fdmap_finish(bool warn);

#endif
