/* img compare [-f FMT] [-F FMT] [-s] A B: whether two images read the
 * same, as qemu-img compare says it: "Images are identical." (exit 0), or
 * "Content mismatch at offset N!" with the first differing 512-byte sector
 * (exit 1); images of different sizes compare equal when the longer one
 * reads zeros past the shorter's end ("Warning: Image size mismatch!"),
 * unless -s. Runs both images read as zeros are skipped without reading. */
#include "core/cmd/cmd-img.h"
#include "core/base/err.h"
#include "core/image/image.h"

#include <stdlib.h>
#include <string.h>

#define CMP_CHUNK (1u << 20)
#define SECTOR 512u

/* How many bytes from OFF both images (where each has data) agree on; LEN
 * when all of them. */
static int differs_at(struct image *a, struct image *b, uint8_t *ba, uint8_t *bb, uint64_t off,
                      size_t len, uint64_t *at)
{
    *at = UINT64_MAX;
    if ((a && image_read(a, ba, off, len) < 0) || (b && image_read(b, bb, off, len) < 0))
        return -1;
    if (!a)
        memset(ba, 0, len);
    if (!b)
        memset(bb, 0, len);
    for (size_t i = 0; i < len; i += SECTOR) {
        size_t n = len - i < SECTOR ? len - i : SECTOR;
        if (memcmp(ba + i, bb + i, n) != 0) {
            *at = off + i;
            return 0;
        }
    }
    return 0;
}

/* Both images over [off, end): the first differing sector in *at. */
static int compare_range(struct image *a, struct image *b, uint64_t off, uint64_t end, uint64_t *at)
{
    uint8_t *ba = malloc(CMP_CHUNK), *bb = malloc(CMP_CHUNK);
    int rc = ba && bb ? 0 : err_set("out of memory");
    *at = UINT64_MAX;
    while (rc == 0 && off < end && *at == UINT64_MAX) {
        uint64_t len = end - off < CMP_CHUNK ? end - off : CMP_CHUNK, na = len, nb = len;
        enum image_block_kind ka = IMAGE_BLOCK_ZERO, kb = IMAGE_BLOCK_ZERO;
        if ((a && image_block_status_chain(a, off, len, &na, &ka) < 0) ||
            (b && image_block_status_chain(b, off, len, &nb, &kb) < 0)) {
            rc = -1;
            break;
        }
        uint64_t n = na < nb ? na : nb;
        if (ka != IMAGE_BLOCK_ZERO || kb != IMAGE_BLOCK_ZERO)
            rc = differs_at(a, b, ba, bb, off, (size_t)n, at);
        off += n;
    }
    free(ba);
    free(bb);
    return rc;
}

int cmd_img_compare(FILE *out, const char *fmt_a, const char *fmt_b, const char *path_a,
                    const char *path_b, bool strict, bool *same)
{
    enum image_format fa = IMAGE_FORMAT_AUTO, fb = IMAGE_FORMAT_AUTO;
    if ((fmt_a && image_format_parse(fmt_a, &fa) < 0) ||
        (fmt_b && image_format_parse(fmt_b, &fb) < 0))
        return -1;
    struct image *a = image_open(path_a, fa, IMAGE_OPEN_RDONLY | IMAGE_OPEN_FORCE_SHARE);
    struct image *b = a ? image_open(path_b, fb, IMAGE_OPEN_RDONLY | IMAGE_OPEN_FORCE_SHARE) : NULL;
    if (!b) {
        image_close(a);
        return -1;
    }
    uint64_t sa = image_get_size(a), sb = image_get_size(b), common = sa < sb ? sa : sb, at;
    int rc = 0;
    *same = false;
    if (sa != sb && strict) {
        fputs("Strict mode: Image size mismatch!\n", out);
        goto done;
    }
    rc = compare_range(a, b, 0, common, &at);
    if (rc == 0 && at == UINT64_MAX && sa != sb) {
        fputs("Warning: Image size mismatch!\n", out);
        /* the longer one against zeros */
        rc = compare_range(sa > sb ? a : NULL, sa > sb ? NULL : b, common, sa > sb ? sa : sb, &at);
    }
    if (rc == 0 && at != UINT64_MAX)
        fprintf(out, "Content mismatch at offset %llu!\n", (unsigned long long)at);
    else if (rc == 0) {
        fputs("Images are identical.\n", out);
        *same = true;
    }
done:
    image_close(b);
    image_close(a);
    return rc;
}
