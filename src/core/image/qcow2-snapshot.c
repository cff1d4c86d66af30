/* The internal snapshot table: read, checked against the file, and listed.
 * Creating, applying and deleting snapshots is qcow2-snapshot-write.c;
 * writes to an image with snapshots copy shared clusters (see qcow2.c) so
 * they stay intact. */
#include "core/image/qcow2.h"
#include "core/base/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SNAP_FIXED 40
#define SNAP_MAX_EXTRA 1024

#define SNAP_ERR(q, i, ...)                                                                        \
    (errno = EINVAL, err_set(__VA_ARGS__),                                                         \
     err_prefix("%s: qcow2 snapshot table: entry %u: ", (q)->img->path, (unsigned)(i)))

static int load_one(struct qcow2 *q, uint32_t i, uint64_t *off, struct image_snapshot *s)
{
    uint8_t fixed[SNAP_FIXED];
    uint64_t table_used = *off - q->snapshots_offset;
    if (*off + SNAP_FIXED > q->file_size || table_used + SNAP_FIXED > QCOW2_MAX_SNAPSHOT_TABLE)
        return SNAP_ERR(q, i, "past the end of the file or of the table");
    if (image_pread_full(q->img, fixed, SNAP_FIXED, *off, false) < 0)
        return -1;
    s->l1_table_offset = be64_get(fixed);
    s->l1_size = be32_get(fixed + 8);
    uint16_t id_len = be16_get(fixed + 12), name_len = be16_get(fixed + 14);
    s->date_sec = be32_get(fixed + 16);
    s->date_nsec = be32_get(fixed + 20);
    s->vm_clock_nsec = be64_get(fixed + 24);
    s->vm_state_size = be32_get(fixed + 32);
    uint32_t extra = be32_get(fixed + 36);
    if (extra > SNAP_MAX_EXTRA)
        return SNAP_ERR(q, i, "extra data size %u too large", extra);
    uint64_t len = SNAP_FIXED + (uint64_t)extra + id_len + name_len;
    if (*off + len > q->file_size || table_used + len > QCOW2_MAX_SNAPSHOT_TABLE)
        return SNAP_ERR(q, i, "past the end of the file or of the table");
    uint8_t *rest = malloc(len - SNAP_FIXED + 1);
    if (!rest)
        return err_set("out of memory");
    if (image_pread_full(q->img, rest, len - SNAP_FIXED, *off + SNAP_FIXED, false) < 0) {
        free(rest);
        return -1;
    }
    if (extra >= 8)
        s->vm_state_size = be64_get(rest);
    if (extra >= 16)
        s->disk_size = be64_get(rest + 8);
    s->icount = extra >= 24 ? be64_get(rest + 16) : UINT64_MAX;
    s->id = strndup((char *)rest + extra, id_len);
    s->name = strndup((char *)rest + extra + id_len, name_len);
    free(rest);
    if (!s->id || !s->name)
        return err_set("out of memory");
    if ((uint64_t)s->l1_size * 8 > QCOW2_MAX_L1_BYTES)
        return SNAP_ERR(q, i, "l1_size %u too large", s->l1_size);
    if (s->l1_size) {
        if (s->l1_table_offset & (q->cluster_size - 1))
            return SNAP_ERR(q, i, "L1 table offset 0x%llx not cluster aligned",
                            (unsigned long long)s->l1_table_offset);
        if (s->l1_table_offset == 0 || s->l1_table_offset > q->file_size ||
            (uint64_t)s->l1_size * 8 > q->file_size - s->l1_table_offset)
            return SNAP_ERR(q, i, "L1 table at 0x%llx outside the file",
                            (unsigned long long)s->l1_table_offset);
        if (qcow2_meta_add(q, s->l1_table_offset, (uint64_t)s->l1_size * 8,
                           QCOW2_META_SNAPSHOT_L1) < 0)
            return -1;
    }
    *off += (len + 7) & ~7ull;
    return 0;
}

int qcow2_snapshots_load(struct qcow2 *q)
{
    if (q->nb_snapshots == 0)
        return 0;
    q->snapshots = calloc(q->nb_snapshots, sizeof(*q->snapshots));
    if (!q->snapshots)
        return err_set("out of memory");
    uint64_t off = q->snapshots_offset;
    for (uint32_t i = 0; i < q->nb_snapshots; i++)
        if (load_one(q, i, &off, &q->snapshots[i]) < 0)
            return -1;
    q->snapshots_size = off - q->snapshots_offset;
    return qcow2_meta_add(q, q->snapshots_offset, off - q->snapshots_offset, QCOW2_META_SNAPSHOTS);
}

uint64_t qcow2_snapshot_entry_len(const uint8_t *p)
{
    uint64_t len = SNAP_FIXED + (uint64_t)be32_get(p + 36) + be16_get(p + 12) + be16_get(p + 14);
    return (len + 7) & ~7ull;
}

void qcow2_snapshots_free(struct qcow2 *q)
{
    if (q->snapshots)
        image_snapshots_free(q->snapshots, q->nb_snapshots);
    q->snapshots = NULL;
}

int image_list_snapshots(struct image *img, struct image_snapshot **out, size_t *count)
{
    *out = NULL;
    *count = 0;
    if (img->format != IMAGE_FORMAT_QCOW2)
        return 0;
    struct qcow2 *q = qcow2_of(img);
    pthread_mutex_lock(&img->lock);
    struct image_snapshot *s = calloc(q->nb_snapshots ? q->nb_snapshots : 1, sizeof(*s));
    int rc = s ? 0 : err_set("out of memory");
    for (uint32_t i = 0; rc == 0 && i < q->nb_snapshots; i++) {
        s[i] = q->snapshots[i];
        s[i].id = strdup(q->snapshots[i].id);
        s[i].name = strdup(q->snapshots[i].name);
        if (!s[i].id || !s[i].name)
            rc = err_set("out of memory");
    }
    pthread_mutex_unlock(&img->lock);
    if (rc < 0) {
        if (s)
            image_snapshots_free(s, q->nb_snapshots);
        return -1;
    }
    *out = s;
    *count = q->nb_snapshots;
    return 0;
}
