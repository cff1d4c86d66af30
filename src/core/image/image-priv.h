/* Internals shared by image.c and the format drivers. */
#ifndef TVM_CORE_IMAGE_IMAGE_PRIV_H
#define TVM_CORE_IMAGE_IMAGE_PRIV_H

#include "core/image/image.h"

#include <pthread.h>

struct image {
    char *path;
    int fd;
    bool read_only;
    bool force_share; /* IMAGE_OPEN_FORCE_SHARE */
    bool direct;      /* fd has O_DIRECT: I/O must be aligned to dio_align */
    unsigned dio_align;
    uint8_t *dio_buf; /* IMAGE_DIO_BOUNCE bytes aligned to dio_align */
    enum image_format format;
    const struct image_ops *ops;
    void *priv;                       /* the driver's state */
    struct image *backing;            /* opened by image.c after ops->open */
    char *backing_name;               /* set by the driver's open when the header names one */
    enum image_format backing_format; /* AUTO when the header does not say */
    pthread_mutex_t lock;
};

extern const struct image_ops image_raw_ops;
extern const struct image_ops image_qcow2_ops;

/* NAME as a backing file of the image at IMAGE_PATH names it: relative
 * to that image's directory. malloc'd; NULL when out of memory. */
char *image_resolve_backing(const char *image_path, const char *name);

/* Reads LEN bytes at OFF from the backing chain of IMG (zeros when there is
 * none or past the backing image's end). */
int image_read_backing(struct image *img, void *buf, uint64_t off, size_t len);

/* pread/pwrite that loop over short transfers; a short read at EOF fills zeros
 * when ZERO_PAST_EOF, else fails with EIO. Messages name the image path. */
int image_pread_full(struct image *img, void *buf, size_t len, uint64_t off, bool zero_past_eof);
int image_pwrite_full(struct image *img, const void *buf, size_t len, uint64_t off);

/* direct.c: the O_DIRECT forms of the two calls above (they dispatch there
 * when img->direct). image_direct_setup() finds the alignment and allocates
 * the bounce buffer after an O_DIRECT open. */
#define IMAGE_DIO_BOUNCE (256u * 1024)
int image_direct_setup(struct image *img);
int image_direct_pread(struct image *img, void *buf, size_t len, uint64_t off, bool zero_past_eof);
int image_direct_pwrite(struct image *img, const void *buf, size_t len, uint64_t off);

#endif
