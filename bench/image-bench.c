/* tvm-image-bench: the image layer's answer to `qemu-img bench`, with the
 * same request pattern (COUNT requests of SIZE bytes starting at OFFSET, each
 * STEP bytes after the previous one, wrapping at the end of the disk) at
 * queue depth 1 through the host page cache (qemu-img's -d 1 -t writeback).
 * Like qemu-img bench, the time covers the requests, not open/close.
 *
 *   tvm-image-bench [-w] [-c COUNT] [-s SIZE] [-S STEP] [-o OFFSET] [-f FMT]
 *                   [--flush-interval N] FILE
 */
#include "core/base/err.h"
#include "core/image/image.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int parse_size(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    switch (*end) {
    case 'k':
    case 'K':
        v <<= 10;
        end++;
        break;
    case 'm':
    case 'M':
        v <<= 20;
        end++;
        break;
    case 'g':
    case 'G':
        v <<= 30;
        end++;
        break;
    default:
        break;
    }
    if (end == s || *end)
        return -1;
    *out = v;
    return 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
    fprintf(stderr, "usage: tvm-image-bench [-w] [-c COUNT] [-s SIZE] [-S STEP] [-o OFFSET] [-f "
                    "raw|qcow2] [--flush-interval N] FILE\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t count = 75000, size = 4096, step = 0, offset = 0, flush_every = 0;
    bool write = false;
    enum image_format fmt = IMAGE_FORMAT_AUTO;
    static const struct option longopts[] = {{"flush-interval", required_argument, NULL, 'F'},
                                             {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "wc:s:S:o:f:", longopts, NULL)) != -1) {
        uint64_t *dst = NULL;
        switch (c) {
        case 'w':
            write = true;
            break;
        case 'c':
            dst = &count;
            break;
        case 's':
            dst = &size;
            break;
        case 'S':
            dst = &step;
            break;
        case 'o':
            dst = &offset;
            break;
        case 'F':
            dst = &flush_every;
            break;
        case 'f':
            if (image_format_parse(optarg, &fmt) < 0) {
                fprintf(stderr, "tvm-image-bench: %s\n", err_msg());
                return 2;
            }
            break;
        default:
            usage();
        }
        if (dst && parse_size(optarg, dst) < 0)
            usage();
    }
    if (optind + 1 != argc || size == 0)
        usage();
    if (step == 0)
        step = size;

    struct image *img = image_open(argv[optind], fmt, write ? 0 : IMAGE_OPEN_RDONLY);
    if (!img) {
        fprintf(stderr, "tvm-image-bench: %s\n", err_msg());
        return 1;
    }
    uint64_t disk = image_get_size(img);
    if (size > disk) {
        fprintf(stderr, "tvm-image-bench: request size larger than the disk\n");
        return 1;
    }
    uint8_t *buf = aligned_alloc(4096, (size + 4095) & ~4095ull);
    memset(buf, 0xa5, size); /* qemu-img bench's default pattern */
    printf("Sending %llu %s requests, %llu bytes each, 1 in parallel (starting at offset %llu, "
           "step size %llu)\n",
           (unsigned long long)count, write ? "write" : "read", (unsigned long long)size,
           (unsigned long long)offset, (unsigned long long)step);
    double t0 = now();
    uint64_t off = offset;
    for (uint64_t i = 0; i < count; i++) {
        if (off + size > disk)
            off = 0;
        int rc = write ? image_write(img, buf, off, size) : image_read(img, buf, off, size);
        if (rc == 0 && write && flush_every && (i + 1) % flush_every == 0)
            rc = image_flush(img);
        if (rc != 0) {
            fprintf(stderr, "tvm-image-bench: request %llu: %s\n", (unsigned long long)i,
                    err_msg());
            return 1;
        }
        off += step;
    }
    double t1 = now();
    printf("Run completed in %.3f seconds.\n", t1 - t0);
    double tc = now();
    image_close(img);
    printf("Close (flush) took %.3f seconds.\n", now() - tc);
    free(buf);
    return 0;
}
