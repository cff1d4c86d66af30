/* Closing a disk whose writes cannot be made durable is an error (issue
 * 10, finding 12): the guest saw those writes complete, and a clean close
 * would hide that they are lost. The failing disk is real: an ext4 file
 * system on a loop device whose backing file lives on a 1 MiB tmpfs. ext4
 * accepts the writes into the page cache (it believes it has 64 MiB); the
 * write-back to the loop device then finds the tmpfs full, and fdatasync
 * reports it. Needs root (mount, losetup); skips otherwise. Mounts happen
 * in a mount namespace of this process, so nothing shows outside it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/image/image.h"

struct failing_fs {
    char dir[64];
    char mnt[96];
    char loop[64];
};

static int sh(const char *fmt, const char *a, const char *b)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    return system(cmd);
}

static int setup(void **state)
{
    struct failing_fs *f = calloc(1, sizeof *f);
    *state = f;
    if (!f || geteuid() != 0 || system("command -v mkfs.ext4 losetup >/dev/null") != 0)
        return 0; /* the tests skip */
    static bool private_ns;
    if (!private_ns) {
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
            return 0;
        private_ns = true;
    }
    strcpy(f->dir, "/tmp/tvm-test-image-close.XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    snprintf(f->mnt, sizeof f->mnt, "%s/m", f->dir);
    if (sh("mkdir %s/t %s && mount -t tmpfs -o size=1m tmpfs %1$s/t", f->dir, f->mnt) != 0 ||
        sh("truncate -s 64M %s/t/backing && mkfs.ext4 -q -F -O ^has_journal -N 16 -m 0 "
           "-E lazy_itable_init=1,nodiscard %1$s/t/backing%s",
           f->dir, "") != 0)
        return 0;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "losetup -f --show %s/t/backing", f->dir);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(f->loop, sizeof f->loop, p)) {
        if (p)
            pclose(p);
        f->loop[0] = '\0';
        return 0;
    }
    pclose(p);
    f->loop[strcspn(f->loop, "\n")] = '\0';
    if (sh("mount -o errors=continue %s %s", f->loop, f->mnt) != 0)
        f->mnt[0] = '\0';
    return 0;
}

static int teardown(void **state)
{
    struct failing_fs *f = *state;
    if (f->dir[0]) {
        if (f->mnt[0])
            sh("umount %s%s", f->mnt, "");
        if (f->loop[0])
            sh("losetup -d %s%s", f->loop, "");
        sh("umount %s/t%s; rm -rf %1$s", f->dir, "");
    }
    free(f);
    return 0;
}

static void write_and_close(struct failing_fs *f, enum image_format fmt)
{
    if (!f->dir[0] || !f->loop[0] || !f->mnt[0])
        skip(); /* not root, or no loop device here */
    char path[160];
    snprintf(path, sizeof path, "%s/disk.%s", f->mnt, image_format_name(fmt));
    if (fmt == IMAGE_FORMAT_RAW)
        assert_int_equal(image_create_raw(path, 16 << 20), 0);
    else
        assert_int_equal(image_create_qcow2(path, 16 << 20, 0, NULL, IMAGE_FORMAT_AUTO), 0);
    struct image *img = image_open(path, fmt, 0);
    assert_non_null(img);
    static uint8_t buf[1 << 20];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)(i * 2654435761u >> 24) | 1;
    /* Accepted by the page cache: ext4 thinks it has room. */
    for (uint64_t off = 0; off < (8u << 20); off += sizeof buf)
        assert_int_equal(image_write(img, buf, off, sizeof buf), 0);
    err_clear();
    int rc = image_close(img);
    if (rc == 0)
        fail_msg("image_close reported a clean close of %s, whose writes could not be "
                 "written back",
                 path);
    assert_non_null(strstr(err_msg(), path));
    assert_non_null(strstr(err_msg(), "cannot flush the disk on close"));
}

static void test_raw_close_reports_lost_writes(void **state)
{
    write_and_close(*state, IMAGE_FORMAT_RAW);
}

static void test_qcow2_close_reports_lost_writes(void **state)
{
    write_and_close(*state, IMAGE_FORMAT_QCOW2);
}

/* The same writes on a healthy file system close cleanly. */
static void test_healthy_close_is_clean(void **state)
{
    (void)state;
    char dir[] = "/tmp/tvm-test-image-close-ok.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[96];
    snprintf(path, sizeof path, "%s/disk.qcow2", dir);
    assert_int_equal(image_create_qcow2(path, 16 << 20, 0, NULL, IMAGE_FORMAT_AUTO), 0);
    struct image *img = image_open(path, IMAGE_FORMAT_QCOW2, 0);
    assert_non_null(img);
    static uint8_t buf[1 << 20];
    memset(buf, 0x5a, sizeof buf);
    assert_int_equal(image_write(img, buf, 0, sizeof buf), 0);
    assert_int_equal(image_close(img), 0);
    sh("rm -rf %s%s", dir, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_raw_close_reports_lost_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_qcow2_close_reports_lost_writes, setup, teardown),
        cmocka_unit_test(test_healthy_close_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
