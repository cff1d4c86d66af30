/* Split virtqueues (virtio 1.2, section 2.7): the device side.
 *
 * The rings live in guest memory that the guest may change at any moment,
 * so every index, address and length read from them is checked before use
 * and read only once. A chain the device cannot trust (a loop, an address
 * outside guest RAM, nested indirect tables, a device-readable buffer after
 * a device-writable one ...) makes virtq_pop() fail with a message; the
 * virtio core then marks the whole device as needing a reset. Nothing here
 * knows about PCI, threads or interrupts.
 */
#ifndef TVM_VMM_VIRTIO_QUEUE_H
#define TVM_VMM_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct vm;

/* The largest queue a tvm device offers; chains are limited to it too. */
#define VIRTQ_MAX_SIZE 256

/* Descriptor flags */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
/* avail->flags / used->flags */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY 1

struct virtq {
    struct vm *vm;
    uint16_t size;  /* entries, a power of two <= VIRTQ_MAX_SIZE */
    bool ready;     /* queue_enable written with valid rings */
    bool indirect;  /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
    bool event_idx; /* VIRTIO_RING_F_EVENT_IDX negotiated */
    uint64_t desc_gpa, avail_gpa, used_gpa;
    uint16_t last_avail; /* next avail entry the device consumes */
    uint16_t used_idx;   /* our copy of used->idx */
    uint16_t signalled;  /* used_idx when the driver was last interrupted */
    bool signalled_valid;
    /* Host pointers to the rings, set by virtq_enable(). */
    uint8_t *desc, *avail, *used;
};

/* One request: device-readable buffers first (out), then device-writable (in). */
struct virtq_elem {
    uint16_t head;
    unsigned nout, nin;
    uint32_t out_len, in_len; /* total bytes of each side */
    struct iovec out[VIRTQ_MAX_SIZE];
    struct iovec in[VIRTQ_MAX_SIZE];
};

/* Forget everything (device reset); size back to MAX_SIZE. */
void virtq_reset(struct virtq *q, struct vm *vm);
/* Checks and maps the three rings; -1 with a message if they are not
 * aligned guest RAM of the right size. */
int virtq_enable(struct virtq *q);
/* 1 with *e filled, 0 if the driver has nothing new, -1 (message set) if
 * the ring or the chain is malformed. */
int virtq_pop(struct virtq *q, struct virtq_elem *e);
/* Returns a finished request with WRITTEN bytes put in its in-buffers. */
void virtq_push(struct virtq *q, const struct virtq_elem *e, uint32_t written);
/* After pushes: does the driver want an interrupt now? Also remembers that
 * it got one (event index accounting). */
bool virtq_should_signal(struct virtq *q);

/* Saved state: the queue's registers and where the device is in its
 * rings. virtq_load checks a ready queue's rings as virtq_enable does
 * (hostile file); -1 with a message naming the section. */
struct vsf_out;
struct vsf_in;
void virtq_save(const struct virtq *q, struct vsf_out *o);
int virtq_load(struct virtq *q, struct vsf_in *in);

/* Scatter/gather helpers over an element's buffers. */
/* Copies up to LEN bytes starting at byte OFF of IOV into BUF; returns bytes copied. */
size_t iov_copy_from(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t iov_copy_to(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len);
/* Builds in DST (at most MAX entries) the sub-list of SRC covering [off, off+len). */
unsigned iov_slice(const struct iovec *src, unsigned n, size_t off, size_t len, struct iovec *dst,
                   unsigned max);

#endif
