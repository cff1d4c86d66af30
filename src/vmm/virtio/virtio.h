/* src/vmm/virtio: the virtio devices of tvm-vmm. The transport-independent
 * core (core.c) and split virtqueues (queue.c), the virtio-pci modern
 * transport (pci.c), and one file per device: blk.c, net.c, rng.c,
 * balloon.c, console.c (vconsole.h), scsi.c (its CD-ROMs in ../scsi/),
 * input.c. The board (src/vmm/board.c) creates
 * them, each from a typed config (struct virtio_*_config_in) it builds from
 * the domain; a device never sees the domain or its XML.
 *
 * May use: vmm.h (memory, I/O, interrupts, the loop, events), pci.h (the
 * transport only), console.h (console.c), control.h (balloon.c registers
 * its QMP commands), tap.h (net.c), core/base and core/image (blk.c),
 * scsi/ (scsi.c).
 *
 * A device is a private struct embedding struct virtio_dev plus one static
 * struct virtio_dev_ops. It never knows its bus: the transport fills
 * virtio_dev.transport to receive interrupts and owns the register layout.
 *
 * Threads: transport registers are written by vCPU threads; each device
 * runs one worker thread that waits on its queues' kick eventfds (written
 * by KVM through ioeventfd, or by the transport) and calls ops->queue_notify.
 * Both hold dev->lock, so a device handler never races a reset.
 *
 * A guest can keep a ring full for ever, so the worker never drains a
 * queue in one go: one kick pops at most VIRTIO_KICK_BUDGET chains
 * (virtio_dev_pop() says "empty" after that), then the lock is let go and
 * the queue kicked again. Everyone but the worker takes the lock with
 * virtio_dev_lock(), which the worker yields to before its next batch:
 * vCPUs and the main loop (QMP, console input, reset) wait for at most
 * one batch.
 */
#ifndef TVM_VMM_VIRTIO_VIRTIO_H
#define TVM_VMM_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "virtio/queue.h"

struct image_opener;
struct tap;

struct vm;
struct pci_bus;

/* Device status bits (2.1) */
#define VIRTIO_CONFIG_S_ACKNOWLEDGE 1
#define VIRTIO_CONFIG_S_DRIVER 2
#define VIRTIO_CONFIG_S_DRIVER_OK 4
#define VIRTIO_CONFIG_S_FEATURES_OK 8
#define VIRTIO_CONFIG_S_NEEDS_RESET 0x40
#define VIRTIO_CONFIG_S_FAILED 0x80

/* Transport/ring feature bits (6) */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* Device ids (5) */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
/* VIRTIO_ID_CONSOLE (3) is in vconsole.h */
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_BALLOON 5
#define VIRTIO_ID_SCSI 8
#define VIRTIO_ID_INPUT 18

#define VIRTIO_MAX_QUEUES 8
/* Chains one kick (or one io_fd wake-up) may pop. */
#define VIRTIO_KICK_BUDGET 64
#define VIRTIO_NO_VECTOR 0xFFFF

struct virtio_dev;

struct virtio_dev_ops {
    const char *name;
    uint16_t device_id;
    uint16_t pci_class; /* class code << 8 | subclass */
    /* Runs on the worker thread with dev->lock held: drain queue Q. */
    void (*queue_notify)(struct virtio_dev *dev, unsigned q);
    /* Optional: put device-specific state back (guest reset, VM reset). */
    void (*reset)(struct virtio_dev *dev);
    /* Optional: guest wrote device config bytes [off, off+len), already
     * stored in dev->config; the device acts on them and puts back any
     * field the guest may not change. Without it, writes are ignored. */
    void (*config_written)(struct virtio_dev *dev, uint32_t off, uint32_t len);
    /* Frees the device (after the worker stopped). */
    void (*destroy)(struct virtio_dev *dev);
    /* Optional: dev->io_fd is readable (or hung up); worker thread, dev->lock held. */
    void (*io_ready)(struct virtio_dev *dev);
    /* Saved state of the device's own, besides what the core and the
     * transport save (status, features, queues); dev->lock held, on the
     * main thread. A device without save cannot be saved: a save fails
     * naming it. virtio_state_none: a device with nothing of its own (its
     * config space comes from its host-side config, not from the guest). */
    int (*save)(struct virtio_dev *dev, struct vsf_out *o);
    int (*load)(struct virtio_dev *dev, struct vsf_in *in);
};

