/* The console sockets of tvm-vmm: each fans a guest console's output
 * (the UART's, or a virtio console's) out to every connected client and to
 * its log, and feeds the writer client's input back to that device
 * (semantics in src/core/vmm-protocol.h).
 *
 * - A client gets the last VMM_CONSOLE_BACKLOG bytes on connect, then all
 *   output from then on.
 * - The first client is the writer; later clients are read-only (their
 *   input is dropped) until the writer disconnects, then the longest
 *   connected client becomes the writer.
 * - Nothing blocks the guest: console_output() (called from vCPU or
 *   device threads) only appends to a bounded queue and wakes the loop; the loop
 *   writes to clients, each with a bounded buffer (CONSOLE_CLIENT_BUF); a
 *   client that falls further behind is dropped.
 * - The log file (if any) is truncated when the console starts and holds
 *   everything the guest printed since; when it reaches CONSOLE_LOG_MAX it
 *   is renamed to PATH.old and a new one is started.
 */
#ifndef TVM_VMM_CONSOLE_H
#define TVM_VMM_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "vmm.h"

#define CONSOLE_CLIENT_BUF (256 * 1024)
#define CONSOLE_PENDING_MAX (1024 * 1024)
#define CONSOLE_LOG_MAX (4 * 1024 * 1024)
#define CONSOLE_MAX_CLIENTS 16

struct console;

/* A console server: one socket (and log) for one guest character device.
 * sock_path and log_path may each be NULL (no socket / no log). */
struct console *console_new(struct loop *l, const char *sock_path, const char *log_path);
/* Any thread; never blocks. Bytes are dropped (oldest first) only if the
 * loop falls CONSOLE_PENDING_MAX behind. */
void console_output(struct console *con, const uint8_t *buf, size_t len);
/* fn runs on the loop thread with the writer client's input. */
void console_set_input(struct console *con,
                       void (*fn)(void *opaque, const uint8_t *buf, size_t len), void *opaque);
/* Flush what is queued (log and clients), close clients and the listener,
 * unlink the socket, free. NULL is fine. */
void console_free(struct console *con);

/* The UART's console (COM1, VMM_SOCK_CONSOLE): one instance per process,
 * the calls above on it. */
int console_init(struct loop *l, const char *sock_path, const char *log_path);
void console_guest_output(const uint8_t *buf, size_t len);
void console_set_input_handler(void (*fn)(void *opaque, const uint8_t *buf, size_t len),
                               void *opaque);
void console_close(void);

#endif
