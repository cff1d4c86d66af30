/* The VGA text/CRTC model (dev/vga.c) driven through its ports as the
 * kernel's vgacon drives them, with hostile values too; the text renderer
 * and font (src/vnc/font.c); the keyboard path: virsh code sets to qnums,
 * qnums to set-1/set-2 bytes, VNC keysyms to keys, and the i8042 handing
 * typed keys to the guest (set 1 with XLATE, set 2 without, none while
 * the keyboard is disabled).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "core/proto/keymap.h"
#include "dev/legacy.h"
#include "dev/vga.h"
#include "vm.h"
#include "vnc/vnc.h"

#define CRTC_I 0x14 /* 0x3D4 - 0x3C0 */
#define CRTC_D 0x15

static void crtc(struct vga *v, uint8_t index, uint8_t value)
{
    vga_port_write(v, CRTC_I, index);
    vga_port_write(v, CRTC_D, value);
}

static void put(uint8_t *mem, unsigned cell, char c, uint8_t attr)
{
    mem[cell * 2] = (uint8_t)c;
    mem[cell * 2 + 1] = attr;
}

static void test_text_start_and_cursor(void **state)
{
    (void)state;
    uint8_t *mem = calloc(1, VGA_TEXT_WINDOW);
    struct vga *v = vga_new_text_only(mem);
    assert_non_null(v);
    put(mem, 0, 'H', 0x07);
    put(mem, 1, 'i', 0x1F);
    put(mem, 80, 'X', 0x07); /* row 1 */
    crtc(v, 0x0E, 0);
    crtc(v, 0x0F, 81);
    struct vga_text t;
    vga_text_read(v, &t);
    assert_int_equal(t.cells[0], 'H' | 0x07 << 8);
    assert_int_equal(t.cells[1], 'i' | 0x1F << 8);
    assert_int_equal(t.cursor, 81);
    /* vgacon scrolls by moving the start address one row (80 cells) on */
    crtc(v, 0x0C, 0);
    crtc(v, 0x0D, 80);
    vga_text_read(v, &t);
    assert_int_equal(t.cells[0] & 0xFF, 'X');
    assert_int_equal(t.cursor, 1); /* the cursor is relative to memory, not the screen */
    /* the cursor-off bit hides it; registers read back (vgacon reads 0x0A) */
    crtc(v, 0x0A, 0x20 | 14);
    vga_port_write(v, CRTC_I, 0x0A);
    assert_int_equal(vga_port_read(v, CRTC_D), 0x20 | 14);
    vga_text_read(v, &t);
    assert_int_equal(t.cursor, -1);
    vga_free_text_only(v);
    free(mem);
}

static void test_text_hostile_values(void **state)
{
    (void)state;
    uint8_t *mem = calloc(1, VGA_TEXT_WINDOW);
    struct vga *v = vga_new_text_only(mem);
    /* a start address past the 32 KiB window wraps inside it */
    crtc(v, 0x0C, 0xFF);
    crtc(v, 0x0D, 0xFF);
    mem[(0xFFFF * 2) % VGA_TEXT_WINDOW] = 'W';
    struct vga_text t;
    vga_text_read(v, &t);
    assert_int_equal(t.cells[0] & 0xFF, 'W');
    /* the last cell of the screen wraps too (no read past the window) */
    crtc(v, 0x0C, 0x3F);
    crtc(v, 0x0D, 0xFF);
    vga_text_read(v, &t);
    /* register indexes past the files are ignored, reads give 0xFF */
    crtc(v, 0xFF, 0x55);
    vga_port_write(v, CRTC_I, 0xFF);
    assert_int_equal(vga_port_read(v, CRTC_D), 0xFF);
    vga_port_write(v, 0x04, 0xEE); /* sequencer index */
    vga_port_write(v, 0x05, 1);
    vga_port_write(v, 0x0E, 0xEE); /* graphics index */
    vga_port_write(v, 0x0F, 1);
    /* attribute flip-flop: index, data; index 0x1F is past the file */
    vga_port_read(v, 0x1A);
    vga_port_write(v, 0x00, 0x1F);
    vga_port_write(v, 0x00, 0x77);
    /* the DAC index wraps at 256, components are 6 bits */
    vga_port_write(v, 0x08, 0xFF);
    for (int i = 0; i < 9; i++)
        vga_port_write(v, 0x09, 0xFF);
    vga_port_write(v, 0x07, 0xFF);
    assert_int_equal(vga_port_read(v, 0x09), 0x3F);
    /* out-of-range offsets through the bus are dropped */
    vga_text_read(v, &t);
    vga_free_text_only(v);
    free(mem);
}

