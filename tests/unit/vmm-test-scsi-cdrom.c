/* virtio-scsi and its CD-ROM drive, driven as a guest driver does: every
 * command goes through the request queue in synthetic guest memory, to a
 * drive whose medium is a real file read through the image layer.
 * - LUN addressing: lun[0] != 1, a target without drives, junk in lun[4..7]
 *   answer BAD_TARGET; a missing LUN on a target that has others is the
 *   target's (INQUIRY qualifier 3, LOGICAL UNIT NOT SUPPORTED); REPORT LUNS
 *   lists the target's drives.
 * - INQUIRY (type 5, removable), TEST UNIT READY, READ CAPACITY(10),
 *   READ(10)/(12) (the file's bytes), LBA ranges, transfer larger than the
 *   guest's buffer (OVERRUN, nothing written), READ TOC formats 0 and 1
 *   (LBA and MSF), GET CONFIGURATION's current profile, MODE SENSE(6/10)
 *   page 2Ah, an unknown opcode (ILLEGAL REQUEST), fixed-format sense.
 * - Media change from the host: eject gives UNIT ATTENTION / MEDIUM NOT
 *   PRESENT once, then NOT READY; insert gives UNIT ATTENTION / MEDIUM MAY
 *   HAVE CHANGED once, then the new medium's data; GET EVENT STATUS
 *   NOTIFICATION reports the media events; a locked tray refuses the host
 *   unless forced, and the guest's own eject (START STOP UNIT).
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/base/err.h"
#include "virtio/virtio.h"
#include "vm.h"
#include "vmm-guest.h"

#define QSIZE 16
#define QREQ 2
#define DESC_GPA 0x10000
#define AVAIL_GPA 0x11000
#define USED_GPA 0x12000
#define HDR_GPA 0x20000
#define RESP_GPA 0x21000
#define DATA_GPA 0x100000
#define BLOCKS_A 64
#define BLOCKS_B 40
#define REQ_LEN (19 + 32)
#define RESP_LEN (12 + 96)

struct h {
    struct vm *vm;
    struct virtio_dev *dev;
    char dir[64], iso_a[96], iso_b[96];
    uint16_t avail_idx;
};

struct reply {
    uint8_t response, status, key, asc, ascq;
    uint32_t sense_len, residual, used;
};

/* Block N of image A holds bytes 'A'+N, of image B 'b'. */
static void make_iso(const char *path, unsigned blocks, int base)
{
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    uint8_t blk[2048];
    for (unsigned i = 0; i < blocks; i++) {
        memset(blk, base + (int)(i % 26), sizeof blk);
        assert_int_equal(pwrite(fd, blk, sizeof blk, (off_t)i * 2048), (ssize_t)sizeof blk);
    }
    close(fd);
}

static void negotiate(struct h *h)
{
    struct virtio_dev *d = h->dev;
    memset(guest_ptr(h->vm, AVAIL_GPA, 0x2000), 0, 0x2000);
    pthread_mutex_lock(&d->lock);
    virtio_dev_set_status(d, 0);
    virtio_dev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_dev_set_features(d, 0, 0);
    virtio_dev_set_features(d, 1, 1); /* VERSION_1 */
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_FEATURES_OK);
    d->vq[QREQ].size = QSIZE;
    d->vq[QREQ].desc_gpa = DESC_GPA;
    d->vq[QREQ].avail_gpa = AVAIL_GPA;
    d->vq[QREQ].used_gpa = USED_GPA;
    virtio_dev_queue_enable(d, QREQ);
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER_OK);
    pthread_mutex_unlock(&d->lock);
    h->avail_idx = 0;
}

