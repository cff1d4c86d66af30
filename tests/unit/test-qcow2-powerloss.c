/* Power loss: stronger than SIGKILL, because a disk may persist any subset of
 * the writes issued since the last barrier, in any order.
 *
 * This program interposes pwrite/ftruncate/fallocate/fdatasync (its own
 * definitions win over libc's for the statically linked image layer), logs
 * every change the layer makes to the image file during a workload, and then
 * rebuilds many "after the crash" files: everything before barrier k, plus a
 * random subset of the writes between barrier k and k+1. `qemu-img check`
 * must find no corruption in any of them (exit 0, or 3 = leaks only). */
#include "test-image-util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <cmocka.h>

#include "core/base/err.h"
#include "core/image/image.h"

#define MiB (1024 * 1024)
#define TRIALS 60

enum op_kind { OP_WRITE, OP_TRUNCATE, OP_PUNCH };

struct op {
    enum op_kind kind;
    uint64_t off, len;
    uint8_t *data;
    int epoch; /* number of barriers before it */
};

static struct {
    bool on;
    dev_t dev;
    ino_t ino;
    struct op *ops;
    size_t n, cap;
    int barriers;
} rec;

static bool is_target(int fd)
{
    struct stat st;
    return rec.on && fstat(fd, &st) == 0 && st.st_dev == rec.dev && st.st_ino == rec.ino;
}

static void log_op(enum op_kind kind, uint64_t off, uint64_t len, const void *data)
{
    if (rec.n == rec.cap) {
        rec.cap = rec.cap ? rec.cap * 2 : 1024;
        rec.ops = realloc(rec.ops, rec.cap * sizeof(*rec.ops));
    }
    struct op *o = &rec.ops[rec.n++];
    o->kind = kind;
    o->off = off;
    o->len = len;
    o->epoch = rec.barriers;
    o->data = NULL;
    if (data) {
        o->data = malloc(len ? len : 1);
        memcpy(o->data, data, len);
    }
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    ssize_t r = syscall(SYS_pwrite64, fd, buf, n, off);
    if (r > 0 && is_target(fd))
        log_op(OP_WRITE, (uint64_t)off, (uint64_t)r, buf);
    return r;
}

int ftruncate(int fd, off_t len)
{
    int r = (int)syscall(SYS_ftruncate, fd, len);
    if (r == 0 && is_target(fd))
        log_op(OP_TRUNCATE, (uint64_t)len, 0, NULL);
    return r;
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    int r = (int)syscall(SYS_fallocate, fd, mode, off, len);
    if (r == 0 && is_target(fd))
        log_op(OP_PUNCH, (uint64_t)off, (uint64_t)len, NULL);
    return r;
}

int fdatasync(int fd)
{
    int r = (int)syscall(SYS_fdatasync, fd);
    if (r == 0 && is_target(fd))
        rec.barriers++;
    return r;
}

static void rec_start(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    for (size_t i = 0; i < rec.n; i++)
        free(rec.ops[i].data);
    rec.n = 0;
    rec.barriers = 0;
    rec.dev = st.st_dev;
    rec.ino = st.st_ino;
    rec.on = true;
}

static int setup(void **state)
{
    (void)state;
    tdir_make();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    rec.on = false;
    tdir_remove();
    return 0;
}

static void apply(int fd, const struct op *o)
{
    static const uint8_t zeros[65536];
    switch (o->kind) {
    case OP_WRITE:
        if (syscall(SYS_pwrite64, fd, o->data, o->len, o->off) != (ssize_t)o->len)
            abort();
        break;
    case OP_TRUNCATE:
        if (syscall(SYS_ftruncate, fd, o->off) != 0)
            abort();
        break;
    case OP_PUNCH: /* a punched hole reads as zeros */
        for (uint64_t done = 0; done < o->len;) {
            uint64_t n = o->len - done < sizeof(zeros) ? o->len - done : sizeof(zeros);
            struct stat st;
            fstat(fd, &st);
            if (o->off + done >= (uint64_t)st.st_size)
                break;
            syscall(SYS_pwrite64, fd, zeros, n, o->off + done);
            done += n;
        }
        break;
    }
}

