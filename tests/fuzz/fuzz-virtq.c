/* The virtio devices and their split rings, driven by a hostile guest
 * whose every decision is read from the input: the generator of
 * tests/unit/vmm-test-fuzz.c (descriptors with addresses in the buffers,
 * at the end of RAM, in the rings, far outside; lengths, flags, next
 * links, indirect tables, avail indexes that jump, request headers, PFNs)
 * with its random number generator replaced by the input (fuzz_below), so
 * libFuzzer steers it by coverage. Seeds are that test's xorshift streams.
 *
 * The first answer picks the device: rng, blk on raw, blk on qcow2, net,
 * balloon, console, or the PCI transport (config cycles and MMIO into the
 * BARs of an rng and a balloon, with kicks processed). Each input gets a
 * fresh VM (16 MiB of guest memory, no vCPUs: no /dev/kvm needed) and
 * fresh devices and disk, so a crash reproduces from its input alone.
 *
 * Properties (as in vmm-test-fuzz): no crash, no access outside guest RAM
 * or the device's own memory (ASan); a device either completes requests or
 * marks itself NEEDS_RESET with a config interrupt; it never puts more
 * into the used ring than the driver made available; after a reset a
 * well-formed request completes (rng, console); freeing the devices and
 * the VM closes every file descriptor they opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz-util.h"

#include "core/base/err.h"
#include "core/image/image.h"
#include "pci.h"
#include "virtio/vconsole.h"
#include "virtio/virtio.h"
#include "vm.h"

#define RAM (16u << 20)
#define RINGS_GPA 0x10000u /* queue q: desc, avail, used at +q*0x3000 */
#define BUF_GPA 0x100000u  /* request buffers */
#define BUF_SPAN 0x200000u
#define MAX_ROUNDS 64 /* short runs: more inputs per second, and libFuzzer steers each */
#define DISK_BYTES (4u << 20)

enum target { T_RNG, T_BLK_RAW, T_BLK_QCOW2, T_NET, T_BALLOON, T_CONSOLE, T_PCI, T_COUNT };

struct fuzz {
    struct fuzz_in in;
    struct vm *vm;
    struct virtio_dev *dev;
    int host; /* net: the other end of the packet fd, else -1 */
    unsigned config_irqs;
    uint16_t qsize[VIRTIO_MAX_QUEUES];
    uint16_t avail_idx[VIRTIO_MAX_QUEUES];
    uint32_t offered[VIRTIO_MAX_QUEUES]; /* avail entries since the last reset */
    uint16_t good_head;
};

static char disk_raw[128], disk_qcow2[128], dir[96];

static uint64_t below(struct fuzz *f, uint64_t n)
{
    return fuzz_below(&f->in, n);
}

static uint64_t rnd(struct fuzz *f)
{
    return fuzz_u64(&f->in);
}

static void *guest_ptr(struct fuzz *f, uint64_t gpa, uint64_t len)
{
    void *p = vm_gpa_ptr(f->vm, gpa, len);
    if (!p)
        fuzz_fail("harness: %#llx+%llu is not guest RAM", (unsigned long long)gpa,
                  (unsigned long long)len);
    return p;
}

static void put_desc(struct fuzz *f, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    uint8_t *d = guest_ptr(f, table + 16 * i, 16);
    memcpy(d, &addr, 8);
    memcpy(d + 8, &len, 4);
    memcpy(d + 12, &flags, 2);
    memcpy(d + 14, &next, 2);
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

/* Reset, negotiate everything offered, queue sizes from the input, DRIVER_OK. */
static void negotiate(struct fuzz *f)
{
    struct virtio_dev *d = f->dev;
    memset(guest_ptr(f, RINGS_GPA, 0x3000u * d->num_queues), 0, 0x3000u * d->num_queues);
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
    if (d->broken)
        fuzz_fail("%s: broken right after a clean negotiation", d->id);
}

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

/* Payload at a buffer: bytes from the input, then maybe a blk header or
 * balloon PFNs (mostly real pages) over them. */
static void fill_buffer(struct fuzz *f, uint64_t gpa, uint32_t len)
{
    size_t n = len < 64 ? len : 64;
    uint8_t *p = vm_gpa_ptr(f->vm, gpa, n);
    if (!p)
        return;
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)below(f, 256);
    if (n >= 16 && below(f, 2)) {
        static const uint32_t types[] = {0, 1, 4, 8, 11, 13, 99};
        uint32_t type = types[below(f, sizeof types / sizeof types[0])];
        uint64_t sector = below(f, 3) ? below(f, DISK_BYTES / 512 + 64) : rnd(f);
        memcpy(p, &type, 4);
        memcpy(p + 8, &sector, 8);
    }
    if (n >= 32 && below(f, 2)) {
        for (size_t i = 0; i + 4 <= n; i += 4) {
            uint32_t pfn = below(f, 4) ? (uint32_t)below(f, RAM / 4096 + 16) : (uint32_t)rnd(f);
            memcpy(p + i, &pfn, 4);
        }
    }
}

