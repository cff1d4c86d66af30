/* The saved-state file format (core/proto/vmstate-file.h) as a reader meets
 * it from a hostile or damaged file: a good file reads to its end with the
 * checksum matched; every truncation, a wrong magic or version, a flipped
 * byte, lengths larger than the file or than a section may be, unnamed
 * sections and short or over-long payloads are refused with a message
 * naming what is wrong, never a crash or a read out of bounds (ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"

static const char xml[] = "<domain><name>g</name></domain>";

/* A small good file in a memfd: domain, machine (running), a section of
 * fields, ram, end. Its bytes in *buf. */
static size_t good_file(uint8_t **buf)
{
    int fd = memfd_create("vsf", MFD_CLOEXEC);
    assert_true(fd >= 0);
    struct vsf_writer w;
    vsf_writer_init(&w, fd);
    struct vsf_out o = {0};
    assert_int_equal(vsf_write_header(&w), 0);
    vsf_put_bytes(&o, xml, strlen(xml));
    assert_int_equal(vsf_write_section(&w, VSF_SECTION_DOMAIN, &o), 0);
    vsf_out_free(&o);
    vsf_put_u8(&o, 1);
    vsf_put_u64(&o, 4096);
    assert_int_equal(vsf_write_section(&w, "machine", &o), 0);
    vsf_out_free(&o);
    vsf_put_u16(&o, 0xBEEF);
    vsf_put_u32(&o, 7);
    vsf_put_u64(&o, 1ULL << 40);
    assert_int_equal(vsf_write_section(&w, "dev", &o), 0);
    vsf_out_free(&o);
    uint8_t page[4096];
    memset(page, 0x5A, sizeof page);
    assert_int_equal(vsf_section_begin(&w, VSF_SECTION_RAM, sizeof page), 0);
    assert_int_equal(vsf_write(&w, page, sizeof page), 0);
    assert_int_equal(vsf_write_end(&w), 0);
    size_t n = (size_t)w.off;
    *buf = malloc(n);
    assert_int_equal(pread(fd, *buf, n, 0), (ssize_t)n);
    close(fd);
    return n;
}

static int mem_fd(const uint8_t *b, size_t n)
{
    int fd = memfd_create("vsf", MFD_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

/* Reads the whole file as the VMM does: 1 when it ends well, else -1. */
static int read_whole(int fd)
{
    struct vsf_reader r;
    vsf_reader_init(&r, fd, "test.save");
    if (vsf_read_header(&r) < 0)
        return -1;
    for (;;) {
        uint64_t len;
        int rc = vsf_next(&r, &len);
        if (rc != 0)
            return rc;
        if (strcmp(r.name, VSF_SECTION_RAM) == 0) {
            uint8_t page[4096];
            if (len != sizeof page || vsf_read(&r, page, sizeof page) < 0)
                return -1;
            continue;
        }
        uint8_t *b;
        struct vsf_in in;
        if (vsf_read_section(&r, &b, &in) < 0)
            return -1;
        free(b);
    }
}

static void expect_refused(const uint8_t *b, size_t n, const char *fragment)
{
    int fd = mem_fd(b, n);
    int rc = read_whole(fd);
    close(fd);
    if (rc != -1)
        fail_msg("a file that should fail with '%s' read as %d", fragment, rc);
    if (!strstr(err_msg(), fragment) || !strstr(err_msg(), "test.save"))
        fail_msg("message '%s' lacks '%s' or the file's name", err_msg(), fragment);
}

static void test_good(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = good_file(&b);
    int fd = mem_fd(b, n);
    assert_int_equal(read_whole(fd), 1);
    close(fd);
    /* save-image-dumpxml's reader: the XML and the run state, from a path. */
    char path[] = "/tmp/test-vsf-XXXXXX";
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, b, n), (ssize_t)n);
    close(fd);
    char *text = NULL;
    bool running = false;
    assert_int_equal(vsf_file_info(path, &text, &running), 0);
    assert_string_equal(text, xml);
    assert_true(running);
    free(text);
    unlink(path);
    free(b);
}