static int setup(void **state)
{
    static struct h h;
    memset(&h, 0, sizeof h);
    snprintf(h.dir, sizeof h.dir, "/tmp/vmm-scsi-XXXXXX");
    assert_non_null(mkdtemp(h.dir));
    snprintf(h.iso_a, sizeof h.iso_a, "%s/a.iso", h.dir);
    snprintf(h.iso_b, sizeof h.iso_b, "%s/b.iso", h.dir);
    make_iso(h.iso_a, BLOCKS_A, 'A');
    make_iso(h.iso_b, BLOCKS_B, 'a');
    struct vm_config cfg = {.ram_bytes = 32 << 20, .vcpus = 1};
    h.vm = vm_new(&cfg);
    assert_non_null(h.vm);
    static const struct virtio_scsi_lun_in luns[2] = {
        {.name = "sda", .target = 0, .lun = 0},
        {.name = "sdb", .target = 0, .lun = 1},
    };
    struct virtio_scsi_lun_in l[2] = {luns[0], luns[1]};
    l[0].path = h.iso_a;
    struct virtio_scsi_config_in c = {.index = 0, .luns = l, .nluns = 2};
    h.dev = virtio_scsi_new(h.vm, &c);
    if (!h.dev)
        fail_msg("virtio_scsi_new: %s", err_msg());
    negotiate(&h);
    *state = &h;
    return 0;
}

static int teardown(void **state)
{
    struct h *h = *state;
    virtio_dev_free(h->dev);
    vm_free(h->vm);
    unlink(h->iso_a);
    unlink(h->iso_b);
    rmdir(h->dir);
    return 0;
}

/* One command: CDB (len n) to LUN (8 bytes), DIN bytes of data-in buffer. */
static struct reply cmd_lun(struct h *h, const uint8_t *lun, const uint8_t *cdb, size_t n,
                            uint32_t din)
{
    uint8_t req[REQ_LEN] = {0};
    memcpy(req, lun, 8);
    memcpy(req + 19, cdb, n);
    memcpy(guest_ptr(h->vm, HDR_GPA, REQ_LEN), req, REQ_LEN);
    memset(guest_ptr(h->vm, RESP_GPA, RESP_LEN), 0xEE, RESP_LEN);
    if (din)
        memset(guest_ptr(h->vm, DATA_GPA, din), 0xEE, din);
    guest_put_desc(h->vm, DESC_GPA, 0, HDR_GPA, REQ_LEN, VIRTQ_DESC_F_NEXT, 1);
    guest_put_desc(h->vm, DESC_GPA, 1, RESP_GPA, RESP_LEN,
                   VIRTQ_DESC_F_WRITE | (din ? VIRTQ_DESC_F_NEXT : 0), 2);
    if (din)
        guest_put_desc(h->vm, DESC_GPA, 2, DATA_GPA, din, VIRTQ_DESC_F_WRITE, 0);
    uint16_t *ring = guest_ptr(h->vm, AVAIL_GPA + 4, 2 * QSIZE);
    ring[h->avail_idx % QSIZE] = 0;
    h->avail_idx++;
    memcpy(guest_ptr(h->vm, AVAIL_GPA + 2, 2), &h->avail_idx, 2);
    virtio_dev_process(h->dev, QREQ);
    assert_int_equal(guest_used_idx(h->vm, USED_GPA), h->avail_idx);
    assert_false(h->dev->broken);

    struct reply r = {0};
    const uint8_t *resp = guest_ptr(h->vm, RESP_GPA, RESP_LEN);
    memcpy(&r.sense_len, resp, 4);
    memcpy(&r.residual, resp + 4, 4);
    r.status = resp[10];
    r.response = resp[11];
    if (r.sense_len) {
        assert_int_equal(resp[12] & 0x7F, 0x70); /* fixed format */
        r.key = resp[12 + 2] & 0xF;
        r.asc = resp[12 + 12];
        r.ascq = resp[12 + 13];
    }
    uint32_t used_len;
    memcpy(&used_len, guest_ptr(h->vm, USED_GPA + 4 + 8 * ((h->avail_idx - 1) % QSIZE) + 4, 4), 4);
    r.used = used_len;
    return r;
}

static const uint8_t LUN0[8] = {1, 0, 0x40, 0, 0, 0, 0, 0};
static const uint8_t LUN1[8] = {1, 0, 0x40, 1, 0, 0, 0, 0};

static struct reply cmd(struct h *h, const uint8_t *cdb, size_t n, uint32_t din)
{
    return cmd_lun(h, LUN0, cdb, n, din);
}

static const uint8_t *data(struct h *h, uint32_t len)
{
    return guest_ptr(h->vm, DATA_GPA, len);
}

/* Each evaluates R (a command) once. */
#define CHECK_SENSE(r, k, a, q) check_sense((r), (k), (a), (q), __LINE__)
#define GOOD(r) check_good((r), __LINE__)