/* A chain well formed as a ring (readable, then writable buffers inside
 * RAM, linked in order) with contents and sizes from the input. */
static void good_chain(struct fuzz *f, uint64_t table, unsigned n)
{
    unsigned m = (unsigned)below(f, n < 5 ? n : 5) + 1;
    unsigned nout = (unsigned)below(f, m + 1);
    bool shaped = m >= 2 && below(f, 3) != 0;
    if (shaped && (nout == 0 || nout == m))
        nout = (unsigned)below(f, m - 1) + 1;
    uint16_t head = (uint16_t)below(f, n);
    for (unsigned k = 0; k < m; k++) {
        uint16_t i = (uint16_t)((head + k) % n);
        uint32_t len = shaped && k == 0       ? 16
                       : shaped && k == m - 1 ? 1
                                              : (uint32_t)below(f, 8192) + 1;
        uint64_t addr = BUF_GPA + below(f, BUF_SPAN - len);
        uint16_t flags =
            (uint16_t)((k >= nout ? VIRTQ_DESC_F_WRITE : 0) | (k + 1 < m ? VIRTQ_DESC_F_NEXT : 0));
        put_desc(f, table, i, addr, len, flags, (uint16_t)((i + 1) % n));
        fill_buffer(f, addr, len);
    }
    f->good_head = head;
}

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
            unsigned m = (unsigned)below(f, 20) + 1;
            uint64_t ind = BUF_GPA + (below(f, BUF_SPAN / 16 - m) * 16);
            for (unsigned j = 0; j < m; j++) {
                uint32_t l = any_len(f);
                uint64_t a = any_addr(f, l);
                uint16_t fl = any_flags(f);
                if (below(f, 3))
                    fl &= (uint16_t)~VIRTQ_DESC_F_INDIRECT;
                put_desc(f, ind, j, a, l, fl, (uint16_t)below(f, m + 1));
                fill_buffer(f, a, l);
            }
            addr = below(f, 5) ? ind : addr;
            len = below(f, 5) ? m * 16 : len;
        }
        put_desc(f, table, i, addr, len, flags, next);
        fill_buffer(f, addr, len);
    }
}

static void offer(struct fuzz *f, unsigned q, bool clean)
{
    uint64_t avail = desc_gpa(q) + 0x1000;
    uint16_t size = f->qsize[q];
    unsigned count = clean ? 1 : (unsigned)below(f, 4) + 1;
    uint8_t *ring = guest_ptr(f, avail + 4, 2u * size);
    for (unsigned i = 0; i < count; i++) {
        uint16_t head = (uint16_t)(clean || below(f, 2) ? f->good_head % size
                                   : below(f, 10)       ? below(f, size)
                                                        : rnd(f));
        memcpy(ring + 2 * ((uint16_t)(f->avail_idx[q] + i) % size), &head, 2);
    }
    uint16_t step = (uint16_t)count;
    if (!clean && below(f, 25) == 0)
        step = (uint16_t)rnd(f);
    f->avail_idx[q] = (uint16_t)(f->avail_idx[q] + step);
    f->offered[q] += step;
    uint16_t flags = (uint16_t)below(f, 2);
    memcpy(guest_ptr(f, avail, 2), &flags, 2);
    memcpy(guest_ptr(f, avail + 2, 2), &f->avail_idx[q], 2);
    uint16_t used_event = (uint16_t)rnd(f);
    memcpy(guest_ptr(f, avail + 4 + 2u * size, 2), &used_event, 2);
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
            frame[i] = (uint8_t)below(f, 256);
        if (send(f->host, frame, n, MSG_DONTWAIT) < 0 && errno != EAGAIN)
            fuzz_fail("host side of the net device: %s", strerror(errno));
    }
}

static void one_round(struct fuzz *f, unsigned round)
{
    struct virtio_dev *d = f->dev;
    unsigned q = (unsigned)below(f, d->num_queues);
    uint16_t before = d->vq[q].used_idx;
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
            fuzz_fail("%s, round %u: broken without NEEDS_RESET and a config interrupt", d->id,
                      round);
        negotiate(f);
        return;
    }
    uint16_t done = (uint16_t)(d->vq[q].used_idx - before);
    if (done > f->offered[q])
        fuzz_fail("%s, round %u: %u used entries for %u offered", d->id, round, done,
                  f->offered[q]);
    f->offered[q] -= done;
}