/* Every prefix of a good file is refused: truncated, never read past. */
static void test_truncated(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = good_file(&b);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *copy = malloc(cut ? cut : 1); /* exactly CUT bytes: ASan sees any overread */
        memcpy(copy, b, cut);
        int fd = mem_fd(copy, cut);
        if (read_whole(fd) != -1)
            fail_msg("a file cut at %zu of %zu bytes was accepted", cut, n);
        close(fd);
        free(copy);
    }
    free(b);
}

static void test_header(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = good_file(&b);
    b[0] = 'X';
    expect_refused(b, n, "not a tvm saved-state file");
    b[0] = 'T';
    b[8] = 2; /* version */
    expect_refused(b, n, "format version 2");
    b[8] = VSF_VERSION;
    free(b);
}

static void test_checksum(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = good_file(&b);
    /* One byte of RAM, then one of the domain XML: the sum says so. */
    b[n - 100] ^= 0x01;
    expect_refused(b, n, "bad checksum");
    b[n - 100] ^= 0x01;
    b[VSF_HEADER_SIZE + VSF_SECTION_HEADER_SIZE + 3] ^= 0x80;
    expect_refused(b, n, "bad checksum");
    free(b);
}

/* The first section's 40-byte header, for hand-made damage. */
static uint8_t *first_section(uint8_t *b)
{
    return b + VSF_HEADER_SIZE;
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void test_hostile_lengths(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = good_file(&b);
    uint8_t *s = first_section(b);
    put64(s + 32, UINT64_MAX);
    expect_refused(b, n, "more than the file holds");
    put64(s + 32, n); /* within no file of this size either */
    expect_refused(b, n, "more than the file holds");
    free(b);

    /* On a pipe the file's size is unknown: the section cap holds. */
    n = good_file(&b);
    put64(first_section(b) + 32, (uint64_t)VSF_SECTION_MAX + 1);
    int p[2];
    assert_int_equal(pipe(p), 0);
    assert_int_equal(write(p[1], b, VSF_HEADER_SIZE + VSF_SECTION_HEADER_SIZE),
                     VSF_HEADER_SIZE + VSF_SECTION_HEADER_SIZE);
    close(p[1]);
    assert_int_equal(read_whole(p[0]), -1);
    assert_non_null(strstr(err_msg(), "at most"));
    close(p[0]);
    free(b);
}

static void test_names(void **state)
{
    (void)state;
    uint8_t *b;
    size_t n = good_file(&b);
    uint8_t *s = first_section(b);
    memset(s, 'A', VSF_NAME_MAX); /* no NUL */
    expect_refused(b, n, "no valid name");
    memcpy(s, "domain\0\0\0X", 10); /* garbage after the NUL */
    expect_refused(b, n, "not NUL-padded");
    memset(s, 0, VSF_NAME_MAX);
    memcpy(s, "dom\x01in", 6);
    expect_refused(b, n, "no valid name");
    s[24] = 1; /* flags */
    memcpy(s, "domain\0", 7);
    expect_refused(b, n, "flags");
    free(b);
}

/* Payload fields: a short payload, a bad bool, bytes left over. */
static void test_fields(void **state)
{
    (void)state;
    uint8_t raw[6] = {1, 0, 0, 0, 2, 9};
    struct vsf_in in = {.section = "dev", .data = raw, .len = sizeof raw};
    uint32_t v32;
    uint64_t v64;
    bool flag;
    assert_int_equal(vsf_get_u32(&in, "count", &v32), 0);
    assert_int_equal(v32, 1);
    assert_int_equal(vsf_get_u64(&in, "address", &v64), -1);
    assert_non_null(strstr(err_msg(), "section 'dev': field 'address' is truncated"));
    assert_int_equal(vsf_get_bool(&in, "ready", &flag), -1);
    assert_non_null(strstr(err_msg(), "field 'ready' is 2"));
    assert_int_equal(vsf_in_done(&in), -1);
    assert_non_null(strstr(err_msg(), "1 bytes left over"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_good),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_hostile_lengths),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