static void test_palette_and_render(void **state)
{
    (void)state;
    uint8_t *mem = calloc(1, VGA_TEXT_WINDOW);
    struct vga *v = vga_new_text_only(mem);
    struct vga_text t;
    vga_text_read(v, &t);
    assert_int_equal(t.palette[0], 0x000000);
    assert_int_equal(t.palette[7], 0xAAAAAA);
    assert_int_equal(t.palette[15], 0xFFFFFF);
    /* vgacon's DAC writes reach the palette: colour 1 -> DAC 1 */
    vga_port_write(v, 0x08, 1);
    vga_port_write(v, 0x09, 0x3F);
    vga_port_write(v, 0x09, 0);
    vga_port_write(v, 0x09, 0);
    vga_text_read(v, &t);
    assert_int_equal(t.palette[1], 0xFF0000);
    /* 'A' white on blue: the glyph's top row is background, its middle has both */
    uint8_t fb[VNC_TEXT_CELL_H * VNC_TEXT_CELL_W * 4];
    vnc_text_cell(fb, VNC_TEXT_CELL_W * 4, 0, 0, 'A' | 0x1F << 8, t.palette, false, 14, 15);
    const uint32_t *px = (const uint32_t *)fb;
    assert_int_equal(px[0], 0xFF0000); /* blue attribute 1 now red: the DAC counts */
    unsigned fg = 0;
    for (unsigned i = 0; i < VNC_TEXT_CELL_H * VNC_TEXT_CELL_W; i++)
        fg += px[i] == 0xFFFFFF;
    assert_true(fg > 20 && fg < 80);
    /* the cursor fills its scan lines */
    vnc_text_cell(fb, VNC_TEXT_CELL_W * 4, 0, 0, ' ' | 0x07 << 8, t.palette, true, 14, 15);
    assert_int_equal(px[14 * VNC_TEXT_CELL_W + 3], 0xAAAAAA);
    assert_int_equal(px[3], 0);
    /* every printable glyph differs from the blank, and none from each other */
    uint8_t g[95][16];
    for (unsigned c = 0x21; c < 0x7F; c++) {
        vnc_font_glyph((uint8_t)c, g[c - 0x20]);
        for (unsigned d = 0x21; d < c; d++)
            assert_memory_not_equal(g[c - 0x20], g[d - 0x20], 16);
    }
    vga_free_text_only(v);
    free(mem);
}

static void test_codesets(void **state)
{
    (void)state;
    unsigned q;
    assert_int_equal(keymap_to_qnum(KEYMAP_LINUX, "KEY_A", &q), 0);
    assert_int_equal(q, 0x1E);
    assert_int_equal(keymap_to_qnum(KEYMAP_LINUX, "leftctrl", &q), 0);
    assert_int_equal(q, 0x1D);
    assert_int_equal(keymap_to_qnum(KEYMAP_LINUX, "111", &q), 0); /* KEY_DELETE */
    assert_int_equal(q, 0xD3);
    assert_int_equal(keymap_to_qnum(KEYMAP_XT, "0x1c", &q), 0);
    assert_int_equal(q, 0x1C);
    assert_int_equal(keymap_to_qnum(KEYMAP_ATSET1, "0xe048", &q), 0); /* Up */
    assert_int_equal(q, 0xC8);
    assert_int_equal(keymap_to_qnum(KEYMAP_ATSET2, "0x1c", &q), 0); /* A */
    assert_int_equal(q, 0x1E);
    assert_int_equal(keymap_to_qnum(KEYMAP_USB, "4", &q), 0);
    assert_int_equal(q, 0x1E);
    assert_int_equal(keymap_to_qnum(KEYMAP_LINUX, "KEY_NOPE", &q), -1);
    assert_string_equal(err_msg(), "invalid keycode: 'KEY_NOPE'");
    assert_int_equal(keymap_to_qnum(KEYMAP_XT, "0xC8", &q), -1); /* xt has no E0 keys */
    assert_int_equal(keymap_to_qnum(KEYMAP_LINUX, "-1", &q), -1);
    assert_int_equal(keymap_to_qnum(KEYMAP_LINUX, "99999999999", &q), -1);
    assert_int_equal(keymap_codeset_parse("atset1"), KEYMAP_ATSET1);
    assert_int_equal(keymap_codeset_parse("bogus"), -1);
    /* every key of the table round-trips through its names and numbers */
    size_t n;
    const struct keymap_key *k = keymap_table(&n);
    for (size_t i = 0; i < n; i++) {
        assert_ptr_equal(keymap_by_name(k[i].name), &k[i]);
        assert_ptr_equal(keymap_by_linux(k[i].linux_code), &k[i]);
        assert_ptr_equal(keymap_by_qnum(k[i].qnum), &k[i]);
    }
}

