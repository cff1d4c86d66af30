/* The image layer against qemu-img/qemu-io as the oracle: images written by
 * QEMU read back right, images written here pass `qemu-img check` and
 * `qemu-img compare`, backing chains, zero/compressed clusters, discard,
 * snapshots, raw. */
#include "test-image-util.h"

#include <pthread.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/base/err.h"
#include "core/image/image.h"

#define MiB (1024 * 1024)

static struct image *open_ok(const char *path, unsigned flags)
{
    struct image *img = image_open(path, IMAGE_FORMAT_AUTO, flags);
    if (!img)
        fail_msg("image_open %s: %s", path, err_msg());
    return img;
}

static void expect_bytes(struct image *img, uint64_t off, size_t len, uint8_t v)
{
    uint8_t *buf = malloc(len);
    assert_int_equal(image_read(img, buf, off, len), 0);
    if (!all_bytes(buf, len, v))
        fail_msg("%s: [%llu, +%zu) is not all 0x%02x", image_path(img), (unsigned long long)off,
                 len, v);
    free(buf);
}

/* qemu-img check must find no errors and no leaks. */
static void check_clean(const char *path)
{
    int rc = sh("qemu-img check '%s' > check.out 2>&1", path);
    if (rc != 0) {
        char *out = sh_out("cat check.out");
        fail_msg("qemu-img check %s exited %d:\n%s", path, rc, out);
    }
}

static void compare_equal(const char *a, const char *b)
{
    int rc = sh("qemu-img compare '%s' '%s' > cmp.out 2>&1", a, b);
    if (rc != 0) {
        char *out = sh_out("cat cmp.out");
        fail_msg("qemu-img compare %s %s exited %d:\n%s", a, b, rc, out);
    }
}

/* Images written by QEMU, v2 and v3, cluster sizes 512 B .. 2 MiB. */
static void test_read_qemu_written(void **state)
{
    (void)state;
    const char *compat[] = {"0.10", "1.1"};
    const unsigned cs[] = {512, 4096, 65536, 2 * MiB};
    for (int v = 0; v < 2; v++) {
        for (int c = 0; c < 4; c++) {
            const char *p = tpath("q.qcow2");
            unlink(p);
            assert_int_equal(sh("qemu-img create -q -f qcow2 -o compat=%s,cluster_size=%u q.qcow2 "
                                "64M",
                                compat[v], cs[c]),
                             0);
            assert_int_equal(sh("qemu-io -c 'write -P 0xab 0 64k' -c 'write -P 0xcd 1M 4k' "
                                "-c 'write -P 0x11 3000 5000' -c 'write -P 0x5a 63M 1M' q.qcow2"),
                             0);
            struct image *img = open_ok(p, IMAGE_OPEN_RDONLY);
            struct image_info info;
            assert_int_equal(image_get_info(img, &info), 0);
            assert_int_equal(info.version, v == 0 ? 2 : 3);
            assert_int_equal(info.cluster_size, cs[c]);
            assert_int_equal(info.virtual_size, 64 * MiB);
            expect_bytes(img, 0, 3000, 0xab);
            expect_bytes(img, 3000, 5000, 0x11);
            expect_bytes(img, 8000, 65536 - 8000, 0xab);
            expect_bytes(img, 65536, MiB - 65536, 0);
            expect_bytes(img, MiB, 4096, 0xcd);
            expect_bytes(img, MiB + 4096, 2 * MiB, 0);
            expect_bytes(img, 63 * MiB, MiB, 0x5a);
            image_close(img);
        }
    }
}

