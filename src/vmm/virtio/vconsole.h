/* virtio-console (virtio/console.c) and how devices.c finds the socket
 * server of each one. Kept apart from virtio.h, which every device shares;
 * named so that it does not shadow src/vmm/console.h (the socket server). */
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

/* devices.c makes a virtio console for every <console> whose <target
 * type='virtio'>; FN gives the Nth of them (1, 2, ...) its socket server,
 * or NULL with a message to fail the start. Without a factory (tests) the
 * consoles have no socket. */
void virtio_devices_set_console_factory(struct console *(*fn)(void *opaque, unsigned n),
                                        void *opaque);

#endif
