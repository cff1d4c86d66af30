/* Hostile drivers: every virtio device (rng, blk on raw and qcow2, net,
 * balloon, console) is negotiated and then fed thousands of random rings
 * from a seeded generator — descriptors with random addresses (inside the
 * buffers, at the very end of guest RAM, in the rings themselves, far
 * outside), lengths, flags and next links, indirect tables, avail indexes
 * that jump, request headers of random types and sectors, PFNs anywhere.
 *
 * What must hold, whatever the guest wrote:
 *  - the VMM survives, and (under ASan, as in CI) never touches host memory
 *    outside guest RAM;
 *  - a device either completes requests or marks itself NEEDS_RESET with a
 *    config interrupt; it never puts more into the used ring than the
 *    driver made available;
 *  - a reset brings it back, and a well-formed request then completes.
 * The generator must reach both outcomes for each device, or the test says
 * the fuzzing has gone blind. A failure prints the seed and round.
 *
 * The transport gets the same treatment: random config cycles (0xCF8/0xCFC
 * and ECAM, BARs moved anywhere), random MMIO into every BAR (common
 * config with out-of-range queue selects and sizes, notify, ISR, device
 * config, MSI-X table and PBA) and around them, with the devices' queues
 * processed whenever a kick arrives.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "core/image/image.h"
#include "pci.h"
#include "virtio/vconsole.h"
#include "virtio/virtio.h"
#include "vm.h"
#include "vmm-guest.h"

#define RAM (16u << 20)
#define RINGS_GPA 0x10000u /* queue q: desc, avail, used at +q*0x3000 */
#define BUF_GPA 0x100000u  /* request buffers */
#define BUF_SPAN 0x200000u
#define ROUNDS 4000
#define DISK_BYTES (4u << 20)

struct fuzz {
    struct vm *vm;
    struct virtio_dev *dev;
    int host; /* net: the other end of the packet fd, else -1 */
    uint64_t rng;
    unsigned config_irqs;
    uint16_t qsize[VIRTIO_MAX_QUEUES];
    uint16_t avail_idx[VIRTIO_MAX_QUEUES];
    uint32_t offered[VIRTIO_MAX_QUEUES]; /* avail entries since the last reset */
    unsigned completed, breaks;
    uint16_t good_head; /* head of the last well-formed chain written */
};

/* The devices say why they gave up on every malformed ring (fprintf to
 * stderr): thousands of lines. Muted while the generator runs by pointing
 * the stderr stream elsewhere; file descriptor 2 stays, so a sanitizer's
 * report still reaches the test log. Back for a failure. */
static FILE *saved_stderr;

static void mute(void)
{
    FILE *null = fopen("/dev/null", "we");
    assert_non_null(null);
    fflush(stderr);
    saved_stderr = stderr;
    stderr = null;
}

static void unmute(void)
{
    if (!saved_stderr)
        return;
    fclose(stderr);
    stderr = saved_stderr;
    saved_stderr = NULL;
}

#define FUZZ_FAIL(...)                                                                             \
    do {                                                                                           \
        unmute();                                                                                  \
        fail_msg(__VA_ARGS__);                                                                     \
    } while (0)

static uint64_t rnd(struct fuzz *f)
{
    f->rng ^= f->rng << 13;
    f->rng ^= f->rng >> 7;
    f->rng ^= f->rng << 17;
    return f->rng;
}

static uint64_t below(struct fuzz *f, uint64_t n)
{
    return n ? rnd(f) % n : 0;
}

static void on_queue(void *opaque, unsigned q)
{
    (void)opaque;
    (void)q;
}

static void on_config(void *opaque)
{
    struct fuzz *f = opaque;
    f->config_irqs++;
}

static uint64_t desc_gpa(unsigned q)
{
    return RINGS_GPA + q * 0x3000u;
}

/* The device's own count: a driver may aim writable buffers at the used
 * ring itself, so what guest memory says is not evidence. */
