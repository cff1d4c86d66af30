/* See keymap.h. The codes are the IBM PC keyboard's (set 1 and set 2
 * make codes), Linux's input event codes and the USB HID keyboard page,
 * written out by key. */
#include "core/proto/keymap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/base/err.h"

#define K(code, name, qnum, set2, usb) {code, "KEY_" #name, qnum, set2, usb}

static const struct keymap_key keys[] = {
    K(1, ESC, 0x01, 0x76, 0x29),
    K(2, 1, 0x02, 0x16, 0x1E),
    K(3, 2, 0x03, 0x1E, 0x1F),
    K(4, 3, 0x04, 0x26, 0x20),
    K(5, 4, 0x05, 0x25, 0x21),
    K(6, 5, 0x06, 0x2E, 0x22),
    K(7, 6, 0x07, 0x36, 0x23),
    K(8, 7, 0x08, 0x3D, 0x24),
    K(9, 8, 0x09, 0x3E, 0x25),
    K(10, 9, 0x0A, 0x46, 0x26),
    K(11, 0, 0x0B, 0x45, 0x27),
    K(12, MINUS, 0x0C, 0x4E, 0x2D),
    K(13, EQUAL, 0x0D, 0x55, 0x2E),
    K(14, BACKSPACE, 0x0E, 0x66, 0x2A),
    K(15, TAB, 0x0F, 0x0D, 0x2B),
    K(16, Q, 0x10, 0x15, 0x14),
    K(17, W, 0x11, 0x1D, 0x1A),
    K(18, E, 0x12, 0x24, 0x08),
    K(19, R, 0x13, 0x2D, 0x15),
    K(20, T, 0x14, 0x2C, 0x17),
    K(21, Y, 0x15, 0x35, 0x1C),
    K(22, U, 0x16, 0x3C, 0x18),
    K(23, I, 0x17, 0x43, 0x0C),
    K(24, O, 0x18, 0x44, 0x12),
    K(25, P, 0x19, 0x4D, 0x13),
    K(26, LEFTBRACE, 0x1A, 0x54, 0x2F),
    K(27, RIGHTBRACE, 0x1B, 0x5B, 0x30),
    K(28, ENTER, 0x1C, 0x5A, 0x28),
    K(29, LEFTCTRL, 0x1D, 0x14, 0xE0),
    K(30, A, 0x1E, 0x1C, 0x04),
    K(31, S, 0x1F, 0x1B, 0x16),
    K(32, D, 0x20, 0x23, 0x07),
    K(33, F, 0x21, 0x2B, 0x09),
    K(34, G, 0x22, 0x34, 0x0A),
    K(35, H, 0x23, 0x33, 0x0B),
    K(36, J, 0x24, 0x3B, 0x0D),
    K(37, K, 0x25, 0x42, 0x0E),
    K(38, L, 0x26, 0x4B, 0x0F),
    K(39, SEMICOLON, 0x27, 0x4C, 0x33),
    K(40, APOSTROPHE, 0x28, 0x52, 0x34),
    K(41, GRAVE, 0x29, 0x0E, 0x35),
    K(42, LEFTSHIFT, 0x2A, 0x12, 0xE1),
    K(43, BACKSLASH, 0x2B, 0x5D, 0x31),
    K(44, Z, 0x2C, 0x1A, 0x1D),
    K(45, X, 0x2D, 0x22, 0x1B),
    K(46, C, 0x2E, 0x21, 0x06),
    K(47, V, 0x2F, 0x2A, 0x19),
    K(48, B, 0x30, 0x32, 0x05),
    K(49, N, 0x31, 0x31, 0x11),
    K(50, M, 0x32, 0x3A, 0x10),
    K(51, COMMA, 0x33, 0x41, 0x36),
    K(52, DOT, 0x34, 0x49, 0x37),
    K(53, SLASH, 0x35, 0x4A, 0x38),
    K(54, RIGHTSHIFT, 0x36, 0x59, 0xE5),
    K(55, KPASTERISK, 0x37, 0x7C, 0x55),
    K(56, LEFTALT, 0x38, 0x11, 0xE2),
    K(57, SPACE, 0x39, 0x29, 0x2C),
    K(58, CAPSLOCK, 0x3A, 0x58, 0x39),
    K(59, F1, 0x3B, 0x05, 0x3A),
    K(60, F2, 0x3C, 0x06, 0x3B),
    K(61, F3, 0x3D, 0x04, 0x3C),
    K(62, F4, 0x3E, 0x0C, 0x3D),
    K(63, F5, 0x3F, 0x03, 0x3E),
    K(64, F6, 0x40, 0x0B, 0x3F),
    K(65, F7, 0x41, 0x83, 0x40),
    K(66, F8, 0x42, 0x0A, 0x41),
    K(67, F9, 0x43, 0x01, 0x42),
    K(68, F10, 0x44, 0x09, 0x43),
    K(69, NUMLOCK, 0x45, 0x77, 0x53),
    K(70, SCROLLLOCK, 0x46, 0x7E, 0x47),
    K(71, KP7, 0x47, 0x6C, 0x5F),
    K(72, KP8, 0x48, 0x75, 0x60),
    K(73, KP9, 0x49, 0x7D, 0x61),
    K(74, KPMINUS, 0x4A, 0x7B, 0x56),
    K(75, KP4, 0x4B, 0x6B, 0x5C),
    K(76, KP5, 0x4C, 0x73, 0x5D),
    K(77, KP6, 0x4D, 0x74, 0x5E),
    K(78, KPPLUS, 0x4E, 0x79, 0x57),
    K(79, KP1, 0x4F, 0x69, 0x59),
    K(80, KP2, 0x50, 0x72, 0x5A),
    K(81, KP3, 0x51, 0x7A, 0x5B),
    K(82, KP0, 0x52, 0x70, 0x62),
    K(83, KPDOT, 0x53, 0x71, 0x63),
    K(86, 102ND, 0x56, 0x61, 0x64),
    K(87, F11, 0x57, 0x78, 0x44),
    K(88, F12, 0x58, 0x07, 0x45),
    K(96, KPENTER, 0x9C, 0xE05A, 0x58),
    K(97, RIGHTCTRL, 0x9D, 0xE014, 0xE4),
    K(98, KPSLASH, 0xB5, 0xE04A, 0x54),
    K(99, SYSRQ, 0xB7, 0xE07C, 0x46),
    K(100, RIGHTALT, 0xB8, 0xE011, 0xE6),
    K(102, HOME, 0xC7, 0xE06C, 0x4A),
    K(103, UP, 0xC8, 0xE075, 0x52),
    K(104, PAGEUP, 0xC9, 0xE07D, 0x4B),
    K(105, LEFT, 0xCB, 0xE06B, 0x50),
    K(106, RIGHT, 0xCD, 0xE074, 0x4F),
    K(107, END, 0xCF, 0xE069, 0x4D),
    K(108, DOWN, 0xD0, 0xE072, 0x51),
    K(109, PAGEDOWN, 0xD1, 0xE07A, 0x4E),
    K(110, INSERT, 0xD2, 0xE070, 0x49),
    K(111, DELETE, 0xD3, 0xE071, 0x4C),
    K(119, PAUSE, KEYMAP_QNUM_PAUSE, 0, 0x48),
    K(125, LEFTMETA, 0xDB, 0xE01F, 0xE3),
    K(126, RIGHTMETA, 0xDC, 0xE027, 0xE7),
    K(127, COMPOSE, 0xDD, 0xE02F, 0x65),
};
#define NKEYS (sizeof keys / sizeof keys[0])

