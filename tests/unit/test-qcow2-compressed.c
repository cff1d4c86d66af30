/* Compressed qcow2 clusters: tvm writes them (convert -c), packed with
 * streams spilling from one host cluster into the next, so that qemu-img
 * check is clean and qemu-io reads the data back, and reads them back
 * itself (also after overwriting them); and hostile compressed clusters — garbage, a stream that
 * inflates to less or more than a cluster, a sector count reaching past
 * the end of the file, a stream cut short — are refused with EIO or read
 * within the cluster, never written past a buffer (ASan runs these too). */
#include "test-image-util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <zlib.h>

#include "core/base/err.h"
#include "core/image/image.h"

#define CS 65536u
#define SIZE (4 * CS + 4096) /* the last cluster is partial */

static uint8_t data[SIZE];

/* Clusters 0-1 compressible, 2 random (stored plainly), 3 zeros, 4 partial. */
static void fill_data(void)
{
    fill_pattern(data, CS, 0, 7);
    for (size_t i = 0; i < 2 * CS; i++)
        data[i] = (uint8_t)((i / 512) & 0x0f);
    srand(5);
    for (size_t i = 2 * CS; i < 3 * CS; i++)
        data[i] = (uint8_t)rand();
    memset(data + 3 * CS, 0, CS);
    memset(data + 4 * CS, 0x6b, SIZE - 4 * CS);
}

static const char *write_image(void)
{
    const char *p = tpath("c.qcow2");
    unlink(p);
    assert_int_equal(image_create_qcow2(p, SIZE, 16, NULL, IMAGE_FORMAT_AUTO), 0);
    struct image *img = image_open(p, IMAGE_FORMAT_QCOW2, 0);
    assert_non_null(img);
    for (uint64_t off = 0; off < SIZE; off += CS) {
        if (off == 3 * CS)
            continue;
        assert_int_equal(image_write_compressed(img, data + off, off), 0);
    }
    assert_int_equal(image_close(img), 0);
    return p;
}

static void test_write_and_read_back(void **state)
{
    (void)state;
    fill_data();
    const char *p = write_image();
    assert_int_equal(sh("qemu-img check c.qcow2 >check.out"), 0);
    /* 0, 1 and 4 compressed (3 of the 4 allocated); 2 stored plainly; 3 never written */
    assert_int_equal(sh("grep -q '4/5 = 80.00%% allocated.*75.00%% compressed' check.out"), 0);
    assert_int_equal(sh("qemu-io -c 'read -P 0x6b 262144 4096' -c 'read -P 0 196608 65536' "
                        "c.qcow2 | grep -c '^read' | grep -qx 2"),
                     0);
    raw_pwrite(tpath("c.raw"), data, SIZE, 0);
    assert_int_equal(sh("qemu-img compare -f raw c.raw c.qcow2 >/dev/null"), 0);
    struct image *img = image_open(p, IMAGE_FORMAT_QCOW2, IMAGE_OPEN_RDONLY);
    assert_non_null(img);
    static uint8_t got[SIZE];
    assert_int_equal(image_read(img, got, 0, SIZE), 0);
    assert_memory_equal(got, data, SIZE);
    image_close(img);
    /* Overwriting part of a compressed cluster copies it out first. */
    img = image_open(p, IMAGE_FORMAT_QCOW2, 0);
    uint8_t patch[1000];
    memset(patch, 0xee, sizeof(patch));
    assert_int_equal(image_write(img, patch, CS + 100, sizeof(patch)), 0);
    memcpy(data + CS + 100, patch, sizeof(patch));
    assert_int_equal(image_close(img), 0);
    raw_pwrite(tpath("c.raw"), data, SIZE, 0);
    assert_int_equal(sh("qemu-img check c.qcow2 >/dev/null && qemu-img compare -f raw c.raw "
                        "c.qcow2 >/dev/null"),
                     0);
}

/* Streams of about half a cluster: every other one spills from one host
 * cluster into the next (two references). Overwriting each cluster later
 * drops both; qemu-img check must find neither leaks nor corruption. */
static void test_spanning_streams(void **state)
{
    (void)state;
    const uint64_t n = 32 * CS;
    uint8_t *buf = malloc(n);
    srand(9);
    for (uint64_t i = 0; i < n; i++)
        buf[i] = (i & (CS - 1)) < CS / 2 ? (uint8_t)rand() : 0;
    const char *p = tpath("s.qcow2");
    unlink(p);
    assert_int_equal(image_create_qcow2(p, n, 16, NULL, IMAGE_FORMAT_AUTO), 0);
    struct image *img = image_open(p, IMAGE_FORMAT_QCOW2, 0);
    assert_non_null(img);
    for (uint64_t off = 0; off < n; off += CS)
        assert_int_equal(image_write_compressed(img, buf + off, off), 0);
    assert_int_equal(image_close(img), 0);
    raw_pwrite(tpath("s.raw"), buf, n, 0);
    assert_int_equal(sh("qemu-img check s.qcow2 >check.out && grep -q '100.00%% compressed' "
                        "check.out && qemu-img compare -f raw s.raw s.qcow2 >/dev/null"),
                     0);
    /* fewer host clusters than guest ones: the streams were packed */
    assert_int_equal(sh("test $(stat -c %%s s.qcow2) -lt %llu", (unsigned long long)(24 * CS)), 0);
    img = image_open(p, IMAGE_FORMAT_QCOW2, 0);
    assert_non_null(img);
    for (uint64_t off = 0; off < n; off += CS) {
        memset(buf + off + CS - 200, 0x77, 100);
        assert_int_equal(image_write(img, buf + off + CS - 200, off + CS - 200, 100), 0);
    }
    assert_int_equal(image_close(img), 0);
    raw_pwrite(tpath("s.raw"), buf, n, 0);
    assert_int_equal(sh("qemu-img check s.qcow2 >/dev/null && qemu-img compare -f raw s.raw "
                        "s.qcow2 >/dev/null"),
                     0);
    free(buf);
}