static void check_sense(struct reply r, uint8_t key, uint8_t asc, uint8_t ascq, int line)
{
    if (r.response != 0 || r.status != 2 || r.key != key || r.asc != asc || r.ascq != ascq)
        fail_msg("line %d: response %u status %u sense %x/%02x/%02x, wanted CHECK CONDITION "
                 "%x/%02x/%02x",
                 line, r.response, r.status, r.key, r.asc, r.ascq, key, asc, ascq);
}

static void check_good(struct reply r, int line)
{
    if (r.response != 0 || r.status != 0 || r.sense_len != 0)
        fail_msg("line %d: response %u status %u sense %x/%02x/%02x, wanted GOOD", line, r.response,
                 r.status, r.key, r.asc, r.ascq);
}

static void test_lun_addressing(void **state)
{
    struct h *h = *state;
    const uint8_t tur[6] = {0x00};
    const uint8_t bad_first[8] = {2, 0, 0x40, 0, 0, 0, 0, 0};
    const uint8_t other_target[8] = {1, 3, 0x40, 0, 0, 0, 0, 0};
    const uint8_t junk_tail[8] = {1, 0, 0x40, 0, 0, 0, 1, 0};
    const uint8_t peripheral0[8] = {1, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(cmd_lun(h, bad_first, tur, 6, 0).response, 3);
    assert_int_equal(cmd_lun(h, other_target, tur, 6, 0).response, 3);
    assert_int_equal(cmd_lun(h, junk_tail, tur, 6, 0).response, 3);
    GOOD(cmd_lun(h, peripheral0, tur, 6, 0));

    /* LUN 5 on target 0: the target answers for it */
    const uint8_t lun5[8] = {1, 0, 0x40, 5, 0, 0, 0, 0};
    const uint8_t inq[6] = {0x12, 0, 0, 0, 36, 0};
    struct reply r = cmd_lun(h, lun5, inq, 6, 36);
    GOOD(r);
    assert_int_equal(data(h, 1)[0], 0x7F);
    CHECK_SENSE(cmd_lun(h, lun5, tur, 6, 0), 5, 0x25, 0x00);

    const uint8_t rl[12] = {0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 0, 0};
    r = cmd_lun(h, lun5, rl, 12, 64);
    GOOD(r);
    const uint8_t *d = data(h, 24);
    assert_int_equal(d[3], 16); /* two LUNs */
    assert_int_equal(d[8 + 1], 0);
    assert_int_equal(d[16 + 1], 1);
    assert_int_equal(r.used, RESP_LEN + 24);
}

static void test_inquiry_capacity_read(void **state)
{
    struct h *h = *state;
    const uint8_t inq[6] = {0x12, 0, 0, 0, 96, 0};
    struct reply r = cmd(h, inq, 6, 96);
    GOOD(r);
    const uint8_t *d = data(h, 36);
    assert_int_equal(d[0], 0x05); /* CD/DVD */
    assert_int_equal(d[1], 0x80); /* removable */
    assert_memory_equal(d + 8, "TVM     ", 8);
    assert_int_equal(r.used, RESP_LEN + 36);
    assert_int_equal(r.residual, 96 - 36);

    const uint8_t rc[10] = {0x25};
    GOOD(cmd(h, rc, 10, 8));
    d = data(h, 8);
    assert_int_equal(d[3], BLOCKS_A - 1);
    assert_int_equal(d[6] << 8 | d[7], 2048);

    /* READ(10): blocks 3 and 4 */
    const uint8_t r10[10] = {0x28, 0, 0, 0, 0, 3, 0, 0, 2, 0};
    r = cmd(h, r10, 10, 4096);
    GOOD(r);
    d = data(h, 4096);
    assert_int_equal(d[0], 'A' + 3);
    assert_int_equal(d[2047], 'A' + 3);
    assert_int_equal(d[2048], 'A' + 4);
    assert_int_equal(r.residual, 0);
    assert_int_equal(r.used, RESP_LEN + 4096);

    /* READ(12): the last block */
    const uint8_t r12[12] = {0xA8, 0, 0, 0, 0, BLOCKS_A - 1, 0, 0, 0, 1, 0, 0};
    GOOD(cmd(h, r12, 12, 2048));
    assert_int_equal(data(h, 1)[0], 'A' + (BLOCKS_A - 1) % 26);

    /* past the end: nothing read */
    const uint8_t past[10] = {0x28, 0, 0, 0, 0, BLOCKS_A - 1, 0, 0, 2, 0};
    r = cmd(h, past, 10, 4096);
    CHECK_SENSE(r, 5, 0x21, 0x00);
    assert_int_equal(data(h, 1)[0], 0xEE);
    const uint8_t huge[12] = {0xA8, 0, 0xFF, 0xFF, 0xFF, 0xF0, 0, 0, 0, 0x20, 0, 0};
    CHECK_SENSE(cmd(h, huge, 12, 2048), 5, 0x21, 0x00);

    /* more than the guest's buffer: OVERRUN, nothing written */
    r = cmd(h, r10, 10, 2048);
    assert_int_equal(r.response, 1);
    assert_int_equal(data(h, 1)[0], 0xEE);

    const uint8_t unknown[10] = {0x2A}; /* WRITE(10) */
    CHECK_SENSE(cmd(h, unknown, 10, 0), 5, 0x20, 0x00);
    const uint8_t rs[6] = {0x03, 0, 0, 0, 18, 0};
    GOOD(cmd(h, rs, 6, 18));
    assert_int_equal(data(h, 18)[2] & 0xF, 0); /* no sense */
}

static void test_toc_config_mode(void **state)
{
    struct h *h = *state;
    const uint8_t toc0[10] = {0x43, 0, 0, 0, 0, 0, 0, 0, 100, 0};
    GOOD(cmd(h, toc0, 10, 100));
    const uint8_t *d = data(h, 20);
    assert_int_equal(d[0] << 8 | d[1], 18);
    assert_int_equal(d[2], 1);
    assert_int_equal(d[3], 1);
    assert_int_equal(d[5], 0x14); /* data track */
    assert_int_equal(d[6], 1);
    assert_int_equal(d[14], 0xAA);
    assert_int_equal(d[19], BLOCKS_A); /* lead-out LBA */
    /* MSF: lead-out at LBA 64 + 150 = 0:2:64 */
    const uint8_t toc0msf[10] = {0x43, 2, 0, 0, 0, 0, 0, 0, 100, 0};
    GOOD(cmd(h, toc0msf, 10, 100));
    d = data(h, 20);
    assert_int_equal(d[17], 0);
    assert_int_equal(d[18], 2);
    assert_int_equal(d[19], BLOCKS_A + 150 - 150);
    /* format 1, in the old place (control byte bits 7:6), as Linux sends it */
    const uint8_t toc1[10] = {0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0x40};
    GOOD(cmd(h, toc1, 10, 12));
    d = data(h, 12);
    assert_int_equal(d[1], 10);
    assert_int_equal(d[5], 0x14);
    const uint8_t toc_bad[10] = {0x43, 0, 0, 0, 0, 0, 5, 0, 100, 0};
    CHECK_SENSE(cmd(h, toc_bad, 10, 100), 5, 0x24, 0x00);

    const uint8_t gc[10] = {0x46, 0, 0, 0, 0, 0, 0, 0, 64, 0};
    GOOD(cmd(h, gc, 10, 64));
    d = data(h, 8);
    assert_int_equal(d[6] << 8 | d[7], 0x0008); /* CD-ROM */

    const uint8_t ms10[10] = {0x5A, 0, 0x2A, 0, 0, 0, 0, 0, 64, 0};
    GOOD(cmd(h, ms10, 10, 64));
    d = data(h, 30);
    assert_int_equal(d[8], 0x2A);
    assert_int_equal(d[9], 20);
    assert_int_equal(d[0] << 8 | d[1], 8 + 22 - 2);
    const uint8_t ms6[6] = {0x1A, 0, 0x3F, 0, 255, 0};
    GOOD(cmd(h, ms6, 6, 255));
    assert_int_equal(data(h, 1)[0], 4 + 12 + 22 - 1);
    const uint8_t ms_saved[10] = {0x5A, 0, 0xEA, 0, 0, 0, 0, 0, 64, 0};
    CHECK_SENSE(cmd(h, ms_saved, 10, 64), 5, 0x39, 0x00);
}

static uint8_t media_event(struct h *h, uint8_t *status)
{
    const uint8_t gesn[10] = {0x4A, 1, 0, 0, 0x10, 0, 0, 0, 8, 0};
    GOOD(cmd(h, gesn, 10, 8));
    const uint8_t *d = data(h, 8);
    assert_int_equal(d[2], 0x04);
    *status = d[5];
    return d[4];
}

static void test_media_change(void **state)
{
    struct h *h = *state;
    const uint8_t tur[6] = {0x00};
    uint8_t st;
    assert_int_equal(media_event(h, &st), 0);
    assert_int_equal(st, 2); /* present, tray closed */

    assert_int_equal(virtio_scsi_change_medium("sda", NULL, -1, false), 0);
    CHECK_SENSE(cmd(h, tur, 6, 0), 6, 0x3A, 0x00); /* once */
    CHECK_SENSE(cmd(h, tur, 6, 0), 2, 0x3A, 0x02); /* then not ready, tray open */
    assert_int_equal(media_event(h, &st), 3);      /* media removal */
    assert_int_equal(st, 1);                       /* tray open, no medium */
    const uint8_t r10[10] = {0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    CHECK_SENSE(cmd(h, r10, 10, 2048), 2, 0x3A, 0x02);
    const uint8_t gc[10] = {0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0};
    GOOD(cmd(h, gc, 10, 8));
    assert_int_equal(data(h, 8)[7], 0); /* no current profile */

    int fd = open(h->iso_b, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(virtio_scsi_change_medium("sda", h->iso_b, fd, false), 0);
    const uint8_t rs[6] = {0x03, 0, 0, 0, 18, 0};
    GOOD(cmd(h, rs, 6, 18)); /* REQUEST SENSE reports and clears it */
    const uint8_t *d = data(h, 18);
    assert_int_equal(d[2] & 0xF, 6);
    assert_int_equal(d[12], 0x28);
    GOOD(cmd(h, tur, 6, 0));
    assert_int_equal(media_event(h, &st), 2); /* new media */
    GOOD(cmd(h, r10, 10, 2048));
    assert_int_equal(data(h, 1)[0], 'a');
    const uint8_t rc[10] = {0x25};
    GOOD(cmd(h, rc, 10, 8));
    assert_int_equal(data(h, 8)[3], BLOCKS_B - 1);

    /* the guest locks the tray: the host's eject is refused, then forced */
    const uint8_t lock[6] = {0x1E, 0, 0, 0, 1, 0};
    GOOD(cmd(h, lock, 6, 0));
    assert_int_equal(virtio_scsi_change_medium("sda", NULL, -1, false), -1);
    assert_non_null(strstr(err_msg(), "locked"));
    GOOD(cmd(h, tur, 6, 0));
    assert_int_equal(media_event(h, &st), 1); /* eject requested */
    const uint8_t eject[6] = {0x1B, 0, 0, 0, 2, 0};
    CHECK_SENSE(cmd(h, eject, 6, 0), 5, 0x53, 0x02);
    assert_int_equal(virtio_scsi_change_medium("sda", NULL, -1, true), 0);
    CHECK_SENSE(cmd(h, tur, 6, 0), 6, 0x3A, 0x00);

    /* the guest's own eject and load of the tray it was given */
    fd = open(h->iso_a, O_RDONLY | O_CLOEXEC);
    assert_int_equal(virtio_scsi_change_medium("sda", h->iso_a, fd, false), 0);
    CHECK_SENSE(cmd(h, tur, 6, 0), 6, 0x28, 0x00);
    GOOD(cmd(h, eject, 6, 0));
    CHECK_SENSE(cmd(h, tur, 6, 0), 2, 0x3A, 0x02);
    const uint8_t load[6] = {0x1B, 0, 0, 0, 3, 0};
    GOOD(cmd(h, load, 6, 0));
    GOOD(cmd(h, tur, 6, 0));

    /* the empty drive on LUN 1 */
    CHECK_SENSE(cmd_lun(h, LUN1, tur, 6, 0), 2, 0x3A, 0x01);
    assert_int_equal(virtio_scsi_change_medium("sdz", NULL, -1, false), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lun_addressing),
        cmocka_unit_test(test_inquiry_capacity_read),
        cmocka_unit_test(test_toc_config_mode),
        cmocka_unit_test(test_media_change),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