static uint16_t used_idx(struct fuzz *f, unsigned q)
{
    return f->dev->vq[q].used_idx;
}

/* Reset, negotiate everything offered, random queue sizes, DRIVER_OK. */
static void negotiate(struct fuzz *f)
{
    struct virtio_dev *d = f->dev;
    memset(guest_ptr(f->vm, RINGS_GPA, 0x3000u * d->num_queues), 0, 0x3000u * d->num_queues);
    pthread_mutex_lock(&d->lock);
    virtio_dev_set_status(d, 0);
    virtio_dev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_dev_set_features(d, 0, (uint32_t)d->host_features);
    virtio_dev_set_features(d, 1, (uint32_t)(d->host_features >> 32));
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_FEATURES_OK);
    static const uint16_t sizes[] = {1, 2, 4, 16, 64, 256};
    for (unsigned q = 0; q < d->num_queues; q++) {
        f->qsize[q] = sizes[below(f, sizeof sizes / sizeof sizes[0])];
        f->avail_idx[q] = 0;
        f->offered[q] = 0;
        d->vq[q].size = f->qsize[q];
        d->vq[q].desc_gpa = desc_gpa(q);
        d->vq[q].avail_gpa = desc_gpa(q) + 0x1000;
        d->vq[q].used_gpa = desc_gpa(q) + 0x2000;
        virtio_dev_queue_enable(d, q);
    }
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER_OK);
    pthread_mutex_unlock(&d->lock);
    assert_false(d->broken);
}

/* An address a hostile driver might hand over. */
static uint64_t any_addr(struct fuzz *f, uint32_t len)
{
    switch (below(f, 10)) {
    case 0:
        return RAM - below(f, (uint64_t)len + 64); /* straddles the end of RAM */
    case 1:
        return rnd(f); /* anywhere */
    case 2:
        return RINGS_GPA + below(f, 0x3000u * f->dev->num_queues); /* the rings */
    case 3:
        return RAM + below(f, 1u << 20);
    default:
        return BUF_GPA + below(f, BUF_SPAN);
    }
}

static uint32_t any_len(struct fuzz *f)
{
    switch (below(f, 10)) {
    case 0:
        return (uint32_t)rnd(f);
    case 1:
        return (uint32_t)below(f, 2u << 20);
    case 2:
        return 0;
    default:
        return (uint32_t)below(f, 4096) + 1;
    }
}

static uint16_t any_flags(struct fuzz *f)
{
    uint16_t fl = 0;
    if (below(f, 2))
        fl |= VIRTQ_DESC_F_NEXT;
    if (below(f, 2))
        fl |= VIRTQ_DESC_F_WRITE;
    if (below(f, 12) == 0)
        fl |= VIRTQ_DESC_F_INDIRECT;
    if (below(f, 30) == 0)
        fl |= (uint16_t)rnd(f);
    return fl;
}

/* Plausible payload at a buffer: a blk header, PFNs, a net header. */
static void fill_buffer(struct fuzz *f, uint64_t gpa, uint32_t len)
{
    uint8_t *p = vm_gpa_ptr(f->vm, gpa, len < 64 ? len : 64);
    if (!p)
        return;
    size_t n = len < 64 ? len : 64;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)rnd(f);
    if (n >= 16 && below(f, 2)) {
        static const uint32_t types[] = {0, 1, 4, 8, 11, 13, 99};
        uint32_t type = types[below(f, sizeof types / sizeof types[0])];
        uint64_t sector = below(f, 3) ? below(f, DISK_BYTES / 512 + 64) : rnd(f);
        memcpy(p, &type, 4);
        memcpy(p + 8, &sector, 8);
    }
    if (n >= 32 && below(f, 2)) { /* balloon: PFNs, mostly real */
        for (size_t i = 0; i + 4 <= n; i += 4) {
            uint32_t pfn = below(f, 4) ? (uint32_t)below(f, RAM / 4096 + 16) : (uint32_t)rnd(f);
            memcpy(p + i, &pfn, 4);
        }
    }
}

