/* AML byte-code emitter; see aml.h. Encodings from the ACPI spec's AML
 * grammar: NameOp 0x08, ScopeOp 0x10, BufferOp 0x11, PackageOp 0x12, MethodOp 0x14,
 * DeviceOp 0x5B 0x82, ReturnOp 0xA4, integer prefixes 0x0A-0x0E. */
#include "x86/aml.h"

#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"

enum {
    AML_ZERO = 0x00,
    AML_ONE = 0x01,
    AML_NAME = 0x08,
    AML_BYTE = 0x0A,
    AML_WORD = 0x0B,
    AML_DWORD = 0x0C,
    AML_STRING = 0x0D,
    AML_QWORD = 0x0E,
    AML_SCOPE = 0x10,
    AML_BUFFER = 0x11,
    AML_PACKAGE = 0x12,
    AML_METHOD = 0x14,
    AML_DUAL_NAME = 0x2E,
    AML_MULTI_NAME = 0x2F,
    AML_EXT = 0x5B,
    AML_EXT_DEVICE = 0x82,
    AML_ROOT = 0x5C,
    AML_PARENT = 0x5E,
    AML_ARG0 = 0x68,
    AML_RETURN = 0xA4,
};

/* A PkgLength counts its own bytes; four bytes carry at most 28 bits. */
#define AML_PKG_MAX ((1u << 28) - 1)

void aml_init(struct aml *a)
{
    memset(a, 0, sizeof(*a));
}

void aml_free(struct aml *a)
{
    free(a->buf);
    aml_init(a);
}

bool aml_failed(const struct aml *a)
{
    return a->failed;
}

static void aml_fail(struct aml *a)
{
    a->failed = true;
}

static bool aml_reserve(struct aml *a, size_t n)
{
    if (a->failed)
        return false;
    if (a->len + n <= a->cap)
        return true;
    size_t cap = a->cap ? a->cap : 256;
    while (cap < a->len + n)
        cap *= 2;
    uint8_t *p = realloc(a->buf, cap);
    if (!p) {
        err_set("AML: out of memory");
        aml_fail(a);
        return false;
    }
    a->buf = p;
    a->cap = cap;
    return true;
}

void aml_bytes(struct aml *a, const void *p, size_t n)
{
    if (!aml_reserve(a, n))
        return;
    memcpy(a->buf + a->len, p, n);
    a->len += n;
}

static void aml_byte(struct aml *a, uint8_t b)
{
    aml_bytes(a, &b, 1);
}

static void aml_le(struct aml *a, uint64_t v, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        aml_byte(a, (uint8_t)(v >> (8 * i)));
}

/* One NameSeg: 1-4 characters, padded with '_' ("_S5" -> "_S5_"). */
static bool aml_nameseg(struct aml *a, const char *s, size_t n)
{
    if (n == 0 || n > 4)
        return false;
    char seg[4] = {'_', '_', '_', '_'};
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok)
            return false;
        seg[i] = c;
    }
    aml_bytes(a, seg, 4);
    return true;
}

void aml_namestring(struct aml *a, const char *path)
{
    const char *p = path;
    if (*p == '\\') {
        aml_byte(a, AML_ROOT);
        p++;
    }
    while (*p == '^') {
        aml_byte(a, AML_PARENT);
        p++;
    }
    unsigned nsegs = 0;
    for (const char *q = p; *q; q++)
        if (*q == '.')
            nsegs++;
    nsegs = *p ? nsegs + 1 : 0;
    if (nsegs == 0) {
        aml_byte(a, AML_ZERO); /* NullName: only valid after a prefix */
        if (p == path)
            goto bad;
        return;
    }
    if (nsegs == 2)
        aml_byte(a, AML_DUAL_NAME);
    else if (nsegs > 2) {
        if (nsegs > 255)
            goto bad;
        aml_byte(a, AML_MULTI_NAME);
        aml_byte(a, (uint8_t)nsegs);
    }
    while (*p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (!aml_nameseg(a, p, n))
            goto bad;
        p += n + (dot ? 1 : 0);
    }
    return;
bad:
    if (!a->failed)
        err_set("AML: invalid name '%s'", path);
    aml_fail(a);
}

void aml_integer(struct aml *a, uint64_t v)
{
    if (v == 0)
        aml_byte(a, AML_ZERO);
    else if (v == 1)
        aml_byte(a, AML_ONE);
    else if (v <= 0xFF) {
        aml_byte(a, AML_BYTE);
        aml_le(a, v, 1);
    } else if (v <= 0xFFFF) {
        aml_byte(a, AML_WORD);
        aml_le(a, v, 2);
    } else if (v <= 0xFFFFFFFF) {
        aml_byte(a, AML_DWORD);
        aml_le(a, v, 4);
    } else {
        aml_byte(a, AML_QWORD);
        aml_le(a, v, 8);
    }
}

void aml_string(struct aml *a, const char *s)
{
    for (const char *p = s; *p; p++) {
        if ((unsigned char)*p < 0x01 || (unsigned char)*p > 0x7F) {
            err_set("AML: string '%s' is not ASCII", s);
            aml_fail(a);
            return;
        }
    }
    aml_byte(a, AML_STRING);
    aml_bytes(a, s, strlen(s) + 1);
}

