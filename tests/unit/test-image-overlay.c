/* A running disk's external snapshot in the image layer: an overlay
 * opened on top of an image that is already open (image_open_overlay),
 * the old image made durable and read-only below it. Reads fall through
 * to it for clusters the overlay does not hold, a partial write copies
 * the rest of its cluster up, the old image keeps the snapshot's content
 * and qemu-img may read it while it is open (a reader's locks only);
 * qemu-img check finds both images clean. An overlay naming another
 * file or format is refused and the disk stays writable on its image. */
#include "test-image-util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/base/err.h"
#include "core/image/image.h"

#define KiB 1024

static struct image *open_base(void)
{
    sh("rm -f base.qcow2 top.qcow2 other.qcow2");
    assert_int_equal(sh("qemu-img create -q -f qcow2 base.qcow2 1M && qemu-io -c 'write -P 17 0 "
                        "256k' base.qcow2 >/dev/null"),
                     0);
    struct image *base = image_open(tpath("base.qcow2"), IMAGE_FORMAT_QCOW2, 0);
    assert_non_null(base);
    return base;
}

static int open_rw(const char *name)
{
    int fd = open(tpath(name), O_RDWR | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

static void assert_reads(struct image *img, uint64_t off, size_t len, uint8_t v)
{
    uint8_t *buf = malloc(len);
    assert_non_null(buf);
    assert_int_equal(image_read(img, buf, off, len), 0);
    if (!all_bytes(buf, len, v))
        fail_msg("%s: [%llu, +%zu) does not read %u", image_path(img), (unsigned long long)off, len,
                 v);
    free(buf);
}

static void test_overlay_on_open_image(void **state)
{
    (void)state;
    struct image *base = open_base();
    uint8_t buf[64 * KiB];
    /* written through the open image and not flushed: the switch must make it durable */
    memset(buf, 34, sizeof buf);
    assert_int_equal(image_write(base, buf, 128 * KiB, sizeof buf), 0);
    /* the image in use for writing: qemu-img may not open it */
    assert_int_not_equal(sh("qemu-img info base.qcow2 >/dev/null 2>&1"), 0);

    assert_int_equal(
        image_create_qcow2(tpath("top.qcow2"), 0, 0, tpath("base.qcow2"), IMAGE_FORMAT_QCOW2), 0);
    struct image *top = image_open_overlay(tpath("top.qcow2"), open_rw("top.qcow2"), base, 0);
    assert_non_null(top);
    assert_int_equal(image_get_size(top), 1024 * KiB);
    assert_int_equal(image_quiesce(base), 0);
    image_set_read_only(base);
    assert_int_equal(image_write(base, buf, 0, 512), -1);
    assert_int_equal(errno, EROFS);

    /* a partial cluster: the rest of it comes up from the old image */
    memset(buf, 51, 512);
    assert_int_equal(image_write(top, buf, 1000, 512), 0);
    assert_reads(top, 0, 1000, 17);
    assert_reads(top, 1000, 512, 51);
    assert_reads(top, 1512, 256 * KiB - 1512 - 128 * KiB, 17);
    assert_reads(top, 128 * KiB, 64 * KiB, 34);
    assert_reads(top, 256 * KiB, 768 * KiB, 0);
    assert_int_equal(image_flush(top), 0);

    /* while both are open: the old image is readable by others, and holds the snapshot */
    assert_int_equal(sh("qemu-io -r -f qcow2 -c 'read -P 17 0 128k' -c 'read -P 34 128k 64k' "
                        "base.qcow2 | grep -c '^read' | grep -qx 2"),
                     0);
    assert_int_equal(sh("qemu-img info base.qcow2 >/dev/null"), 0);
    assert_int_equal(image_close(top), 0); /* closes the chain, base with it */

    assert_int_equal(sh("qemu-img check -q base.qcow2 && qemu-img check -q top.qcow2"), 0);
    assert_int_equal(sh("qemu-img info --backing-chain top.qcow2 | grep -q 'backing file format: "
                        "qcow2'"),
                     0);
    /* only the written cluster is in the overlay */
    char *map = sh_out("qemu-img map --output json top.qcow2 | grep -c '\"depth\": 0, .*\"data\": "
                       "true'");
    assert_string_equal(map, "1\n");
    free(map);
    assert_int_equal(sh("qemu-io -r -c 'read -P 51 1000 512' -c 'read -P 17 0 1000' top.qcow2 | "
                        "grep -c '^read' | grep -qx 2"),
                     0);
}

static void test_wrong_overlay_refused(void **state)
{
    (void)state;
    struct image *base = open_base();
    assert_int_equal(sh("qemu-img create -q -f qcow2 other.qcow2 1M"), 0);
    assert_int_equal(
        image_create_qcow2(tpath("top.qcow2"), 0, 0, tpath("other.qcow2"), IMAGE_FORMAT_QCOW2), 0);
    assert_null(image_open_overlay(tpath("top.qcow2"), open_rw("top.qcow2"), base, 0));
    assert_non_null(strstr(err_msg(), "not the disk's image"));
    unlink(tpath("top.qcow2"));
    assert_int_equal(
        image_create_qcow2(tpath("top.qcow2"), 0, 0, tpath("base.qcow2"), IMAGE_FORMAT_RAW), 0);
    assert_null(image_open_overlay(tpath("top.qcow2"), open_rw("top.qcow2"), base, 0));
    assert_non_null(strstr(err_msg(), "backing format is raw"));
    /* a descriptor open read-only cannot be the disk's new top */
    int ro = open(tpath("top.qcow2"), O_RDONLY | O_CLOEXEC);
    assert_null(image_open_overlay(tpath("top.qcow2"), ro, base, 0));

    /* undone with image_close_top: the image below stays open and writable */
    unlink(tpath("top.qcow2"));
    assert_int_equal(
        image_create_qcow2(tpath("top.qcow2"), 0, 0, tpath("base.qcow2"), IMAGE_FORMAT_QCOW2), 0);
    struct image *top = image_open_overlay(tpath("top.qcow2"), open_rw("top.qcow2"), base, 0);
    assert_non_null(top);
    assert_int_equal(image_close_top(top), 0);
    uint8_t buf[512];
    memset(buf, 68, sizeof buf);
    assert_int_equal(image_write(base, buf, 0, sizeof buf), 0);
    assert_reads(base, 0, 512, 68);
    assert_int_equal(image_close(base), 0);
    assert_int_equal(sh("qemu-img check -q base.qcow2"), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_overlay_on_open_image),
        cmocka_unit_test(test_wrong_overlay_refused),
    };
    return cmocka_run_group_tests(tests, tdir_setup, tdir_teardown);
}