/* A chain that is well formed as a ring (readable buffers, then writable
 * ones, inside RAM, linked in order) with random contents and sizes, so
 * that the devices' own request parsing gets its share of the storm. */
static void good_chain(struct fuzz *f, uint64_t table, unsigned n)
{
    unsigned m = (unsigned)below(f, n < 5 ? n : 5) + 1;
    unsigned nout = (unsigned)below(f, m + 1);
    /* mostly request-shaped: a 16-byte header first, a status byte last */
    bool shaped = m >= 2 && below(f, 3) != 0;
    if (shaped && (nout == 0 || nout == m))
        nout = (unsigned)below(f, m - 1) + 1;
    uint16_t head = (uint16_t)below(f, n);
    for (unsigned k = 0; k < m; k++) {
        uint16_t i = (uint16_t)((head + k) % n);
        uint32_t len = shaped && k == 0       ? 16 /* a blk header */
                       : shaped && k == m - 1 ? 1  /* a status byte */
                                              : (uint32_t)below(f, 8192) + 1;
        uint64_t addr = BUF_GPA + below(f, BUF_SPAN - len);
        uint16_t flags =
            (uint16_t)((k >= nout ? VIRTQ_DESC_F_WRITE : 0) | (k + 1 < m ? VIRTQ_DESC_F_NEXT : 0));
        guest_put_desc(f->vm, table, i, addr, len, flags, (uint16_t)((i + 1) % n));
        fill_buffer(f, addr, len);
    }
    f->good_head = head;
}

/* Scribble a few descriptors of table TABLE (N entries) of queue Q. */
static void scribble_table(struct fuzz *f, uint64_t table, unsigned n, unsigned writes)
{
    if (below(f, 2)) {
        good_chain(f, table, n);
        if (below(f, 2))
            return;
    }
    for (unsigned k = 0; k < writes; k++) {
        unsigned i = (unsigned)below(f, n);
        uint32_t len = any_len(f);
        uint64_t addr = any_addr(f, len);
        uint16_t flags = any_flags(f);
        uint16_t next = (uint16_t)(below(f, 8) ? below(f, n) : rnd(f));
        if (flags & VIRTQ_DESC_F_INDIRECT) {
            /* an indirect table in the buffer area, itself scribbled */
            unsigned m = (unsigned)below(f, 20) + 1;
            uint64_t ind = BUF_GPA + (below(f, BUF_SPAN / 16 - m) * 16);
            for (unsigned j = 0; j < m; j++) {
                uint32_t l = any_len(f);
                uint64_t a = any_addr(f, l);
                uint16_t fl = any_flags(f);
                if (below(f, 3))
                    fl &= (uint16_t)~VIRTQ_DESC_F_INDIRECT;
                guest_put_desc(f->vm, ind, j, a, l, fl, (uint16_t)below(f, m + 1));
                fill_buffer(f, a, l);
            }
            addr = below(f, 5) ? ind : addr;
            len = below(f, 5) ? m * 16 : len;
        }
        guest_put_desc(f->vm, table, i, addr, len, flags, next);
        fill_buffer(f, addr, len);
    }
}

/* Offer heads on queue Q: CLEAN, just the last good chain; else a few
 * heads, good or not, and sometimes an index that jumps. */
static void offer(struct fuzz *f, unsigned q, bool clean)
{
    uint64_t avail = desc_gpa(q) + 0x1000;
    uint16_t size = f->qsize[q];
    unsigned count = clean ? 1 : (unsigned)below(f, 4) + 1;
    uint16_t *ring = guest_ptr(f->vm, avail + 4, 2u * size);
    for (unsigned i = 0; i < count; i++) {
        uint16_t head = (uint16_t)(clean || below(f, 2) ? f->good_head % size
                                   : below(f, 10)       ? below(f, size)
                                                        : rnd(f));
        memcpy(&ring[(uint16_t)(f->avail_idx[q] + i) % size], &head, 2);
    }
    uint16_t step = (uint16_t)count;
    if (!clean && below(f, 25) == 0)
        step = (uint16_t)rnd(f); /* a driver that claims far more than the ring holds */
    f->avail_idx[q] = (uint16_t)(f->avail_idx[q] + step);
    f->offered[q] += step;
    uint16_t flags = (uint16_t)below(f, 2);
    memcpy(guest_ptr(f->vm, avail, 2), &flags, 2);
    memcpy(guest_ptr(f->vm, avail + 2, 2), &f->avail_idx[q], 2);
    uint16_t used_event = (uint16_t)rnd(f);
    memcpy(guest_ptr(f->vm, avail + 4 + 2u * size, 2), &used_event, 2);
}