/* Random writes through the layer, mirrored into a raw file. */
static void random_writes(struct image *img, const char *mirror, uint64_t size, int n,
                          uint32_t seed)
{
    srand(seed);
    uint8_t *buf = malloc(300 * 1024);
    for (int i = 0; i < n; i++) {
        size_t len = 1 + (size_t)rand() % (i % 3 == 0 ? 300 * 1024 : 8192);
        uint64_t off = ((uint64_t)rand() * 4099u) % (size - len);
        if (i % 4 == 0)
            off &= ~4095ull;
        fill_pattern(buf, len, off, seed + (uint32_t)i);
        if (image_write(img, buf, off, len) != 0)
            fail_msg("write %zu at %llu: %s", len, (unsigned long long)off, err_msg());
        raw_pwrite(mirror, buf, len, off);
    }
    free(buf);
}

static void roundtrip(const char *img_path, const char *mirror, uint64_t size, int n, uint32_t seed)
{
    struct image *img = open_ok(img_path, 0);
    random_writes(img, mirror, size, n, seed);
    assert_int_equal(image_flush(img), 0);
    /* Read back through the layer before closing (cached metadata)... */
    uint8_t *a = malloc(MiB), *b = malloc(MiB);
    int fd = open(mirror, O_RDONLY);
    for (uint64_t off = 0; off < size; off += MiB) {
        size_t len = size - off < MiB ? (size_t)(size - off) : MiB;
        assert_int_equal(image_read(img, a, off, len), 0);
        memset(b, 0, len);
        assert_true(pread(fd, b, len, (off_t)off) >= 0);
        if (memcmp(a, b, len) != 0)
            fail_msg("%s: data differs in MiB at %llu", img_path, (unsigned long long)off);
    }
    close(fd);
    free(a);
    free(b);
    image_close(img);
    /* ...and through QEMU after. */
    check_clean(img_path);
    compare_equal(img_path, mirror);
}

static void test_write_check_compare(void **state)
{
    (void)state;
    const uint64_t size = 48 * MiB;
    struct {
        const char *how;
        unsigned cluster_bits;
    } cases[] = {{"tvm", 16}, {"tvm", 12}, {"0.10", 16}, {"1.1", 16}, {"1.1", 9}, {"1.1", 21}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *p = tpath("w.qcow2"), *m = tpath("w.raw");
        unlink(p);
        unlink(m);
        if (strcmp(cases[i].how, "tvm") == 0) {
            if (image_create_qcow2(p, size, cases[i].cluster_bits, NULL, IMAGE_FORMAT_AUTO) != 0)
                fail_msg("create: %s", err_msg());
            check_clean(p);
        } else {
            assert_int_equal(sh("qemu-img create -q -f qcow2 -o compat=%s,cluster_size=%u w.qcow2 "
                                "%llu",
                                cases[i].how, 1u << cases[i].cluster_bits,
                                (unsigned long long)size),
                             0);
        }
        assert_int_equal(image_create_raw(m, size), 0);
        roundtrip(p, m, size, 120, 7 + (uint32_t)i);
        /* A second session rewrites allocated and unallocated clusters. */
        roundtrip(p, m, size, 60, 1000 + (uint32_t)i);
    }
}

/* 512-byte clusters: 12 MiB of data outgrows the first refcount table. */
static void test_refcount_table_growth(void **state)
{
    (void)state;
    const uint64_t size = 64 * MiB;
    const char *p = tpath("g.qcow2"), *m = tpath("g.raw");
    unlink(p);
    unlink(m);
    assert_int_equal(image_create_qcow2(p, size, 9, NULL, IMAGE_FORMAT_AUTO), 0);
    assert_int_equal(image_create_raw(m, size), 0);
    struct image *img = open_ok(p, 0);
    uint8_t *buf = malloc(MiB);
    for (uint64_t off = 0; off < 12 * MiB; off += MiB) {
        fill_pattern(buf, MiB, off, 3);
        assert_int_equal(image_write(img, buf, off * 3 % (size - MiB), MiB), 0);
        raw_pwrite(m, buf, MiB, off * 3 % (size - MiB));
    }
    free(buf);
    image_close(img);
    check_clean(p);
    compare_equal(p, m);
    /* The table moved away from cluster 1, where image_create_qcow2 put it. */
    assert_true(peek_be64(p, 48) > 512);
    assert_true(peek_be64(p, 48) % 512 == 0);
}

