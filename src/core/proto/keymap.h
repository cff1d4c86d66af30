/* Keyboard codes both sides of the control socket agree on. QMP's
 * send-key carries keys as QEMU's "number" (a "qnum": the PC/XT set-1
 * make code, 0x80 added for a code that follows an 0xE0 prefix), which is
 * what virsh's qemu driver sends too. tvm translates virsh's code sets
 * (linux, xt, atset1, atset2, usb, rfb/qnum) into qnums; tvm-vmm turns a
 * qnum into the bytes its i8042 keyboard sends (set 1 when the controller
 * translates, set 2 when it does not), and a VNC client's keysym into a
 * Linux key code and from there into a qnum.
 *
 * Pause (E1 1D 45 …) has no qnum of its own in this table: QEMU gives it
 * 0xC6, and KEYMAP_QNUM_PAUSE names that.
 */
#ifndef TVM_CORE_PROTO_KEYMAP_H
#define TVM_CORE_PROTO_KEYMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYMAP_QNUM_PAUSE 0xC6

struct keymap_key {
    uint16_t linux_code; /* KEY_* of <linux/input-event-codes.h> */
    const char *name;    /* "KEY_A", as virsh's linux code set names them */
    uint16_t qnum;       /* set-1 make code | 0x80 for an E0-prefixed key */
    uint16_t set2;       /* set-2 make code, 0xE0xx for an E0-prefixed key */
    uint16_t usb;        /* USB HID usage (keyboard page) */
};

/* The whole table, and lookups in it (NULL: not a key tvm knows). */
const struct keymap_key *keymap_table(size_t *n);
const struct keymap_key *keymap_by_linux(unsigned code);
const struct keymap_key *keymap_by_qnum(unsigned qnum);
/* A virsh key name: "KEY_A", also without "KEY_" and in any case. */
const struct keymap_key *keymap_by_name(const char *name);

/* virsh send-key's code sets. */
enum keymap_codeset {
    KEYMAP_LINUX,
    KEYMAP_XT,     /* = atset1 for keys without a prefix */
    KEYMAP_ATSET1, /* E0-prefixed keys written 0xE0xx */
    KEYMAP_ATSET2, /* E0-prefixed keys written 0xE0xx */
    KEYMAP_USB,
    KEYMAP_QNUM, /* virsh's "rfb" and "qnum" */
};
/* virsh's name of a code set ("linux", "xt", "atset1", ...); -1 if unknown. */
int keymap_codeset_parse(const char *name);
/* One send-key argument in CODESET: a number (decimal or 0x-hex), or for
 * linux a key name. *qnum receives the key's qnum. -1 with err_msg() set
 * (virsh's wording) when it is not a key. */
int keymap_to_qnum(enum keymap_codeset set, const char *arg, unsigned *qnum);

/* Bytes the keyboard sends for QNUM pressed (down) or released, in set 1
 * (the i8042 translating, Linux's default) or set 2; returns how many
 * were written into out (at most 8), 0 for an unknown qnum. */
size_t keymap_scancodes(unsigned qnum, bool down, bool set1, uint8_t out[8]);

#endif
