/* The QMP control server of tvm-vmm (see src/core/vmm-protocol.h for the
 * wire contract). It listens on a unix socket (0600), serves up to
 * CONTROL_MAX_CLIENTS clients at once on the main event loop and never
 * blocks: input is a stream of JSON objects (one per line in practice), a
 * request larger than CONTROL_MAX_LINE is refused with an error, output is
 * one JSON object per line, bounded per client (CONTROL_MAX_OUTBUF), and a
 * client that stops reading is dropped.
 *
 * Actions reach the VM through struct control_ops, whose members have the
 * exact signatures of the vmm.h functions: main.c uses control_init() (the
 * real vm_* functions), unit tests call control_start() with recorders.
 *
 * Events: control_emit_event() may be called from any thread; it queues
 * the event and wakes the loop through an eventfd, and the loop thread
 * broadcasts it to every client that has negotiated. The VM's events reach
 * it through the sink main.c sets (vm_set_event_sink()).
 */
#ifndef TVM_VMM_CONTROL_H
#define TVM_VMM_CONTROL_H

#include <stdint.h>

#include "vmm.h"

#define CONTROL_MAX_LINE (64 * 1024)
#define CONTROL_MAX_OUTBUF (1024 * 1024)
#define CONTROL_MAX_CLIENTS 16
/* Named descriptors (getfd) held at once, descriptors one message may
 * carry (more are dropped by the kernel), and a name's size with its NUL. */
#define CONTROL_MAX_FDS 16
#define CONTROL_MAX_CLIENT_FDS 4
#define CONTROL_FDNAME_MAX 32

struct control_ops {
    enum vm_run_state (*run_state)(struct vm *vm);
    int (*pause)(struct vm *vm);
    int (*resume)(struct vm *vm);
    int (*powerdown)(struct vm *vm, bool reboot);
    int (*reset)(struct vm *vm);
    int (*quit)(struct vm *vm, const char *reason);
    unsigned (*vcpu_count)(struct vm *vm);
    int (*vcpu_info)(struct vm *vm, unsigned i, int *thread_id, unsigned *apic_id);
    uint64_t (*ram_size)(struct vm *vm);
};

struct control_config {
    const char *name; /* domain name for query-name (may be NULL) */
    /* Topology for query-cpus-fast props; 0 means 1. Sockets follow. */
    unsigned cores_per_socket;
    unsigned threads_per_core;
};

/* Commands that belong to a device (balloon, set_link ...) are registered
 * by the device's own file instead of growing the table in control.c. FN
 * runs on the main loop thread and checks its own arguments (ARGS is an
 * object, {} when none were given); it fills *ret (NULL means {}) and returns
 * 0, or returns -1 with err_msg() set (sent as GenericError). At most
 * CONTROL_MAX_EXTRA commands; a name already served is refused. */
struct json_object;
typedef int (*control_cmd_fn)(struct json_object *args, struct json_object **ret);
#define CONTROL_MAX_EXTRA 32
int control_register(const char *name, control_cmd_fn fn);

/* Named descriptors (QMP getfd/closefd, as QEMU's): a client sends a
 * descriptor by SCM_RIGHTS with the bytes of {"execute": "getfd",
 * "arguments": {"fdname": NAME}}; NAME (1-31 of [A-Za-z0-9_.-], not
 * starting with a digit) then names it until a command takes it or
 * closefd closes it. A getfd on a name in use closes the old descriptor;
 * descriptors that came with requests none of which was a getfd are closed
 * once those requests have run, and every named one at control_close().
 * Loop thread only, i.e. from a registered command:
 * control_take_fd() hands the descriptor over (the caller closes it) and
 * forgets the name; -1 with err_msg() naming it when there is none. */
int control_take_fd(const char *fdname);
/* How many named descriptors are held (tests). */
unsigned control_named_fds(void);

/* Start serving on sock_path (a stale socket there is replaced). */
int control_start(struct loop *l, struct vm *vm, const struct control_ops *ops,
                  const struct control_config *cfg, const char *sock_path);
/* Queue event NAME (data_json NULL: {}) for every negotiated client. */
void control_emit_event(const char *name, const char *data_json);

/* Close every client and the listener and unlink the socket. */
void control_close(void);

/* Glue for main.c with the real VM actions. */
static inline int control_init(struct loop *l, struct vm *vm, const struct control_config *cfg,
                               const char *sock_path)
{
    static const struct control_ops ops = {
        .run_state = vm_run_state,
        .pause = vm_pause,
        .resume = vm_resume,
        .powerdown = vm_powerdown,
        .reset = vm_reset,
        .quit = vm_quit,
        .vcpu_count = vm_vcpu_count,
        .vcpu_info = vm_vcpu_info,
        .ram_size = vm_ram_size,
    };
    return control_start(l, vm, &ops, cfg, sock_path);
}

#endif
