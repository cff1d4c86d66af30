/* The saved-state file format; see vmstate-file.h. Every length and count
 * read from a file is hostile input: checked against the file's size, the
 * section's size and VSF_SECTION_MAX before anything is allocated.
 */
#include "core/proto/vmstate-file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/base/err.h"

/* ---- payloads in memory ---- */

static void put(struct vsf_out *o, const void *p, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 256;
        while (cap < o->len + n)
            cap *= 2;
        uint8_t *d = realloc(o->data, cap);
        if (!d) {
            o->oom = true;
            return;
        }
        o->data = d;
        o->cap = cap;
    }
    memcpy(o->data + o->len, p, n);
    o->len += n;
}

void vsf_put_u8(struct vsf_out *o, uint8_t v)
{
    put(o, &v, 1);
}

void vsf_put_u16(struct vsf_out *o, uint16_t v)
{
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    put(o, b, 2);
}

void vsf_put_u32(struct vsf_out *o, uint32_t v)
{
    uint8_t b[4];
    for (int i = 0; i < 4; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    put(o, b, 4);
}

void vsf_put_u64(struct vsf_out *o, uint64_t v)
{
    vsf_put_u32(o, (uint32_t)v);
    vsf_put_u32(o, (uint32_t)(v >> 32));
}

void vsf_put_bytes(struct vsf_out *o, const void *p, size_t n)
{
    put(o, p, n);
}

void vsf_out_free(struct vsf_out *o)
{
    free(o->data);
    *o = (struct vsf_out){0};
}

static int take(struct vsf_in *in, const char *field, size_t n, const uint8_t **p)
{
    if (n > in->len - in->off)
        return err_set("section '%s': field '%s' is truncated", in->section, field);
    *p = in->data + in->off;
    in->off += n;
    return 0;
}

int vsf_get_u8(struct vsf_in *in, const char *field, uint8_t *v)
{
    const uint8_t *p;
    if (take(in, field, 1, &p) < 0)
        return -1;
    *v = p[0];
    return 0;
}

int vsf_get_u16(struct vsf_in *in, const char *field, uint16_t *v)
{
    const uint8_t *p;
    if (take(in, field, 2, &p) < 0)
        return -1;
    *v = (uint16_t)(p[0] | p[1] << 8);
    return 0;
}

int vsf_get_u32(struct vsf_in *in, const char *field, uint32_t *v)
{
    const uint8_t *p;
    if (take(in, field, 4, &p) < 0)
        return -1;
    *v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return 0;
}

int vsf_get_u64(struct vsf_in *in, const char *field, uint64_t *v)
{
    uint32_t lo, hi;
    if (vsf_get_u32(in, field, &lo) < 0 || vsf_get_u32(in, field, &hi) < 0)
        return -1;
    *v = (uint64_t)hi << 32 | lo;
    return 0;
}

int vsf_get_bytes(struct vsf_in *in, const char *field, void *p, size_t n)
{
    const uint8_t *src;
    if (take(in, field, n, &src) < 0)
        return -1;
    memcpy(p, src, n);
    return 0;
}

int vsf_get_bool(struct vsf_in *in, const char *field, bool *v)
{
    uint8_t b;
    if (vsf_get_u8(in, field, &b) < 0)
        return -1;
    if (b > 1)
        return vsf_bad(in, field, b, "0 or 1");
    *v = b;
    return 0;
}

int vsf_in_done(const struct vsf_in *in)
{
    if (in->off != in->len)
        return err_set("section '%s': %zu bytes left over (another layout)", in->section,
                       in->len - in->off);
    return 0;
}

int vsf_bad(const struct vsf_in *in, const char *field, uint64_t v, const char *why)
{
    return err_set("section '%s': field '%s' is %llu, out of range (%s)", in->section, field,
                   (unsigned long long)v, why);
}

/* ---- writing ---- */

void vsf_writer_init(struct vsf_writer *w, int fd)
{
    *w = (struct vsf_writer){.fd = fd, .crc = (uint32_t)crc32(0, NULL, 0)};
}

/* zlib's crc32 takes an unsigned int length: big runs go in pieces. */
static uint32_t crc_update(uint32_t crc, const uint8_t *p, size_t n)
{
    while (n > 0) {
        unsigned chunk = n > (1u << 30) ? 1u << 30 : (unsigned)n;
        crc = (uint32_t)crc32(crc, p, chunk);
        p += chunk;
        n -= chunk;
    }
    return crc;
}

int vsf_write(struct vsf_writer *w, const void *p, size_t n)
{
    const uint8_t *b = p;
    w->crc = crc_update(w->crc, b, n);
    while (n > 0) {
        ssize_t k = write(w->fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return err_errno("writing the saved state at byte %llu", (unsigned long long)w->off);
        b += k;
        n -= (size_t)k;
        w->off += (uint64_t)k;
    }
    return 0;
}

int vsf_write_header(struct vsf_writer *w)
{
    struct vsf_out o = {0};
    vsf_put_bytes(&o, VSF_MAGIC, 8);
    vsf_put_u32(&o, VSF_VERSION);
    vsf_put_u32(&o, VSF_HEADER_SIZE);
    vsf_put_u64(&o, 0);
    vsf_put_u64(&o, 0);
    int rc = o.oom ? err_set("out of memory") : vsf_write(w, o.data, o.len);
    vsf_out_free(&o);
    return rc;
}

int vsf_section_begin(struct vsf_writer *w, const char *name, uint64_t len)
{
    size_t n = strlen(name);
    if (n == 0 || n >= VSF_NAME_MAX)
        return err_set("saved state: section name '%s' is not 1-%d characters", name,
                       VSF_NAME_MAX - 1);
    uint8_t h[VSF_SECTION_HEADER_SIZE] = {0};
    memcpy(h, name, n);
    for (int i = 0; i < 8; i++)
        h[32 + i] = (uint8_t)(len >> (8 * i));
    return vsf_write(w, h, sizeof h);
}

int vsf_write_section(struct vsf_writer *w, const char *name, const struct vsf_out *o)
{
    if (o->oom)
        return err_set("saved state: section '%s': out of memory", name);
    if (o->len > VSF_SECTION_MAX)
        return err_set("saved state: section '%s' is %zu bytes (at most %u)", name, o->len,
                       VSF_SECTION_MAX);
    if (vsf_section_begin(w, name, o->len) < 0)
        return -1;
    return o->len ? vsf_write(w, o->data, o->len) : 0;
}

int vsf_write_end(struct vsf_writer *w)
{
    if (vsf_section_begin(w, VSF_SECTION_END, 4) < 0)
        return -1;
    uint32_t crc = w->crc;
    uint8_t b[4] = {(uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16), (uint8_t)(crc >> 24)};
    ssize_t k;
    do
        k = write(w->fd, b, 4);
    while (k < 0 && errno == EINTR);
    if (k != 4)
        return err_errno("writing the saved state's checksum");
    w->off += 4;
    return 0;
}

/* ---- reading ---- */

void vsf_reader_init(struct vsf_reader *r, int fd, const char *what)
{
    *r = (struct vsf_reader){.fd = fd, .what = what, .crc = (uint32_t)crc32(0, NULL, 0)};
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        r->file_size = (uint64_t)st.st_size;
}

/* Exactly N bytes, counted into the checksum unless CRC is false. */
static int read_raw(struct vsf_reader *r, void *p, size_t n, bool crc)
{
    uint8_t *b = p;
    size_t want = n;
    while (n > 0) {
        ssize_t k = read(r->fd, b, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return err_errno("saved state %s: read at byte %llu", r->what,
                             (unsigned long long)r->off);
        if (k == 0)
            return err_set("saved state %s: truncated at byte %llu (section '%s')", r->what,
                           (unsigned long long)r->off, r->name[0] ? r->name : "header");
        b += k;
        n -= (size_t)k;
        r->off += (uint64_t)k;
    }
    if (crc)
        r->crc = crc_update(r->crc, p, want);
    return 0;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
    return (uint64_t)le32(p + 4) << 32 | le32(p);
}

int vsf_read_header(struct vsf_reader *r)
{
    uint8_t h[VSF_HEADER_SIZE];
    if (read_raw(r, h, sizeof h, true) < 0)
        return -1;
    if (memcmp(h, VSF_MAGIC, 8) != 0)
        return err_set("saved state %s: not a tvm saved-state file (no %s magic)", r->what,
                       VSF_MAGIC);
    uint32_t version = le32(h + 8);
    if (version != VSF_VERSION)
        return err_set("saved state %s: format version %u, this tvm-vmm reads version %d only",
                       r->what, version, VSF_VERSION);
    if (le32(h + 12) != VSF_HEADER_SIZE)
        return err_set("saved state %s: header size %u, expected %d", r->what, le32(h + 12),
                       VSF_HEADER_SIZE);
    return 0;
}

static int check_name(struct vsf_reader *r, const uint8_t *h)
{
    size_t n = strnlen((const char *)h, VSF_NAME_MAX);
    if (n == 0 || n == VSF_NAME_MAX)
        return err_set("saved state %s: a section at byte %llu has no valid name", r->what,
                       (unsigned long long)(r->off - VSF_SECTION_HEADER_SIZE));
    for (size_t i = 0; i < n; i++)
        if (h[i] < 0x21 || h[i] > 0x7E)
            return err_set("saved state %s: a section at byte %llu has no valid name", r->what,
                           (unsigned long long)(r->off - VSF_SECTION_HEADER_SIZE));
    for (size_t i = n; i < VSF_NAME_MAX; i++)
        if (h[i])
            return err_set("saved state %s: a section name at byte %llu is not NUL-padded", r->what,
                           (unsigned long long)(r->off - VSF_SECTION_HEADER_SIZE));
    memcpy(r->name, h, VSF_NAME_MAX);
    return 0;
}

static int read_end(struct vsf_reader *r, uint64_t len)
{
    if (len != 4)
        return err_set("saved state %s: section 'end' is %llu bytes, expected 4", r->what,
                       (unsigned long long)len);
    uint32_t want = r->crc;
    uint8_t b[4];
    if (read_raw(r, b, 4, false) < 0)
        return -1;
    if (le32(b) != want)
        return err_set("saved state %s: bad checksum (CRC-32 %08x in the file, %08x computed): "
                       "the file is corrupt",
                       r->what, le32(b), want);
    uint8_t extra;
    ssize_t k;
    do
        k = read(r->fd, &extra, 1);
    while (k < 0 && errno == EINTR);
    if (k != 0)
        return err_set("saved state %s: data after the 'end' section", r->what);
    return 1;
}

int vsf_next(struct vsf_reader *r, uint64_t *len)
{
    if (r->left)
        return err_set("saved state %s: section '%s' not read whole", r->what, r->name);
    uint8_t h[VSF_SECTION_HEADER_SIZE];
    memset(r->name, 0, sizeof r->name);
    if (read_raw(r, h, sizeof h, true) < 0 || check_name(r, h) < 0)
        return -1;
    if (le32(h + 24) || le32(h + 28))
        return err_set("saved state %s: section '%s' has flags this tvm-vmm does not know", r->what,
                       r->name);
    uint64_t n = le64(h + 32);
    if (r->file_size && (r->off > r->file_size || n > r->file_size - r->off))
        return err_set("saved state %s: section '%s' claims %llu bytes, more than the file "
                       "holds (truncated?)",
                       r->what, r->name, (unsigned long long)n);
    if (strcmp(r->name, VSF_SECTION_END) == 0)
        return read_end(r, n);
    if (strcmp(r->name, VSF_SECTION_RAM) != 0 && n > VSF_SECTION_MAX)
        return err_set("saved state %s: section '%s' claims %llu bytes (at most %u)", r->what,
                       r->name, (unsigned long long)n, VSF_SECTION_MAX);
    r->left = n;
    *len = n;
    return 0;
}

int vsf_read(struct vsf_reader *r, void *p, size_t n)
{
    if (n > r->left)
        return err_set("saved state %s: section '%s' is shorter than its contents need", r->what,
                       r->name);
    if (read_raw(r, p, n, true) < 0)
        return -1;
    r->left -= n;
    return 0;
}

int vsf_read_section(struct vsf_reader *r, uint8_t **buf, struct vsf_in *in)
{
    *buf = NULL;
    if (r->left > VSF_SECTION_MAX)
        return err_set("saved state %s: section '%s' is too big to read whole", r->what, r->name);
    size_t n = (size_t)r->left;
    uint8_t *b = malloc(n ? n : 1);
    if (!b)
        return err_set("out of memory");
    if (vsf_read(r, b, n) < 0) {
        free(b);
        return -1;
    }
    *buf = b;
    *in = (struct vsf_in){.section = r->name, .data = b, .len = n};
    return 0;
}

int vsf_file_domain_xml(const char *path, char **xml)
{
    return vsf_file_info(path, xml, NULL);
}

int vsf_file_info(const char *path, char **xml, bool *running)
{
    *xml = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_errno("%s", path);
    struct vsf_reader r;
    vsf_reader_init(&r, fd, path);
    uint64_t len = 0;
    int rc = vsf_read_header(&r);
    if (rc == 0)
        rc = vsf_next(&r, &len);
    if (rc == 0 && strcmp(r.name, VSF_SECTION_DOMAIN) != 0)
        rc = err_set("saved state %s: the first section is '%s', not '%s'", path, r.name,
                     VSF_SECTION_DOMAIN);
    else if (rc == 1)
        rc = err_set("saved state %s: no domain XML", path);
    char *text = NULL;
    if (rc == 0 && !(text = malloc(len + 1)))
        rc = err_set("out of memory");
    if (rc == 0)
        rc = vsf_read(&r, text, len);
    uint8_t run = 0;
    if (rc == 0 && running) {
        uint64_t mlen = 0;
        rc = vsf_next(&r, &mlen);
        if (rc == 0 && (strcmp(r.name, "machine") != 0 || mlen < 1))
            rc = err_set("saved state %s: no 'machine' section after the domain XML", path);
        else if (rc == 1)
            rc = err_set("saved state %s: no 'machine' section", path);
        if (rc == 0)
            rc = vsf_read(&r, &run, 1);
        if (rc == 0 && run > 1)
            rc = err_set("saved state %s: section 'machine': bad run state %u", path, run);
        *running = run;
    }
    close(fd);
    if (rc < 0) {
        free(text);
        return -1;
    }
    text[len] = '\0';
    if (strlen(text) != len) {
        free(text);
        return err_set("saved state %s: the domain XML holds a NUL byte", path);
    }
    *xml = text;
    return 0;
}
