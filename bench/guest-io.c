/* guest-io: the in-guest half of bench/guest-io.sh. Built static, it runs
 * as the lab's L2 guest command and measures a virtio disk through
 * O_DIRECT (no guest page cache, so every request reaches the device):
 *
 *   guest-io [-t SECONDS] [-q DEPTH] [-S BYTES] READ_DEV WRITE_DEV
 *
 * READ_DEV is a disk the host filled beforehand; it gets a sequential read
 * (1 MiB requests, one pass over the first -S bytes) and random 4 KiB reads
 * for SECONDS at queue depth 1 and at DEPTH (one thread per outstanding
 * request). WRITE_DEV is a fresh disk cut into three regions so that every
 * write phase lands on clusters nobody wrote before (a qcow2 allocates):
 * a sequential write pass over region 0, random 4 KiB writes at depth 1 in
 * region 1 and at DEPTH in region 2.
 *
 * One line per figure on stdout, for the host to parse:
 *   IO seq-read MBps=812.3 bytes=536870912 secs=0.661
 *   IO rand-read-qd1 iops=5021 ops=25105 secs=5.000
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define SEQ_BLOCK (1u << 20)
#define RAND_BLOCK 4096u
#define MAX_DEPTH 64

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("guest-io: ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    /* The host waits for a verdict line, not for a silent guest. */
    printf("IO error\n");
    exit(1);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* O_DIRECT wants buffers aligned to the logical block size; a page is enough. */
static void *aligned_buffer(size_t len, int fill)
{
    void *p;
    if (posix_memalign(&p, 4096, len) != 0)
        die("out of memory for a %zu-byte buffer", len);
    memset(p, fill, len);
    return p;
}

static int open_direct(const char *dev, int mode, uint64_t *size)
{
    int fd = open(dev, mode | O_DIRECT);
    if (fd < 0)
        die("%s: %s", dev, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0)
        die("%s: %s", dev, strerror(errno));
    /* A plain file works too (trying the program outside a guest). */
    if (!S_ISBLK(st.st_mode))
        *size = (uint64_t)st.st_size;
    else if (ioctl(fd, BLKGETSIZE64, size) < 0)
        die("%s: size: %s", dev, strerror(errno));
    return fd;
}

static void io_full(int fd, bool write, void *buf, size_t len, uint64_t off, const char *what)
{
    ssize_t n = write ? pwrite(fd, buf, len, (off_t)off) : pread(fd, buf, len, (off_t)off);
    if (n != (ssize_t)len)
        die("%s at %llu: %s", what, (unsigned long long)off, n < 0 ? strerror(errno) : "short");
}

/* One pass over [base, base+len) in 1 MiB requests: throughput. */
static void sequential(const char *name, int fd, bool write, uint64_t base, uint64_t len)
{
    void *buf = aligned_buffer(SEQ_BLOCK, 0xa5);
    len -= len % SEQ_BLOCK;
    if (len == 0)
        die("%s: region smaller than one request", name);
    double t0 = now();
    for (uint64_t off = 0; off < len; off += SEQ_BLOCK)
        io_full(fd, write, buf, SEQ_BLOCK, base + off, name);
    double secs = now() - t0;
    printf("IO %s MBps=%.1f bytes=%llu secs=%.3f\n", name, len / secs / 1e6,
           (unsigned long long)len, secs);
    fflush(stdout);
    free(buf);
}

struct rand_job {
    int fd;
    bool write;
    uint64_t base, blocks; /* region in RAND_BLOCK units */
    double deadline;
    uint64_t seed;
    uint64_t ops;
    pthread_t thread;
};

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void *rand_worker(void *opaque)
{
    struct rand_job *j = opaque;
    void *buf = aligned_buffer(RAND_BLOCK, 0x5a);
    /* Check the clock every few requests only: it is not free in a nested guest. */
    while (now() < j->deadline) {
        for (int i = 0; i < 8; i++) {
            uint64_t off = j->base + (xorshift(&j->seed) % j->blocks) * RAND_BLOCK;
            io_full(j->fd, j->write, buf, RAND_BLOCK, off,
                    j->write ? "random write" : "random read");
            j->ops++;
        }
    }
    free(buf);
    return NULL;
}

