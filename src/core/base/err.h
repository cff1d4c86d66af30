/* Error reporting for every tvm library function.
 *
 * A function that fails returns -1 (or NULL) and leaves a one-line message
 * here, naming the file/line/field at fault where it knows them. Callers add
 * context with err_prefix() and the entry point (verb, batch line, TUI
 * status bar) prints err_msg(). Library code never calls exit(). The message
 * is per thread, so the VMM's threads do not overwrite each other's.
 */
#ifndef TVM_CORE_ERR_H
#define TVM_CORE_ERR_H

#define ERR_MSG_MAX 1024

/* Set the message (printf-style); returns -1 so that `return err_set(...)` reads naturally. */
int err_set(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Like err_set, with ": strerror(errno)" appended. */
int err_errno(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prepend context ("FILE:LINE: " or "domain 'web': ") to the current message; returns -1. */
int err_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *err_msg(void);
void err_clear(void);

#endif
