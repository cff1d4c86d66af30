/* virtio-console (virtio/console.c). Kept apart from virtio.h, which every
 * device shares, because it needs the socket server (src/vmm/console.h);
 * named so that it does not shadow that header. */
#ifndef TVM_VMM_VIRTIO_VCONSOLE_H
#define TVM_VMM_VIRTIO_VCONSOLE_H

#include <stddef.h>

#include "virtio/virtio.h"

#define VIRTIO_ID_CONSOLE 3
#define VCON_INPUT_MAX (64 * 1024) /* host input held while the guest reads none */

struct console;

struct virtio_console_config_in {
    struct console *con; /* the socket server, owned by the device from now on;
                            NULL: output dropped, no input */
    const char *name;    /* "console1": for messages */
};

/* One port (/dev/hvc0 in the guest), its output and input through c->con. */
struct virtio_dev *virtio_console_new(struct vm *vm, const struct virtio_console_config_in *c);
/* Bytes of host input still waiting for guest buffers (tests). */
size_t virtio_console_pending_input(struct virtio_dev *dev);

#endif