/* refcount_bits other than 16 are read and kept exact too. */
static void test_refcount_widths(void **state)
{
    (void)state;
    const unsigned widths[] = {1, 2, 4, 8, 32, 64};
    for (int i = 0; i < 6; i++) {
        const char *p = tpath("r.qcow2"), *m = tpath("r.raw");
        unlink(p);
        unlink(m);
        assert_int_equal(sh("qemu-img create -q -f qcow2 -o refcount_bits=%u,cluster_size=4k "
                            "r.qcow2 16M",
                            widths[i]),
                         0);
        assert_int_equal(image_create_raw(m, 16 * MiB), 0);
        roundtrip(p, m, 16 * MiB, 40, 50 + (uint32_t)i);
    }
}

static void test_backing_chain(void **state)
{
    (void)state;
    const uint64_t size = 32 * MiB;
    for (int base_qcow2 = 0; base_qcow2 < 2; base_qcow2++) {
        sh("rm -rf chain && mkdir chain");
        if (base_qcow2)
            assert_int_equal(sh("qemu-img create -q -f qcow2 chain/base.img 32M"), 0);
        else
            assert_int_equal(sh("qemu-img create -q -f raw chain/base.img 32M"), 0);
        const char *bf = base_qcow2 ? "qcow2" : "raw";
        assert_int_equal(sh("qemu-io -f %s -c 'write -P 0x01 0 8M' chain/base.img", bf), 0);
        /* Relative backing names, resolved against the image's own directory. */
        assert_int_equal(
            sh("cd chain && qemu-img create -q -f qcow2 -b base.img -F %s mid.qcow2", bf), 0);
        assert_int_equal(sh("qemu-io -c 'write -P 0x02 4M 8M' chain/mid.qcow2"), 0);
        assert_int_equal(sh("cd chain && qemu-img create -q -f qcow2 -o cluster_size=4k -b "
                            "mid.qcow2 -F qcow2 top.qcow2"),
                         0);
        assert_int_equal(sh("qemu-io -c 'write -P 0x03 10M 1M' -c 'write -z 1M 64k' "
                            "chain/top.qcow2"),
                         0);
        char *base_sum = file_sum(tpath("chain/base.img"));
        char *mid_sum = file_sum(tpath("chain/mid.qcow2"));

        /* Open from another working directory: only the image path counts. */
        struct image *img = open_ok(tpath("chain/top.qcow2"), 0);
        struct image_info info;
        assert_int_equal(image_get_info(img, &info), 0);
        assert_string_equal(info.backing_file, "mid.qcow2");
        assert_int_equal(info.backing_format, IMAGE_FORMAT_QCOW2);
        assert_non_null(image_backing(image_backing(img)));
        assert_null(image_backing(image_backing(image_backing(img))));
        expect_bytes(img, 0, MiB, 0x01);
        expect_bytes(img, MiB, 65536, 0x00);
        expect_bytes(img, MiB + 65536, 3 * MiB - 65536, 0x01);
        expect_bytes(img, 4 * MiB, 6 * MiB, 0x02);
        expect_bytes(img, 10 * MiB, MiB, 0x03);
        expect_bytes(img, 11 * MiB, MiB, 0x02);
        expect_bytes(img, 12 * MiB, 20 * MiB, 0x00);

        /* Writes land in the top image only; the expected disk is a raw copy. */
        assert_int_equal(sh("qemu-img convert -U -O raw chain/top.qcow2 chain/expect.raw"), 0);
        random_writes(img, tpath("chain/expect.raw"), size, 80, 99);
        image_close(img);
        char *base_after = file_sum(tpath("chain/base.img"));
        char *mid_after = file_sum(tpath("chain/mid.qcow2"));
        assert_string_equal(base_sum, base_after);
        assert_string_equal(mid_sum, mid_after);
        check_clean(tpath("chain/top.qcow2"));
        compare_equal(tpath("chain/top.qcow2"), tpath("chain/expect.raw"));
        free(base_sum);
        free(mid_sum);
        free(base_after);
        free(mid_after);
    }
}

