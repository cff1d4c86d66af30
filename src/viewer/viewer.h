/* src/viewer: tvm's terminal viewer of a guest's screen (the tvm side of
 * issue 11; the server is src/vnc, in tvm-vmm). Library tvmviewer, linked
 * by tvm only (the TUI's graphical console pane and `tvm vncviewer`); it
 * uses core/base, core/model and core/proto, never the store or the
 * commands, and tvm-vmm never links it (nor libvncclient or libchafa).
 *
 * A viewer is a VNC client (libvncclient) on the guest's vnc.sock, run on
 * a thread of its own so nothing here blocks the caller's loop: the thread
 * connects, reads updates into a copy of the framebuffer, and wakes the
 * caller through viewer_fd(). In VGA text mode it also asks the VMM for
 * the characters (QMP x-tvm-query-screen), so text is drawn as text; the
 * colours of each cell come from the picture VNC sends.
 *
 * Drawing (render.c) turns that state into terminal output for a
 * rectangle of the screen: text mode as characters with 16-colour SGR; a
 * framebuffer through libchafa as kitty graphics, sixel, or Unicode
 * block/sextant symbols in truecolor or 256 colours. Only rows whose
 * output changed are written; a new rectangle (the terminal was resized)
 * rescales and redraws all. Output is wrapped in DECSC/DECRC so a curses
 * program drawing around it keeps its cursor and attributes.
 *
 * Input (term.c): terminal bytes or curses keys become X keysyms sent as
 * VNC key events; the server types them on its US keyboard (src/vnc
 * keysym.c maps each to its key, Shift included). Bracketed paste is
 * typed the same way.
 */
#ifndef TVM_VIEWER_VIEWER_H
#define TVM_VIEWER_VIEWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- how the terminal draws pictures ---- */
enum viewer_mode {
    VIEWER_MODE_AUTO,      /* ask the terminal (viewer_probe) */
    VIEWER_MODE_256,       /* symbols, 256-colour SGR */
    VIEWER_MODE_TRUECOLOR, /* symbols, 24-bit SGR */
    VIEWER_MODE_SIXEL,
    VIEWER_MODE_KITTY,
};
/* "auto", "256", "truecolor", "sixel", "kitty"; -1 if unknown. */
int viewer_mode_parse(const char *name);
const char *viewer_mode_name(enum viewer_mode m);

/* What the terminal on IN/OUT supports, asked before curses reads input:
 * a kitty graphics query and DA1 (whose reply ends the wait; TIMEOUT_MS
 * at most). Inside tmux ($TMUX) nothing is asked: symbols. $COLORTERM
 * truecolor/24bit picks 24-bit symbols, otherwise 256 colours.
 * $TVM_VIEWER_MODE (a viewer_mode name) overrides it all. */
enum viewer_mode viewer_probe(int in_fd, int out_fd, int timeout_ms);
/* The decision from the terminal's reply bytes (the part after the queries). */
enum viewer_mode viewer_probe_reply(const char *reply, size_t len, bool truecolor);

