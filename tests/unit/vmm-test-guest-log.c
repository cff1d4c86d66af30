/* A guest cannot fill vmm.log: what it makes the VMM say goes through the
 * rate limit of guest_log(). A driver that breaks its virtio device and
 * resets it 100,000 times gets a burst of NEEDS_RESET messages, not one
 * per round; any number of different complaints together stay under the
 * process-wide byte budget. stderr (vmm.log in tvm-vmm) goes to a file
 * here and is measured.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
#define BUF_GPA 0x20000

static char log_path[64];
static int saved_stderr = -1;

/* stderr into a fresh file; returns its size so far when called again. */
static void capture_start(void)
{
    snprintf(log_path, sizeof log_path, "/tmp/vmm-guest-log-XXXXXX");
    int fd = mkstemp(log_path);
    assert_true(fd >= 0);
    fflush(stderr);
    saved_stderr = dup(2);
    assert_true(saved_stderr >= 0);
    assert_int_equal(dup2(fd, 2), 2);
    close(fd);
}

static off_t capture_end(void)
{
    fflush(stderr);
    struct stat st;
    assert_int_equal(fstat(2, &st), 0);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    unlink(log_path);
    return st.st_size;
}

static unsigned config_irqs;

static void on_queue(void *opaque, unsigned q)
{
    (void)opaque;
    (void)q;
}

static void on_config(void *opaque)
{
    (void)opaque;
    config_irqs++;
}

static void negotiate(struct vm *vm, struct virtio_dev *d)
{
    memset(guest_ptr(vm, AVAIL_GPA, 0x2000), 0, 0x2000);
    pthread_mutex_lock(&d->lock);
    virtio_dev_set_status(d, 0);
    virtio_dev_set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    virtio_dev_set_features(d, 1, 1); /* VERSION_1 */
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_FEATURES_OK);
    d->vq[0].size = QSIZE;
    d->vq[0].desc_gpa = DESC_GPA;
    d->vq[0].avail_gpa = AVAIL_GPA;
    d->vq[0].used_gpa = USED_GPA;
    virtio_dev_queue_enable(d, 0);
    virtio_dev_set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER_OK);
    pthread_mutex_unlock(&d->lock);
}

static void test_needs_reset_flood(void **state)
{
    (void)state;
    struct vm_config cfg = {.ram_bytes = 32 << 20, .vcpus = 1};
    struct vm *vm = vm_new(&cfg);
    assert_non_null(vm);
    struct virtio_dev *dev = virtio_rng_new(vm);
    assert_non_null(dev);
    dev->transport = (struct virtio_transport){
        .signal_queue = on_queue, .signal_config = on_config, .opaque = NULL};
    const unsigned rounds = 100000;
    config_irqs = 0;
    capture_start();
    for (unsigned r = 0; r < rounds; r++) {
        negotiate(vm, dev);
        /* a chain whose next descriptor is past the table */
        guest_put_desc(vm, DESC_GPA, 0, BUF_GPA, 64, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 99);
        uint16_t one = 1;
        memcpy(guest_ptr(vm, AVAIL_GPA + 2, 2), &one, 2);
        virtio_dev_process(dev, 0);
    }
    off_t bytes = capture_end();
    /* every round broke the device ... */
    assert_int_equal(config_irqs, rounds);
    /* ... but the log got a burst, not 100,000 lines (was ~9 MB) */
    assert_true(bytes > 0);
    assert_true(bytes <= 200 * (GUEST_LOG_BURST + 2));
    virtio_dev_free(dev);
    vm_free(vm);
}

static void test_all_sites_capped(void **state)
{
    (void)state;
    static struct guest_log_site sites[20000];
    capture_start();
    for (unsigned i = 0; i < 20000; i++)
        for (unsigned k = 0; k < 3; k++)
            guest_log(&sites[i], "complaint %u of site %u, a line of some length to fill the log",
                      k, i);
    off_t bytes = capture_end();
    assert_true(bytes <= GUEST_LOG_MAX_BYTES + 256);
    assert_true(bytes >= GUEST_LOG_MAX_BYTES / 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_needs_reset_flood),
        cmocka_unit_test(test_all_sites_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