static void test_zero_clusters(void **state)
{
    (void)state;
    sh("rm -f zb.qcow2 z.qcow2");
    assert_int_equal(sh("qemu-img create -q -f qcow2 zb.qcow2 8M && qemu-io -c 'write -P 0x99 0 "
                        "8M' zb.qcow2"),
                     0);
    assert_int_equal(sh("qemu-img create -q -f qcow2 -b zb.qcow2 -F qcow2 z.qcow2"), 0);
    /* zero plain over the backing file, zero allocated over own data */
    assert_int_equal(sh("qemu-io -c 'write -z 0 1M' -c 'write -P 0x42 2M 1M' -c 'write -z 2M "
                        "512k' z.qcow2"),
                     0);
    char *map = sh_out("qemu-img map --output=json z.qcow2");
    assert_non_null(strstr(map, "\"zero\": true"));
    free(map);
    struct image *img = open_ok(tpath("z.qcow2"), 0);
    expect_bytes(img, 0, MiB, 0);
    expect_bytes(img, MiB, MiB, 0x99);
    expect_bytes(img, 2 * MiB, MiB / 2, 0);
    expect_bytes(img, 2 * MiB + MiB / 2, MiB / 2, 0x42);
    /* Partial write into a zero cluster keeps the rest zero. */
    uint8_t b[100];
    memset(b, 0xee, sizeof(b));
    assert_int_equal(image_write(img, b, 2 * MiB + 1000, sizeof(b)), 0);
    expect_bytes(img, 2 * MiB, 1000, 0);
    expect_bytes(img, 2 * MiB + 1000, 100, 0xee);
    expect_bytes(img, 2 * MiB + 1100, 64 * 1024 - 1100, 0);
    /* Our own write_zeroes: whole clusters and ragged edges. */
    assert_int_equal(image_write_zeroes(img, 4 * MiB + 123, 2 * MiB), 0);
    expect_bytes(img, 4 * MiB, 123, 0x99);
    expect_bytes(img, 4 * MiB + 123, 2 * MiB, 0);
    expect_bytes(img, 6 * MiB + 123, 1000, 0x99);
    image_close(img);
    check_clean(tpath("z.qcow2"));
    assert_int_equal(sh("qemu-io -c 'read -P 0 4194427 2097152' -c 'read -P 0x99 4M 123' "
                        "-c 'read -P 0xee 2098152 100' z.qcow2 | grep -qv 'Pattern verification "
                        "failed'"),
                     0);
    assert_int_equal(sh("qemu-io -c 'read -P 0 4194427 2097152' z.qcow2 | grep -q 'Pattern "
                        "verification failed'"),
                     1);
}

static void test_discard(void **state)
{
    (void)state;
    const char *p = tpath("d.qcow2");
    unlink(p);
    assert_int_equal(image_create_qcow2(p, 16 * MiB, 16, NULL, IMAGE_FORMAT_AUTO), 0);
    struct image *img = open_ok(p, 0);
    uint8_t *buf = malloc(8 * MiB);
    fill_pattern(buf, 8 * MiB, 0, 5);
    assert_int_equal(image_write(img, buf, 0, 8 * MiB), 0);
    assert_int_equal(image_discard(img, 1000, 4 * MiB), 0); /* partial first cluster kept */
    expect_bytes(img, 65536, 4 * MiB - 65536, 0);
    uint8_t head[1000];
    assert_int_equal(image_read(img, head, 0, sizeof(head)), 0);
    assert_memory_equal(head, buf, sizeof(head));
    struct image_info info;
    assert_int_equal(image_get_info(img, &info), 0);
    assert_true(info.allocation >= 4 * MiB);
    image_close(img);
    free(buf);
    check_clean(p);
    struct stat sd;
    stat(p, &sd);
    assert_true((uint64_t)sd.st_blocks * 512 < 5 * MiB); /* freed clusters are holes now */
    /* QEMU sees the discarded range as unallocated. */
    assert_int_equal(sh("qemu-img map --output=json d.qcow2 | grep -q '\"start\": 65536, "
                        "\"length\": 4128768, .*\"zero\": true, \"data\": false'"),
                     0);
    /* The freed clusters are reused: rewriting 4 MiB does not grow the file much. */
    struct stat st1, st2;
    stat(p, &st1);
    img = open_ok(p, 0);
    buf = calloc(1, 4 * MiB);
    memset(buf, 0x31, 4 * MiB);
    assert_int_equal(image_write(img, buf, 8 * MiB, 3 * MiB), 0);
    image_close(img);
    free(buf);
    stat(p, &st2);
    assert_true(st2.st_size <= st1.st_size + 128 * 1024);
    check_clean(p);
}

