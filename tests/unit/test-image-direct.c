/* IMAGE_OPEN_DIRECT (cache='none'): the files really carry O_DIRECT (read
 * back from /proc/self/fdinfo), requests with unaligned buffers, offsets and
 * lengths land exactly where asked, and QEMU's tools agree: `qemu-img compare`
 * against a reference written with plain buffered I/O, `qemu-img check` for
 * qcow2. The files live under the working directory (the build tree), not
 * /tmp, which may be tmpfs — and tmpfs, which refuses O_DIRECT, is where the
 * buffered fallback is tested. */
#include "test-image-util.h"

#include <dirent.h>
#include <sys/statfs.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/base/err.h"
#include "core/image/image.h"

#define KiB 1024u
#define MiB (1024u * 1024u)
#define TMPFS_MAGIC_NUMBER 0x01021994

static bool direct_refused; /* the test directory's filesystem refuses O_DIRECT */

static int setup(void **state)
{
    (void)state;
    char cwd[200];
    if (!getcwd(cwd, sizeof(cwd)))
        return -1;
    snprintf(tdir, sizeof(tdir), "%s/tvm-image-direct-XXXXXX", cwd);
    if (!mkdtemp(tdir))
        return -1;
    int fd = open(tpath("probe"), O_RDWR | O_CREAT | O_DIRECT, 0644);
    direct_refused = fd < 0 && errno == EINVAL;
    if (fd >= 0)
        close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tdir_remove();
    return 0;
}

static void need_direct(void)
{
    if (direct_refused) {
        print_message("SKIP: the filesystem of %s refuses O_DIRECT\n", tdir);
        skip();
    }
}

/* The fdinfo flags of the open file whose link is PATH, or -1 if none. */
static long open_flags_of(const char *path)
{
    char want[PATH_MAX];
    if (!realpath(path, want))
        return -1;
    DIR *d = opendir("/proc/self/fd");
    long flags = -1;
    struct dirent *e;
    while (d && flags < 0 && (e = readdir(d))) {
        char link[300], target[PATH_MAX];
        snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
        ssize_t n = readlink(link, target, sizeof(target) - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strcmp(target, want) != 0)
            continue;
        char info[300], line[128];
        snprintf(info, sizeof(info), "/proc/self/fdinfo/%s", e->d_name);
        FILE *f = fopen(info, "r");
        while (f && fgets(line, sizeof(line), f))
            if (sscanf(line, "flags: %lo", &flags) == 1)
                break;
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return flags;
}

static void assert_direct(const char *path, bool want)
{
    long flags = open_flags_of(path);
    if (flags < 0)
        fail_msg("%s is not open", path);
    if (!!(flags & O_DIRECT) != want)
        fail_msg("%s: flags 0%lo, O_DIRECT expected %s", path, flags, want ? "set" : "clear");
}

static struct image *open_direct(const char *path)
{
    struct image *img = image_open(path, IMAGE_FORMAT_AUTO, IMAGE_OPEN_DIRECT);
    if (!img)
        fail_msg("image_open %s: %s", path, err_msg());
    return img;
}

static uint32_t rng_state = 12345;
static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 1103515245u + 12345u;
    return (rng_state >> 8) % n;
}

/* Writes pieces of odd size at odd offsets from odd buffer addresses (plus a
 * few aligned ones, the fast path) to IMG and the same bytes to REF with
 * buffered pwrite, then reads random odd ranges back through IMG and checks
 * them against REF's bytes. */
