/* Helpers shared by the XML unit tests: corpus files, temp files and the
 * outside oracles (virt-xml-validate, virsh's test driver). */
#ifndef TVM_TEST_XML_UTIL_H
#define TVM_TEST_XML_UTIL_H

#include <dirent.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

/* Equal strings, both NULL counting as equal. */
#define assert_str_eq_null(a, b)                                                                   \
    do {                                                                                           \
        const char *sa_ = (a), *sb_ = (b);                                                         \
        if (!sa_ || !sb_)                                                                          \
            assert_ptr_equal(sa_, sb_);                                                            \
        else                                                                                       \
            assert_string_equal(sa_, sb_);                                                         \
    } while (0)

static inline char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static inline const char *test_data_dir(void)
{
    const char *d = getenv("TVM_TEST_DATA");
    return d ? d : "tests/data";
}

static int test_cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted full paths of the .xml files in tests/data/xml/<kind>; NULL-terminated. */
static inline char **test_corpus(const char *kind, size_t *count)
{
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/xml/%s", test_data_dir(), kind);
    DIR *dp = opendir(dir);
    if (!dp)
        fail_msg("cannot open corpus %s", dir);
    char **list = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        size_t l = strlen(e->d_name);
        if (l < 5 || strcmp(e->d_name + l - 4, ".xml"))
            continue;
        list = realloc(list, (n + 2) * sizeof(*list));
        assert_non_null(list);
        list[n] = malloc(strlen(dir) + l + 2);
        sprintf(list[n], "%s/%s", dir, e->d_name);
        n++;
    }
    closedir(dp);
    qsort(list, n, sizeof(*list), test_cmp_str);
    list[n] = NULL;
    *count = n;
    return list;
}

static inline void test_free_list(char **list)
{
    for (char **p = list; p && *p; p++)
        free(*p);
    free(list);
}

/* Write `text` to a new temp file; returns its path (free it, unlink it). */
static inline char *test_write_temp(const char *text)
{
    char *path = strdup("/tmp/tvm-xml-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    size_t len = strlen(text);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    close(fd);
    return path;
}

/* Run a shell command, capture stdout+stderr; returns exit status. */
static inline int test_run(char **output, const char *fmt, ...)
{
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof(cmd) - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (cap - n < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    int st = pclose(p);
    if (output)
        *output = buf;
    else
        free(buf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The schema is the oracle: `kind` is domain|network|pool|vol|domainsnapshot. */
static inline void test_validate(const char *xml, const char *kind, const char *what)
{
    char *path = test_write_temp(xml);
    char *out = NULL;
    int rc = test_run(&out, "virt-xml-validate %s %s", path, kind);
    if (rc != 0)
        fail_msg("%s: virt-xml-validate %s failed:\n%s\n--- document ---\n%s", what, kind, out,
                 xml);
    free(out);
    unlink(path);
    free(path);
}

#endif
