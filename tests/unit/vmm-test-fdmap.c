/* tvm opens a guest's files, tvm-vmm uses the descriptors (vmm-protocol.h,
 * "Descriptors"): image_open_files() (tvm's half) opens and locks a qcow2
 * chain, the map names the descriptors, and tvm-vmm's image layer reads
 * the disk through fdmap's opener without opening a path; what the map
 * lacks is refused, never opened by path; bad maps are refused naming the
 * line. Real files in a temporary directory. */
#include <errno.h>
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
#include "core/image/image.h"
#include "fdmap.h"

static char dir[64], base[96], top[96], map[96];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/vmm-test-fdmap-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(base, sizeof base, "%s/base.raw", dir);
    snprintf(top, sizeof top, "%s/top.qcow2", dir);
    snprintf(map, sizeof map, "%s/fds", dir);
    if (image_create_raw(base, 1 << 20) < 0 ||
        image_create_qcow2(top, 0, 16, base, IMAGE_FORMAT_RAW) < 0)
        return -1;
    struct image *b = image_open(base, IMAGE_FORMAT_RAW, 0);
    if (!b || image_write(b, "from the base", 4096, 13) < 0)
        return -1;
    return image_close(b);
}

static int teardown(void **state)
{
    (void)state;
    fdmap_finish(false);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_map(const char *text)
{
    FILE *f = fopen(map, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The files as tvm opens them, moved to descriptors 40, 41, ... as the
 * spawn moves them to 3, 4, ..., and the map tvm writes. */
static int hand_over(struct image_file *files, int n, const char *target)
{
    char text[1024] = "";
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        assert_int_equal(dup2(files[i].fd, 40 + i), 40 + i);
        close(files[i].fd);
        files[i].fd = -1;
        used += (size_t)snprintf(text + used, sizeof text - used, "%d disk %s %s\n", 40 + i, target,
                                 files[i].path);
    }
    image_files_close(files, n);
    write_map(text);
    return fdmap_load(map);
}

static void test_disk_chain_through_descriptors(void **state)
{
    (void)state;
    struct image_file files[4];
    int n = 0;
    assert_int_equal(image_open_files(top, IMAGE_FORMAT_QCOW2, 0, files, 4, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(files[0].path, top);
    assert_string_equal(files[1].path, base);
    assert_int_equal(fcntl(files[0].fd, F_GETFL) & O_ACCMODE, O_RDWR);
    assert_int_equal(fcntl(files[1].fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    assert_true(fcntl(files[0].fd, F_GETFD) & FD_CLOEXEC);
    /* tvm's locks: the disk is in use for anyone else from here on. */
    assert_null(image_open(top, IMAGE_FORMAT_QCOW2, 0));
    assert_non_null(strstr(err_msg(), "in use"));
    struct image_file again[4];
    int n2 = 0;
    assert_int_equal(image_open_files(top, IMAGE_FORMAT_QCOW2, 0, again, 4, &n2), -1);
    assert_non_null(strstr(err_msg(), "in use"));
    assert_int_equal(n2, 0);

    assert_int_equal(hand_over(files, n, "vda"), 0);
    assert_true(fdmap_loaded());
    /* tvm-vmm's half: nothing opened by path. The directory is moved away
     * first, so an open by path could not find the files. */
    char moved[96];
    snprintf(moved, sizeof moved, "%s-moved", dir);
    assert_int_equal(rename(dir, moved), 0);
    struct image_opener o = fdmap_disk_opener("vda");
    struct image *img = image_open_with(top, IMAGE_FORMAT_QCOW2, IMAGE_OPEN_DIRECT, &o);
    assert_int_equal(rename(moved, dir), 0);
    if (!img)
        fail_msg("image_open_with: %s", err_msg());
    char buf[16] = {0};
    assert_int_equal(image_read(img, buf, 4096, 13), 0);
    assert_string_equal(buf, "from the base");
    assert_int_equal(image_write(img, "top", 0, 3), 0);
    assert_int_equal(fdmap_finish(true), 2);
    /* The locks went with the descriptors: still in use. */
    assert_null(image_open(top, IMAGE_FORMAT_QCOW2, 0));
    assert_int_equal(image_close(img), 0);
    img = image_open(top, IMAGE_FORMAT_QCOW2, 0);
    assert_non_null(img);
    image_close(img);
}

static void test_missing_descriptor_is_an_error(void **state)
{
    (void)state;
    struct image_file files[4];
    int n = 0;
    assert_int_equal(image_open_files(top, IMAGE_FORMAT_QCOW2, 0, files, 4, &n), 0);
    /* Only the top: the backing file is not opened by path instead. */
    image_files_close(files + 1, n - 1);
    assert_int_equal(hand_over(files, 1, "vda"), 0);
    struct image_opener o = fdmap_disk_opener("vda");
    assert_null(image_open_with(top, IMAGE_FORMAT_QCOW2, 0, &o));
    assert_non_null(strstr(err_msg(), "tvm passed no descriptor for"));
    assert_non_null(strstr(err_msg(), "base.raw"));
    /* Another disk's descriptors are not this one's. */
    struct image_opener other = fdmap_disk_opener("vdb");
    assert_null(image_open_with(top, IMAGE_FORMAT_QCOW2, 0, &other));
    assert_int_equal(fdmap_take("kvm", NULL, NULL), -1);
    assert_non_null(strstr(err_msg(), "no descriptor for kvm"));
}

static void test_read_only_descriptor_not_written(void **state)
{
    (void)state;
    struct image_file files[4];
    int n = 0;
    assert_int_equal(image_open_files(top, IMAGE_FORMAT_QCOW2, IMAGE_OPEN_RDONLY, files, 4, &n), 0);
    assert_int_equal(fcntl(files[0].fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    assert_int_equal(hand_over(files, n, "vda"), 0);
    struct image_opener o = fdmap_disk_opener("vda");
    assert_null(image_open_with(top, IMAGE_FORMAT_QCOW2, 0, &o));
    assert_non_null(strstr(err_msg(), "passed read-only"));
}

static void test_bad_maps(void **state)
{
    (void)state;
    static const struct {
        const char *text, *why;
    } bad[] = {
        {"40 disk\n", "fds:1: expected 'FD KIND KEY PATH'"},
        {"# comment\n\n1 kvm - /dev/kvm\n", "fds:3: descriptor 1 is stdio"},
        {"200 kvm - /dev/kvm\n", "fds:1: descriptor 200 (kvm -) was not passed"},
        {"0x kvm - /dev/kvm\n", "fds:1: descriptor 0 is stdio"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_map(bad[i].text);
        assert_int_equal(fdmap_load(map), -1);
        if (!strstr(err_msg(), bad[i].why))
            fail_msg("'%s' not in '%s'", bad[i].why, err_msg());
        assert_false(fdmap_loaded());
        fdmap_finish(false);
    }
    int fd = open("/dev/null", O_RDONLY);
    assert_int_equal(dup2(fd, 50), 50);
    close(fd);
    write_map("50 kvm - /dev/kvm\n50 kernel - /boot/x\n");
    assert_int_equal(fdmap_load(map), -1);
    assert_non_null(strstr(err_msg(), "fds:2: descriptor 50 listed twice"));
    fdmap_finish(false); /* closes what the refused map listed */
    assert_int_equal(fcntl(50, F_GETFD), -1);
    /* Never passed on to a child by accident. */
    fd = open("/dev/null", O_RDONLY);
    assert_int_equal(dup2(fd, 50), 50);
    close(fd);
    write_map("50 kvm - /dev/kvm\n");
    assert_int_equal(fdmap_load(map), 0);
    assert_true(fcntl(50, F_GETFD) & FD_CLOEXEC);
    assert_int_equal(fdmap_take("kvm", NULL, NULL), 50);
    close(50);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_disk_chain_through_descriptors),
        T(test_missing_descriptor_is_an_error),
        T(test_read_only_descriptor_not_written),
        T(test_bad_maps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
