/* Helpers shared by the lifecycle files (vm-launch.c, vm-supervise.c,
 * vm-control.c, console-attach.c); the commands use vm.h. */
#ifndef TVM_CORE_VM_PRIV_H
#define TVM_CORE_VM_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/virt/vm.h"
#include "store/store.h"

/* virDomain*Reason values tvm records. */
enum {
    VM_RUNNING_UNKNOWN = 0,
    VM_RUNNING_BOOTED = 1,
    VM_RUNNING_RESTORED = 3,
    VM_RUNNING_UNPAUSED = 5,
    VM_PAUSED_UNKNOWN = 0,
    VM_PAUSED_USER = 1,
    VM_SHUTOFF_UNKNOWN = 0,
    VM_SHUTOFF_SHUTDOWN = 1,
    VM_SHUTOFF_DESTROYED = 2,
    VM_SHUTOFF_CRASHED = 3,
    VM_SHUTOFF_SAVED = 5,
    VM_SHUTOFF_FAILED = 6,
    VM_CRASHED_UNKNOWN = 0,
    /* tvm's own (libvirt stops at 1, panicked): tvm-vmm's seccomp filter
     * stopped it (vmm-protocol.h, VMM_EXIT_SANDBOX). */
    VM_CRASHED_SANDBOX = 2,
};

#define VM_QMP_POLL_MS 500      /* state queries while reconciling */
/* migrate / migrate-incoming write or read all of guest RAM: minutes for
 * a big guest on a slow disk. */
#define VM_SAVE_TIMEOUT_MS (30 * 60 * 1000)

/* tvm's own files in the run directory. */
#define VM_FILE_RUN_ID "run.id"
#define VM_FILE_JOB "job"

bool vm_state_is_active(enum domain_state s);

/* flock() on the run directory. wait_ms 0: try once. Returns the locked
 * directory fd, or -1: errno EWOULDBLOCK when busy, ENOENT when gone. */
int vm_dir_lock(const char *uuid, int wait_ms);
void vm_dir_unlock(int fd);
/* The run id in VM_FILE_RUN_ID (virsh's domain id), or -1. */
int64_t vm_read_run_id(const char *uuid);
/* The pid in vmm.pid, or -1. */
pid_t vm_read_pid(const char *uuid);
/* pid is a live (not zombie) tvm-vmm serving RUNDIR/<uuid>. */
bool vm_pid_alive(pid_t pid, const char *uuid);
/* pid exists and is not a zombie. For our own fresh child only: right
 * after exec its command line can read empty for a moment. */
bool vm_pid_running(pid_t pid);
/* Waits up to timeout_ms for pid to be gone (uuid NULL: vm_pid_running's
 * test); true if it is. */
bool vm_wait_gone(pid_t pid, const char *uuid, int timeout_ms);
/* Removes RUNDIR/<uuid>/ and everything in it. */
int vm_remove_rundir(const char *uuid);
/* Brings one domain's store row in line with its run directory. */
int vm_reconcile_row(struct store *st, const struct store_domain_row *row);
/* Records that domain UUID's guest stopped, with EVENT (unless NULL) in
 * the event log, in one transaction: the state, or for a transient domain
 * its removal. The caller removes the run directory after. */
int vm_record_stop(struct store *st, const char *uuid, enum domain_state state, int reason,
                   const char *event, const char *detail);
/* vm_destroy, recorded as shut off (saved), for vm_save. */
int vm_stop_saved(struct store *st, const char *dom);
/* The row, reconciled, and an error unless the guest is alive. */
int vm_lookup_active(struct store *st, const char *dom, struct store_domain_row *row);


#endif
