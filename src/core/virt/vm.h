/* Guest lifecycle on the tvm side: launching tvm-vmm, talking QMP to it,
 * attaching to its console, and keeping the store's idea of each guest's
 * state in step with what is really alive.
 *
 * Truth lives in the run directory (see vmm-protocol.h): a guest is active
 * while RUNDIR/<uuid>/ exists and its VMM process is alive. The store's
 * state column is a cache of that, refreshed by vm_reconcile(); every
 * transition also lands in the event log ("started", "shutdown",
 * "destroyed", "crashed", "suspended", "resumed", "reset").
 *
 * Besides the VMM's files, tvm keeps in the run directory:
 *   domain.xml  the definition the guest was started with (VMM_FILE_DOMAIN)
 *   vmm.pid     written by tvm right after the fork (the VMM rewrites it)
 * and guards each run directory with flock() on the directory itself while
 * it starts or destroys the guest, so a concurrent vm_reconcile() (another
 * tvm, the TUI's timer) skips a guest that is half-way through a change.
 *
 * Console logs live beside the database: <dir of db>/log/<name>.console.log.
 * Errors follow err.h: -1 with err_msg() set, e.g. "Requested operation is
 * not valid: domain is not running".
 */
#ifndef TVM_CORE_VM_H
#define TVM_CORE_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/model/domain.h"
#include "core/proto/qmp-client.h"

struct store;

/* ---- lifecycle verbs: `dom` is a name or uuid, as virsh accepts ---- */

struct vm_start_opts {
    bool paused;         /* vCPUs parked before the first instruction (virsh start --paused) */
    const char *db_path; /* the store's file, to put logs beside it; NULL: store_default_path() */
    int timeout_ms;      /* wait for the control socket; 0: $TVM_START_TIMEOUT or 15000 */
    /* Resume from this saved state (vm_save) instead of booting: tvm-vmm
     * starts paused from the definition the file carries, loads it (QMP
     * migrate-incoming) and runs it if it ran when saved. restore_run
     * overrides that: 1 running, -1 paused, 0 as saved. */
    const char *restore;
    int restore_run;
};
/* Checks (not already active, kernel/initrd readable, /dev/kvm usable,
 * memory available), assigns PCI slots (stored), launches tvm-vmm detached
 * and waits until its control socket reports a started guest (query-status
 * running, or paused with --paused). On failure nothing is left behind and
 * the state stays shut off. */
int vm_start(struct store *st, const char *dom, const struct vm_start_opts *opts);
/* A transient domain (virsh create): D, which no stored domain may
 * clash with, is recorded not persistent and started as vm_start does,
 * under one claim on its run directory. It exists only while it runs:
 * whatever records its stop (destroy, shutdown, a reconcile finding its
 * tvm-vmm gone) removes it, and a failed start leaves nothing. */
int vm_create(struct store *st, const struct domain *d, const struct vm_start_opts *opts);
/* The tvm-vmm binary guests run on: $TVM_VMM, else beside the tvm binary.
 * -1 with err_msg() when it cannot be run. */
int vm_vmm_path(char *buf, size_t len);
/* ACPI power button (system_powerdown); returns at once, as virsh does. */
int vm_shutdown(struct store *st, const char *dom);
/* vm-volumes.c: each <disk type='volume'> is checked (refused, naming the
 * disk, when its pool is not running or has no such volume) and, with
 * APPLY, given its volume's path in the live XML (*changed then). Apply
 * only after the stored definition was last written from D. */
int vm_resolve_volumes(struct store *st, struct domain *d, bool apply, bool *changed);
/* QMP quit, SIGKILL if the VMM has not gone within a few seconds; then
 * records shut off (destroyed) and removes the run directory. */
int vm_destroy(struct store *st, const char *dom);
/* As vm_destroy(), but never SIGKILL: a tvm-vmm that does not quit when
 * asked is left running and the call fails (virsh's destroy --graceful). */
int vm_destroy_graceful(struct store *st, const char *dom);
/* ACPI reboot: the power button, and tvm-vmm boots the guest again once it
 * has powered off (QMP x-system-reboot); returns at once, as virsh does. */
int vm_reboot(struct store *st, const char *dom);
/* Hard reset (system_reset), as `virsh reset`. */
int vm_reset(struct store *st, const char *dom);
int vm_suspend(struct store *st, const char *dom); /* QMP stop */
int vm_resume(struct store *st, const char *dom);  /* QMP cont */

/* The live state of one domain (reconciles it first). reason uses libvirt's
 * virDomain*Reason numbering for that state; may be NULL. */
int vm_state(struct store *st, const char *dom, enum domain_state *state, int *reason);
/* "booted", "user", "destroyed", ... as `virsh domstate --reason` prints them. */
const char *vm_state_reason_name(enum domain_state state, int reason);

/* Bring the store in line with the run directories: alive VMMs are running
 * or paused (asked over QMP with a short timeout), exited ones are recorded
 * with their exit.json reason, killed ones as crashed; finished run
 * directories are removed; domains the store thinks active but that have no
 * run directory become shut off. Only touches domains present in `st`.
 * Call it before listing states (list, dominfo, the TUI's refresh). */
