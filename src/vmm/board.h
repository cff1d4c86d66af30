/* The board: the machine tvm-vmm builds for one domain, from one table of
 * devices in start-up order (board.c). It is the only part of tvm-vmm that
 * reads the parsed domain (struct domain): it turns it into the VM's
 * config and into each device's typed config, so no device ever sees the
 * domain or its XML.
 *
 * Start-up order: serial port (and its console socket), i8042, RTC, PCI
 * host bridge, the virtio devices the domain asks for (disks, NICs, rngs,
 * consoles, the memballoon) each at its <address>, the display (the
 * <video> adapter at its <address>, VNC; QMP send-key always), then the ACPI PM block
 * and tables when the domain has <features><acpi/>. Resets run in the same
 * order, exits in reverse.
 */
#ifndef TVM_VMM_BOARD_H
#define TVM_VMM_BOARD_H

#include <stdbool.h>

#include "vm.h"

struct domain;
struct virtio_balloon_config_in;
struct display_config;

struct board_opts {
    struct loop *loop;       /* the main loop the console sockets run on */
    const char *rundir;      /* where the console sockets go (vmm-protocol.h) */
    const char *console_log; /* the serial console's log, NULL: none */
    bool foreground;         /* serial output also to stdout, stdin to the guest */
};

struct board;

/* The VM's own config (memory, vCPUs, topology, kernel, on_* actions). */
void board_vm_config(const struct domain *d, struct vm_config *c);
/* Builds every device of the table on VM. DOM must outlive the board.
 * On failure the devices already built are taken down again. */
struct board *board_new(struct vm *vm, struct domain *dom, const struct board_opts *o);
/* Runs the exits in reverse order (workers stop, disks are flushed and
 * closed, sockets removed). After the vCPUs stopped, before vm_free().
 * NULL is fine. */
void board_free(struct board *b);

/* The memballoon's config: 1 and *c filled if the domain has a
 * <memballoon model='virtio'>, 0 if not (unit tests). */
int board_balloon_config(const struct domain *d, struct virtio_balloon_config_in *c);

/* The display's config (video adapter, VNC) without loop, keyboard or
 * bus: 1 with a <video> device, 0 without (unit tests). */
int board_display_config(const struct domain *d, struct display_config *c);

#endif
