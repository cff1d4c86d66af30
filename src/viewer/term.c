/* The terminal side of the viewer: what it can draw (asked once, before
 * curses reads input), and what the user types, as X keysyms. */
#include "viewer/viewer.h"

#include <curses.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

static const char *const mode_names[] = {
    [VIEWER_MODE_AUTO] = "auto",           [VIEWER_MODE_256] = "256",
    [VIEWER_MODE_TRUECOLOR] = "truecolor", [VIEWER_MODE_SIXEL] = "sixel",
    [VIEWER_MODE_KITTY] = "kitty",
};

int viewer_mode_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof mode_names / sizeof mode_names[0]); i++)
        if (name && !strcmp(name, mode_names[i]))
            return i;
    return -1;
}

const char *viewer_mode_name(enum viewer_mode m)
{
    return (unsigned)m < sizeof mode_names / sizeof mode_names[0] ? mode_names[m] : "?";
}

/* ---- what the terminal draws ---- */

/* A kitty graphics query (a 1x1 picture, not stored: a=q) answered by
 * terminals that draw kitty pictures, then DA1, which every terminal
 * answers: its reply ends the wait. */
#define KITTY_QUERY "\033_Gi=31,s=1,v=1,a=q,t=d,f=24;AAAA\033\\"
#define DA1_QUERY "\033[c"

/* Whether DA1's reply ("ESC [ ? 62 ; 4 ; 22 c") lists attribute 4, sixel. */
static bool da1_has_sixel(const char *reply, size_t len)
{
    const char *p = memmem(reply, len, "\033[?", 3);
    if (!p)
        return false;
    const char *end = reply + len;
    p += 3;
    while (p < end && *p != 'c') {
        char *next;
        long n = strtol(p, &next, 10);
        if (next == p)
            return false;
        if (n == 4)
            return true;
        p = next;
        if (p < end && *p == ';')
            p++;
    }
    return false;
}

enum viewer_mode viewer_probe_reply(const char *reply, size_t len, bool truecolor)
{
    if (memmem(reply, len, "\033_Gi=31;OK", 10))
        return VIEWER_MODE_KITTY;
    if (da1_has_sixel(reply, len))
        return VIEWER_MODE_SIXEL;
    return truecolor ? VIEWER_MODE_TRUECOLOR : VIEWER_MODE_256;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum viewer_mode viewer_probe(int in_fd, int out_fd, int timeout_ms)
{
    const char *forced = getenv("TVM_VIEWER_MODE");
    int m = viewer_mode_parse(forced);
    if (m > VIEWER_MODE_AUTO)
        return (enum viewer_mode)m;
    const char *ct = getenv("COLORTERM");
    bool truecolor = ct && (!strcmp(ct, "truecolor") || !strcmp(ct, "24bit"));
    /* tmux draws no pictures of its own and passes none through by default. */
    if (getenv("TMUX") || !isatty(in_fd) || !isatty(out_fd))
        return truecolor ? VIEWER_MODE_TRUECOLOR : VIEWER_MODE_256;
    struct termios saved, raw;
    if (tcgetattr(in_fd, &saved) < 0)
        return truecolor ? VIEWER_MODE_TRUECOLOR : VIEWER_MODE_256;
    raw = saved;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    tcsetattr(in_fd, TCSANOW, &raw);
    char reply[512];
    size_t len = 0;
    const char q[] = KITTY_QUERY DA1_QUERY;
    if (write(out_fd, q, sizeof q - 1) == (ssize_t)(sizeof q - 1)) {
        long long deadline = now_ms() + timeout_ms;
        while (len < sizeof reply - 1) {
            long long left = deadline - now_ms();
            struct pollfd p = {.fd = in_fd, .events = POLLIN};
            if (left <= 0 || poll(&p, 1, (int)left) <= 0)
                break;
            ssize_t n = read(in_fd, reply + len, sizeof reply - 1 - len);
            if (n <= 0)
                break;
            len += (size_t)n;
            const char *da = memmem(reply, len, "\033[?", 3);
            if (da && memchr(da, 'c', (size_t)(reply + len - da)))
                break; /* DA1 answered: every earlier reply is in */
        }
    }
    tcsetattr(in_fd, TCSANOW, &saved);
    return viewer_probe_reply(reply, len, truecolor);
}

/* ---- keys ---- */

uint32_t viewer_keysym_of(int key, bool *ctrl)
{
    static const struct {
        int key;
        uint32_t keysym;
    } named[] = {
        {'\r', XK_RETURN},      {'\n', XK_RETURN},
        {KEY_ENTER, XK_RETURN}, {'\t', XK_TAB},
        {KEY_BTAB, 0xFE20},     {0x7f, XK_BACKSPACE},
        {'\b', XK_BACKSPACE},   {KEY_BACKSPACE, XK_BACKSPACE},
        {0x1b, XK_ESCAPE},      {KEY_UP, 0xFF52},
        {KEY_DOWN, 0xFF54},     {KEY_LEFT, 0xFF51},
        {KEY_RIGHT, 0xFF53},    {KEY_HOME, 0xFF50},
        {KEY_END, 0xFF57},      {KEY_PPAGE, 0xFF55},
        {KEY_NPAGE, 0xFF56},    {KEY_IC, 0xFF63},
        {KEY_DC, XK_DELETE},
    };
    *ctrl = false;
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++)
        if (named[i].key == key)
            return named[i].keysym;
    if (key >= KEY_F(1) && key <= KEY_F(12))
        return XK_F1 + (uint32_t)(key - KEY_F(1));
    if (key >= 0x20 && key < 0x7f)
        return (uint32_t)key;
    if (key >= 1 && key <= 0x1f) { /* Ctrl-A .. Ctrl-_ */
        *ctrl = true;
        return key <= 26 ? (uint32_t)('a' + key - 1) : (uint32_t)('[' + key - 27);
    }
    return 0;
}

