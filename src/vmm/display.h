/* The guest's screen and keyboard as the outside sees them (display.c):
 * the display adapter (dev/vga.c) shown by the VNC server (src/vnc) on
 * the run directory's VMM_SOCK_VNC and, as the domain's <graphics> says,
 * on TCP; keys from VNC clients and QMP send-key reach the i8042 (or a
 * virtio keyboard), the pointer a virtio tablet or mouse. QMP:
 * send-key, screendump, query-vnc, x-tvm-query-screen
 * (core/proto/vmm-protocol.h). The board builds it from typed config;
 * it never sees the domain.
 */
#ifndef TVM_VMM_DISPLAY_H
#define TVM_VMM_DISPLAY_H

#include <stdbool.h>

#include "dev/vga.h"
#include "vmm.h"

struct i8042;
struct pci_bus;
struct virtio_dev;

struct display_config {
    struct loop *loop;
    const char *rundir;  /* vnc.sock and relative screendump names go here */
    const char *name;    /* desktop name */
    struct i8042 *kbd;   /* always */
    /* virtio-input devices (<input bus='virtio'>), NULL when absent: VNC's
     * pointer goes to the tablet or else the mouse; keys to the keyboard
     * while its driver runs, else to the i8042. */
    struct virtio_dev *tablet, *mouse, *keyboard;
    struct pci_bus *pci; /* NULL: no display adapter (send-key only) */
    struct vga_config vga;
    bool vnc_tcp;        /* <graphics type='vnc'>: TCP as below */
    int graphics_index;  /* which <graphics> element that is (document order) */
    const char *listen;  /* TCP address (NULL: 127.0.0.1, as libvirt's default vnc_listen) */
    int port;            /* -1: autoport */
    const char *passwd;  /* NULL: none */
};

struct display;
/* Builds the adapter and opens the sockets; the VNC thread starts too.
 * Registers the QMP commands. NULL with err_msg() set. */
struct display *display_new(struct vm *vm, const struct display_config *c);
void display_free(struct display *d);
/* The adapter's boot display (screen_info), NULL without one. */
const struct vm_screen *vga_screen_of(struct display *d);

#endif