static void scribble(struct image *img, const char *ref, uint64_t size, int rounds)
{
    uint8_t *buf = NULL, *got = malloc(300 * KiB + 64), *want = malloc(300 * KiB);
    assert_int_equal(posix_memalign((void **)&buf, 4096, 320 * KiB), 0);
    for (int i = 0; i < rounds; i++) {
        bool aligned = i % 5 == 0;
        size_t len = aligned ? 4096 * (1 + rnd(70)) : 1 + rnd(i % 3 ? 9000 : 300 * KiB);
        uint64_t off = rnd((uint32_t)(size - len));
        if (aligned)
            off &= ~4095ull;
        uint8_t *p = aligned ? buf : buf + 1 + rnd(63);
        fill_pattern(p, len, off, (uint32_t)i);
        if (image_write(img, p, off, len) < 0)
            fail_msg("write %zu at %llu: %s", len, (unsigned long long)off, err_msg());
        raw_pwrite(ref, p, len, off);
    }
    for (int i = 0; i < rounds; i++) {
        size_t len = 1 + rnd(i % 2 ? 5000 : 300 * KiB);
        uint64_t off = i == 0 ? size - len : rnd((uint32_t)(size - len));
        uint8_t *p = got + rnd(64);
        if (image_read(img, p, off, len) < 0)
            fail_msg("read %zu at %llu: %s", len, (unsigned long long)off, err_msg());
        file_peek(ref, off, want, len);
        if (memcmp(p, want, len) != 0)
            fail_msg("read %zu at %llu differs from what was written", len,
                     (unsigned long long)off);
    }
    free(buf);
    free(got);
    free(want);
}