/* After the storm, a reset and one good request on queue Q complete. */
static void expect_recovers(struct fuzz *f, unsigned q, uint32_t len, uint16_t flags)
{
    negotiate(f);
    put_desc(f, desc_gpa(q), 0, BUF_GPA, len, flags, 0);
    uint16_t zero = 0, one = 1;
    memcpy(guest_ptr(f, desc_gpa(q) + 0x1000 + 4, 2), &zero, 2);
    memcpy(guest_ptr(f, desc_gpa(q) + 0x1000 + 2, 2), &one, 2);
    virtio_dev_process(f->dev, q);
    if (f->dev->broken || f->dev->vq[q].used_idx != 1)
        fuzz_fail("%s: a good request after a reset did not complete", f->dev->id);
}

/* ---- the PCI transport ---- */

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
    default:
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

/* A driver that does it right, wherever the BARs are now (tvm's layout:
 * common config at BAR 4 + 0, notify at + 0x3000). */
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
    memset(guest_ptr(f, desc_gpa(d), 0x3000), 0, 0x3000);
    mmio_put(f, c + 0x16, 0, 2);
    mmio_put(f, c + 0x18, size, 2);
    mmio_put(f, c + 0x20, desc_gpa(d), 8);
    mmio_put(f, c + 0x28, desc_gpa(d) + 0x1000, 8);
    mmio_put(f, c + 0x30, desc_gpa(d) + 0x2000, 8);
    mmio_put(f, c + 0x1C, 1, 2);
    mmio_put(f, c + 0x14, 0x0F, 1);
    good_chain(f, desc_gpa(d), size);
    memcpy(guest_ptr(f, desc_gpa(d) + 0x1000 + 4, 2), &f->good_head, 2);
    uint16_t one = 1;
    memcpy(guest_ptr(f, desc_gpa(d) + 0x1000 + 2, 2), &one, 2);
    uint64_t noff = mmio_get(f, c + 0x1E, 2);
    mmio_put(f, c + 0x3000 + 4 * noff, 0, 2);
}

static void pci_run(struct fuzz *f)
{
    struct pci_bus *bus = pci_init(f->vm);
    if (!bus)
        fuzz_fail("pci_init: %s", err_msg());
    struct virtio_balloon_config_in bc = {.stats_period = 1};
    struct virtio_dev *devs[2] = {virtio_rng_new(f->vm), virtio_balloon_new(f->vm, &bc)};
    if (!devs[0] || !devs[1])
        fuzz_fail("devices: %s", err_msg());
    f->dev = devs[0];
    const uint8_t slots[2] = {3, 4};
    for (unsigned d = 0; d < 2; d++) {
        if (virtio_pci_add(bus, devs[d], slots[d]) < 0)
            fuzz_fail("virtio_pci_add: %s", err_msg());
        for (unsigned q = 0; q < devs[d]->num_queues; q++) {
            int fl = fcntl(devs[d]->kick_fd[q], F_GETFL);
            fcntl(devs[d]->kick_fd[q], F_SETFL, fl | O_NONBLOCK);
        }
        uint16_t cmd = PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
        cfg_cycle(f, 0x80000000u | (uint32_t)slots[d] << 11 | PCI_COMMAND, 0, &cmd, 2, true);
    }
    static const uint32_t lens[] = {1, 2, 4, 8};
    for (unsigned r = 0; r < 4 * MAX_ROUNDS && !fuzz_done(&f->in); r++) {
        uint64_t v = below(f, 4) ? below(f, 0x100) : rnd(f);
        uint32_t len = lens[below(f, 4)];
        bool write = below(f, 3) != 0;
        if (below(f, 60) == 0) {
            unsigned d = (unsigned)below(f, 2);
            pci_driver_init(f, slots[d], d);
        } else if (below(f, 4) == 0) {
            uint8_t slot = below(f, 8) ? slots[below(f, 2)] : (uint8_t)below(f, 32);
            uint32_t a = (below(f, 10) ? 0x80000000u : (uint32_t)rnd(f)) | (uint32_t)slot << 11 |
                         (uint32_t)below(f, 256);
            cfg_cycle(f, a, (unsigned)below(f, 4), &v, len > 4 ? 4 : len, write);
        } else {
            io_dispatch_mmio(f->vm, pci_addr(f, slots), (uint8_t *)&v, len, write);
        }
        for (unsigned d = 0; d < 2; d++)
            for (unsigned q = 0; q < devs[d]->num_queues; q++) {
                uint64_t n;
                if (read(devs[d]->kick_fd[q], &n, sizeof n) == sizeof n)
                    virtio_dev_process(devs[d], q);
            }
    }
    for (unsigned d = 0; d < 2; d++)
        virtio_dev_free(devs[d]);
    f->dev = NULL;
}