int vm_reconcile(struct store *st);

/* ---- saved state: save, restore, managed save ----
 * The entry point for whoever saves a running guest (snapshots too):
 * vm_save() writes the guest's whole state (RAM, vCPUs, devices; the
 * format is core/proto/vmstate-file.h) to PATH through a descriptor tvm
 * opens and hands to tvm-vmm (QMP getfd + migrate "fd:NAME"), into a
 * temporary file beside PATH that is renamed over it once complete and
 * synced, so a kill at any moment leaves either the old PATH or the new
 * one. If the save fails the guest runs on (or stays paused) as before.
 * Then, unless keep_running, the guest stops (as virsh save does); with
 * keep_running its tvm-vmm stays, the guest paused by the save (tvm-vmm
 * leaves it so after QMP migrate): resume it with vm_resume(). */
struct vm_save_opts {
    int run;           /* the state a restore brings back: 1 running, -1 paused, 0 as now */
    bool bypass_cache; /* drop the file's pages from the host's cache afterwards */
    bool keep_running; /* keep its tvm-vmm after the save, the guest paused */
    const char *event; /* the event log's word for it: "saved" if NULL */
};
int vm_save(struct store *st, const char *dom, const char *path, const struct vm_save_opts *o);
/* Starts the domain the saved state PATH belongs to (by its UUID, which
 * must be defined) from that state: vm_start with opts->restore. */
int vm_restore(struct store *st, const char *path, const struct vm_start_opts *o);
/* The job a guest is in (virsh domjobinfo): while vm_save writes, the
 * run directory holds VM_FILE_JOB (operation, start, RAM size, the file
 * being written), so any tvm process can tell how far it is: data
 * processed is what the file holds so far, data total the guest's RAM
 * (the file is at most that, zero pages left out). */
struct vm_job_info {
    bool active;
    char operation[16]; /* "Save" */
    int64_t elapsed_ms;
    uint64_t processed, total;
};
int vm_job_info(const char *uuid, struct vm_job_info *out);

/* A checkpoint of a running or paused guest (snapshot-create): its
 * tvm-vmm pauses it once and, at one instant, takes internal qcow2
 * snapshot TAG of each disk in DEVICES (target devs; it has the images
 * open, so only it may write them) and writes the guest's saved state,
 * which lands at STATE_PATH complete and synced (a temporary file
 * renamed over it) before this returns; then the guest runs on if it ran.
 * On failure no disk keeps TAG and STATE_PATH is untouched, except when
 * the file fails after tvm-vmm succeeded: the error then names the tags
 * left behind. */
struct vm_checkpoint_result {
    bool was_running;     /* the guest ran (else it was paused) */
    int64_t paused_ms;    /* how long tvm-vmm held it paused */
    uint64_t state_bytes; /* the saved state's size */
};
int vm_checkpoint(struct store *st, const char *dom, const char *tag, const char *const *devices,
                  size_t ndevices, const char *state_path, struct vm_checkpoint_result *out);
/* A disk-only (external) snapshot of a running or paused guest: its
 * tvm-vmm puts each disk DEVICES[i] (target devs) onto the qcow2 overlay
 * OVERLAYS[i], which the caller made with the disk's image as its backing
 * file (tvm-vmm creates no file: each goes to it open, QMP getfd +
 * transaction of blockdev-snapshot-sync). All disks or none, with the
 * guest paused for the switch; then it runs on if it ran. */
struct vm_disk_snapshot_result {
    bool was_running;
    int64_t paused_ms;
};
int vm_disk_snapshot(struct store *st, const char *dom, const char *const *devices,
                     const char *const *overlays, size_t n, struct vm_disk_snapshot_result *out);
/* Where snapshot SNAPSHOT's saved state lives:
 * <dir of the store>/snapshot/<uuid>/<snapshot>.save (directory made). */
int vm_snapshot_state_path(const char *db_path, const char *uuid, const char *snapshot, char *buf,
                           size_t len);
/* Removes every saved state of domain UUID's snapshots and their
 * directory (undefine --snapshots-metadata); none is fine. */
int vm_snapshot_states_remove(const char *db_path, const char *uuid);

/* Where a domain's managed save lives: <dir of the store>/save/<uuid>.save. */
int vm_managed_save_path(const char *db_path, const char *uuid, char *buf, size_t len);
bool vm_has_managed_save(const char *db_path, const char *uuid);

/* ---- helpers for other parts (TUI stats, cmd checks) ---- */

struct store_domain_row;

/* virsh's words for the two states a verb most often finds wrong. */
#define VM_ERR_NOT_RUNNING "Requested operation is not valid: domain is not running"
#define VM_ERR_ACTIVE "Requested operation is not valid: domain is already active"
/* How long an explicit action waits for a guest's control socket. */
#define VM_QMP_TIMEOUT_MS 10000 /* explicit actions: a busy host can be slow to answer */

