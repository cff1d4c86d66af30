/* The console socket of tvm-vmm: fans the guest's serial output out to
 * every connected client and to the console log, and feeds the writer
 * client's input to the UART (semantics in src/core/vmm-protocol.h).
 *
 * - A client gets the last VMM_CONSOLE_BACKLOG bytes on connect, then all
 *   output from then on.
 * - The first client is the writer; later clients are read-only (their
 *   input is dropped) until the writer disconnects, then the longest
 *   connected client becomes the writer.
 * - Nothing blocks the guest: console_guest_output() (called from vCPU
 *   threads) only appends to a bounded queue and wakes the loop; the loop
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

/* sock_path and log_path may each be NULL (no socket / no log). */
int console_init(struct loop *l, const char *sock_path, const char *log_path);
/* Any thread; never blocks. Bytes are dropped (oldest first) only if the
 * loop falls CONSOLE_PENDING_MAX behind. */
void console_guest_output(const uint8_t *buf, size_t len);
/* fn runs on the loop thread with the writer client's input. */
void console_set_input_handler(void (*fn)(void *opaque, const uint8_t *buf, size_t len),
                               void *opaque);
/* Flush what is queued (log and clients), close clients and the listener,
 * unlink the socket. */
void console_close(void);

#endif
