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
#define err_set(...) ERR_RETURN(err_set_msg(__VA_ARGS__))
/* Like err_set, with ": strerror(errno)" appended. */
#define err_errno(...) ERR_RETURN(err_errno_msg(__VA_ARGS__))
/* Prepend context ("FILE:LINE: " or "domain 'web': ") to the current message; returns -1. */
#define err_prefix(...) ERR_RETURN(err_prefix_msg(__VA_ARGS__))

/* The -1 is a constant at every call site rather than a function's opaque
 * result: the compiler then knows that a caller which got 0 back has had
 * its out-parameters set, and optimised builds (-O3, dpkg-buildflags) do
 * not warn "may be used uninitialized" about them. */
#define ERR_RETURN(call)                                                                           \
    __extension__({                                                                                \
        (void)(call);                                                                              \
        -1;                                                                                        \
    })
void err_set_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void err_errno_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void err_prefix_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
const char *err_msg(void);
void err_clear(void);

#endif
