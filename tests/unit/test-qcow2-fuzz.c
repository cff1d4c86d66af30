/* Damaged qcow2 images by the thousand: images made by qemu-img (data and
 * zero clusters, an internal snapshot, a raw backing file, compressed
 * clusters, 4 KiB clusters with 1-bit refcounts, a version 2 image) get
 * random bytes changed in their metadata area by a seeded generator, and
 * each is then opened, read, written and discarded at random.
 *
 * test-qcow2-bad checks that each named kind of damage gets its message;
 * this one checks what no list of cases can: that no combination of damage
 * crashes the image layer or (under ASan+UBSan, as in CI) makes it read or
 * write outside its buffers, and that every refusal says why. The
 * generator must produce both images that open and images that are
 * refused, or the test says it has gone blind.
 */
#include "test-image-util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/base/err.h"
#include "core/image/image.h"

#define ROUNDS 800
#define META_SPAN 0x60000 /* header, L1, refcount table and blocks, first L2s */

struct seed_image {
    const char *name;
    const char *make; /* shell, run in the test directory */
};

static const struct seed_image seeds[] = {
    {"data.qcow2", "qemu-img create -q -f qcow2 data.qcow2 8M && qemu-io -c 'write -P 0x11 0 1M' "
                   "-c 'write -P 0x22 3M 512k' -c 'write -z 5M 1M' data.qcow2 && "
                   "qemu-img snapshot -c snap1 data.qcow2 && "
                   "qemu-io -c 'write -P 0x33 512k 1M' data.qcow2"},
    {"overlay.qcow2", "qemu-img create -q -f raw base.raw 8M && "
                      "qemu-io -f raw -c 'write -P 0x44 0 8M' base.raw && "
                      "qemu-img create -q -f qcow2 -b base.raw -F raw overlay.qcow2 && "
                      "qemu-io -c 'write -P 0x55 1M 64k' overlay.qcow2"},
    {"compressed.qcow2", "qemu-img create -q -f qcow2 plain.qcow2 8M && "
                         "qemu-io -c 'write -P 0x66 0 2M' plain.qcow2 && "
                         "qemu-img convert -c -O qcow2 plain.qcow2 compressed.qcow2"},
    {"small.qcow2", "qemu-img create -q -f qcow2 -o cluster_size=4096,refcount_bits=1 "
                    "small.qcow2 8M && qemu-io -c 'write -P 0x77 0 2M' small.qcow2"},
    {"v2.qcow2", "qemu-img create -q -f qcow2 -o compat=0.10 v2.qcow2 8M && "
                 "qemu-io -c 'write -P 0x78 0 1M' v2.qcow2"},
};

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint64_t below(uint64_t n)
{
    return n ? rnd() % n : 0;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    uint8_t *p = malloc((size_t)st.st_size);
    assert_non_null(p);
    assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
    close(fd);
    *len = (size_t)st.st_size;
    return p;
}

static void spit(const char *path, const uint8_t *p, size_t len)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, len), (ssize_t)len);
    close(fd);
}

/* A few changes in the metadata area: bit flips, random bytes, and big-endian
 * 64-bit values that look like offsets (inside the file, past it, or wild). */
static void damage(uint8_t *m, size_t len)
{
    size_t span = len < META_SPAN ? len : META_SPAN;
    unsigned changes = (unsigned)below(8) + 1;
    for (unsigned c = 0; c < changes; c++) {
        size_t off = (size_t)below(span);
        switch (below(4)) {
        case 0:
            m[off] ^= (uint8_t)(1u << below(8));
            break;
        case 1:
            m[off] = (uint8_t)rnd();
            break;
        case 2:
            m[off] = 0xff;
            break;
        default:
            if (off + 8 <= len) {
                uint64_t v = below(4) ? below((uint64_t)len * 2) : rnd();
                for (int k = 0; k < 8; k++)
                    m[off + k] = (uint8_t)(v >> (56 - 8 * k));
            }
            break;
        }
    }
}

/* Random I/O on an image that opened; every failure must say why. */
static void exercise(struct image *img, bool writable, uint8_t *buf)
{
    uint64_t size = image_get_size(img);
    for (int r = 0; r < 16 && size >= 512; r++) {
        uint64_t off = below(size) & ~511ull;
        size_t len = 512 * ((size_t)below(256) + 1);
        if (off + len > size)
            len = (size_t)(size - off);
        int rc;
        unsigned what = (unsigned)below(6);
        if (writable && what == 0) {
            memset(buf, 0x5a, len);
            rc = image_write(img, buf, off, len);
        } else if (writable && what == 1) {
            rc = image_discard(img, off, len);
        } else if (writable && what == 2) {
            rc = image_write_zeroes(img, off, len);
        } else {
            rc = image_read(img, buf, off, len);
        }
        if (rc < 0 && !err_msg()[0])
            fail_msg("an I/O error without a message");
    }
    if (writable && image_flush(img) < 0 && !err_msg()[0])
        fail_msg("a flush error without a message");
}

static void test_damaged_images(void **state)
{
    (void)state;
    uint8_t *buf = malloc(256 * 512);
    assert_non_null(buf);
    unsigned opened = 0, refused = 0;
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        if (sh("%s", seeds[s].make) != 0)
            fail_msg("qemu-img could not make %s", seeds[s].name);
        size_t len;
        uint8_t *orig = slurp(tpath(seeds[s].name), &len);
        uint8_t *m = malloc(len);
        assert_non_null(m);
        rng_state = 0x9E3779B97F4A7C15ull * (s + 1);
        for (unsigned r = 0; r < ROUNDS; r++) {
            memcpy(m, orig, len);
            damage(m, len);
            /* beside the seed, so a backing file name still resolves */
            const char *path = tpath("damaged.qcow2");
            spit(path, m, len);
            bool writable = r % 2 == 0;
            err_clear();
            struct image *img =
                image_open(path, IMAGE_FORMAT_QCOW2, writable ? 0 : IMAGE_OPEN_RDONLY);
            if (!img) {
                if (!err_msg()[0])
                    fail_msg("%s, round %u: refused without a message", seeds[s].name, r);
                refused++;
                continue;
            }
            opened++;
            exercise(img, writable, buf);
            image_close(img);
        }
        free(m);
        free(orig);
    }
    free(buf);
    print_message("%u damaged images opened, %u refused\n", opened, refused);
    assert_true(opened > 0);
    assert_true(refused > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_damaged_images, tdir_setup, tdir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
