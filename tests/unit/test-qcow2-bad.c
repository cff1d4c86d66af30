/* Hostile and damaged qcow2 images: each made from a good qemu-img file with
 * one field changed, each refused at open (or at the I/O that meets the bad
 * pointer) with a message naming the field, never a crash. */
#include "test-image-util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/base/err.h"
#include "core/image/image.h"

#define MiB (1024 * 1024)

/* A good v3 image with 64 KiB clusters and data in its first cluster. */
static const char *good_image(void)
{
    const char *p = tpath("bad.qcow2");
    unlink(p);
    if (sh("qemu-img create -q -f qcow2 -o compat=1.1 bad.qcow2 64M && qemu-io -c 'write -P 0x3c "
           "0 128k' bad.qcow2") != 0)
        fail_msg("qemu-img create failed");
    return p;
}

static void expect_refused(const char *p, unsigned flags, const char *fragment)
{
    struct image *img = image_open(p, IMAGE_FORMAT_QCOW2, flags);
    if (img) {
        image_close(img);
        fail_msg("image with '%s' was accepted", fragment);
    }
    print_message("    %s\n", err_msg());
    if (!strstr(err_msg(), fragment))
        fail_msg("message '%s' lacks '%s'", err_msg(), fragment);
    if (!strstr(err_msg(), "bad.qcow2") && !strstr(err_msg(), "loop") &&
        !strstr(err_msg(), "chain"))
        fail_msg("message '%s' does not name the file", err_msg());
}

enum width { W32, W64, W8 };

struct header_case {
    const char *what;
    uint64_t off;
    enum width width;
    uint64_t value;
    unsigned flags;
    const char *fragment;
};