static void drain_host(struct fuzz *f)
{
    if (f->host < 0)
        return;
    uint8_t frame[2048];
    while (recv(f->host, frame, sizeof frame, MSG_DONTWAIT) > 0) {
    }
    if (below(f, 3) == 0) {
        size_t n = (size_t)below(f, sizeof frame) + 1;
        for (size_t i = 0; i < n; i++)
            frame[i] = (uint8_t)rnd(f);
        if (send(f->host, frame, n, MSG_DONTWAIT) < 0 && errno != EAGAIN)
            FUZZ_FAIL("host side of the net device: %s", strerror(errno));
    }
}

static void one_round(struct fuzz *f, unsigned round)
{
    struct virtio_dev *d = f->dev;
    unsigned q = (unsigned)below(f, d->num_queues);
    uint16_t before = used_idx(f, q);
    /* Half the rounds are a driver that means well (random requests in
     * well-formed chains), half a hostile one. */
    bool clean = below(f, 2);
    if (clean)
        good_chain(f, desc_gpa(q), f->qsize[q]);
    else
        scribble_table(f, desc_gpa(q), f->qsize[q], (unsigned)below(f, 6) + 1);
    offer(f, q, clean);
    drain_host(f);
    unsigned irqs = f->config_irqs;
    virtio_dev_process(d, q);
    if (d->io_fd >= 0 && d->ops->io_ready)
        virtio_dev_io_process(d);
    if (d->broken) {
        if (!(d->status & VIRTIO_CONFIG_S_NEEDS_RESET) || f->config_irqs == irqs)
            FUZZ_FAIL("%s, round %u: broken without NEEDS_RESET and a config interrupt", d->id,
                      round);
        f->breaks++;
        negotiate(f);
        return;
    }
    uint16_t after = used_idx(f, q);
    uint16_t done = (uint16_t)(after - before);
    if (done > f->offered[q])
        FUZZ_FAIL("%s, round %u: %u used entries for %u offered", d->id, round, done,
                  f->offered[q]);
    f->offered[q] -= done;
    f->completed += done;
}

/* After the storm, a reset and one good request on queue Q complete. */
static void expect_recovers(struct fuzz *f, unsigned q, uint32_t len, uint16_t flags)
{
    negotiate(f);
    guest_put_desc(f->vm, desc_gpa(q), 0, BUF_GPA, len, flags, 0);
    uint16_t *ring = guest_ptr(f->vm, desc_gpa(q) + 0x1000 + 4, 2);
    *ring = 0;
    uint16_t one = 1;
    memcpy(guest_ptr(f->vm, desc_gpa(q) + 0x1000 + 2, 2), &one, 2);
    virtio_dev_process(f->dev, q);
    assert_false(f->dev->broken);
    assert_int_equal(used_idx(f, q), 1);
}

static void run(struct fuzz *f, uint64_t seed)
{
    f->rng = seed * 0x9E3779B97F4A7C15ull | 1;
    f->dev->transport = (struct virtio_transport){
        .signal_queue = on_queue, .signal_config = on_config, .opaque = f};
    negotiate(f);
    if (!getenv("FUZZ_LOUD")) /* FUZZ_LOUD=1: see what the devices said */
        mute();
    for (unsigned r = 0; r < ROUNDS; r++)
        one_round(f, r);
    unmute();
    print_message("%s: seed %llu, %u rounds: %u requests completed, %u resets\n", f->dev->id,
                  (unsigned long long)seed, ROUNDS, f->completed, f->breaks);
    if (f->completed == 0 || f->breaks == 0)
        fail_msg("%s: the generator reached only one outcome", f->dev->id);
}