/* DEPTH threads issue 4 KiB requests at random in [base, base+len) for SECS. */
static void random_io(const char *name, int fd, bool write, uint64_t base, uint64_t len,
                      unsigned depth, double secs)
{
    struct rand_job jobs[MAX_DEPTH];
    double t0 = now();
    for (unsigned i = 0; i < depth; i++) {
        jobs[i] = (struct rand_job){
            .fd = fd,
            .write = write,
            .base = base,
            .blocks = len / RAND_BLOCK,
            .deadline = t0 + secs,
            .seed = 0x9e3779b97f4a7c15ull * (i + 1) + (write ? 7 : 0),
        };
        int rc = pthread_create(&jobs[i].thread, NULL, rand_worker, &jobs[i]);
        if (rc)
            die("thread: %s", strerror(rc));
    }
    uint64_t ops = 0;
    for (unsigned i = 0; i < depth; i++) {
        pthread_join(jobs[i].thread, NULL);
        ops += jobs[i].ops;
    }
    double took = now() - t0;
    printf("IO %s iops=%.0f ops=%llu secs=%.3f\n", name, ops / took, (unsigned long long)ops, took);
    fflush(stdout);
}

static void print_clocksource(void)
{
    char cs[64] = "?";
    FILE *f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r");
    if (f) {
        if (fscanf(f, "%63s", cs) != 1)
            strcpy(cs, "?");
        fclose(f);
    }
    printf("IO info clocksource=%s\n", cs);
}

int main(int argc, char **argv)
{
    double secs = 5;
    unsigned depth = 16;
    uint64_t seq_max = UINT64_MAX;
    int opt;
    while ((opt = getopt(argc, argv, "t:q:S:")) != -1) {
        switch (opt) {
        case 't':
            secs = atof(optarg);
            break;
        case 'q':
            depth = (unsigned)atoi(optarg);
            break;
        case 'S':
            seq_max = strtoull(optarg, NULL, 0);
            break;
        default:
            die("usage: guest-io [-t SECONDS] [-q DEPTH] [-S BYTES] READ_DEV WRITE_DEV");
        }
    }
    if (optind + 2 != argc || secs <= 0 || depth < 1 || depth > MAX_DEPTH)
        die("usage: guest-io [-t SECONDS] [-q 1..%d] [-S BYTES] READ_DEV WRITE_DEV", MAX_DEPTH);
    print_clocksource();

    uint64_t rsize, wsize;
    int rfd = open_direct(argv[optind], O_RDONLY, &rsize);
    int wfd = open_direct(argv[optind + 1], O_RDWR, &wsize);
    char qd[32];
    snprintf(qd, sizeof qd, "%u", depth);

    sequential("seq-read", rfd, false, 0, rsize < seq_max ? rsize : seq_max);
    random_io("rand-read-qd1", rfd, false, 0, rsize, 1, secs);
    if (depth > 1) {
        char name[48];
        snprintf(name, sizeof name, "rand-read-qd%s", qd);
        random_io(name, rfd, false, 0, rsize, depth, secs);
    }

    /* Three fresh regions, each a whole number of 1 MiB blocks. */
    uint64_t region = wsize / 3 / SEQ_BLOCK * SEQ_BLOCK;
    if (region == 0)
        die("%s is too small", argv[optind + 1]);
    sequential("seq-write", wfd, true, 0, region < seq_max ? region : seq_max);
    random_io("rand-write-qd1", wfd, true, region, region, 1, secs);
    if (depth > 1) {
        char name[48];
        snprintf(name, sizeof name, "rand-write-qd%s", qd);
        random_io(name, wfd, true, 2 * region, region, depth, secs);
    }
    /* Untimed: what the device cached reaches the image before poweroff. */
    if (fsync(wfd) < 0)
        die("fsync: %s", strerror(errno));
    printf("IO done\n");
    return 0;
}