static void test_compressed(void **state)
{
    (void)state;
    const uint64_t size = 8 * MiB;
    const char *src = tpath("c.raw");
    unlink(src);
    sh("rm -f c.qcow2 c-exp.raw");
    assert_int_equal(image_create_raw(src, size), 0);
    uint8_t *buf = malloc(size);
    for (uint64_t i = 0; i < size; i++)
        buf[i] = (uint8_t)((i / 512) % 7 == 0 ? (uint64_t)rand() : (i / 4096) & 0xff);
    raw_pwrite(src, buf, size, 0);
    assert_int_equal(sh("qemu-img convert -c -O qcow2 c.raw c.qcow2"), 0);
    assert_int_equal(sh("qemu-img check c.qcow2 | grep -q ' 0.00%% compressed'"), 1);
    struct image *img = open_ok(tpath("c.qcow2"), 0);
    uint8_t *got = malloc(size);
    assert_int_equal(image_read(img, got, 0, size), 0);
    assert_memory_equal(got, buf, size);
    /* Writing into compressed clusters copies them out first. */
    assert_int_equal(sh("cp c.raw c-exp.raw"), 0);
    random_writes(img, tpath("c-exp.raw"), size, 40, 77);
    image_close(img);
    check_clean(tpath("c.qcow2"));
    compare_equal(tpath("c.qcow2"), tpath("c-exp.raw"));
    free(buf);
    free(got);
}

static void test_snapshots(void **state)
{
    (void)state;
    sh("rm -f s.qcow2 s1.raw s-exp.raw s-snap1.raw");
    assert_int_equal(sh("qemu-img create -q -f qcow2 s.qcow2 16M && qemu-io -c 'write -P 0x10 0 "
                        "4M' s.qcow2 && qemu-img snapshot -c first s.qcow2"),
                     0);
    assert_int_equal(sh("qemu-img convert -O raw s.qcow2 s1.raw"), 0);
    assert_int_equal(sh("qemu-io -c 'write -P 0x20 2M 4M' s.qcow2 && qemu-img snapshot -c "
                        "second-one s.qcow2"),
                     0);
    time_t now = time(NULL);
    struct image *img = open_ok(tpath("s.qcow2"), 0);
    struct image_snapshot *snaps;
    size_t n;
    assert_int_equal(image_list_snapshots(img, &snaps, &n), 0);
    assert_int_equal(n, 2);
    assert_string_equal(snaps[0].id, "1");
    assert_string_equal(snaps[0].name, "first");
    assert_string_equal(snaps[1].id, "2");
    assert_string_equal(snaps[1].name, "second-one");
    assert_int_equal(snaps[1].vm_state_size, 0);
    assert_int_equal(snaps[1].disk_size, 16 * MiB);
    assert_true(snaps[0].date_sec <= (uint64_t)now && snaps[0].date_sec + 120 >= (uint64_t)now);
    image_snapshots_free(snaps, n);

    /* Writes to shared clusters must not change the snapshots. */
    assert_int_equal(sh("qemu-img convert -U -O raw s.qcow2 s-exp.raw"), 0);
    random_writes(img, tpath("s-exp.raw"), 16 * MiB, 60, 31);
    image_close(img);
    check_clean(tpath("s.qcow2"));
    compare_equal(tpath("s.qcow2"), tpath("s-exp.raw"));
    assert_int_equal(sh("qemu-img convert -l snapshot.name=first -O raw s.qcow2 s-snap1.raw"), 0);
    compare_equal(tpath("s-snap1.raw"), tpath("s1.raw"));
    char *list = sh_out("qemu-img snapshot -l s.qcow2");
    assert_non_null(strstr(list, "second-one"));
    free(list);
}