/* Builds the file as the disk might hold it after losing power in EPOCH. */
static void build_crash_image(const char *base, const char *out, int epoch)
{
    if (sh("cp '%s' '%s'", base, out) != 0)
        fail_msg("cp failed");
    int fd = open(out, O_WRONLY);
    assert_true(fd >= 0);
    size_t first = rec.n, last = rec.n;
    for (size_t i = 0; i < rec.n; i++) {
        if (rec.ops[i].epoch < epoch)
            apply(fd, &rec.ops[i]);
        else if (rec.ops[i].epoch == epoch && first == rec.n)
            first = i;
        if (rec.ops[i].epoch > epoch) {
            last = i;
            break;
        }
    }
    if (first == rec.n)
        first = last;
    /* Any subset of the epoch's writes, in any order. */
    size_t n = last - first;
    size_t *order = malloc((n ? n : 1) * sizeof(size_t));
    for (size_t i = 0; i < n; i++)
        order[i] = first + i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rand() % i, t = order[i - 1];
        order[i - 1] = order[j];
        order[j] = t;
    }
    int keep = 1 + rand() % 3; /* persist 1/4, 2/4 or 3/4 of them */
    for (size_t i = 0; i < n; i++)
        if (rand() % 4 < keep)
            apply(fd, &rec.ops[order[i]]);
    free(order);
    close(fd);
}

static void workload(const char *path, uint64_t size, unsigned seed)
{
    struct image *img = image_open(path, IMAGE_FORMAT_AUTO, 0);
    if (!img)
        fail_msg("open: %s", err_msg());
    srand(seed);
    uint8_t *buf = malloc(200 * 1024);
    for (int i = 0; i < 150; i++) {
        size_t len = 1 + (size_t)rand() % (200 * 1024);
        uint64_t off = ((uint64_t)rand() * 7919u) % (size - len);
        int op = rand() % 12;
        int rc;
        if (op == 0) {
            rc = image_discard(img, off, len);
        } else if (op == 1) {
            rc = image_write_zeroes(img, off, len);
        } else {
            fill_pattern(buf, len, off, seed + (unsigned)i);
            rc = image_write(img, buf, off, len);
        }
        if (rc == 0 && rand() % 5 == 0)
            rc = image_flush(img);
        if (rc != 0)
            fail_msg("workload: %s", err_msg());
    }
    image_close(img);
    free(buf);
}

/* The workload the crash images are taken from, and what every one of
 * them must still read (NULL: anything, as long as the check is clean). */
static void (*work)(const char *path, uint64_t size, unsigned seed) = workload;
static const char *must_read_as;

/* img rebase: a safe rebase onto another backing file (copying what would
 * read differently), then one onto a name too long for the header's first
 * sector. The disk reads the same before, after and at every crash. */
static void rebase_workload(const char *path, uint64_t size, unsigned seed)
{
    (void)size;
    (void)seed;
    struct image *img = image_open(path, IMAGE_FORMAT_QCOW2, 0);
    if (!img)
        fail_msg("open: %s", err_msg());
    char longname[700];
    int n = 0;
    for (int i = 0; i < 300; i++)
        n += snprintf(longname + n, sizeof(longname) - (size_t)n, "./");
    snprintf(longname + n, sizeof(longname) - (size_t)n, "pl-b1.qcow2");
    if (image_rebase(img, "pl-b2.qcow2", IMAGE_FORMAT_QCOW2, false) < 0 ||
        image_rebase(img, longname, IMAGE_FORMAT_QCOW2, false) < 0)
        fail_msg("rebase: %s", err_msg());
    if (image_close(img) < 0)
        fail_msg("close: %s", err_msg());
}