/* The domain (name or uuid) as its store row; -1 with virsh's message. */
int vm_lookup(struct store *st, const char *dom, struct store_domain_row *row);
/* QMP command to a running guest; errors are prefixed with "guest 'NAME' ". */
int vm_qmp(const struct store_domain_row *row, int timeout_ms, const char *cmd,
           const char *args_json, char **reply_json);

/* Claims a domain that is not running for a change a start must not
 * overlap (a start claims it the same way, and so does undefine): creates
 * RUNDIR/<uuid>/ already locked and returns its descriptor. When the
 * directory exists, waits up to wait_ms for whoever holds it (a start in
 * progress, a destroy); a live VMM then makes it -1 with *active set and
 * VM_ERR_ACTIVE, a finished run is recorded (as reconcile would) and
 * removed first. Every start and undefine happens wholly before or after
 * another's claim; reconcile skips a claimed directory. */
int vm_dir_claim(struct store *st, const struct store_domain_row *row, int wait_ms, bool *active);
/* Ends a claim that started no guest: removes the directory, then unlocks. */
void vm_dir_release(const char *uuid, int fd);
/* How long a claim waits for a start in progress (which holds the run
 * directory until its guest reports started, or fails). */
#define VM_CLAIM_WAIT_MS 20000

/* True while RUNDIR/<uuid>/ exists and its VMM is alive. */
bool vm_is_active(const char *uuid);
/* Pid of the guest's tvm-vmm, or -1 if it is not running. */
pid_t vm_pid(const char *uuid);
/* RUNDIR/<uuid>/<file> (file may be NULL for the directory itself). */
int vm_run_path(const char *uuid, const char *file, char *buf, size_t len);
/* The definition a running guest was started with (RUNDIR/<uuid>/domain.xml):
 * its <memory>, devices ... as the VMM sees them. -1 if it is not running. */
int vm_live_domain(const char *uuid, struct domain **out);
/* Records a live change (a CD-ROM's medium) in that definition, so the
 * live views show it; replaced whole, never seen half-written. */
int vm_live_domain_save(const char *uuid, const struct domain *d);
/* A running guest's CD-ROM DEV (its <target dev>) gets the medium PATH,
 * which tvm opens and sends (QMP getfd + x-tvm-change-medium), or is
 * ejected when PATH is NULL (QMP eject). FORCE overrides the guest's lock
 * on the tray. */
int vm_change_medium(const struct store_domain_row *row, const char *dev, const char *path,
                     bool force);
/* A running guest's disk DEV (its <target dev>) grows to SIZE bytes (a
 * multiple of 512): tvm-vmm resizes the image and tells the guest (QMP
 * block_resize). */
int vm_block_resize(const struct store_domain_row *row, const char *dev, uint64_t size);
/* The running guest's live XML as virsh dumpxml (without --inactive)
 * shows it: vm_live_domain() plus what exists only while it runs, the run
 * id as <domain id='N'> and, on each NIC, the tap its VMM really uses as
 * <target dev> (from VMM_FILE_NICS, which outlives any tvm process), and
 * the VNC server's port (VMM_FILE_GRAPHICS). -1 with VM_ERR_NOT_RUNNING if
 * it is not running. */
int vm_live_view(const char *uuid, struct domain **out);
/* Where a running guest's VNC server listens on TCP, from its run
 * directory (one small read, no QMP: fit for the UI thread): 1 with the
 * <graphics> INDEX, PORT and listen ADDR; 0 when it has none. */
int vm_vnc_address(const char *uuid, size_t *index, int *port, char *addr, size_t addr_len);
/* A running guest's size after its balloon (QMP query-balloon), in KiB;
 * -1 if it has no balloon or does not answer within a short time. */
int vm_balloon_actual_kib(const char *uuid, uint64_t *kib);

/* ---- console ---- */

enum vm_console_flags {
    VM_CONSOLE_FORCE =
        1 << 0, /* virsh --force: accepted; the VMM makes the first client the writer */
    VM_CONSOLE_NO_BANNER = 1 << 1, /* skip "Connected to domain ..." */
};
#define VM_CONSOLE_ESCAPE 0x1d /* Ctrl-] */

/* Attach in_fd/out_fd to the guest's console socket until Ctrl-] is read
 * from in_fd or the guest's console closes. If in_fd is a terminal it is put
 * in raw mode and restored on every exit path. Prints virsh's banner
 * ("Connected to domain 'NAME'\nEscape character is ^] (Ctrl + ])") first.
 * At end of input (a pipe) it keeps copying guest output until the console
 * closes. */
int vm_console(struct store *st, const char *dom, int in_fd, int out_fd, unsigned flags);
/* The same on the console DEVNAME, as virsh's --devname names it: NULL,
 * "serial0" or "console0" is the serial console; "consoleN" (N >= 1) the
 * Nth virtio console (vmm-protocol.h). -1 with a message for a name the
 * guest does not have. */
int vm_console_dev(struct store *st, const char *dom, const char *devname, int in_fd, int out_fd,
                   unsigned flags);
/* The relay alone, on an already connected console socket. */
int vm_console_relay(int sock, int in_fd, int out_fd);

#endif