static void test_raw(void **state)
{
    (void)state;
    const char *p = tpath("plain.raw");
    unlink(p);
    assert_int_equal(image_create_raw(p, 8 * MiB), 0);
    assert_int_equal(image_create_raw(p, 8 * MiB), -1); /* never overwrites */
    struct image *img = open_ok(p, 0);
    struct image_info info;
    image_get_info(img, &info);
    assert_int_equal(info.format, IMAGE_FORMAT_RAW);
    assert_int_equal(image_get_size(img), 8 * MiB);
    assert_true(info.allocation < 8 * MiB); /* sparse */
    uint8_t buf[8192];
    fill_pattern(buf, sizeof(buf), 4096, 1);
    assert_int_equal(image_write(img, buf, 4096, sizeof(buf)), 0);
    assert_int_equal(image_write(img, buf, 8 * MiB - 100, 200), -1);
    assert_non_null(strstr(err_msg(), "past the end of the disk"));
    assert_int_equal(image_write_zeroes(img, 8192, 100), 0);
    assert_int_equal(image_discard(img, 0, 4096), 0);
    image_close(img);
    assert_int_equal(sh("qemu-io -f raw -c 'read -P 0 8192 100' plain.raw | grep -q 'Pattern "
                        "verification failed'"),
                     1);
    img = open_ok(p, IMAGE_OPEN_RDONLY);
    uint8_t got[8192];
    assert_int_equal(image_read(img, got, 4096, sizeof(got)), 0);
    assert_memory_equal(got, buf, 4096);
    assert_true(all_bytes(got + 4096, 100, 0));
    assert_int_equal(image_write(img, buf, 0, 10), -1);
    assert_int_equal(errno, EROFS);
    image_close(img);
}

/* A qcow2 made here with a raw backing file is what qemu-img would make. */
static void test_create_with_backing(void **state)
{
    (void)state;
    sh("rm -rf cb && mkdir cb && qemu-img create -q -f raw cb/base.raw 6M && qemu-io -f raw -c "
       "'write -P 0x66 0 6M' cb/base.raw");
    const char *top = tpath("cb/top.qcow2");
    assert_int_equal(image_create_qcow2(top, 0, 16, "base.raw", IMAGE_FORMAT_RAW), 0);
    check_clean(top);
    char *info = sh_out("qemu-img info cb/top.qcow2");
    assert_non_null(strstr(info, "backing file: base.raw"));
    assert_non_null(strstr(info, "backing file format: raw"));
    assert_non_null(strstr(info, "virtual size: 6 MiB"));
    free(info);
    assert_int_equal(sh("qemu-io -c 'read -P 0x66 0 6M' cb/top.qcow2 | grep -q 'verification "
                        "failed'"),
                     1);
    assert_int_equal(
        image_create_qcow2(tpath("cb/x.qcow2"), 0, 16, "missing.raw", IMAGE_FORMAT_RAW), -1);
    assert_non_null(strstr(err_msg(), "missing.raw"));
}

struct writer_arg {
    struct image *img;
    const char *mirror;
    uint64_t base, span;
    unsigned seed;
    int failed;
};