static void run_case(const char *what, const char *create_cmd, uint64_t size, unsigned seed)
{
    sh("rm -f pl.qcow2 pl-base.qcow2 pl-start.qcow2 pl-crash.qcow2");
    if (sh("%s", create_cmd) != 0)
        fail_msg("%s: %s failed", what, create_cmd);
    assert_int_equal(sh("cp pl.qcow2 pl-start.qcow2"), 0);
    rec_start(tpath("pl.qcow2"));
    work(tpath("pl.qcow2"), size, seed);
    rec.on = false;
    if (getenv("PL_DUMP")) /* debugging aid: the logged operations */
        for (size_t i = 0; i < rec.n; i++)
            fprintf(stderr, "e%d %d off=0x%llx len=%llu\n", rec.ops[i].epoch, rec.ops[i].kind,
                    (unsigned long long)rec.ops[i].off, (unsigned long long)rec.ops[i].len);
    int leaks = 0;
    /* TRIALS crash images spread over all epochs (several per epoch when few). */
    int trials = TRIALS, epochs = rec.barriers + 1;
    for (int t = 0; t < trials; t++) {
        int epoch = epochs <= trials
                        ? t % epochs
                        : (int)((long)t * epochs / trials) + rand() % (epochs / trials);
        build_crash_image(tpath("pl-start.qcow2"), tpath("pl-crash.qcow2"), epoch);
        int rc = sh("qemu-img check pl-crash.qcow2 > pl.out 2>&1");
        if (rc != 0 && rc != 3) {
            char *out = sh_out("head -20 pl.out");
            fail_msg("%s: power loss in epoch %d of %d: qemu-img check exited %d:\n%s", what, epoch,
                     rec.barriers, rc, out);
        }
        leaks += rc == 3;
        if (must_read_as && sh("qemu-img compare pl-crash.qcow2 %s >pl.out 2>&1", must_read_as))
            fail_msg("%s: power loss in epoch %d of %d: the disk reads differently", what, epoch,
                     rec.barriers);
    }
    print_message("  %s: %zu writes, %d barriers, %d/%d crash images with leaks only\n", what,
                  rec.n, rec.barriers, leaks, trials);
}

static void test_power_loss(void **state)
{
    (void)state;
    unsigned seed = (unsigned)time(NULL);
    print_message("seed %u\n", seed);
    srand(seed);
    run_case("512-byte clusters (refcount blocks and table grow)",
             "qemu-img create -q -f qcow2 -o cluster_size=512 pl.qcow2 16M", 16 * MiB, seed);
    run_case("64k clusters, v2", "qemu-img create -q -f qcow2 -o compat=0.10 pl.qcow2 32M",
             32 * MiB, seed + 1);
    run_case("overlay on a backing file (copy-on-write)",
             "qemu-img create -q -f qcow2 -o cluster_size=4k pl-base.qcow2 16M && qemu-io -c "
             "'write -P 0x5e 0 16M' pl-base.qcow2 >/dev/null && qemu-img create -q -f qcow2 -o "
             "cluster_size=4k -b pl-base.qcow2 -F qcow2 pl.qcow2",
             16 * MiB, seed + 2);
    run_case("internal snapshot (shared L2 tables and clusters)",
             "qemu-img create -q -f qcow2 -o cluster_size=4k pl.qcow2 16M && qemu-io -c 'write "
             "-P 0x6f 0 12M' pl.qcow2 >/dev/null && qemu-img snapshot -c s pl.qcow2",
             16 * MiB, seed + 3);
}

static void test_rebase_power_loss(void **state)
{
    (void)state;
    unsigned seed = (unsigned)time(NULL);
    srand(seed);
    work = rebase_workload;
    must_read_as = "pl-before.raw";
    run_case("img rebase onto another backing file, then a long name",
             "qemu-img create -q -f qcow2 -o cluster_size=4k pl-b1.qcow2 4M && qemu-io -c "
             "'write -P 0x11 0 3M' pl-b1.qcow2 >/dev/null && qemu-img create -q -f qcow2 -o "
             "cluster_size=4k pl-b2.qcow2 4M && qemu-io -c 'write -P 0x22 1M 3M' pl-b2.qcow2 "
             ">/dev/null && qemu-img create -q -f qcow2 -o cluster_size=4k -b pl-b1.qcow2 -F "
             "qcow2 pl.qcow2 && qemu-io -c 'write -P 0x33 512k 1M' pl.qcow2 >/dev/null && "
             "qemu-img convert -O raw pl.qcow2 pl-before.raw",
             4 * MiB, seed);
    work = workload;
    must_read_as = NULL;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_power_loss),
        cmocka_unit_test(test_rebase_power_loss),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
