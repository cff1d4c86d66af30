/* The console pane: a guest's serial console shown as text lines with
 * scrollback. Not a terminal emulator: \r, \n, backspace and tabs are
 * honoured, ANSI escape sequences are dropped. The socket is non-blocking;
 * the main loop polls console_fd() and calls console_read(). */
#ifndef TVM_TUI_CONSOLE_H
#define TVM_TUI_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/base/uuid.h"

#define CONSOLE_SCROLLBACK 2000
#define CONSOLE_LINE_MAX 512

struct console {
    int fd; /* -1 when closed */
    char name[256];
    char uuid[UUID_STR_LEN];
    char (*lines)[CONSOLE_LINE_MAX]; /* ring of CONSOLE_SCROLLBACK lines */
    size_t first, count;             /* ring start and number of lines (>= 1 when open) */
    size_t col;                      /* cursor column in the last line (bytes) */
    int esc;                         /* escape-sequence parser state */
    size_t scroll;                   /* lines scrolled back from the bottom */
    bool eof;
};

void console_init(struct console *c);
/* Connect to RUNDIR/<uuid>/console.sock without blocking. */
int console_open(struct console *c, const char *uuid, const char *name);
void console_close(struct console *c);
/* Read what is available. 1 if new text arrived, 0 if none, -1 on EOF/error (closed). */
int console_read(struct console *c);
/* Feed bytes as if read from the guest (used by console_read). */
void console_feed(struct console *c, const char *buf, size_t len);
/* Send keys to the guest; bytes that do not fit now are dropped (reported as -1). */
int console_send(struct console *c, const char *buf, size_t len);
/* Line i counted from the oldest kept line. */
const char *console_line(const struct console *c, size_t i);

#endif