void viewer_send_key(struct viewer *v, int key)
{
    bool ctrl;
    uint32_t ks = viewer_keysym_of(key, &ctrl);
    if (!ks)
        return;
    uint32_t combo[2] = {XK_CONTROL_L, ks};
    if (ctrl)
        viewer_combo(v, combo, 2);
    else
        viewer_combo(v, &ks, 1);
}

const char *viewer_menu_label(int i)
{
    static const char *const labels[VIEWER_MENU_N] = {
        "Ctrl-Alt-Del", "Ctrl-Alt-F1",  "Ctrl-Alt-F2",  "Ctrl-Alt-F3", "Ctrl-Alt-F4",
        "Ctrl-Alt-F5",  "Ctrl-Alt-F6",  "Ctrl-Alt-F7",  "Ctrl-Alt-F8", "Ctrl-Alt-F9",
        "Ctrl-Alt-F10", "Ctrl-Alt-F11", "Ctrl-Alt-F12",
    };
    return i >= 0 && i < VIEWER_MENU_N ? labels[i] : NULL;
}

void viewer_menu_send(struct viewer *v, int i)
{
    if (i < 0 || i >= VIEWER_MENU_N)
        return;
    uint32_t keys[3] = {XK_CONTROL_L, XK_ALT_L, i == 0 ? XK_DELETE : XK_F1 + (uint32_t)i - 1};
    viewer_combo(v, keys, 3);
}

/* ---- raw terminal input (the full-screen view) ---- */

/* A complete CSI sequence (ESC [ params final) as a curses key code, 0 if none. */
static int csi_key(const unsigned char *s, size_t len)
{
    char final = (char)s[len - 1];
    int n = atoi((const char *)s + 2); /* stops at ';' or the final byte */
    switch (final) {
    case 'A':
        return KEY_UP;
    case 'B':
        return KEY_DOWN;
    case 'C':
        return KEY_RIGHT;
    case 'D':
        return KEY_LEFT;
    case 'H':
        return KEY_HOME;
    case 'F':
        return KEY_END;
    case 'Z':
        return KEY_BTAB;
    case '~':
        break;
    default:
        return 0;
    }
    static const struct {
        int n, key;
    } tilde[] = {{1, KEY_HOME},  {7, KEY_HOME},  {2, KEY_IC},     {3, KEY_DC},     {4, KEY_END},
                 {8, KEY_END},   {5, KEY_PPAGE}, {6, KEY_NPAGE},  {11, KEY_F(1)},  {12, KEY_F(2)},
                 {13, KEY_F(3)}, {14, KEY_F(4)}, {15, KEY_F(5)},  {17, KEY_F(6)},  {18, KEY_F(7)},
                 {19, KEY_F(8)}, {20, KEY_F(9)}, {21, KEY_F(10)}, {23, KEY_F(11)}, {24, KEY_F(12)}};
    for (size_t i = 0; i < sizeof tilde / sizeof tilde[0]; i++)
        if (tilde[i].n == n)
            return tilde[i].key;
    return 0;
}

