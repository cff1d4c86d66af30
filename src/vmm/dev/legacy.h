/* src/vmm/dev: the non-virtio devices of tvm-vmm, one file each: the 8250
 * UART (serial.c), the i8042 (i8042.c), the CMOS RTC (rtc.c), the ACPI
 * PM block (acpi-pm.c, acpi-pm.h) and QEMU's firmware configuration
 * interface for the BIOS (fw_cfg.c, fw_cfg.h). They may use vmm.h (I/O bus,
 * interrupts, guest requests) and core/base; the board creates them, with
 * plain arguments, never the domain.
 *
 * This header: the legacy PC devices: the UART (COM1), the i8042 keyboard
 * controller (enough for the kernel's probe and the 0xFE reset) and the
 * CMOS RTC. Each claims its ports on the VM's I/O bus.
 */
#ifndef TVM_VMM_DEV_LEGACY_H
#define TVM_VMM_DEV_LEGACY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm.h"

#define SERIAL_COM1_BASE 0x3F8
#define SERIAL_COM1_IRQ 4
/* Guest input the UART holds before the guest reads it (a 16550 has 16
 * bytes; more buffering only makes pasted input survive). */
#define SERIAL_RX_BUF 4096

struct serial;
/* out receives every byte the guest transmits (from a vCPU thread). */
typedef void (*serial_out_fn)(void *opaque, const uint8_t *buf, size_t len);

struct serial *serial_init(struct vm *vm, uint16_t base, unsigned irq, serial_out_fn out,
                           void *opaque);
/* Queue guest input (any thread); returns how many bytes were taken. */
size_t serial_receive(struct serial *s, const uint8_t *buf, size_t len);
/* Power-on register state, input dropped (system reset). */
void serial_reset(struct serial *s);
void serial_free(struct serial *s);

struct i8042;
/* The VM frees it. NULL with err_msg() set. */
struct i8042 *i8042_init(struct vm *vm);
/* A key pressed (down) or released, as a qnum (core/proto/keymap.h);
 * any thread. -1 when it has no scan code or the guest's keyboard is
 * disabled or its queue full (the key is dropped). */
int i8042_key(struct i8042 *k, unsigned qnum, bool down);
/* localtime: the guest's clock shows host local time (libvirt clock offset='localtime'). */
int rtc_init(struct vm *vm, bool localtime);
/* The same with the CMOS RAM's power-on contents (128 bytes; the clock's
 * registers 0x00-0x0D and the century are not taken): what a BIOS reads. */
int rtc_init_nvram(struct vm *vm, bool localtime, const uint8_t *nvram);

#endif