/* ---- output buffer ---- */
struct vbuf {
    char *p;
    size_t len, cap;
};
void vbuf_add(struct vbuf *b, const void *data, size_t len);
void vbuf_printf(struct vbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vbuf_free(struct vbuf *b);

/* ---- the screen a viewer shows ---- */
#define VIEWER_TEXT_COLS 80
#define VIEWER_TEXT_ROWS 25

struct viewer_text {
    char chars[VIEWER_TEXT_ROWS][VIEWER_TEXT_COLS];
    uint8_t fg[VIEWER_TEXT_ROWS][VIEWER_TEXT_COLS], bg[VIEWER_TEXT_ROWS][VIEWER_TEXT_COLS];
    int cursor; /* cell index, -1: hidden */
};

/* What render.c draws from: a framebuffer (RGBA, alpha 255) or text. */
struct viewer_screen {
    bool text;
    unsigned width, height; /* pixels */
    const uint8_t *pixels;  /* width * height * 4 */
    const struct viewer_text *cells;
    unsigned dirty_y0, dirty_y1; /* changed pixel rows since the last render */
};

/* ---- render.c ---- */
struct render;
struct render *render_new(enum viewer_mode mode);
void render_free(struct render *r);
enum viewer_mode render_mode(const struct render *r);
/* Where to draw: rows x cols cells from (y, x), 0-based. A new area
 * redraws everything. */
void render_set_area(struct render *r, int y, int x, int rows, int cols);
/* A cell's size in pixels (TIOCGWINSZ), for sixel and kitty pictures and
 * the aspect ratio; 0 keeps the default (10x20). */
void render_set_cell_pixels(struct render *r, int w, int h);
/* The terminal lost what was drawn (cleared, a dialog over it). */
void render_invalidate(struct render *r);
/* Appends what changed since the last call to OUT; returns rows written. */
int render_frame(struct render *r, const struct viewer_screen *s, struct vbuf *out);

/* ---- viewer.c: the client ---- */
struct viewer;
/* Starts connecting to RUNDIR/<uuid>/vnc.sock (its password from
 * RUNDIR/<uuid>/domain.xml when the domain has one). NULL with err_msg(). */
struct viewer *viewer_open(const char *uuid);
void viewer_close(struct viewer *v);
/* Readable when something changed; the caller then calls viewer_service. */
int viewer_fd(const struct viewer *v);
/* 1: the screen changed, 0: nothing, -1: the connection ended (err_msg()). */
int viewer_service(struct viewer *v);
/* A one-line state: "connecting", "text 80x25", "framebuffer 800x600", or the error. */
const char *viewer_status(struct viewer *v);
/* Draws what changed into OUT through R (the lock is held meanwhile). */
int viewer_draw(struct viewer *v, struct render *r, struct vbuf *out);

/* ---- input: keysyms to the guest ---- */
#define XK_BACKSPACE 0xFF08
#define XK_TAB 0xFF09
#define XK_RETURN 0xFF0D
#define XK_ESCAPE 0xFF1B
#define XK_DELETE 0xFFFF
#define XK_F1 0xFFBE
#define XK_CONTROL_L 0xFFE3
#define XK_ALT_L 0xFFE9

/* Queue a key press or release (sent by the client's thread, in order). */
void viewer_key(struct viewer *v, uint32_t keysym, bool down);
/* Press and release KEYSYMS together: held in order, released in reverse. */
void viewer_combo(struct viewer *v, const uint32_t *keysyms, size_t n);
/* Type text as keystrokes ('\n' and '\r' as Return, '\t' as Tab; other
 * control characters and non-ASCII are skipped). Returns keys typed. */
size_t viewer_type(struct viewer *v, const char *text, size_t len);

/* ---- term.c: terminal input ---- */
#define VIEWER_ESCAPE 0x1d /* Ctrl-]: leave, as the serial console */
#define VIEWER_MENU 0x07   /* Ctrl-G: the menu (Ctrl-Alt-Del, Ctrl-Alt-Fn) */

/* The keysym for a terminal byte or a curses KEY_* code (keypad on);
 * *ctrl: it needs Control held. 0 when there is none. */
uint32_t viewer_keysym_of(int key, bool *ctrl);
/* Send what the user typed: a byte or curses key as press and release. */
void viewer_send_key(struct viewer *v, int key);

/* The parser of raw terminal input for the full-screen view. */
enum viewer_input_event { VIN_NONE, VIN_KEY, VIN_ESCAPE, VIN_MENU, VIN_PASTE };
struct viewer_input {
    unsigned char seq[32];
    size_t seqlen;
    bool in_paste;
    struct vbuf paste;
};
/* Feeds bytes; for each key, paste or command calls back. A lone ESC at
 * the end of the input is a key (the caller reads in chunks). */
typedef void (*viewer_input_fn)(void *opaque, enum viewer_input_event ev, int key, const char *text,
                                size_t len);
void viewer_input_feed(struct viewer_input *in, const unsigned char *buf, size_t len,
                       viewer_input_fn fn, void *opaque);

/* The menu entries: Ctrl-Alt-Del and Ctrl-Alt-F1..F12. */
#define VIEWER_MENU_N 13
const char *viewer_menu_label(int i);
void viewer_menu_send(struct viewer *v, int i);

/* ---- full.c: `tvm vncviewer` ---- */
/* The guest's screen on the whole terminal (IN/OUT) until the escape key
 * or the end of the connection; NAME for the status line. */
int viewer_fullscreen(const char *uuid, const char *name, enum viewer_mode mode, int in_fd,
                      int out_fd);

#endif