/* One thread's share: its own region, written with writev in pieces. */
static void *writer_thread(void *p)
{
    struct writer_arg *a = p;
    uint8_t *buf = malloc(96 * 1024);
    unsigned seed = a->seed;
    for (int i = 0; i < 60; i++) {
        size_t len = 3 + (size_t)rand_r(&seed) % (96 * 1024 - 3);
        uint64_t off = a->base + (uint64_t)rand_r(&seed) % (a->span - len);
        fill_pattern(buf, len, off, a->seed);
        struct iovec iov[3] = {
            {buf, len / 3}, {buf + len / 3, len / 3}, {buf + 2 * (len / 3), len - 2 * (len / 3)}};
        if (image_writev(a->img, iov, 3, off) != 0) {
            a->failed = 1;
            break;
        }
        raw_pwrite(a->mirror, buf, len, off);
        uint8_t back[512];
        if (image_read(a->img, back, off, len < 512 ? len : 512) != 0 ||
            memcmp(back, buf, len < 512 ? len : 512) != 0) {
            a->failed = 1;
            break;
        }
    }
    free(buf);
    return NULL;
}

/* Several threads on one image (the VMM's I/O threads): one lock keeps the
 * shared metadata (L2 cache, reservations) consistent. */
static void test_threads(void **state)
{
    (void)state;
    const uint64_t size = 32 * MiB;
    const char *p = tpath("t.qcow2"), *m = tpath("t.raw");
    unlink(p);
    unlink(m);
    assert_int_equal(image_create_qcow2(p, size, 12, NULL, IMAGE_FORMAT_AUTO), 0);
    assert_int_equal(image_create_raw(m, size), 0);
    struct image *img = open_ok(p, 0);
    pthread_t th[4];
    struct writer_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (struct writer_arg){img, m, (uint64_t)i * (size / 4), size / 4, 100u + i, 0};
        assert_int_equal(pthread_create(&th[i], NULL, writer_thread, &args[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].failed, 0);
    }
    image_close(img);
    check_clean(p);
    compare_equal(p, m);
}

/* A dirty bitmap we do not update must not be trusted afterwards: its
 * autoclear bit is cleared before the first write. */
static void test_autoclear_cleared(void **state)
{
    (void)state;
    const char *p = tpath("bm.qcow2");
    unlink(p);
    assert_int_equal(sh("qemu-img create -q -f qcow2 bm.qcow2 8M && qemu-img bitmap --add "
                        "bm.qcow2 b0"),
                     0);
    assert_int_equal(peek_be64(p, 88), 1);
    struct image *img = open_ok(p, IMAGE_OPEN_RDONLY);
    image_close(img);
    assert_int_equal(peek_be64(p, 88), 1); /* read-only opens change nothing */
    img = open_ok(p, 0);
    uint8_t b[4096];
    memset(b, 0x44, sizeof(b));
    assert_int_equal(image_write(img, b, 0, sizeof(b)), 0);
    image_close(img);
    assert_int_equal(peek_be64(p, 88), 0);
    /* QEMU now drops the bitmap: its clusters count as leaked, nothing worse. */
    int rc = sh("qemu-img check bm.qcow2 > bm.out 2>&1");
    assert_true(rc == 0 || rc == 3);
    assert_int_equal(sh("grep -q 'bitmaps are now considered inconsistent' bm.out"), 0);
    assert_int_equal(sh("qemu-img check -q -r leaks bm.qcow2 && qemu-img check -q bm.qcow2"), 0);
    assert_int_equal(sh("qemu-io -c 'read -P 0x44 0 4k' bm.qcow2 | grep -q 'verification failed'"),
                     1);
}

