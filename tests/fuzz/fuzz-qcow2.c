/* qcow2 images as an attacker hands them over: the input is a 16-byte
 * script followed by an image file. The image is written to a private
 * directory (beside base.raw, which a backing name may point at), opened
 * as qcow2, read-only or writable, and the script's requests run on it.
 *
 * Script: byte 0 bit 0 writable, bit 1 open as AUTO (probe) instead of
 * QCOW2, bit 2 list the internal snapshots; then five requests of three
 * bytes each: kind, where (a 256th of the disk), length (512-byte sectors,
 * 1-256).
 *
 * Properties: no crash, no leak, no access outside buffers (ASan), a
 * refusal or an I/O error always says why, a writable image that survived
 * its requests flushes or says why, and an image that opened reports
 * sane geometry (cluster size a power of two from 512 to 2 MiB).
 *
 * Backing names are resolved against the image's directory; one with a
 * '/' could name any file on the host (a device, a FIFO), so such inputs
 * are refused by the harness (return -1: not kept in the corpus) rather
 * than opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-util.h"

#include "core/base/err.h"
#include "core/image/image.h"

#define SCRIPT 16
#define MAX_IO (256 * 512)

static char dir[96], path[128];
static uint8_t *buf;

static void cleanup(void)
{
    char p[160];
    unlink(path);
    snprintf(p, sizeof p, "%s/base.raw", dir);
    unlink(p);
    rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fuzz_mute_stderr();
    /* tmpfs when there is one: an image is written per input. */
    const char *tmp = getenv("TMPDIR");
    if (!tmp || strlen(tmp) > 60)
        tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(dir, sizeof dir, "%s/fuzz-qcow2-XXXXXX", tmp);
    if (!mkdtemp(dir))
        fuzz_fail("mkdtemp %s: %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/img.qcow2", dir);
    char base[160];
    snprintf(base, sizeof base, "%s/base.raw", dir);
    int fd = open(base, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    uint8_t pattern[4096];
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (uint8_t)(i * 7 + 1);
    for (int i = 0; fd >= 0 && i < 16; i++)
        if (write(fd, pattern, sizeof pattern) != (ssize_t)sizeof pattern)
            fuzz_fail("base.raw: %s", strerror(errno));
    if (fd < 0)
        fuzz_fail("base.raw: %s", strerror(errno));
    close(fd);
    buf = malloc(MAX_IO);
    if (!buf)
        fuzz_fail("out of memory");
    atexit(cleanup);
    return 0;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
    return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* A backing name the harness will not let the image layer open. */
static bool backing_escapes(const uint8_t *img, size_t len)
{
    if (len < 20 || memcmp(img, "QFI\xfb", 4) != 0)
        return false;
    uint64_t off = be64(img + 8);
    uint32_t n = be32(img + 16);
    if (off == 0 || n == 0 || off >= len || n > len - off)
        return false; /* none, or not in the file: the image layer refuses it */
    return memchr(img + off, '/', n) != NULL;
}

static void must_say_why(int rc, const char *what)
{
    if (rc < 0 && !err_msg()[0])
        fuzz_fail("%s failed without a message", what);
}

static void request(struct image *img, bool writable, const uint8_t *op)
{
    uint64_t size = image_get_size(img);
    if (size < 512)
        return;
    uint64_t off = ((size / 256) * op[1]) & ~511ull;
    size_t len = 512 * ((size_t)op[2] + 1);
    if (off >= size)
        return;
    if (len > size - off)
        len = (size_t)(size - off);
    err_clear();
    unsigned kind = op[0] % 8;
    if (!writable && kind >= 1 && kind <= 4)
        kind = 0;
    switch (kind) {
    case 1:
        memset(buf, op[0], len);
        must_say_why(image_write(img, buf, off, len), "write");
        break;
    case 2:
        must_say_why(image_discard(img, off, len), "discard");
        break;
    case 3:
        must_say_why(image_write_zeroes(img, off, len), "write_zeroes");
        break;
    case 4: {
        /* scatter/gather as virtio-blk sends it: a header-sized piece first */
        memset(buf, 0xa5, len);
        struct iovec iov[2] = {{buf, len > 512 ? 512 : len}, {buf + 512, len > 512 ? len - 512 : 0}};
        must_say_why(image_writev(img, iov, 2, off), "writev");
        break;
    }
    case 5: {
        struct iovec iov[2] = {{buf, len / 2}, {buf + len / 2, len - len / 2}};
        must_say_why(image_readv(img, iov, 2, off), "readv");
        break;
    }
    case 6: {
        struct image_info info;
        must_say_why(image_get_info(img, &info), "get_info");
        break;
    }
    default:
        must_say_why(image_read(img, buf, off, len), "read");
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < SCRIPT)
        return -1;
    const uint8_t *script = data, *img_bytes = data + SCRIPT;
    size_t img_len = size - SCRIPT;
    if (backing_escapes(img_bytes, img_len))
        return -1;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, img_bytes, img_len) != (ssize_t)img_len)
        fuzz_fail("%s: %s", path, strerror(errno));
    close(fd);

    bool writable = script[0] & 1;
    enum image_format fmt = script[0] & 2 ? IMAGE_FORMAT_AUTO : IMAGE_FORMAT_QCOW2;
    err_clear();
    struct image *img = image_open(path, fmt, writable ? 0 : IMAGE_OPEN_RDONLY);
    if (!img) {
        if (!err_msg()[0])
            fuzz_fail("image_open refused without a message");
        return 0;
    }
    struct image_info info;
    if (image_get_info(img, &info) == 0 && info.format == IMAGE_FORMAT_QCOW2) {
        uint32_t cs = info.cluster_size;
        if (cs < 512 || cs > (2u << 20) || (cs & (cs - 1)))
            fuzz_fail("opened with cluster size %u", cs);
    }
    if (script[0] & 4) {
        struct image_snapshot *snaps = NULL;
        size_t n = 0;
        err_clear();
        if (image_list_snapshots(img, &snaps, &n) == 0)
            image_snapshots_free(snaps, n);
        else if (!err_msg()[0])
            fuzz_fail("list_snapshots failed without a message");
    }
    for (int i = 0; i < 5; i++)
        request(img, writable, script + 1 + 3 * i);
    if (writable) {
        err_clear();
        must_say_why(image_flush(img), "flush");
    }
    image_close(img);
    return 0;
}