static struct fuzz *fuzz_new(void)
{
    static struct fuzz f;
    memset(&f, 0, sizeof f);
    f.host = -1;
    struct vm_config cfg = {.ram_bytes = RAM, .vcpus = 1};
    f.vm = vm_new(&cfg);
    if (!f.vm)
        fail_msg("vm_new: %s", err_msg());
    return &f;
}

static void fuzz_free(struct fuzz *f)
{
    virtio_dev_free(f->dev);
    if (f->host >= 0)
        close(f->host);
    vm_free(f->vm);
}

static void check_dev(struct fuzz *f, const char *what)
{
    if (!f->dev)
        fail_msg("%s: %s", what, err_msg());
}

static void test_rng(void **state)
{
    (void)state;
    struct fuzz *f = fuzz_new();
    f->dev = virtio_rng_new(f->vm);
    check_dev(f, "virtio_rng_new");
    run(f, 1);
    expect_recovers(f, 0, 64, VIRTQ_DESC_F_WRITE);
    fuzz_free(f);
}

static void blk(const char *format)
{
    char path[] = "/tmp/vmm-test-fuzz-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    if (strcmp(format, "qcow2") == 0) {
        unlink(path); /* image_create_qcow2 makes the file itself */
        assert_int_equal(image_create_qcow2(path, DISK_BYTES, 16, NULL, IMAGE_FORMAT_AUTO), 0);
    } else {
        assert_int_equal(truncate(path, DISK_BYTES), 0);
    }
    struct fuzz *f = fuzz_new();
    struct virtio_blk_config_in c = {.path = path, .format = format, .target = "vda"};
    f->dev = virtio_blk_new(f->vm, &c);
    check_dev(f, "virtio_blk_new");
    run(f, strcmp(format, "qcow2") == 0 ? 3 : 2);
    fuzz_free(f);
    if (strcmp(format, "qcow2") == 0) {
        /* Whatever the guest sent, the image is still sound. */
        char cmd[128];
        snprintf(cmd, sizeof cmd, "qemu-img check -q %s", path);
        assert_int_equal(system(cmd), 0);
    }
    unlink(path);
}

static void test_blk_raw(void **state)
{
    (void)state;
    blk("raw");
}

static void test_blk_qcow2(void **state)
{
    (void)state;
    blk("qcow2");
}

static void test_net(void **state)
{
    (void)state;
    struct fuzz *f = fuzz_new();
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
    f->host = sv[1];
    struct virtio_net_config_in c = {.mac = "52:54:00:12:34:56", .fd = sv[0]};
    f->dev = virtio_net_new(f->vm, &c);
    check_dev(f, "virtio_net_new");
    run(f, 4);
    fuzz_free(f);
}

static void test_balloon(void **state)
{
    (void)state;
    struct fuzz *f = fuzz_new();
    struct virtio_balloon_config_in c = {.stats_period = 0};
    f->dev = virtio_balloon_new(f->vm, &c);
    check_dev(f, "virtio_balloon_new");
    run(f, 5);
    fuzz_free(f);
}

static void test_console(void **state)
{
    (void)state;
    struct fuzz *f = fuzz_new();
    struct virtio_console_config_in c = {.con = NULL, .name = "console1"};
    f->dev = virtio_console_new(f->vm, &c);
    check_dev(f, "virtio_console_new");
    run(f, 6);
    expect_recovers(f, 1, 64, 0); /* transmitq: output, dropped without a socket */
    fuzz_free(f);
}

