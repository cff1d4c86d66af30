/* Issue 10, finding 3: two writers racing to open one image. Checking for
 * other users' locks before taking one's own leaves a window in which both
 * see nothing and both get write access; taking the locks first and then
 * checking (as QEMU does) means at most one wins. Open file description
 * locks conflict between two opens of one process, so two threads released
 * together by a barrier are two VMMs here. The window is microseconds wide
 * (two VMMs met in it 10 times in 300 rounds; two threads far less often),
 * so this program's own fcntl() holds each opener at its first lock until
 * the other has reached its own first lock (or 100 ms have passed): with
 * check-then-lock both have checked by then and both win every round; with
 * lock-then-check each then sees the other. */
#include "test-image-util.h"

#include <pthread.h>
#include <sys/syscall.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/base/err.h"
#include "core/image/image.h"

#define ROUNDS 200

static pthread_mutex_t meet_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t meet_cond = PTHREAD_COND_INITIALIZER;
static int meet_arrived;
static _Thread_local bool locked_once;

/* Replaces libc's fcntl for this program (the image layer is linked in
 * statically and calls it through the executable's symbol). */
int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    unsigned long arg = va_arg(ap, unsigned long);
    va_end(ap);
    if (cmd == F_OFD_SETLK && !locked_once) {
        locked_once = true;
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_nsec += 100 * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&meet_lock);
        meet_arrived++;
        pthread_cond_broadcast(&meet_cond);
        while (meet_arrived < 2 && pthread_cond_timedwait(&meet_cond, &meet_lock, &until) == 0)
            ;
        pthread_mutex_unlock(&meet_lock);
    }
    return (int)syscall(SYS_fcntl, fd, cmd, arg);
}

struct racer {
    pthread_barrier_t *go;
    const char *path;
    unsigned flags;
    struct image *img;
};

static void *race(void *arg)
{
    struct racer *r = arg;
    locked_once = false;
    pthread_barrier_wait(r->go);
    r->img = image_open(r->path, IMAGE_FORMAT_QCOW2, r->flags);
    return NULL;
}

/* Opens PATH from two threads at once with FLAGS_A and FLAGS_B, ROUNDS
 * times; returns in how many rounds both got it. */
static int both_won(const char *path, unsigned flags_a, unsigned flags_b)
{
    int both = 0;
    for (int i = 0; i < ROUNDS; i++) {
        pthread_barrier_t go;
        pthread_barrier_init(&go, NULL, 2);
        meet_arrived = 0;
        struct racer a = {&go, path, flags_a, NULL}, b = {&go, path, flags_b, NULL};
        pthread_t ta, tb;
        pthread_create(&ta, NULL, race, &a);
        pthread_create(&tb, NULL, race, &b);
        pthread_join(ta, NULL);
        pthread_join(tb, NULL);
        pthread_barrier_destroy(&go);
        if (a.img && b.img)
            both++;
        image_close(a.img);
        image_close(b.img);
    }
    return both;
}

static void test_two_writers_race(void **state)
{
    (void)state;
    const char *p = tpath("race.qcow2");
    unlink(p);
    assert_int_equal(image_create_qcow2(p, 1024 * 1024, 16, NULL, IMAGE_FORMAT_AUTO), 0);
    int both = both_won(p, 0, 0);
    if (both)
        fail_msg("two writers both opened %s in %d of %d rounds", p, both, ROUNDS);
}

static void test_writer_and_reader_race(void **state)
{
    (void)state;
    const char *p = tpath("race.qcow2");
    int both = both_won(p, 0, IMAGE_OPEN_RDONLY);
    if (both)
        fail_msg("a writer and a reader both opened %s in %d of %d rounds", p, both, ROUNDS);
    /* Once the race is over, the image is free again: nothing leaked a lock. */
    struct image *img = image_open(p, IMAGE_FORMAT_QCOW2, 0);
    if (!img)
        fail_msg("after the races: %s", err_msg());
    image_close(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_writers_race),
        cmocka_unit_test(test_writer_and_reader_race),
    };
    return cmocka_run_group_tests(tests, tdir_setup, tdir_teardown);
}
