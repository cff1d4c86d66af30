/* The display adapter of tvm-vmm (vga.c): a PCI display function whose
 * BAR 0 is a linear framebuffer in device memory (its own KVM slot,
 * dirty-logged, never e820 RAM), plus the VGA text mode the kernel's
 * vgacon drives: 80x25 cells in guest memory at 0xB8000 and the
 * CRTC/attribute/DAC registers at ports 0x3C0-0x3DF (cursor, start
 * address for hardware scrolling, palette).
 *
 * The guest learns which of the two it has from boot_params.screen_info,
 * which boot.c fills from vga_screen(): VGA text (mode 3, isVGA) or an
 * EFI framebuffer (efifb works without an EFI boot) at the BAR.
 *
 * Every register index and address the guest writes is bounded here:
 * indexes past a register file are ignored, the start address and
 * cursor wrap inside the 32 KiB text window.
 */
#ifndef TVM_VMM_DEV_VGA_H
#define TVM_VMM_DEV_VGA_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm.h"

#define VGA_TEXT_GPA 0xB8000
#define VGA_TEXT_WINDOW 0x8000 /* 32 KiB: what vgacon scrolls through */
#define VGA_TEXT_COLS 80
#define VGA_TEXT_ROWS 25
#define VGA_DEFAULT_WIDTH 1024
#define VGA_DEFAULT_HEIGHT 768
#define VGA_MAX_DIM 4096
#define VGA_MAX_VRAM (64u << 20)
/* No Linux driver claims this id, so efifb keeps the BAR (QEMU's
 * vendor; a device number QEMU does not use). */
#define VGA_PCI_VENDOR 0x1B36
#define VGA_PCI_DEVICE 0x00F0
#define VGA_PCI_CLASS 0x030000

struct pci_bus;
struct vga;

struct vga_config {
    bool text;              /* announce VGA text mode, else the framebuffer */
    unsigned width, height; /* framebuffer pixels (32 bits each, XRGB) */
    uint64_t vram_bytes;    /* at least width*height*4; 0: just that */
    int slot;               /* PCI slot */
};


/* One text cell as the guest wrote it. */
struct vga_text {
    uint16_t cells[VGA_TEXT_COLS * VGA_TEXT_ROWS]; /* char | attribute << 8 */
    int cursor;                  /* cell index, -1 when hidden or off screen */
    uint8_t cursor_start, cursor_end; /* scan lines 0-15 */
    uint32_t palette[16];        /* attribute colour -> 0xRRGGBB (via the DAC) */
};

/* Builds the device on BUS; the VM frees it. NULL with err_msg() set. */
struct vga *vga_new(struct vm *vm, struct pci_bus *bus, const struct vga_config *c);
/* What boot.c writes into screen_info (the board hands it to the VM config). */
const struct vm_screen *vga_screen(struct vga *v);
/* The framebuffer (shared: the VNC server shows it as it is). */
void *vga_framebuffer(struct vga *v, unsigned *width, unsigned *height, unsigned *stride);
/* Text mode as the guest shows it now. */
void vga_text_read(struct vga *v, struct vga_text *out);
/* Calls FN once per run of framebuffer rows [y0, y1) the guest changed
 * since the last call (KVM's dirty log, one bit a page); everything
 * after a reset or a BAR move. Returns how many runs. */
typedef void (*vga_rows_fn)(void *opaque, unsigned y0, unsigned y1);
unsigned vga_fb_changed(struct vga *v, vga_rows_fn fn, void *opaque);

/* Port access as the guest makes it (unit tests); OFF from 0x3C0. */
void vga_port_write(struct vga *v, unsigned off, uint8_t val);
uint8_t vga_port_read(struct vga *v, unsigned off);
/* A VGA on guest memory MEM (VGA_TEXT_WINDOW bytes) without a VM or PCI (unit tests). */
struct vga *vga_new_text_only(uint8_t *mem);
void vga_free_text_only(struct vga *v);

#endif