/* A type-1 config cycle: ADDR to 0xCF8, then LEN bytes at 0xCFC + OFF. */
static void cfg_cycle(struct fuzz *f, uint32_t addr, unsigned off, void *data, uint32_t len,
                      bool write)
{
    io_dispatch_pio(f->vm, 0xCF8, (uint8_t *)&addr, 4, true);
    io_dispatch_pio(f->vm, (uint16_t)(0xCFC + off), data, len, write);
}

static uint32_t cfg_read32(struct fuzz *f, uint8_t slot, uint8_t reg)
{
    uint32_t v = 0;
    cfg_cycle(f, 0x80000000u | (uint32_t)slot << 11 | reg, 0, &v, 4, false);
    return v;
}

/* An address a guest might touch: inside a BAR of a device, just past it,
 * in ECAM, or anywhere in the PCI window. */
static uint64_t pci_addr(struct fuzz *f, const uint8_t *slots)
{
    uint8_t slot = slots[below(f, 2)];
    switch (below(f, 6)) {
    case 0:
        return PCI_ECAM_BASE + ((uint64_t)slot << 15) + below(f, 0x1000);
    case 1:
        return PCI_ECAM_BASE + below(f, PCI_ECAM_SIZE + 0x1000);
    case 2:
        return PCI_MMIO_BASE + below(f, PCI_MMIO_SIZE);
    default: /* a BAR as the guest last programmed it */
        return (cfg_read32(f, slot, (uint8_t)(PCI_BAR0 + 4 * below(f, 6))) & ~0xFu) +
               below(f, 0x4100);
    }
}

static void mmio_put(struct fuzz *f, uint64_t addr, uint64_t v, uint32_t len)
{
    io_dispatch_mmio(f->vm, addr, (uint8_t *)&v, len, true);
}

static uint64_t mmio_get(struct fuzz *f, uint64_t addr, uint32_t len)
{
    uint64_t v = 0;
    io_dispatch_mmio(f->vm, addr, (uint8_t *)&v, len, false);
    return v;
}

/* Now and then a driver that does it right, wherever the BARs are now: a
 * full initialisation of queue 0 (rings at desc_gpa(D)), one request and
 * a notify — so the storm also meets live queues. tvm's layout: common
 * config at BAR 4 + 0, notify at + 0x3000. */
