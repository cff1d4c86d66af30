/* src/vnc: tvm-vmm's VNC server (libvncserver) and what it needs to show
 * a guest's screen: a text-mode renderer with tvm's own font (font.c) and
 * the map from VNC keysyms to keys (keysym.c). Library tvmvnc, linked by
 * tvm-vmm only; it uses core/base and core/proto, never the VMM's
 * internals: the VMM hands it a framebuffer and callbacks (display.c).
 *
 * Sockets: always a unix socket (VMM_SOCK_VNC in the run directory, 0600:
 * the file mode is the real protection), TCP only when the domain's
 * <graphics> asks (a port, or autoport from 5900 as libvirt). Both are
 * opened by vnc_new(), before the VMM drops its privileges; vnc_start()
 * runs the server on a thread of its own; vnc_add_client() serves a socket
 * handed over by QMP add_client. Several clients may watch: they
 * all read the one framebuffer the VMM hands over (the guest's BAR, or the
 * rendered text screen), never a copy per client.
 */
#ifndef TVM_VNC_VNC_H
#define TVM_VNC_VNC_H

#include <stdbool.h>
#include <stdint.h>

#define VNC_AUTOPORT_FIRST 5900
#define VNC_AUTOPORT_LAST 65535

struct vnc_server;

struct vnc_ops {
    /* On the VNC thread while clients watch, at most 60 times a second:
     * find what changed and report it with vnc_damage(). */
    void (*refresh)(void *opaque, struct vnc_server *s);
    /* A key as a qnum (core/proto/keymap.h), pressed or released. */
    void (*key)(void *opaque, unsigned qnum, bool down);
    /* The pointer at pixel X, Y (within the framebuffer) with BUTTONS
     * held, as RFB's PointerEvent mask: 1 left, 2 middle, 4 right, 8/16
     * wheel up/down, 32/64 wheel left/right. Optional. */
    void (*pointer)(void *opaque, unsigned x, unsigned y, unsigned buttons);
};

struct vnc_config {
    const char *unix_path;  /* always */
    const char *listen;     /* TCP address; NULL: no TCP */
    int port;               /* TCP port; -1: the first free from 5900 */
    const char *password;   /* NULL: no authentication (never logged) */
    const char *name;       /* desktop name */
    void *framebuffer;      /* XRGB, 32 bits a pixel, shared */
    unsigned width, height, stride;
    const struct vnc_ops *ops;
    void *opaque;
};

/* Opens the sockets. NULL with err_msg() set. */
struct vnc_server *vnc_new(const struct vnc_config *c);
int vnc_start(struct vnc_server *s);
/* Rows [y0, y1) of the framebuffer changed (from refresh). */
void vnc_damage(struct vnc_server *s, unsigned y0, unsigned y1);
/* The TCP port it listens on, -1 without TCP; the address it bound. */
int vnc_port(const struct vnc_server *s);
const char *vnc_listen(const struct vnc_server *s);
unsigned vnc_clients(struct vnc_server *s);
/* Serves a client on FD, a connected stream socket (QMP add_client), which
 * it takes over whatever happens. SKIPAUTH: with a password set, the client
 * still goes through VNC authentication's exchange, and any answer passes.
 * Any thread; the VNC thread takes the client at its next round. */
int vnc_add_client(struct vnc_server *s, int fd, bool skipauth);
/* Stops the thread, closes every client and socket, unlinks the unix socket. */
void vnc_free(struct vnc_server *s);

/* ---- keysym.c ---- */
/* The key an X keysym is on (US layout), as a qnum; 0 if none. *shifted
 * says whether the keysym is that key's shifted symbol. */
unsigned vnc_keysym_qnum(uint32_t keysym, bool *shifted);

/* ---- font.c ---- */
#define VNC_TEXT_CELL_W 8
#define VNC_TEXT_CELL_H 16
/* The 16 scan lines of character C (code page 437 where tvm has a glyph:
 * ASCII, line drawing and blocks; others are blank), one byte each, bit 7
 * the left column. */
void vnc_font_glyph(uint8_t c, uint8_t out[VNC_TEXT_CELL_H]);
/* Draws text cell (char | attr << 8) at column X, row Y into an XRGB
 * buffer of STRIDE bytes; palette maps the attribute's colours; a cursor
 * covers scan lines [cs, ce] when CURSOR. */
void vnc_text_cell(uint8_t *fb, unsigned stride, unsigned x, unsigned y, uint16_t cell,
                   const uint32_t palette[16], bool cursor, unsigned cs, unsigned ce);

#endif