static void test_scancodes(void **state)
{
    (void)state;
    uint8_t b[8];
    assert_int_equal(keymap_scancodes(0x1E, true, true, b), 1);
    assert_int_equal(b[0], 0x1E);
    assert_int_equal(keymap_scancodes(0x1E, false, true, b), 1);
    assert_int_equal(b[0], 0x9E);
    assert_int_equal(keymap_scancodes(0x1E, false, false, b), 2);
    assert_int_equal(b[0], 0xF0);
    assert_int_equal(b[1], 0x1C);
    assert_int_equal(keymap_scancodes(0xC8, false, true, b), 2); /* Up released, set 1 */
    assert_int_equal(b[0], 0xE0);
    assert_int_equal(b[1], 0xC8);
    assert_int_equal(keymap_scancodes(0xC8, false, false, b), 3); /* set 2: E0 F0 75 */
    assert_int_equal(b[0], 0xE0);
    assert_int_equal(b[1], 0xF0);
    assert_int_equal(b[2], 0x75);
    assert_int_equal(keymap_scancodes(KEYMAP_QNUM_PAUSE, true, true, b), 6);
    assert_int_equal(keymap_scancodes(KEYMAP_QNUM_PAUSE, false, true, b), 0);
    assert_int_equal(keymap_scancodes(0x7F, true, true, b), 0);
}

static void test_keysyms(void **state)
{
    (void)state;
    bool shifted;
    assert_int_equal(vnc_keysym_qnum('a', &shifted), 0x1E);
    assert_false(shifted);
    assert_int_equal(vnc_keysym_qnum('A', &shifted), 0x1E);
    assert_true(shifted);
    assert_int_equal(vnc_keysym_qnum('!', &shifted), 0x02);
    assert_true(shifted);
    assert_int_equal(vnc_keysym_qnum(' ', &shifted), 0x39);
    assert_int_equal(vnc_keysym_qnum(0xFF0D, &shifted), 0x1C); /* Return */
    assert_int_equal(vnc_keysym_qnum(0xFF52, &shifted), 0xC8); /* Up */
    assert_int_equal(vnc_keysym_qnum(0xFFE3, &shifted), 0x1D); /* Control_L */
    assert_int_equal(vnc_keysym_qnum(0x20AC, &shifted), 0);    /* EuroSign: no key */
    /* every printable ASCII keysym lands on a key tvm has scan codes for */
    for (uint32_t c = 0x20; c < 0x7F; c++) {
        unsigned q = vnc_keysym_qnum(c, &shifted);
        assert_non_null(keymap_by_qnum(q));
    }
}

static uint8_t inb(struct vm *vm, uint16_t port)
{
    uint8_t v = 0;
    io_dispatch_pio(vm, port, &v, 1, false);
    return v;
}

static void outb(struct vm *vm, uint16_t port, uint8_t v)
{
    io_dispatch_pio(vm, port, &v, 1, true);
}

static void test_i8042_types(void **state)
{
    (void)state;
    struct vm_config cfg = {.ram_bytes = 32 << 20, .vcpus = 1};
    struct vm *vm = vm_new(&cfg);
    assert_non_null(vm);
    struct i8042 *k = i8042_init(vm);
    assert_non_null(k);
    /* translation on (the power-on command byte): set 1 */
    assert_int_equal(i8042_key(k, 0x1E, true), 0);
    assert_int_equal(inb(vm, 0x64) & 1, 1);
    assert_int_equal(inb(vm, 0x60), 0x1E);
    assert_int_equal(inb(vm, 0x64) & 1, 0);
    /* translation off: set 2 */
    outb(vm, 0x64, 0x60);
    outb(vm, 0x60, 0x01 | 0x04);
    assert_int_equal(i8042_key(k, 0x1E, false), 0);
    assert_int_equal(inb(vm, 0x60), 0xF0);
    assert_int_equal(inb(vm, 0x60), 0x1C);
    /* the scan-code-set query answers set 2 */
    outb(vm, 0x60, 0xF0);
    assert_int_equal(inb(vm, 0x60), 0xFA);
    outb(vm, 0x60, 0x00);
    assert_int_equal(inb(vm, 0x60), 0xFA);
    assert_int_equal(inb(vm, 0x60), 0x02);
    /* a disabled keyboard (F5) types nothing until F4 */
    outb(vm, 0x60, 0xF5);
    assert_int_equal(inb(vm, 0x60), 0xFA);
    assert_int_equal(i8042_key(k, 0x1E, true), -1);
    assert_int_equal(inb(vm, 0x64) & 1, 0);
    outb(vm, 0x60, 0xF4);
    assert_int_equal(inb(vm, 0x60), 0xFA);
    assert_int_equal(i8042_key(k, 0x1E, true), 0);
    assert_int_equal(inb(vm, 0x60), 0x1C);
    /* a full queue drops whole keys, never half of one */
    int ok = 0;
    for (int i = 0; i < 2000; i++)
        ok += i8042_key(k, 0xC8, true) == 0;
    assert_true(ok > 100 && ok < 2000);
    unsigned bytes = 0;
    while (inb(vm, 0x64) & 1) {
        uint8_t b = inb(vm, 0x60);
        assert_true(bytes % 2 ? b == 0x75 : b == 0xE0);
        bytes++;
    }
    assert_int_equal(bytes, ok * 2);
    vm_free(vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_start_and_cursor), cmocka_unit_test(test_text_hostile_values),
        cmocka_unit_test(test_palette_and_render),    cmocka_unit_test(test_codesets),
        cmocka_unit_test(test_scancodes),             cmocka_unit_test(test_keysyms),
        cmocka_unit_test(test_i8042_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