static void pci_driver_init(struct fuzz *f, uint8_t slot, unsigned d)
{
    uint64_t c = (cfg_read32(f, slot, PCI_BAR0 + 16) & ~0xFull) |
                 (uint64_t)cfg_read32(f, slot, PCI_BAR0 + 20) << 32;
    mmio_put(f, c + 0x14, 0, 1);
    mmio_put(f, c + 0x14, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
    for (uint32_t w = 0; w < 2; w++) {
        mmio_put(f, c + 0x00, w, 4);
        uint64_t feat = mmio_get(f, c + 0x04, 4);
        mmio_put(f, c + 0x08, w, 4);
        mmio_put(f, c + 0x0C, feat, 4);
    }
    mmio_put(f, c + 0x14, 0x0B, 1);
    uint16_t size = (uint16_t)(1u << below(f, 9));
    memset(guest_ptr(f->vm, desc_gpa(d), 0x3000), 0, 0x3000);
    mmio_put(f, c + 0x16, 0, 2);
    mmio_put(f, c + 0x18, size, 2);
    mmio_put(f, c + 0x20, desc_gpa(d), 8);
    mmio_put(f, c + 0x28, desc_gpa(d) + 0x1000, 8);
    mmio_put(f, c + 0x30, desc_gpa(d) + 0x2000, 8);
    mmio_put(f, c + 0x1C, 1, 2);
    mmio_put(f, c + 0x14, 0x0F, 1);
    good_chain(f, desc_gpa(d), size);
    uint16_t *ring = guest_ptr(f->vm, desc_gpa(d) + 0x1000 + 4, 2);
    *ring = f->good_head;
    uint16_t one = 1;
    memcpy(guest_ptr(f->vm, desc_gpa(d) + 0x1000 + 2, 2), &one, 2);
    uint64_t noff = mmio_get(f, c + 0x1E, 2);
    mmio_put(f, c + 0x3000 + 4 * noff, 0, 2);
}

/* Returns how many kicks reached a device. */
static unsigned pci_storm(struct fuzz *f, struct virtio_dev **devs, const uint8_t *slots)
{
    unsigned kicks = 0;
    static const uint32_t lens[] = {1, 2, 4, 8};
    for (unsigned r = 0; r < 40000; r++) {
        uint64_t v = below(f, 4) ? below(f, 0x100) : rnd(f);
        uint32_t len = lens[below(f, 4)];
        bool write = below(f, 3) != 0;
        if (below(f, 300) == 0) {
            unsigned d = (unsigned)below(f, 2);
            pci_driver_init(f, slots[d], d);
        } else if (below(f, 4) == 0) {
            /* a config cycle: address, then data at 0xCFC..0xCFF */
            uint8_t slot = below(f, 8) ? slots[below(f, 2)] : (uint8_t)below(f, 32);
            uint32_t a = (below(f, 10) ? 0x80000000u : (uint32_t)rnd(f)) | (uint32_t)slot << 11 |
                         (uint32_t)below(f, 256);
            cfg_cycle(f, a, (unsigned)below(f, 4), &v, len > 4 ? 4 : len, write);
        } else {
            io_dispatch_mmio(f->vm, pci_addr(f, slots), (uint8_t *)&v, len, write);
        }
        /* what the worker would do for a kick */
        for (unsigned d = 0; d < 2; d++)
            for (unsigned q = 0; q < devs[d]->num_queues; q++) {
                uint64_t n;
                if (read(devs[d]->kick_fd[q], &n, sizeof n) == sizeof n) {
                    virtio_dev_process(devs[d], q);
                    kicks++;
                }
            }
    }
    return kicks;
}

static void test_pci_transport(void **state)
{
    (void)state;
    struct fuzz *f = fuzz_new();
    f->rng = 7 * 0x9E3779B97F4A7C15ull | 1;
    struct pci_bus *bus = pci_init(f->vm);
    if (!bus)
        fail_msg("pci_init: %s", err_msg());
    struct virtio_dev *devs[2] = {virtio_rng_new(f->vm), NULL};
    struct virtio_balloon_config_in bc = {.stats_period = 1};
    devs[1] = virtio_balloon_new(f->vm, &bc);
    assert_non_null(devs[0]);
    assert_non_null(devs[1]);
    uint8_t slots[2];
    for (unsigned d = 0; d < 2; d++) {
        assert_int_equal(virtio_pci_add(bus, devs[d], (int)(3 + d)), 0);
        slots[d] = (uint8_t)(3 + d);
        /* the kicks are read here, not by a worker */
        int fl = fcntl(devs[d]->kick_fd[0], F_GETFL);
        for (unsigned q = 0; q < devs[d]->num_queues; q++)
            fcntl(devs[d]->kick_fd[q], F_SETFL, fl | O_NONBLOCK);
    }
    /* memory decoding on, so that BAR accesses reach the devices */
    for (unsigned d = 0; d < 2; d++) {
        uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
        cfg_cycle(f, 0x80000000u | (uint32_t)slots[d] << 11 | PCI_COMMAND, 0, &cmd, 2, true);
    }
    mute();
    unsigned kicks = pci_storm(f, devs, slots);
    unmute();
    print_message("pci: 40000 accesses, %u kicks, device status %#x and %#x at the end\n", kicks,
                  devs[0]->status, devs[1]->status);
    assert_true(kicks > 0);
    for (unsigned d = 0; d < 2; d++)
        virtio_dev_free(devs[d]);
    vm_free(f->vm); /* the bus belongs to the VM */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rng),           cmocka_unit_test(test_blk_raw),
        cmocka_unit_test(test_blk_qcow2),     cmocka_unit_test(test_net),
        cmocka_unit_test(test_balloon),       cmocka_unit_test(test_console),
        cmocka_unit_test(test_pci_transport),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