/* What a transport does for the core. */
struct virtio_transport {
    void (*signal_queue)(void *opaque, unsigned q);
    void (*signal_config)(void *opaque);
    void *opaque;
};

struct virtio_dev {
    const struct virtio_dev_ops *ops;
    struct vm *vm;
    pthread_mutex_t lock;
    pthread_cond_t lock_free; /* the worker waits here while others want the lock */
    unsigned lock_waiters;    /* threads in virtio_dev_lock(); atomic */
    unsigned budget;          /* chains the running handler may still pop */
    bool budget_spent;        /* virtio_dev_pop() stopped a handler early */
    char id[32];              /* for messages: "virtio-blk vda" */

    uint64_t host_features; /* offered: device bits | VERSION_1 | ring bits */
    uint64_t guest_features;
    uint8_t status;
    uint8_t config_generation;
    bool broken;
    unsigned num_queues;
    struct virtq vq[VIRTIO_MAX_QUEUES];
    struct virtq_elem elem; /* scratch for the worker: one request at a time */

    uint8_t *config; /* device-specific config space, config_size bytes */
    uint32_t config_size;

    struct virtio_transport transport;

    int kick_fd[VIRTIO_MAX_QUEUES]; /* eventfds: "queue q has work" */
    int stop_fd;
    /* A device's own fd (a tap) the worker polls besides the kicks while
     * io_want is set; -1 if none. The device owns and closes it. Whoever
     * changes io_want off the worker thread kicks a queue to wake it. */
    int io_fd;
    bool io_want;
    pthread_t worker;
    bool worker_running;
};

/* core.c */
/* Fills the generic part; FEATURES are the device-specific bits. */
int virtio_dev_init(struct virtio_dev *dev, struct vm *vm, const struct virtio_dev_ops *ops,
                    unsigned num_queues, uint64_t features, void *config, uint32_t config_size);
/* Starts the worker thread. */
int virtio_dev_start(struct virtio_dev *dev);
/* Stops the worker, closes fds, calls ops->destroy. NULL is fine. */
void virtio_dev_free(struct virtio_dev *dev);

/* The device lock for everyone but the worker (transports, the main
 * loop): the worker lets such a caller in before its next batch. */
void virtio_dev_lock(struct virtio_dev *dev);
void virtio_dev_unlock(struct virtio_dev *dev);

/* Called by transports with dev->lock held. */
void virtio_dev_reset(struct virtio_dev *dev);
void virtio_dev_set_status(struct virtio_dev *dev, uint8_t status);
void virtio_dev_set_features(struct virtio_dev *dev, unsigned word, uint32_t value);
void virtio_dev_queue_enable(struct virtio_dev *dev, unsigned q);
/* Wakes the worker for queue Q (any thread; no lock needed). */
void virtio_dev_kick(struct virtio_dev *dev, unsigned q);
/* What the worker does for a kick, callable directly (unit tests): takes the lock. */
void virtio_dev_process(struct virtio_dev *dev, unsigned q);
/* What the worker does when io_fd is readable, callable directly: takes the lock. */
void virtio_dev_io_process(struct virtio_dev *dev);

/* Saved state of the core (features, status, queues) and the device's
 * own (ops->save/load); the transport calls them with dev->lock held. */
struct vsf_out;
struct vsf_in;
int virtio_dev_save(struct virtio_dev *dev, struct vsf_out *o);
int virtio_dev_load(struct virtio_dev *dev, struct vsf_in *in);
int virtio_state_none_save(struct virtio_dev *dev, struct vsf_out *o);
int virtio_state_none_load(struct virtio_dev *dev, struct vsf_in *in);

/* Used by device handlers (lock held). */
/* virtq_pop(), marking the device broken on a malformed ring; 0 (as if
 * empty) once this kick's budget is spent, the worker comes back. */
