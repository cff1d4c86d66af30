/* Issue 10, finding 1: a backing file's format is never probed.
 *
 * The attack: a guest owns a raw disk and writes a qcow2 header into it that
 * names a host file as *its* backing file. If that raw file later backs an
 * overlay whose header records no backing format (qemu-img create -b without
 * -F, as older qemu-img allowed), probing would take the raw disk for qcow2,
 * follow its backing name and hand the host file to the guest. So a backing
 * file without a recorded format is refused, with a message saying how to
 * record one; and a raw image is read as raw, whatever it contains. */
#include "test-image-util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/base/err.h"
#include "core/image/image.h"

#define MiB (1024 * 1024)
#define SECRET 0x5e

/* secret.raw: the host file the guest must never see. guest.raw: the
 * guest's raw disk, holding a qcow2 header that names secret.raw. */
static void make_guest_disk(void)
{
    sh("rm -f secret.raw guest.raw top.qcow2");
    assert_int_equal(sh("qemu-img create -q -f raw secret.raw 4M && qemu-io -f raw -c 'write -P "
                        "%d 0 4M' secret.raw",
                        SECRET),
                     0);
    assert_int_equal(sh("qemu-img create -q -f qcow2 -b '%s' -F raw guest.raw 4M && truncate -s "
                        "4M guest.raw",
                        tpath("secret.raw")),
                     0);
}

/* top.qcow2 over guest.raw; with FMT AUTO the header records no format (our
 * header is 112 bytes and its first extension is the backing format: ending
 * the extensions there leaves an image as `qemu-img create -b` without -F
 * made them). */
static void make_overlay(enum image_format fmt)
{
    const char *top = tpath("top.qcow2");
    unlink(top);
    assert_int_equal(image_create_qcow2(top, 0, 16, "guest.raw", IMAGE_FORMAT_RAW), 0);
    if (fmt == IMAGE_FORMAT_AUTO)
        poke_be32(top, 112, 0);
    char *info = sh_out("qemu-img info -U top.qcow2");
    bool recorded = strstr(info, "backing file format") != NULL;
    free(info);
    assert_int_equal(recorded, fmt != IMAGE_FORMAT_AUTO);
}

static void assert_not_secret(struct image *img)
{
    uint8_t buf[4096];
    assert_int_equal(image_read(img, buf, 0, sizeof buf), 0);
    if (all_bytes(buf, sizeof buf, SECRET))
        fail_msg("the guest reads the host's secret.raw through %s", image_path(img));
}

static void refused_with_advice(struct image *img)
{
    if (img) {
        assert_not_secret(img);
        image_close(img);
        fail_msg("an overlay without a backing format was opened (backing probed)");
    }
    const char *m = err_msg();
    assert_non_null(strstr(m, "guest.raw"));
    assert_non_null(strstr(m, "no backing format"));
    assert_non_null(strstr(m, "qemu-img rebase"));
    assert_non_null(strstr(m, "-F"));
    assert_non_null(strstr(m, "<backingStore><format>"));
}

static void test_unrecorded_backing_format_refused(void **state)
{
    (void)state;
    make_guest_disk();
    make_overlay(IMAGE_FORMAT_AUTO);
    /* As tvm-vmm opens a disk with <driver type='qcow2'>, writable and read-only. */
    refused_with_advice(image_open(tpath("top.qcow2"), IMAGE_FORMAT_QCOW2, 0));
    refused_with_advice(image_open(tpath("top.qcow2"), IMAGE_FORMAT_QCOW2, IMAGE_OPEN_RDONLY));
    /* A probed top image gets no more leeway for its backing file. */
    refused_with_advice(image_open(tpath("top.qcow2"), IMAGE_FORMAT_AUTO, IMAGE_OPEN_RDONLY));
}

/* What the message advises works, and raw stays raw: the guest sees its own
 * bytes (the qcow2 header it wrote), never the file that header names. */
static void test_recorded_raw_is_never_reinterpreted(void **state)
{
    (void)state;
    make_guest_disk();
    make_overlay(IMAGE_FORMAT_AUTO);
    assert_int_equal(sh("qemu-img rebase -u -b guest.raw -F raw top.qcow2"), 0);
    struct image *img = image_open(tpath("top.qcow2"), IMAGE_FORMAT_QCOW2, IMAGE_OPEN_RDONLY);
    if (!img)
        fail_msg("open after rebase -F raw: %s", err_msg());
    struct image_info info;
    assert_int_equal(image_get_info(img, &info), 0);
    assert_int_equal(info.backing_format, IMAGE_FORMAT_RAW);
    assert_null(image_backing(image_backing(img))); /* the chain ends at the raw disk */
    uint8_t magic[4];
    assert_int_equal(image_read(img, magic, 0, 4), 0);
    assert_memory_equal(magic, "QFI\xfb", 4);
    assert_not_secret(img);
    image_close(img);

    img = image_open(tpath("guest.raw"), IMAGE_FORMAT_RAW, 0);
    if (!img)
        fail_msg("open guest.raw as raw: %s", err_msg());
    assert_null(image_backing(img));
    assert_not_secret(img);
    image_close(img);
}

/* Creating an overlay records the backing format it is given; "find out
 * now" would be the same probe, made once and then trusted for ever. */
static void test_create_needs_backing_format(void **state)
{
    (void)state;
    make_guest_disk();
    const char *top = tpath("new.qcow2");
    unlink(top);
    int rc = image_create_qcow2(top, 0, 16, "guest.raw", IMAGE_FORMAT_AUTO);
    if (rc == 0) {
        char *info = sh_out("qemu-img info -U new.qcow2");
        fail_msg("overlay created with a probed backing format:\n%s", info);
    }
    assert_non_null(strstr(err_msg(), "backing format"));
    assert_int_equal(access(top, F_OK), -1);
    assert_int_equal(image_create_qcow2(top, 0, 16, "guest.raw", IMAGE_FORMAT_RAW), 0);
    char *info = sh_out("qemu-img info -U new.qcow2");
    assert_non_null(strstr(info, "backing file format: raw"));
    free(info);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unrecorded_backing_format_refused),
        cmocka_unit_test(test_recorded_raw_is_never_reinterpreted),
        cmocka_unit_test(test_create_needs_backing_format),
    };
    return cmocka_run_group_tests(tests, tdir_setup, tdir_teardown);
}