static void sh_ok(const char *cmd)
{
    int rc = sh("%s", cmd);
    if (rc != 0) {
        char *log = sh_out("tail -20 log");
        fail_msg("`%s` exited %d:\n%s", cmd, rc, log);
    }
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

/* A raw disk whose size is not a multiple of the block: the partial last
 * block is written through and the file does not grow past the disk. */
static void test_raw_unaligned(void **state)
{
    (void)state;
    need_direct();
    const uint64_t size = 5 * MiB + 1536;
    sh_ok("rm -f d.raw ref.raw && truncate -s 5244416 d.raw && truncate -s 5244416 ref.raw");
    struct image *img = open_direct(tpath("d.raw"));
    struct image_info info;
    assert_int_equal(image_get_info(img, &info), 0);
    assert_true(info.direct);
    assert_direct(tpath("d.raw"), true);
    scribble(img, tpath("ref.raw"), size, 60);
    /* The very last bytes, through the partial block at the end. */
    uint8_t tail[700];
    fill_pattern(tail, sizeof(tail), size - sizeof(tail), 99);
    assert_int_equal(image_write(img, tail + 0, size - sizeof(tail), sizeof(tail)), 0);
    raw_pwrite(tpath("ref.raw"), tail, sizeof(tail), size - sizeof(tail));
    assert_int_equal(image_flush(img), 0);
    image_close(img);
    assert_true(file_size(tpath("d.raw")) == size);
    sh_ok("qemu-img compare -f raw -F raw d.raw ref.raw");
}

/* qcow2 over a raw backing file, with clusters smaller (512 B) and larger
 * (64 KiB) than the O_DIRECT block: the metadata and the copy-on-write
 * from the backing file stay exact. */
static void qcow2_case(unsigned cluster)
{
    need_direct();
    const uint64_t size = 24 * MiB;
    sh_ok("rm -f base.raw top.qcow2 ref.raw");
    sh_ok("qemu-img create -q -f raw base.raw 24M && "
          "qemu-io -f raw -c 'write -P 0x5a 0 24M' base.raw >/dev/null");
    char cmd[300];
    snprintf(cmd, sizeof(cmd),
             "qemu-img create -q -f qcow2 -o cluster_size=%u -b base.raw -F raw top.qcow2 && "
             "cp base.raw ref.raw",
             cluster);
    sh_ok(cmd);
    char *base_sum = file_sum(tpath("base.raw"));
    struct image *img = open_direct(tpath("top.qcow2"));
    assert_direct(tpath("top.qcow2"), true);
    assert_direct(tpath("base.raw"), true);
    scribble(img, tpath("ref.raw"), size, 80);
    assert_int_equal(image_discard(img, 3 * MiB, 2 * MiB), 0);
    assert_int_equal(image_write_zeroes(img, 7 * MiB + 4096, 128 * KiB), 0);
    sh_ok("qemu-io -f raw -c 'write -z 3M 2M' -c 'write -z 7344128 128K' ref.raw >/dev/null");
    assert_int_equal(image_flush(img), 0);
    image_close(img);
    sh_ok("qemu-img check -q top.qcow2");
    sh_ok("qemu-img compare -f qcow2 -F raw top.qcow2 ref.raw");
    char *base_after = file_sum(tpath("base.raw"));
    assert_string_equal(base_sum, base_after);
    free(base_sum);
    free(base_after);
    /* And this layer reads what it wrote after a fresh open. */
    img = open_direct(tpath("top.qcow2"));
    uint8_t *a = malloc(MiB), *b = malloc(MiB);
    for (uint64_t off = 1; off < size; off += MiB + 333) {
        size_t len = off + MiB <= size ? MiB : (size_t)(size - off);
        assert_int_equal(image_read(img, a, off, len), 0);
        file_peek(tpath("ref.raw"), off, b, len);
        assert_memory_equal(a, b, len);
    }
    free(a);
    free(b);
    image_close(img);
}

static void test_qcow2_small_clusters(void **state)
{
    (void)state;
    qcow2_case(512);
}

static void test_qcow2_64k_clusters(void **state)
{
    (void)state;
    qcow2_case(64 * KiB);
}

/* An image created by this layer and opened direct from the start. */
static void test_qcow2_created_here(void **state)
{
    (void)state;
    need_direct();
    sh_ok("rm -f new.qcow2 ref.raw && truncate -s 8M ref.raw");
    assert_int_equal(image_create_qcow2(tpath("new.qcow2"), 8 * MiB, 16, NULL, IMAGE_FORMAT_AUTO),
                     0);
    struct image *img = open_direct(tpath("new.qcow2"));
    scribble(img, tpath("ref.raw"), 8 * MiB, 40);
    image_close(img);
    sh_ok("qemu-img check -q new.qcow2");
    sh_ok("qemu-img compare -f qcow2 -F raw new.qcow2 ref.raw");
}

/* tmpfs before Linux 6.6 refuses O_DIRECT at open: the image still opens,
 * buffered, and says so. A newer tmpfs takes O_DIRECT, and then it must be
 * used there too. */
static void test_tmpfs(void **state)
{
    (void)state;
    struct statfs fs;
    if (statfs("/dev/shm", &fs) < 0 || fs.f_type != TMPFS_MAGIC_NUMBER) {
        print_message("SKIP: no tmpfs at /dev/shm to try the fallback on\n");
        skip();
    }
    char path[64];
    snprintf(path, sizeof(path), "/dev/shm/tvm-direct-%d.raw", (int)getpid());
    unlink(path);
    assert_int_equal(image_create_raw(path, MiB), 0);
    int fd = open(path, O_RDWR | O_DIRECT);
    bool refused = fd < 0 && errno == EINVAL;
    if (fd >= 0)
        close(fd);
    print_message("tmpfs %s O_DIRECT: expecting %s I/O\n", refused ? "refuses" : "accepts",
                  refused ? "buffered" : "direct");
    struct image *img = image_open(path, IMAGE_FORMAT_RAW, IMAGE_OPEN_DIRECT);
    if (!img)
        fail_msg("image_open %s: %s", path, err_msg());
    struct image_info info;
    assert_int_equal(image_get_info(img, &info), 0);
    assert_int_equal(info.direct, !refused);
    assert_direct(path, !refused);
    uint8_t in[1000], out[1000];
    fill_pattern(in, sizeof(in), 77, 1);
    assert_int_equal(image_write(img, in, 77, sizeof(in)), 0);
    assert_int_equal(image_read(img, out, 77, sizeof(out)), 0);
    assert_memory_equal(in, out, sizeof(in));
    image_close(img);
    file_peek(path, 77, out, sizeof(out));
    assert_memory_equal(in, out, sizeof(in));
    unlink(path);
}

/* Without the flag nothing changes: no O_DIRECT. */
static void test_buffered_by_default(void **state)
{
    (void)state;
    sh_ok("rm -f plain.raw && truncate -s 1M plain.raw");
    struct image *img = image_open(tpath("plain.raw"), IMAGE_FORMAT_RAW, 0);
    assert_non_null(img);
    struct image_info info;
    assert_int_equal(image_get_info(img, &info), 0);
    assert_false(info.direct);
    assert_direct(tpath("plain.raw"), false);
    image_close(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_unaligned),
        cmocka_unit_test(test_qcow2_small_clusters),
        cmocka_unit_test(test_qcow2_64k_clusters),
        cmocka_unit_test(test_qcow2_created_here),
        cmocka_unit_test(test_tmpfs),
        cmocka_unit_test(test_buffered_by_default),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