/* The L2 entry of guest cluster 0 and where it lives in the file. */
static uint64_t l2_entry_at(const char *p)
{
    uint64_t l1 = peek_be64(p, 40);
    uint64_t l2 = peek_be64(p, l1) & 0x00fffffffffffe00ull;
    assert_true(l2 != 0);
    return l2;
}

static uint64_t file_size(const char *p)
{
    struct stat st;
    assert_int_equal(stat(p, &st), 0);
    return (uint64_t)st.st_size;
}

/* Raw deflate of LEN bytes of V into OUT; its length. */
static size_t deflate_bytes(uint8_t v, size_t len, uint8_t *out, size_t cap)
{
    uint8_t *in = malloc(len);
    memset(in, v, len);
    z_stream zs = {0};
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = in;
    zs.avail_in = (uInt)len;
    zs.next_out = out;
    zs.avail_out = (uInt)cap;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    size_t n = cap - zs.avail_out;
    deflateEnd(&zs);
    free(in);
    return n;
}

/* Puts STREAM at the (512-aligned) end of the file and points guest
 * cluster 0 at it with NSECT extra sectors. */
static void point_at(const char *p, const uint8_t *stream, size_t n, uint64_t nsect)
{
    uint64_t host = (file_size(p) + 511) & ~511ull;
    if (n)
        file_poke(p, host, stream, n);
    poke_be64(p, l2_entry_at(p), (1ull << 62) | (nsect << 54) | host);
}

/* Reads guest cluster 0 read-only: its result; the bytes in OUT. */
static int read_cluster0(const char *p, uint8_t *out)
{
    struct image *img = image_open(p, IMAGE_FORMAT_QCOW2, IMAGE_OPEN_RDONLY);
    assert_non_null(img);
    int rc = image_read(img, out, 0, CS);
    if (rc < 0) {
        print_message("    %s\n", err_msg());
        assert_int_equal(errno, EIO);
        assert_non_null(strstr(err_msg(), "c.qcow2"));
    }
    image_close(img);
    return rc;
}

static void test_hostile(void **state)
{
    (void)state;
    fill_data();
    static uint8_t stream[4 * CS], out[CS];
    const char *p;

    /* garbage where the stream should be */
    p = write_image();
    memset(stream, 0xff, 4096);
    point_at(p, stream, 4096, 7);
    assert_int_equal(read_cluster0(p, out), -1);
    assert_non_null(strstr(err_msg(), "does not inflate to one cluster"));

    /* inflates to half a cluster */
    p = write_image();
    point_at(p, stream, deflate_bytes(0x11, CS / 2, stream, sizeof(stream)), 1);
    assert_int_equal(read_cluster0(p, out), -1);

    /* inflates to four clusters: only the first is taken, nothing overruns */
    p = write_image();
    size_t n = deflate_bytes(0x22, 4 * CS, stream, sizeof(stream));
    point_at(p, stream, n, ((n + 511) / 512) - 1);
    assert_int_equal(read_cluster0(p, out), 0);
    assert_true(all_bytes(out, CS, 0x22));

    /* the largest sector count, reaching far past the end of the file:
     * only what the file holds is read */
    p = write_image();
    n = deflate_bytes(0x33, CS, stream, sizeof(stream));
    point_at(p, stream, n, 255);
    assert_int_equal(read_cluster0(p, out), 0);
    assert_true(all_bytes(out, CS, 0x33));

    /* a stream cut short by the end of the file */
    p = write_image();
    fill_pattern(stream + 2 * CS, CS, 0, 3); /* incompressible: a long stream */
    z_stream zs = {0};
    assert_int_equal(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
    zs.next_in = stream + 2 * CS;
    zs.avail_in = CS;
    zs.next_out = stream;
    zs.avail_out = 2 * CS;
    assert_int_equal(deflate(&zs, Z_FINISH), Z_STREAM_END);
    n = 2 * CS - zs.avail_out;
    deflateEnd(&zs);
    point_at(p, stream, n / 2, 255);
    assert_int_equal(read_cluster0(p, out), -1);

    /* a compressed cluster in the header cluster, or past the end */
    p = write_image();
    poke_be64(p, l2_entry_at(p), (1ull << 62) | 100);
    assert_int_equal(read_cluster0(p, out), -1);
    poke_be64(p, l2_entry_at(p), (1ull << 62) | (file_size(p) + 4096));
    assert_int_equal(read_cluster0(p, out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_and_read_back),
        cmocka_unit_test(test_spanning_streams),
        cmocka_unit_test(test_hostile),
    };
    return cmocka_run_group_tests(tests, tdir_setup, tdir_teardown);
}