void aml_name_integer(struct aml *a, const char *name, uint64_t v)
{
    aml_byte(a, AML_NAME);
    aml_namestring(a, name);
    aml_integer(a, v);
}

void aml_name_string(struct aml *a, const char *name, const char *s)
{
    aml_byte(a, AML_NAME);
    aml_namestring(a, name);
    aml_string(a, s);
}

/* The mark is where the PkgLength goes; it is inserted at block end, when
 * the length (and so the PkgLength's own size) is known. */
static size_t aml_pkg_begin(struct aml *a)
{
    return a->len;
}

void aml_block_end(struct aml *a, size_t mark)
{
    if (a->failed)
        return;
    if (mark > a->len) {
        err_set("AML: block end without begin");
        aml_fail(a);
        return;
    }
    size_t body = a->len - mark;
    unsigned n;
    if (body + 1 <= 0x3F)
        n = 1;
    else if (body + 2 < (1u << 12))
        n = 2;
    else if (body + 3 < (1u << 20))
        n = 3;
    else if (body + 4 <= AML_PKG_MAX)
        n = 4;
    else {
        err_set("AML: block of %zu bytes is too long", body);
        aml_fail(a);
        return;
    }
    if (!aml_reserve(a, n))
        return;
    memmove(a->buf + mark + n, a->buf + mark, body);
    a->len += n;
    size_t total = body + n;
    uint8_t *p = a->buf + mark;
    if (n == 1) {
        p[0] = (uint8_t)total;
        return;
    }
    p[0] = (uint8_t)(((n - 1) << 6) | (total & 0x0F));
    for (unsigned i = 1; i < n; i++)
        p[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
}

void aml_name_package(struct aml *a, const char *name, const uint64_t *v, unsigned n)
{
    if (n > 255) {
        err_set("AML: package %s has %u elements (max 255)", name, n);
        aml_fail(a);
        return;
    }
    aml_byte(a, AML_NAME);
    aml_namestring(a, name);
    aml_byte(a, AML_PACKAGE);
    size_t mark = aml_pkg_begin(a);
    aml_byte(a, (uint8_t)n);
    for (unsigned i = 0; i < n; i++)
        aml_integer(a, v[i]);
    aml_block_end(a, mark);
}

size_t aml_scope_begin(struct aml *a, const char *path)
{
    aml_byte(a, AML_SCOPE);
    size_t mark = aml_pkg_begin(a);
    aml_namestring(a, path);
    return mark;
}

size_t aml_device_begin(struct aml *a, const char *name)
{
    aml_byte(a, AML_EXT);
    aml_byte(a, AML_EXT_DEVICE);
    size_t mark = aml_pkg_begin(a);
    aml_namestring(a, name);
    return mark;
}

size_t aml_method_begin(struct aml *a, const char *name, unsigned nargs, bool serialized)
{
    aml_byte(a, AML_METHOD);
    size_t mark = aml_pkg_begin(a);
    aml_namestring(a, name);
    if (nargs > 7) {
        err_set("AML: method %s takes %u arguments (max 7)", name, nargs);
        aml_fail(a);
    }
    aml_byte(a, (uint8_t)((nargs & 7) | (serialized ? 0x08 : 0)));
    return mark;
}

void aml_return_integer(struct aml *a, uint64_t v)
{
    aml_byte(a, AML_RETURN);
    aml_integer(a, v);
}

size_t aml_package_begin(struct aml *a, unsigned n)
{
    if (n > 255) {
        err_set("AML: package of %u elements (max 255)", n);
        aml_fail(a);
    }
    aml_byte(a, AML_PACKAGE);
    size_t mark = aml_pkg_begin(a);
    aml_byte(a, (uint8_t)n);
    return mark;
}

size_t aml_name_package_begin(struct aml *a, const char *name, unsigned n)
{
    aml_byte(a, AML_NAME);
    aml_namestring(a, name);
    return aml_package_begin(a, n);
}

void aml_name_buffer(struct aml *a, const char *name, const void *p, size_t n)
{
    aml_byte(a, AML_NAME);
    aml_namestring(a, name);
    aml_byte(a, AML_BUFFER);
    size_t mark = aml_pkg_begin(a);
    aml_integer(a, n);
    aml_bytes(a, p, n);
    aml_block_end(a, mark);
}

/* Three letters of five bits each (A = 1), then four hex digits; the
 * result is stored big-endian, i.e. byte-swapped as an AML integer. */
uint32_t aml_eisaid(const char *id)
{
    uint32_t v = (uint32_t)((id[0] - 0x40) & 0x1F) << 26 | (uint32_t)((id[1] - 0x40) & 0x1F) << 21 |
                 (uint32_t)((id[2] - 0x40) & 0x1F) << 16;
    for (int i = 3; i < 7; i++) {
        char c = id[i];
        uint32_t d = c >= '0' && c <= '9' ? (uint32_t)(c - '0') : (uint32_t)((c | 0x20) - 'a' + 10);
        v |= (d & 0xF) << (4 * (6 - i));
    }
    return __builtin_bswap32(v);
}

void aml_return_arg(struct aml *a, unsigned n)
{
    if (n > 6) {
        err_set("AML: Arg%u does not exist (Arg0-Arg6)", n);
        aml_fail(a);
        return;
    }
    aml_byte(a, AML_RETURN);
    aml_byte(a, (uint8_t)(AML_ARG0 + n));
}