/* ESC O x (keypad and F1-F4 in application mode). */
static int ss3_key(unsigned char c)
{
    switch (c) {
    case 'P':
        return KEY_F(1);
    case 'Q':
        return KEY_F(2);
    case 'R':
        return KEY_F(3);
    case 'S':
        return KEY_F(4);
    case 'A':
        return KEY_UP;
    case 'B':
        return KEY_DOWN;
    case 'C':
        return KEY_RIGHT;
    case 'D':
        return KEY_LEFT;
    case 'H':
        return KEY_HOME;
    case 'F':
        return KEY_END;
    default:
        return 0;
    }
}

#define PASTE_END "\033[201~"

static void paste_byte(struct viewer_input *in, unsigned char c, viewer_input_fn fn, void *opaque)
{
    vbuf_add(&in->paste, &c, 1);
    size_t n = sizeof PASTE_END - 1;
    if (in->paste.len >= n && !memcmp(in->paste.p + in->paste.len - n, PASTE_END, n)) {
        fn(opaque, VIN_PASTE, 0, in->paste.p, in->paste.len - n);
        in->paste.len = 0;
        in->in_paste = false;
    }
}

/* One byte of an escape sequence; the sequence is done when it returns. */
static void seq_byte(struct viewer_input *in, unsigned char c, viewer_input_fn fn, void *opaque)
{
    in->seq[in->seqlen++] = c;
    const unsigned char *s = in->seq;
    size_t len = in->seqlen;
    if (len == 2 && s[1] != '[' && s[1] != 'O') {
        in->seqlen = 0; /* Alt-x: the key alone */
        fn(opaque, VIN_KEY, s[1], NULL, 0);
        return;
    }
    if (len == 3 && s[1] == 'O') {
        in->seqlen = 0;
        int key = ss3_key(s[2]);
        if (key)
            fn(opaque, VIN_KEY, key, NULL, 0);
        return;
    }
    if (len >= 3 && s[1] == '[' && c >= 0x40 && c <= 0x7e) {
        in->seqlen = 0;
        if (len == 6 && !memcmp(s, "\033[200~", 6)) {
            in->in_paste = true;
            in->paste.len = 0;
            return;
        }
        int key = csi_key(s, len);
        if (key)
            fn(opaque, VIN_KEY, key, NULL, 0);
        return;
    }
    if (len == sizeof in->seq)
        in->seqlen = 0; /* nothing known is that long */
}

void viewer_input_feed(struct viewer_input *in, const unsigned char *buf, size_t len,
                       viewer_input_fn fn, void *opaque)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = buf[i];
        if (in->in_paste)
            paste_byte(in, c, fn, opaque);
        else if (in->seqlen)
            seq_byte(in, c, fn, opaque);
        else if (c == 0x1b)
            in->seq[in->seqlen++] = c;
        else if (c == VIEWER_ESCAPE)
            fn(opaque, VIN_ESCAPE, c, NULL, 0);
        else if (c == VIEWER_MENU)
            fn(opaque, VIN_MENU, c, NULL, 0);
        else
            fn(opaque, VIN_KEY, c, NULL, 0);
    }
    if (in->seqlen == 1) { /* a lone ESC: the Escape key */
        in->seqlen = 0;
        fn(opaque, VIN_KEY, 0x1b, NULL, 0);
    }
}
