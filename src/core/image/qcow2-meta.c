/* Which host clusters hold metadata. A data pointer into one of them means
 * the image is corrupt: reading would leak metadata to the guest and writing
 * would destroy it, so the I/O paths refuse such pointers. */
#include "core/image/qcow2.h"
#include "core/base/err.h"

#include <stdlib.h>
#include <string.h>

/* Index of the first entry with cluster >= C. */
static size_t meta_lower_bound(const struct qcow2 *q, uint64_t c)
{
    size_t lo = 0, hi = q->nmeta;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->meta[mid].cluster < c)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int qcow2_meta_add(struct qcow2 *q, uint64_t offset, uint64_t len, enum qcow2_meta_kind kind)
{
    uint64_t first = offset >> q->cluster_bits;
    uint64_t last = (offset + len - 1) >> q->cluster_bits;
    for (uint64_t c = first; len && c <= last; c++) {
        size_t i = meta_lower_bound(q, c);
        if (i < q->nmeta && q->meta[i].cluster == c)
            continue; /* overlaps are checked by the callers that care */
        if (q->nmeta == q->meta_cap) {
            size_t cap = q->meta_cap ? q->meta_cap * 2 : 64;
            struct qcow2_meta *m = realloc(q->meta, cap * sizeof(*m));
            if (!m)
                return err_set("out of memory");
            q->meta = m;
            q->meta_cap = cap;
        }
        memmove(&q->meta[i + 1], &q->meta[i], (q->nmeta - i) * sizeof(*q->meta));
        q->meta[i].cluster = c;
        q->meta[i].kind = kind;
        q->nmeta++;
    }
    return 0;
}

void qcow2_meta_remove(struct qcow2 *q, uint64_t offset, uint64_t len)
{
    uint64_t first = offset >> q->cluster_bits;
    uint64_t last = (offset + len - 1) >> q->cluster_bits;
    for (uint64_t c = first; len && c <= last; c++) {
        size_t i = meta_lower_bound(q, c);
        if (i < q->nmeta && q->meta[i].cluster == c) {
            memmove(&q->meta[i], &q->meta[i + 1], (q->nmeta - i - 1) * sizeof(*q->meta));
            q->nmeta--;
        }
    }
}

int qcow2_meta_find(const struct qcow2 *q, uint64_t offset)
{
    uint64_t c = offset >> q->cluster_bits;
    size_t i = meta_lower_bound(q, c);
    if (i < q->nmeta && q->meta[i].cluster == c)
        return (int)q->meta[i].kind;
    return -1;
}