int virtio_dev_pop(struct virtio_dev *dev, unsigned q, struct virtq_elem *e);
/* virtq_push() and an interrupt if the driver wants one. */
void virtio_dev_push(struct virtio_dev *dev, unsigned q, const struct virtq_elem *e,
                     uint32_t written);
/* The device cannot go on: NEEDS_RESET and a config interrupt (4.1.x / 2.1.2). */
void virtio_dev_set_broken(struct virtio_dev *dev, const char *why);
bool virtio_dev_has(const struct virtio_dev *dev, unsigned feature);

/* pci.c: the virtio-pci modern transport. Puts DEV at PCI slot SLOT
 * (1..31, from the domain's <address>). */
int virtio_pci_add(struct pci_bus *bus, struct virtio_dev *dev, int slot);

/* rng.c, blk.c */
struct virtio_dev *virtio_rng_new(struct vm *vm);
struct virtio_blk_config_in {
    const char *path;
    const char *format; /* "raw", "qcow2" or NULL (probe) */
    const char *serial; /* may be NULL */
    const char *target; /* vda ... for messages */
    bool readonly;
    bool direct; /* cache='none' */
    /* Where the chain's files come from (tvm's descriptors); NULL: open(2). */
    const struct image_opener *opener;
};
struct virtio_dev *virtio_blk_new(struct vm *vm, const struct virtio_blk_config_in *c);
/* Grows the disk named TARGET to SIZE bytes (a multiple of 512) while the
 * guest runs, and tells its driver (QMP block_resize). */
int virtio_blk_resize(const char *target, uint64_t size);
/* Internal qcow2 snapshot TAG of disk TARGET, taken or removed on the
 * image this VMM has open (it caches the image's tables, so no other
 * process may change them while it runs). The caller keeps the device
 * frozen (vm_state_save_with's hook): no request is half done. */
int virtio_blk_snapshot_create(const char *target, const char *tag, uint64_t vm_clock_nsec);
int virtio_blk_snapshot_delete(const char *target, const char *tag);
struct image;
/* An external snapshot of disk TARGET (migrate.c's transaction), in
 * three steps so that several disks switch all or none:
 * virtio_blk_overlay_open() opens the qcow2 overlay PATH from FD (taken
 * over) on top of the disk's image (image_open_overlay: it must name that
 * image and its format), *OV; nothing changes for the guest yet, and
 * image_close_top(*OV) undoes it. virtio_blk_quiesce() stops the disk's
 * queue (it holds the device lock until the switch; on failure it holds
 * nothing) and makes its image durable. virtio_blk_overlay_switch() then
 * makes OV the disk's image, the old one read-only below it (OV NULL:
 * nothing changes), and lets the queue go on. Main loop only. */
int virtio_blk_overlay_open(const char *target, const char *path, int fd, struct image **ov);
int virtio_blk_quiesce(const char *target);
void virtio_blk_overlay_switch(const char *target, struct image *ov);

/* scsi.c: a virtio-scsi host adapter and its CD-ROM drives; also serves
 * the QMP commands eject and x-tvm-change-medium (by the drive's target
 * dev). */
struct virtio_scsi_lun_in {
    const char *name; /* <target dev>: sda ... */
    const char *path; /* the medium (raw), NULL: an empty drive */
    const struct image_opener *opener; /* how to open it (tvm's descriptors), NULL: open(2) */
    unsigned target, lun;
};
struct virtio_scsi_config_in {
    unsigned index; /* <controller index> */
    const struct virtio_scsi_lun_in *luns;
    unsigned nluns;
};
struct virtio_dev *virtio_scsi_new(struct vm *vm, const struct virtio_scsi_config_in *c);
/* Puts the medium PATH (read through FD when >= 0, which is taken over)
 * into drive ID, or ejects it when PATH is NULL. FORCE overrides the
 * guest's lock. Any thread but the device's worker. */
int virtio_scsi_change_medium(const char *id, const char *path, int fd, bool force);

/* balloon.c: virtio-balloon with statistics; also serves the QMP commands
 * balloon, query-balloon, qom-get and qom-set (balloon0's properties). */