/* ---- one input ---- */

static void cleanup(void)
{
    unlink(disk_raw);
    unlink(disk_qcow2);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_mute_stderr();
    const char *tmp = getenv("TMPDIR");
    if (!tmp || strlen(tmp) > 60)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/fuzz-virtq-XXXXXX", tmp);
    if (!mkdtemp(dir))
        fuzz_fail("mkdtemp %s: %s", dir, strerror(errno));
    snprintf(disk_raw, sizeof disk_raw, "%s/disk.raw", dir);
    snprintf(disk_qcow2, sizeof disk_qcow2, "%s/disk.qcow2", dir);
    atexit(cleanup);
    return 0;
}

/* A fresh disk per input, so what one input wrote never steers another. */
static const char *fresh_disk(bool qcow2)
{
    if (qcow2) {
        unlink(disk_qcow2);
        if (image_create_qcow2(disk_qcow2, DISK_BYTES, 16, NULL, IMAGE_FORMAT_AUTO) < 0)
            fuzz_fail("image_create_qcow2: %s", err_msg());
        return disk_qcow2;
    }
    int fd = open(disk_raw, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ftruncate(fd, DISK_BYTES) < 0)
        fuzz_fail("%s: %s", disk_raw, strerror(errno));
    close(fd);
    return disk_raw;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz f;
    struct fuzz_fds fds_before;
    fuzz_fds_now(&fds_before);
    memset(&f, 0, sizeof f);
    f.in = (struct fuzz_in){data, size};
    f.host = -1;
    struct vm_config cfg = {.ram_bytes = RAM, .vcpus = 1};
    f.vm = vm_new(&cfg);
    if (!f.vm)
        fuzz_fail("vm_new: %s", err_msg());
    enum target t = (enum target)below(&f, T_COUNT);
    switch (t) {
    case T_RNG:
        f.dev = virtio_rng_new(f.vm);
        break;
    case T_BLK_RAW:
    case T_BLK_QCOW2: {
        bool qcow2 = t == T_BLK_QCOW2;
        struct virtio_blk_config_in c = {
            .path = fresh_disk(qcow2), .format = qcow2 ? "qcow2" : "raw", .target = "vda"};
        f.dev = virtio_blk_new(f.vm, &c);
        break;
    }
    case T_NET: {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
            fuzz_fail("socketpair: %s", strerror(errno));
        f.host = sv[1];
        struct virtio_net_config_in c = {.mac = "52:54:00:12:34:56", .fd = sv[0]};
        f.dev = virtio_net_new(f.vm, &c);
        break;
    }
    case T_BALLOON: {
        struct virtio_balloon_config_in c = {.stats_period = (unsigned)below(&f, 2)};
        f.dev = virtio_balloon_new(f.vm, &c);
        break;
    }
    case T_CONSOLE: {
        struct virtio_console_config_in c = {.con = NULL, .name = "console1"};
        f.dev = virtio_console_new(f.vm, &c);
        break;
    }
    case T_PCI:
    default:
        pci_run(&f);
        vm_free(f.vm); /* the bus, and the transports on it, belong to the VM */
        for (int fd; (fd = fuzz_fds_new(&fds_before)) >= 0;)
            fuzz_fail("PCI transport: descriptor %d left open after vm_free", fd);
        return 0;
    }
    if (!f.dev)
        fuzz_fail("device %d: %s", (int)t, err_msg());
    f.dev->transport = (struct virtio_transport){
        .signal_queue = on_queue, .signal_config = on_config, .opaque = &f};
    negotiate(&f);
    for (unsigned r = 0; r < MAX_ROUNDS && !fuzz_done(&f.in); r++)
        one_round(&f, r);
    if (t == T_RNG)
        expect_recovers(&f, 0, 64, VIRTQ_DESC_F_WRITE);
    else if (t == T_CONSOLE)
        expect_recovers(&f, 1, 64, 0);
    virtio_dev_free(f.dev);
    if (f.host >= 0)
        close(f.host);
    vm_free(f.vm);
    int fd = fuzz_fds_new(&fds_before);
    if (fd >= 0)
        fuzz_fail("device %d: descriptor %d left open after the device and VM were freed", (int)t,
                  fd);
    return 0;
}
