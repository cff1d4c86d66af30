/* Crash safety: a child writes, discards and flushes through the layer and is
 * SIGKILLed at a random moment; `qemu-img check` must then report no
 * corruption (exit 0, or 3 = leaked clusters only; 2 would be corruption) and
 * the image must still read and write through the layer. */
#include "test-image-util.h"

#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/base/err.h"
#include "core/image/image.h"

#define MiB (1024 * 1024)
#define ROUNDS 20

static void child_writer(const char *path, uint64_t size, unsigned seed)
{
    struct image *img = image_open(path, IMAGE_FORMAT_AUTO, 0);
    if (!img)
        _exit(10);
    srand(seed);
    uint8_t *buf = malloc(256 * 1024);
    for (unsigned i = 0;; i++) {
        size_t len = 1 + (size_t)rand() % (256 * 1024);
        uint64_t off = ((uint64_t)rand() * 7919u) % (size - len);
        if (rand() % 2)
            off &= ~511ull;
        int op = rand() % 16;
        int rc;
        if (op == 0) {
            rc = image_discard(img, off, len);
        } else if (op == 1) {
            rc = image_write_zeroes(img, off, len);
        } else {
            fill_pattern(buf, len, off, seed + i);
            rc = image_write(img, buf, off, len);
        }
        if (rc == 0 && rand() % 6 == 0)
            rc = image_flush(img);
        if (rc != 0) {
            fprintf(stderr, "child: %s\n", err_msg());
            _exit(11);
        }
    }
}

static void make_image(int round, uint64_t size)
{
    static const unsigned bits[] = {9, 12, 16};
    unsigned cb = bits[round % 3];
    sh("rm -f crash.qcow2 crash-base.qcow2");
    switch (round % 4) {
    case 0: /* ours */
        if (image_create_qcow2(tpath("crash.qcow2"), size, cb, NULL, IMAGE_FORMAT_AUTO) != 0)
            fail_msg("create: %s", err_msg());
        break;
    case 1: /* QEMU's, version 2 */
        assert_int_equal(sh("qemu-img create -q -f qcow2 -o compat=0.10,cluster_size=%u "
                            "crash.qcow2 %llu",
                            1u << cb, (unsigned long long)size),
                         0);
        break;
    case 2: /* overlay: copy-on-write from a backing file */
        assert_int_equal(sh("qemu-img create -q -f qcow2 -o cluster_size=%u crash-base.qcow2 %llu "
                            "&& qemu-io -c 'write -P 0x5e 0 %llu' crash-base.qcow2 && qemu-img "
                            "create -q -f qcow2 -o cluster_size=%u -b crash-base.qcow2 -F qcow2 "
                            "crash.qcow2",
                            1u << cb, (unsigned long long)size, (unsigned long long)size, 1u << cb),
                         0);
        break;
    default: /* with an internal snapshot: shared clusters and L2 tables */
        assert_int_equal(sh("qemu-img create -q -f qcow2 -o cluster_size=%u crash.qcow2 %llu && "
                            "qemu-io -c 'write -P 0x6f 0 %llu' crash.qcow2 && qemu-img snapshot "
                            "-c before crash.qcow2",
                            1u << cb, (unsigned long long)size, (unsigned long long)size / 2),
                         0);
        break;
    }
}

static void test_sigkill_leaves_consistent_image(void **state)
{
    (void)state;
    const uint64_t size = 24 * MiB;
    unsigned seed = (unsigned)time(NULL);
    print_message("seed %u\n", seed);
    srand(seed);
    int leaks = 0;
    for (int round = 0; round < ROUNDS; round++) {
        make_image(round, size);
        unsigned child_seed = (unsigned)rand();
        long delay_us = 2000 + rand() % 150000;
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0)
            child_writer(tpath("crash.qcow2"), size, child_seed);
        usleep((useconds_t)delay_us);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
            fail_msg("round %d: child ended on its own (status 0x%x), see %s/log", round, st, tdir);
        int rc = sh("qemu-img check crash.qcow2 > crash-check.out 2>&1");
        if (rc != 0 && rc != 3) {
            char *out = sh_out("cat crash-check.out");
            fail_msg("round %d (kill after %ld us): qemu-img check exited %d:\n%s", round, delay_us,
                     rc, out);
        }
        leaks += rc == 3;
        /* Still usable: read it all, write, close; still consistent. */
        struct image *img = image_open(tpath("crash.qcow2"), IMAGE_FORMAT_AUTO, 0);
        if (!img)
            fail_msg("round %d: reopen: %s", round, err_msg());
        uint8_t *buf = malloc(MiB);
        for (uint64_t off = 0; off < size; off += MiB)
            if (image_read(img, buf, off, MiB) != 0)
                fail_msg("round %d: read: %s", round, err_msg());
        memset(buf, 0x77, MiB);
        assert_int_equal(image_write(img, buf, size - MiB - 1000, MiB), 0);
        image_close(img);
        free(buf);
        rc = sh("qemu-img check crash.qcow2 > crash-check.out 2>&1");
        assert_true(rc == 0 || rc == 3);
    }
    print_message("%d of %d rounds left leaked clusters (allowed)\n", leaks, ROUNDS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigkill_leaves_consistent_image),
    };
    return cmocka_run_group_tests(tests, tdir_setup, tdir_teardown);
}