#define VIRTIO_BALLOON_MIN_BYTES (64ULL << 20) /* the smallest target `balloon` accepts */
#define VIRTIO_BALLOON_S_NR 16 /* statistics tags known (swap-in ... direct-reclaims) */
struct virtio_balloon_config_in {
    uint64_t target_bytes; /* guest size at boot (<currentMemory>); 0: all of RAM */
    unsigned stats_period; /* <stats period>: seconds between refreshes, 0: none */
    bool deflate_on_oom;   /* autodeflate='on' */
};
struct virtio_dev *virtio_balloon_new(struct vm *vm, const struct virtio_balloon_config_in *c);
struct virtio_balloon_stats {
    int64_t value[VIRTIO_BALLOON_S_NR]; /* by tag; -1: the guest did not say */
    int64_t last_update;                /* seconds since the epoch, 0: never */
};
/* The QMP commands' actions (any thread). */
int virtio_balloon_set_target(struct virtio_dev *dev, uint64_t guest_bytes);
uint64_t virtio_balloon_actual(struct virtio_dev *dev); /* guest size now, bytes */
void virtio_balloon_get_stats(struct virtio_dev *dev, struct virtio_balloon_stats *out);
unsigned virtio_balloon_period(struct virtio_dev *dev);
void virtio_balloon_set_period(struct virtio_dev *dev, unsigned seconds);

/* net.c: virtio-net on a tap (or, for tests, on any packet fd). */
struct virtio_net_config_in {
    const char *mac;    /* "52:54:00:12:34:56" */
    const char *ifname; /* <target dev>, NULL: the kernel picks vnet%d */
    const char *bridge; /* <source bridge> (type 'bridge'), else NULL */
    bool link_down;     /* <link state='down'/> */
    int fd;             /* >= 0: use this packet fd (owned) instead of a tap */
    struct tap *tap;    /* non-NULL: a tap tvm opened (tap_adopt()), taken over */
};
struct virtio_dev *virtio_net_new(struct vm *vm, const struct virtio_net_config_in *c);
/* The tap a virtio-net device uses (the kernel's vnetN when the XML named
 * none); NULL when it was handed a packet fd instead. */
const char *virtio_net_tap_name(const struct virtio_dev *dev);

/* input.c: virtio-input, a tablet, a mouse or a keyboard (<input
 * bus='virtio'>). The display (display.c) feeds it from VNC clients. */
enum virtio_input_kind { VIRTIO_INPUT_TABLET, VIRTIO_INPUT_MOUSE, VIRTIO_INPUT_KEYBOARD };
struct virtio_input_config_in {
    enum virtio_input_kind kind;
};
struct virtio_dev *virtio_input_new(struct vm *vm, const struct virtio_input_config_in *c);
/* The tablet's axes run 0..VIRTIO_INPUT_ABS_MAX over the screen, as QEMU's. */
#define VIRTIO_INPUT_ABS_MAX 32767
/* Buttons as VNC's PointerEvent mask has them (RFC 6143, 7.5.5). */
#define VIRTIO_INPUT_LEFT 1u
#define VIRTIO_INPUT_MIDDLE 2u
#define VIRTIO_INPUT_RIGHT 4u
#define VIRTIO_INPUT_WHEEL_UP 8u
#define VIRTIO_INPUT_WHEEL_DOWN 16u
#define VIRTIO_INPUT_WHEEL_LEFT 32u
#define VIRTIO_INPUT_WHEEL_RIGHT 64u
struct virtio_input_pointer {
    unsigned x, y;          /* pixels on a WIDTH x HEIGHT screen */
    unsigned width, height;
    unsigned buttons;       /* VIRTIO_INPUT_* held now */
};
/* Any thread. A tablet reports where the pointer is, a mouse how far it
 * moved since the last call; both report button changes and wheel notches.
 * Dropped while the driver is not up; a keyboard ignores it. */
void virtio_input_pointer(struct virtio_dev *dev, const struct virtio_input_pointer *p);
/* Any thread: a key (Linux code) to a keyboard. False when the device is
 * no keyboard or its driver is not up: the caller uses the i8042 then, as
 * QEMU moves keys to virtio-keyboard only while its driver runs. */
bool virtio_input_key(struct virtio_dev *dev, unsigned linux_code, bool down);

#endif
