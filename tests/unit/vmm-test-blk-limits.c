/* virtio-blk keeps to what it advertises and to what the driver agreed:
 * - DISCARD and WRITE_ZEROES with more segments than max_discard_seg /
 *   max_write_zeroes_seg (1) are refused whole, none of them carried out;
 * - a driver that did not negotiate VIRTIO_BLK_F_FLUSH gets a write-through
 *   disk (virtio 1.2, 5.2.5: it never sends FLUSH, so every completed write
 *   must already be stable), one that did gets write-back.
 * Driven with synthetic guest memory on a raw image; fdatasync() is
 * counted by defining it here, ahead of the C library's.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "virtio/virtio.h"
#include "vm.h"
#include "vmm-guest.h"

#define QSIZE 16
#define DESC_GPA 0x10000
#define AVAIL_GPA 0x11000
#define USED_GPA 0x12000
#define HDR_GPA 0x20000
#define DATA_GPA 0x21000
#define STATUS_GPA 0x30000
#define DISK_BYTES (1u << 20)

#define F_FLUSH 9
#define F_DISCARD 13
#define F_WRITE_ZEROES 14
#define T_OUT 1
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define S_OK 0

static unsigned syncs;

int fdatasync(int fd)
{
    syncs++;
    return (int)syscall(SYS_fdatasync, fd);
}

struct h {
    struct vm *vm;
    struct virtio_dev *dev;
    char dir[64], path[96];
    uint16_t avail_idx;
};

static void negotiate(struct h *h, uint64_t features)
{
    struct virtio_dev *d = h->dev;
    memset(guest_ptr(h->vm, AVAIL_GPA, 0x2000), 0, 0x2000);
    pthread_mutex_lock(&d->lock);
    virtio_dev_set_status(d, 0);
    virtio_dev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_dev_set_features(d, 0, (uint32_t)features);
    virtio_dev_set_features(d, 1, (uint32_t)(features >> 32));
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_FEATURES_OK);
    d->vq[0].size = QSIZE;
    d->vq[0].desc_gpa = DESC_GPA;
    d->vq[0].avail_gpa = AVAIL_GPA;
    d->vq[0].used_gpa = USED_GPA;
    virtio_dev_queue_enable(d, 0);
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER_OK);
    pthread_mutex_unlock(&d->lock);
    h->avail_idx = 0;
}

static int setup(void **state)
{
    static struct h h;
    memset(&h, 0, sizeof h);
    snprintf(h.dir, sizeof h.dir, "/tmp/vmm-blk-limits-XXXXXX");
    assert_non_null(mkdtemp(h.dir));
    snprintf(h.path, sizeof h.path, "%s/disk.raw", h.dir);
    int fd = open(h.path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    uint8_t ones[4096];
    memset(ones, 0xAA, sizeof ones);
    for (unsigned off = 0; off < DISK_BYTES; off += sizeof ones)
        assert_int_equal(pwrite(fd, ones, sizeof ones, off), (ssize_t)sizeof ones);
    close(fd);
    struct vm_config cfg = {.ram_bytes = 32 << 20, .vcpus = 1};
    h.vm = vm_new(&cfg);
    assert_non_null(h.vm);
    struct virtio_blk_config_in c = {.path = h.path, .format = "raw", .target = "vda"};
    h.dev = virtio_blk_new(h.vm, &c);
    if (!h.dev)
        fail_msg("virtio_blk_new: %s", err_msg());
    *state = &h;
    return 0;
}

static int teardown(void **state)
{
    struct h *h = *state;
    virtio_dev_free(h->dev);
    vm_free(h->vm);
    unlink(h->path);
    rmdir(h->dir);
    return 0;
}

/* One request {header, LEN bytes of data at DATA_GPA, status}; returns the status. */
static uint8_t request(struct h *h, uint32_t type, uint64_t sector, uint32_t len)
{
    uint8_t hdr[16] = {0};
    memcpy(hdr, &type, 4);
    memcpy(hdr + 8, &sector, 8);
    memcpy(guest_ptr(h->vm, HDR_GPA, 16), hdr, 16);
    uint8_t *status = guest_ptr(h->vm, STATUS_GPA, 1);
    *status = 0xFF;
    guest_put_desc(h->vm, DESC_GPA, 0, HDR_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
    guest_put_desc(h->vm, DESC_GPA, 1, DATA_GPA, len, VIRTQ_DESC_F_NEXT, 2);
    guest_put_desc(h->vm, DESC_GPA, 2, STATUS_GPA, 1, VIRTQ_DESC_F_WRITE, 0);
    uint16_t *ring = guest_ptr(h->vm, AVAIL_GPA + 4, 2 * QSIZE);
    ring[h->avail_idx % QSIZE] = 0;
    h->avail_idx++;
    memcpy(guest_ptr(h->vm, AVAIL_GPA + 2, 2), &h->avail_idx, 2);
    virtio_dev_process(h->dev, 0);
    assert_int_equal(guest_used_idx(h->vm, USED_GPA), h->avail_idx);
    return *status;
}

static void put_segment(struct h *h, unsigned i, uint64_t sector, uint32_t count)
{
    uint8_t seg[16] = {0};
    memcpy(seg, &sector, 8);
    memcpy(seg + 8, &count, 4);
    memcpy(guest_ptr(h->vm, DATA_GPA + 16 * i, 16), seg, 16);
}

static bool disk_is(struct h *h, uint64_t off, uint32_t len, uint8_t byte)
{
    int fd = open(h->path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    uint8_t buf[4096];
    assert_true(len <= sizeof buf);
    assert_int_equal(pread(fd, buf, len, (off_t)off), (ssize_t)len);
    close(fd);
    for (uint32_t i = 0; i < len; i++)
        if (buf[i] != byte)
            return false;
    return true;
}

#define BASE_FEATURES                                                                              \
    ((1ULL << VIRTIO_F_VERSION_1) | (1ULL << F_DISCARD) | (1ULL << F_WRITE_ZEROES))

static void test_write_zeroes_one_segment(void **state)
{
    struct h *h = *state;
    negotiate(h, BASE_FEATURES | (1ULL << F_FLUSH));
    put_segment(h, 0, 8, 2);
    assert_int_equal(request(h, T_WRITE_ZEROES, 0, 16), S_OK);
    assert_true(disk_is(h, 8 * 512, 1024, 0));
    /* sectors 8-9 only */
    assert_true(disk_is(h, 7 * 512, 512, 0xAA));
    assert_true(disk_is(h, 10 * 512, 512, 0xAA));
}

static void test_write_zeroes_two_segments_refused(void **state)
{
    struct h *h = *state;
    negotiate(h, BASE_FEATURES | (1ULL << F_FLUSH));
    put_segment(h, 0, 0, 1);
    put_segment(h, 1, 4, 1);
    assert_int_not_equal(request(h, T_WRITE_ZEROES, 0, 32), S_OK);
    /* refused whole: neither segment was zeroed */
    assert_true(disk_is(h, 0, 512, 0xAA));
    assert_true(disk_is(h, 4 * 512, 512, 0xAA));
}

static void test_discard_many_segments_refused(void **state)
{
    struct h *h = *state;
    negotiate(h, BASE_FEATURES | (1ULL << F_FLUSH));
    for (unsigned i = 0; i < 200; i++)
        put_segment(h, i, i, 1);
    assert_int_not_equal(request(h, T_DISCARD, 0, 200 * 16), S_OK);
    assert_true(disk_is(h, 0, 4096, 0xAA));
}

static void test_write_through_without_flush(void **state)
{
    struct h *h = *state;
    negotiate(h, BASE_FEATURES);
    memset(guest_ptr(h->vm, DATA_GPA, 512), 0x55, 512);
    unsigned before = syncs;
    assert_int_equal(request(h, T_OUT, 3, 512), S_OK);
    assert_true(syncs > before);
    assert_true(disk_is(h, 3 * 512, 512, 0x55));
    /* write zeroes is a write too */
    before = syncs;
    put_segment(h, 0, 5, 1);
    assert_int_equal(request(h, T_WRITE_ZEROES, 0, 16), S_OK);
    assert_true(syncs > before);
}

static void test_write_back_with_flush(void **state)
{
    struct h *h = *state;
    negotiate(h, BASE_FEATURES | (1ULL << F_FLUSH));
    memset(guest_ptr(h->vm, DATA_GPA, 512), 0x55, 512);
    unsigned before = syncs;
    assert_int_equal(request(h, T_OUT, 3, 512), S_OK);
    assert_int_equal(syncs, before);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_write_zeroes_one_segment),      T(test_write_zeroes_two_segments_refused),
        T(test_discard_many_segments_refused), T(test_write_through_without_flush),
        T(test_write_back_with_flush),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