static void test_bad_header_fields(void **state)
{
    (void)state;
    /* qemu-img 7.2 layout for this image: L1 at 0x30000, refcount table at 0x10000. */
    const struct header_case cases[] = {
        {"magic", 0, W32, 0x514649fa, 0, "bad magic"},
        {"version", 4, W32, 4, 0, "version 4 unsupported"},
        {"version 1", 4, W32, 1, 0, "version 1 unsupported"},
        {"cluster_bits low", 20, W32, 7, 0, "cluster_bits 7 out of range (9-21)"},
        {"cluster_bits high", 20, W32, 30, 0, "cluster_bits 30 out of range"},
        {"size huge", 24, W64, 1ull << 62, 0, "too large"},
        {"size vs l1", 24, W64, 1ull << 40, 0, "l1_size 1 too small"},
        {"l1_size huge", 36, W32, 0x10000000, 0, "l1_size 268435456 too large"},
        {"l1 unaligned", 40, W64, 0x30008, 0, "l1_table_offset 0x30008 not cluster aligned"},
        {"l1 past eof", 40, W64, 0x7fff0000, 0, "L1 table at 0x7fff0000"},
        {"l1 over header", 40, W64, 0, 0, "L1 table overlaps the header"},
        {"reftable past eof", 48, W64, 0x40000000, 0, "refcount table at 0x40000000 past the end"},
        {"reftable over l1", 48, W64, 0x30000, 0, "refcount table overlaps the L1 table"},
        {"reftable over header", 48, W64, 0, 0, "refcount table overlaps the header"},
        {"reftable unaligned", 48, W64, 0x10200, 0, "not cluster aligned"},
        {"reftable empty", 56, W32, 0, 0, "no refcount table"},
        {"crypt", 32, W32, 1, 0, "encryption"},
        {"extended l2", 72, W64, 1ull << 4, 0, "unsupported feature: extended L2"},
        {"unknown incompat", 72, W64, 1ull << 40, 0, "unknown incompatible feature bits"},
        {"data file", 72, W64, 1ull << 2, 0, "external data file"},
        {"corrupt rw", 72, W64, 1ull << 1, 0, "marked corrupt"},
        {"dirty rw", 72, W64, 1ull << 0, 0, "dirty"},
        {"snapshots many", 60, W32, 100000, 0, "nb_snapshots 100000 too large"},
        {"refcount_order", 96, W32, 7, 0, "refcount_order 7 out of range"},
        {"header_length", 100, W32, 50, 0, "header_length 50 too short"},
        {"header_length big", 100, W32, 0x20000, 0, "header_length 131072 past"},
        {"compression type", 104, W8, 1, 0, "compression type 1 without its feature bit"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct header_case *c = &cases[i];
        const char *p = good_image();
        if (c->width == W64)
            poke_be64(p, c->off, c->value);
        else if (c->width == W32)
            poke_be32(p, c->off, (uint32_t)c->value);
        else
            file_poke(p, c->off, &(uint8_t){(uint8_t)c->value}, 1);
        print_message("  %s\n", c->what);
        expect_refused(p, c->flags, c->fragment);
    }
}

static void test_bad_combined(void **state)
{
    (void)state;
    const char *p = good_image();
    /* zstd needs the feature bit and the type byte; we only inflate zlib. */
    poke_be64(p, 72, 1ull << 3);
    file_poke(p, 104, &(uint8_t){1}, 1);
    expect_refused(p, 0, "unsupported feature: compression type 1");

    p = good_image();
    poke_be64(p, 8, 0x200);
    poke_be32(p, 16, 2000);
    expect_refused(p, 0, "backing file name length 2000 out of range (1-1023)");

    p = good_image();
    poke_be64(p, 8, 0x20000); /* backing name outside the header cluster */
    poke_be32(p, 16, 10);
    expect_refused(p, 0, "outside the header cluster");

    p = good_image();
    poke_be32(p, 60, 1); /* one snapshot, table past the end */
    poke_be64(p, 64, 0x7fff0000);
    expect_refused(p, 0, "snapshot table at 0x7fff0000 outside the file");

    p = good_image();
    poke_be32(p, 60, 1);
    poke_be64(p, 64, 0x10100);
    expect_refused(p, 0, "snapshots_offset 0x10100 not cluster aligned");

    p = good_image();
    poke_be32(p, 112, 0xe2792aca); /* extension longer than the header cluster */
    poke_be32(p, 116, 0x7fffffff);
    expect_refused(p, 0, "runs past the header");

    p = good_image();
    poke_be32(p, 112, 0xe2792aca);
    poke_be32(p, 116, 4);
    file_poke(p, 120, "vmdk\0\0\0\0\0\0\0\0", 12);
    expect_refused(p, 0, "unsupported backing format 'vmdk'");

    p = good_image();
    uint64_t l1 = peek_be64(p, 40);
    poke_be64(p, l1, 0x8000000040000000ull); /* L1 entry → L2 past the end */
    expect_refused(p, 0, "L2 table at 0x40000000 past the end of the file");

    p = good_image();
    poke_be64(p, l1, 0x8000000000010000ull); /* L1 entry → the refcount table */
    expect_refused(p, 0, "overlaps other metadata");

    p = good_image();
    uint64_t rt = peek_be64(p, 48);
    poke_be64(p, rt, 0x20100); /* refcount block pointer unaligned */
    expect_refused(p, 0, "qcow2 refcount table: entry 0: offset 0x20100 not cluster aligned");

    /* The corrupt and dirty bits still allow reading. */
    p = good_image();
    poke_be64(p, 72, 1ull << 1);
    struct image *img = image_open(p, IMAGE_FORMAT_QCOW2, IMAGE_OPEN_RDONLY);
    assert_non_null(img);
    uint8_t b[16];
    assert_int_equal(image_read(img, b, 0, sizeof(b)), 0);
    assert_true(all_bytes(b, sizeof(b), 0x3c));
    struct image_info info;
    image_get_info(img, &info);
    assert_true(info.corrupt);
    assert_int_equal(image_write(img, b, 0, 1), -1);
    assert_int_equal(errno, EROFS);
    image_close(img);

    /* File shorter than the fixed header. */
    p = good_image();
    assert_int_equal(truncate(p, 50), 0);
    expect_refused(p, 0, "too short (50 bytes, need 72)");
}

static void test_bad_snapshot_entry(void **state)
{
    (void)state;
    const char *p = good_image();
    assert_int_equal(sh("qemu-img snapshot -c s1 bad.qcow2"), 0);
    uint64_t st = peek_be64(p, 64);
    poke_be32(p, st + 36, 5000); /* extra_data_size */
    expect_refused(p, 0, "entry 0: extra data size 5000 too large");

    p = good_image();
    assert_int_equal(sh("qemu-img snapshot -c s1 bad.qcow2"), 0);
    st = peek_be64(p, 64);
    poke_be64(p, st, 0x7fff0000); /* snapshot L1 table */
    expect_refused(p, 0, "entry 0: L1 table at 0x7fff0000 outside the file");
}

/* Pointers that only the I/O path meets: EIO, image marked broken, no crash. */
static void io_case(uint64_t entry, const char *fragment)
{
    const char *p = good_image();
    uint64_t l1 = peek_be64(p, 40);
    uint64_t l2 = peek_be64(p, l1) & 0x00fffffffffffe00ull;
    poke_be64(p, l2 + 8, entry); /* guest cluster 1 */
    struct image *img = image_open(p, IMAGE_FORMAT_AUTO, 0);
    if (!img)
        fail_msg("open: %s", err_msg());
    uint8_t b[4096];
    assert_int_equal(image_read(img, b, 0, sizeof(b)), 0); /* cluster 0 is fine */
    errno = 0;
    assert_int_equal(image_read(img, b, 65536, sizeof(b)), -1);
    assert_int_equal(errno, EIO);
    if (!strstr(err_msg(), fragment))
        fail_msg("message '%s' lacks '%s'", err_msg(), fragment);
    /* From now on the image refuses I/O, writes included. */
    assert_int_equal(image_read(img, b, 0, sizeof(b)), -1);
    assert_int_equal(image_write(img, b, 0, sizeof(b)), -1);
    assert_int_equal(errno, EIO);
    image_close(img);
    /* ...and the on-disk corrupt bit keeps other writers away. */
    assert_int_equal(sh("qemu-img info bad.qcow2 | grep -q 'corrupt: true'"), 0);
    expect_refused(p, 0, "marked corrupt");
}

static void test_bad_l2_entries(void **state)
{
    (void)state;
    io_case(0x8000000040000000ull, "past the end of the file");
    io_case(0x8000000000030000ull, "points into metadata"); /* the L1 table */
    io_case(0x8000000000010000ull, "points into metadata"); /* the refcount table */
    io_case(0x8000000000050200ull, "not cluster aligned");
    io_case(0x4000000040000000ull, "compressed cluster"); /* compressed, past the end */
}

static void test_backing_loops(void **state)
{
    (void)state;
    sh("rm -rf loop && mkdir loop");
    assert_int_equal(sh("cd loop && qemu-img create -q -f qcow2 b.qcow2 1M && qemu-img create -q "
                        "-f qcow2 -b b.qcow2 -F qcow2 a.qcow2 && qemu-img rebase -u -b a.qcow2 -F "
                        "qcow2 b.qcow2"),
                     0);
    assert_null(image_open(tpath("loop/a.qcow2"), IMAGE_FORMAT_AUTO, IMAGE_OPEN_RDONLY));
    assert_non_null(strstr(err_msg(), "backing chain loop"));
    assert_int_equal(errno, ELOOP);

    assert_int_equal(sh("cd loop && qemu-img create -q -f qcow2 self.qcow2 1M && qemu-img rebase "
                        "-u -b self.qcow2 -F qcow2 self.qcow2"),
                     0);
    assert_null(image_open(tpath("loop/self.qcow2"), IMAGE_FORMAT_AUTO, 0));
    assert_non_null(strstr(err_msg(), "backing chain loop"));

    /* 18 images deep: more than IMAGE_MAX_CHAIN_DEPTH. */
    assert_int_equal(sh("cd loop && qemu-img create -q -f raw d0 1M && for i in $(seq 1 17); do "
                        "qemu-img create -q -f qcow2 -b d$((i-1)) -F $([ $i = 1 ] && echo raw || "
                        "echo qcow2) d$i || exit 1; done"),
                     0);
    assert_null(image_open(tpath("loop/d17"), IMAGE_FORMAT_AUTO, 0));
    assert_non_null(strstr(err_msg(), "deeper than 16"));
    struct image *ok = image_open(tpath("loop/d15"), IMAGE_FORMAT_AUTO, 0);
    assert_non_null(ok);
    image_close(ok);

    assert_int_equal(sh("cd loop && qemu-img create -q -f qcow2 gone.qcow2 1M && qemu-img create "
                        "-q -f qcow2 -b gone.qcow2 -F qcow2 orphan.qcow2 && rm gone.qcow2"),
                     0);
    assert_null(image_open(tpath("loop/orphan.qcow2"), IMAGE_FORMAT_AUTO, 0));
    assert_non_null(strstr(err_msg(), "gone.qcow2"));
}

static void copy_file(const char *from, const char *to)
{
    if (sh("cp '%s' '%s'", from, to) != 0)
        fail_msg("cp failed");
}

/* Random damage to the metadata of a good image (header, L1, refcount table
 * and block, L2, snapshot table): open, read, write, discard, close must
 * fail cleanly or succeed, never crash (run under ASan/UBSan in CI). */
static void test_random_mutations(void **state)
{
    (void)state;
    const char *orig = tpath("fuzz-orig.qcow2"), *p = tpath("fuzz.qcow2");
    unlink(orig);
    assert_int_equal(sh("qemu-img create -q -f qcow2 -o cluster_size=4k fuzz-orig.qcow2 4M && "
                        "qemu-io -c 'write -P 0x21 0 1M' -c 'write -P 0x22 3M 64k' "
                        "fuzz-orig.qcow2 && qemu-img snapshot -c s fuzz-orig.qcow2 && qemu-io -c "
                        "'write -P 0x23 512k 1M' fuzz-orig.qcow2"),
                     0);
    uint64_t l1 = peek_be64(orig, 40), rt = peek_be64(orig, 48);
    uint64_t regions[6][2] = {
        {0, 512},
        {l1, 64},
        {rt, 64},
        {peek_be64(orig, rt), 512},
        {peek_be64(orig, l1) & 0x00fffffffffffe00ull, 4096},
        {peek_be64(orig, 64), 128},
    };
    unsigned seed = (unsigned)time(NULL);
    print_message("seed %u\n", seed);
    srand(seed);
    uint8_t *buf = malloc(256 * 1024);
    int opened = 0;
    for (int round = 0; round < 400; round++) {
        copy_file(orig, p);
        int nmut = 1 + rand() % 3;
        for (int k = 0; k < nmut; k++) {
            uint64_t *r = regions[rand() % 6];
            uint64_t at = r[0] + (uint64_t)rand() % r[1];
            uint8_t v;
            file_peek(p, at, &v, 1);
            v = rand() % 2 ? (uint8_t)(v ^ (1u << (rand() % 8))) : (uint8_t)rand();
            file_poke(p, at, &v, 1);
        }
        struct image *img = image_open(p, IMAGE_FORMAT_QCOW2, 0);
        if (!img)
            img = image_open(p, IMAGE_FORMAT_QCOW2, IMAGE_OPEN_RDONLY);
        if (!img) {
            assert_true(strlen(err_msg()) > 10);
            continue;
        }
        opened++;
        uint64_t size = image_get_size(img);
        for (uint64_t off = 0; off < size && off < (64ull << 20); off += 256 * 1024)
            image_read(img, buf, off, size - off < 256 * 1024 ? size - off : 256 * 1024);
        for (int w = 0; w < 8 && size > 8192; w++) {
            uint64_t off = (uint64_t)rand() % (size - 8192);
            memset(buf, w, 8192);
            image_write(img, buf, off, 1 + (size_t)rand() % 8192);
        }
        if (size > 65536)
            image_discard(img, 0, 65536);
        image_flush(img);
        image_close(img);
    }
    free(buf);
    print_message("%d of 400 damaged images opened\n", opened);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_header_fields),  cmocka_unit_test(test_bad_combined),
        cmocka_unit_test(test_bad_snapshot_entry), cmocka_unit_test(test_bad_l2_entries),
        cmocka_unit_test(test_backing_loops),      cmocka_unit_test(test_random_mutations),
    };
    return cmocka_run_group_tests(tests, tdir_setup, tdir_teardown);
}