const struct keymap_key *keymap_table(size_t *n)
{
    *n = NKEYS;
    return keys;
}

const struct keymap_key *keymap_by_linux(unsigned code)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].linux_code == code)
            return &keys[i];
    return NULL;
}

const struct keymap_key *keymap_by_qnum(unsigned qnum)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].qnum == qnum)
            return &keys[i];
    return NULL;
}

const struct keymap_key *keymap_by_name(const char *name)
{
    if (!strncasecmp(name, "KEY_", 4))
        name += 4;
    for (size_t i = 0; i < NKEYS; i++)
        if (!strcasecmp(keys[i].name + 4, name))
            return &keys[i];
    return NULL;
}

int keymap_codeset_parse(const char *name)
{
    static const struct {
        const char *name;
        enum keymap_codeset set;
    } sets[] = {
        {"linux", KEYMAP_LINUX},   {"xt", KEYMAP_XT},     {"atset1", KEYMAP_ATSET1},
        {"atset2", KEYMAP_ATSET2}, {"usb", KEYMAP_USB},   {"rfb", KEYMAP_QNUM},
        {"qnum", KEYMAP_QNUM},
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
        if (!strcasecmp(sets[i].name, name))
            return (int)sets[i].set;
    return -1;
}

static bool parse_number(const char *s, unsigned long *v)
{
    if (!*s || *s == '-' || *s == '+')
        return false;
    char *end;
    errno = 0;
    *v = strtoul(s, &end, 0);
    return errno == 0 && *end == '\0' && *v <= 0xFFFF;
}

int keymap_to_qnum(enum keymap_codeset set, const char *arg, unsigned *qnum)
{
    unsigned long v;
    const struct keymap_key *k = NULL;
    if (!parse_number(arg, &v)) {
        if (set == KEYMAP_LINUX)
            k = keymap_by_name(arg);
        if (!k)
            return err_set("invalid keycode: '%s'", arg);
        *qnum = k->qnum;
        return 0;
    }
    switch (set) {
    case KEYMAP_LINUX:
        k = keymap_by_linux((unsigned)v);
        break;
    case KEYMAP_XT:
        k = v < 0x80 ? keymap_by_qnum((unsigned)v) : NULL;
        break;
    case KEYMAP_ATSET1:
        if (v < 0x80)
            k = keymap_by_qnum((unsigned)v);
        else if ((v & 0xFF00) == 0xE000 && (v & 0xFF) < 0x80)
            k = keymap_by_qnum((unsigned)(v & 0x7F) | 0x80);
        break;
    case KEYMAP_ATSET2:
        for (size_t i = 0; i < NKEYS && !k; i++)
            if (keys[i].set2 && keys[i].set2 == v)
                k = &keys[i];
        break;
    case KEYMAP_USB:
        for (size_t i = 0; i < NKEYS && !k; i++)
            if (keys[i].usb == v)
                k = &keys[i];
        break;
    case KEYMAP_QNUM:
        k = keymap_by_qnum((unsigned)v);
        break;
    }
    if (!k)
        return err_set("invalid keycode: '%s'", arg);
    *qnum = k->qnum;
    return 0;
}

size_t keymap_scancodes(unsigned qnum, bool down, bool set1, uint8_t out[8])
{
    if (qnum == KEYMAP_QNUM_PAUSE) {
        /* Pause sends make and break at once when pressed, nothing on release. */
        static const uint8_t p1[] = {0xE1, 0x1D, 0x45, 0xE1, 0x9D, 0xC5};
        static const uint8_t p2[] = {0xE1, 0x14, 0x77, 0xE1, 0xF0, 0x14, 0xF0, 0x77};
        if (!down)
            return 0;
        memcpy(out, set1 ? p1 : p2, set1 ? sizeof p1 : sizeof p2);
        return set1 ? sizeof p1 : sizeof p2;
    }
    const struct keymap_key *k = keymap_by_qnum(qnum);
    if (!k)
        return 0;
    size_t n = 0;
    if (set1) {
        if (k->qnum & 0x80)
            out[n++] = 0xE0;
        out[n++] = (uint8_t)((k->qnum & 0x7F) | (down ? 0 : 0x80));
    } else {
        if (k->set2 & 0xFF00)
            out[n++] = 0xE0;
        if (!down)
            out[n++] = 0xF0;
        out[n++] = (uint8_t)(k->set2 & 0xFF);
    }
    return n;
}