/* One writer or many readers per file; QEMU respects it too. */
static void test_locking(void **state)
{
    (void)state;
    const char *p = tpath("lock.qcow2");
    unlink(p);
    assert_int_equal(image_create_qcow2(p, 4 * MiB, 16, NULL, IMAGE_FORMAT_AUTO), 0);
    struct image *w = open_ok(p, 0);
    assert_null(image_open(p, IMAGE_FORMAT_AUTO, 0));
    assert_int_equal(errno, EBUSY);
    assert_non_null(strstr(err_msg(), "in use"));
    assert_null(image_open(p, IMAGE_FORMAT_AUTO, IMAGE_OPEN_RDONLY));
    struct image *peek = open_ok(p, IMAGE_OPEN_RDONLY | IMAGE_OPEN_FORCE_SHARE);
    assert_int_equal(image_get_size(peek), 4 * MiB);
    image_close(peek);
    assert_int_not_equal(sh("qemu-io -c 'write 0 4k' lock.qcow2"), 0);
    assert_int_equal(sh("qemu-img convert -U -O raw lock.qcow2 lock.raw"), 0); /* -U readers ok */
    image_close(w);

    /* And the other way round: QEMU holding it open for writing. qemu-io
     * reads its commands from a FIFO and holds the image until this test
     * closes the FIFO's write end; once it has answered a read, it surely
     * holds its locks, however slowly a loaded machine started it. */
    const char *fifo = tpath("lock.fifo");
    unlink(fifo);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(sh("rm -f lock.out; qemu-io lock.qcow2 < lock.fifo > lock.out 2>&1 &"), 0);
    int hold = open(fifo, O_WRONLY | O_CLOEXEC); /* waits for qemu-io's shell */
    assert_true(hold >= 0);
    static const char cmd[] = "read 0 512\n";
    assert_int_equal(write(hold, cmd, sizeof(cmd) - 1), (ssize_t)(sizeof(cmd) - 1));
    bool holding = false;
    for (int i = 0; i < 600 && !holding; i++) { /* up to 60 s */
        holding = sh("grep -q 'bytes at offset' lock.out") == 0;
        if (!holding)
            usleep(100000);
    }
    assert_true(holding);
    assert_null(image_open(p, IMAGE_FORMAT_AUTO, 0));
    assert_int_equal(errno, EBUSY);
    close(hold); /* EOF on qemu-io's stdin: it exits and drops its locks */
    bool reopened = false;
    for (int i = 0; i < 600 && !reopened; i++) {
        struct image *x = image_open(p, IMAGE_FORMAT_AUTO, 0);
        if (x) {
            image_close(x);
            reopened = true;
        } else {
            usleep(100000);
        }
    }
    assert_true(reopened);
    unlink(fifo);

    struct image *r1 = open_ok(p, IMAGE_OPEN_RDONLY);
    struct image *r2 = open_ok(p, IMAGE_OPEN_RDONLY);
    assert_null(image_open(p, IMAGE_FORMAT_AUTO, 0));
    /* An overlay may not be opened for writing while its backing file is. */
    assert_int_equal(
        image_create_qcow2(tpath("lock-top.qcow2"), 0, 16, "lock.qcow2", IMAGE_FORMAT_QCOW2), 0);
    struct image *top = open_ok(tpath("lock-top.qcow2"), 0);
    image_close(top);
    image_close(r1);
    image_close(r2);
    w = open_ok(p, 0);
    assert_null(image_open(tpath("lock-top.qcow2"), IMAGE_FORMAT_AUTO, 0));
    assert_non_null(strstr(err_msg(), "backing file"));
    image_close(w);
    top = open_ok(tpath("lock-top.qcow2"), 0);
    image_close(top);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_qemu_written),
        cmocka_unit_test(test_write_check_compare),
        cmocka_unit_test(test_refcount_table_growth),
        cmocka_unit_test(test_refcount_widths),
        cmocka_unit_test(test_backing_chain),
        cmocka_unit_test(test_zero_clusters),
        cmocka_unit_test(test_discard),
        cmocka_unit_test(test_compressed),
        cmocka_unit_test(test_snapshots),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_create_with_backing),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_autoclear_cleared),
        cmocka_unit_test(test_locking),
    };
    return cmocka_run_group_tests(tests, tdir_setup, tdir_teardown);
}
