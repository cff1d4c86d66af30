/* Changing a qcow2 image's backing file (qemu-img rebase), crash-safe.
 *
 * The backing file's name and its format (a header extension) must change
 * together: an old name with a new format, or the reverse, would show the
 * guest another disk. So the new header — the fixed fields, the
 * extensions (the backing format first) and, when it fits, the name — is
 * built to fit in the first 512-byte sector and written there in ONE
 * write between two fdatasyncs, as the snapshot code switches its tables:
 * a sector lands whole or not at all. A name too long for that sector is
 * written first, past everything the current header reaches, where the
 * old header never looks. The optional feature-name table is left out
 * when the sector has no room for it (QEMU needs it only for messages).
 */
#include "core/image/qcow2.h"
#include "core/base/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR 512u

struct ext {
    uint32_t type, len;
    const uint8_t *data;
};

static uint64_t ext_bytes(uint32_t len)
{
    return 8 + (((uint64_t)len + 7) & ~7ull);
}

/* The current header's extensions (already validated at open) and the end
 * of everything the header reaches (*reach). */
static size_t old_extensions(const struct qcow2 *q, const uint8_t *h, size_t hc, struct ext *out,
                             size_t max, uint64_t *reach)
{
    uint64_t boff = be64_get(h + 8), blen = be32_get(h + 16);
    uint64_t end = boff && boff < hc ? boff : hc, off = q->header_length;
    size_t n = 0;
    while (off + 8 <= end) {
        uint32_t type = be32_get(h + off), len = be32_get(h + off + 4);
        if (type == QCOW2_EXT_END || len > end - off - 8)
            break;
        if (n < max)
            out[n++] = (struct ext){type, len, h + off + 8};
        off += ext_bytes(len);
    }
    *reach = off + 8;
    if (boff && boff + blen > *reach)
        *reach = boff + blen;
    return n;
}

static void put_ext(uint8_t *s, size_t *pos, uint32_t type, uint32_t len, const void *data)
{
    be32_put(s + *pos, type);
    be32_put(s + *pos + 4, len);
    memcpy(s + *pos + 8, data, len);
    *pos += ext_bytes(len);
}

/* The new first sector in S; *name_off where NAME goes (in S when below SECTOR). */
static int build_sector(struct qcow2 *q, const uint8_t *h, size_t hc, const char *name,
                        enum image_format fmt, uint8_t *s, uint64_t *name_off)
{
    struct ext exts[64];
    uint64_t reach;
    size_t n = old_extensions(q, h, hc, exts, 64, &reach), nlen = name ? strlen(name) : 0;
    memcpy(s, h, q->header_length);
    size_t pos = q->header_length;
    if (name) {
        const char *fname = image_format_name(fmt);
        put_ext(s, &pos, QCOW2_EXT_BACKING_FORMAT, (uint32_t)strlen(fname), fname);
    }
    uint64_t table = 0;
    for (size_t i = 0; i < n; i++) {
        if (exts[i].type == QCOW2_EXT_BACKING_FORMAT)
            continue;
        if (exts[i].type == QCOW2_EXT_FEATURE_TABLE) {
            table = i + 1;
            continue;
        }
        if (pos + ext_bytes(exts[i].len) + 8 > SECTOR)
            return errno = ENOTSUP,
                   err_set("%s: the header's extensions do not fit in one sector", q->img->path);
        put_ext(s, &pos, exts[i].type, exts[i].len, exts[i].data);
    }
    if (table && pos + ext_bytes(exts[table - 1].len) + 8 + nlen <= SECTOR)
        put_ext(s, &pos, QCOW2_EXT_FEATURE_TABLE, exts[table - 1].len, exts[table - 1].data);
    pos += 8; /* the end marker: zeros */
    if (pos + nlen <= SECTOR) {
        *name_off = pos;
    } else {
        *name_off = reach > SECTOR ? (reach + 7) & ~7ull : SECTOR;
        if (*name_off + nlen > hc)
            return errno = ENOTSUP,
                   err_set("%s: backing file name of %zu bytes does not fit in the header cluster",
                           q->img->path, nlen);
    }
    be64_put(s + 8, name ? *name_off : 0);
    be32_put(s + 16, (uint32_t)nlen);
    return 0;
}

int qcow2_set_backing(struct image *img, const char *name, enum image_format fmt)
{
    struct qcow2 *q = qcow2_of(img);
    size_t nlen = name ? strlen(name) : 0;
    if (q->broken)
        return errno = EIO, err_set("%s: image was marked corrupt", img->path);
    if (name && (nlen == 0 || nlen > QCOW2_MAX_BACKING_NAME))
        return errno = EINVAL, err_set("%s: backing file name of %zu bytes (1-%d)", img->path, nlen,
                                       QCOW2_MAX_BACKING_NAME);
    if (q->header_length > SECTOR / 2)
        return errno = ENOTSUP, err_set("%s: header of %u bytes too long to switch in one sector",
                                        img->path, q->header_length);
    size_t hc = (size_t)q->cluster_size;
    uint8_t *h = malloc(hc), s[SECTOR] = {0};
    if (!h)
        return err_set("out of memory");
    uint64_t name_off;
    int rc = image_pread_full(img, h, hc, 0, true);
    if (rc == 0)
        rc = build_sector(q, h, hc, name, fmt, s, &name_off);
    if (rc == 0 && name && name_off < SECTOR)
        memcpy(s + name_off, name, nlen);
    else if (rc == 0 && name)
        rc = image_pwrite_full(img, name, nlen, name_off);
    free(h);
    if (rc < 0 || qcow2_sync(q) < 0 || image_pwrite_full(img, s, SECTOR, 0) < 0 ||
        qcow2_sync(q) < 0)
        return -1;
    char *copy = name ? strdup(name) : NULL;
    if (name && !copy)
        return err_set("out of memory");
    free(img->backing_name);
    img->backing_name = copy;
    img->backing_format = name ? fmt : IMAGE_FORMAT_AUTO;
    return 0;
}
