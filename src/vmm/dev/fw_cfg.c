/* fw_cfg: see fw_cfg.h. One mutex guards the selection, since any vCPU
 * may use the ports; items never change once the guest runs.
 */
#include <endian.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "dev/fw_cfg.h"
#include "vm.h"

#define NKEYS (FW_CFG_FILE_FIRST + FW_CFG_MAX_FILES)
#define DMA_ACCESS_LEN 16 /* be32 control, be32 length, be64 address */
/* What the DMA port reads back: "QEMU CFG", big endian. */
#define DMA_SIGNATURE 0x51454d5520434647ULL

struct item {
    uint8_t *data;
    uint32_t len;
};

/* The file directory entry (big endian), as the spec lays it out. */
struct dir_entry {
    uint32_t size;
    uint16_t select;
    uint16_t reserved;
    char name[FW_CFG_NAME_LEN];
};

struct fw_cfg {
    struct vm *vm;
    pthread_mutex_t lock;
    struct item items[NKEYS];
    unsigned nfiles;
    char names[FW_CFG_MAX_FILES][FW_CFG_NAME_LEN];
    uint16_t key;    /* selected; NKEYS: none (reads give 0) */
    uint32_t offset; /* into the selected item */
    uint32_t dma_hi; /* the high half of the DMA address, written first */
};

/* ---- saved state: where the firmware is in the item it reads ---- */

static int fw_cfg_save(void *opaque, struct vsf_out *o)
{
    struct fw_cfg *f = opaque;
    pthread_mutex_lock(&f->lock);
    vsf_put_u16(o, f->key);
    vsf_put_u32(o, f->offset);
    vsf_put_u32(o, f->dma_hi);
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static int fw_cfg_load(void *opaque, struct vsf_in *in)
{
    struct fw_cfg *f = opaque;
    uint16_t key;
    uint32_t offset, dma_hi;
    if (vsf_get_u16(in, "key", &key) < 0 || vsf_get_u32(in, "offset", &offset) < 0 ||
        vsf_get_u32(in, "dma_hi", &dma_hi) < 0)
        return -1;
    if (key > NKEYS)
        return vsf_bad(in, "key", key, "a fw_cfg key or none");
    pthread_mutex_lock(&f->lock);
    f->key = key;
    /* Past the item's end reads as zeros, as a real read past it does. */
    f->offset = offset;
    f->dma_hi = dma_hi;
    pthread_mutex_unlock(&f->lock);
    return 0;
}

static const struct vm_state_ops fw_cfg_state = {.save = fw_cfg_save, .load = fw_cfg_load};

static void free_fw_cfg(void *p)
{
    struct fw_cfg *f = p;
    for (unsigned i = 0; i < NKEYS; i++)
        free(f->items[i].data);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static int set_item(struct fw_cfg *f, uint16_t key, const void *data, size_t len)
{
    if (key >= NKEYS)
        return err_set("fw_cfg: key 0x%x out of range", key);
    if (len > UINT32_MAX)
        return err_set("fw_cfg: item 0x%x is too large", key);
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        return err_set("out of memory");
    if (len)
        memcpy(copy, data, len);
    free(f->items[key].data);
    f->items[key] = (struct item){.data = copy, .len = (uint32_t)len};
    return 0;
}

int fw_cfg_add(struct fw_cfg *f, uint16_t key, const void *data, size_t len)
{
    if (key >= FW_CFG_FILE_FIRST || key == FW_CFG_FILE_DIR)
        return err_set("fw_cfg: key 0x%x belongs to the file directory", key);
    return set_item(f, key, data, len);
}

int fw_cfg_add_int(struct fw_cfg *f, uint16_t key, uint64_t v, unsigned size)
{
    uint8_t b[8];
    if (size != 2 && size != 4 && size != 8)
        return err_set("fw_cfg: %u-byte integer", size);
    for (unsigned i = 0; i < size; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    return fw_cfg_add(f, key, b, size);
}

/* The directory (key 0x19): a big-endian count, then one entry a file. */
static int rebuild_dir(struct fw_cfg *f)
{
    size_t len = 4 + (size_t)f->nfiles * sizeof(struct dir_entry);
    uint8_t *d = calloc(1, len);
    if (!d)
        return err_set("out of memory");
    uint32_t count = htobe32(f->nfiles);
    memcpy(d, &count, 4);
    for (unsigned i = 0; i < f->nfiles; i++) {
        struct dir_entry e = {
            .size = htobe32(f->items[FW_CFG_FILE_FIRST + i].len),
            .select = htobe16((uint16_t)(FW_CFG_FILE_FIRST + i)),
        };
        memcpy(e.name, f->names[i], FW_CFG_NAME_LEN);
        memcpy(d + 4 + i * sizeof e, &e, sizeof e);
    }
    free(f->items[FW_CFG_FILE_DIR].data);
    f->items[FW_CFG_FILE_DIR] = (struct item){.data = d, .len = (uint32_t)len};
    return 0;
}

int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data, size_t len)
{
    size_t n = strlen(name);
    if (n == 0 || n >= FW_CFG_NAME_LEN)
        return err_set("fw_cfg: file name '%s' is empty or too long", name);
    if (f->nfiles == FW_CFG_MAX_FILES)
        return err_set("fw_cfg: more than %d files", FW_CFG_MAX_FILES);
    for (unsigned i = 0; i < f->nfiles; i++)
        if (strcmp(f->names[i], name) == 0)
            return err_set("fw_cfg: file '%s' added twice", name);
    if (set_item(f, (uint16_t)(FW_CFG_FILE_FIRST + f->nfiles), data, len) < 0)
        return -1;
    memcpy(f->names[f->nfiles++], name, n + 1);
    return rebuild_dir(f);
}

/* ---- guest accesses ---- */

void fw_cfg_select(struct fw_cfg *f, uint16_t key)
{
    pthread_mutex_lock(&f->lock);
    /* Bit 14 asks for a write, bit 15 the architecture's keys: neither
     * names anything here, and an unknown key reads as zeroes. */
    f->key = key < NKEYS ? key : NKEYS;
    f->offset = 0;
    pthread_mutex_unlock(&f->lock);
}

static const struct item *selected(struct fw_cfg *f)
{
    return f->key < NKEYS && f->items[f->key].data ? &f->items[f->key] : NULL;
}

uint8_t fw_cfg_read_byte(struct fw_cfg *f)
{
    pthread_mutex_lock(&f->lock);
    const struct item *it = selected(f);
    uint8_t v = 0;
    if (it && f->offset < it->len)
        v = it->data[f->offset++];
    pthread_mutex_unlock(&f->lock);
    return v;
}

/* One transfer of a DMA request, with the lock held: 0 or
 * FW_CFG_DMA_ERROR. Reads past the item's end give zeroes, as in QEMU;
 * the guest buffer must be RAM, whole. */
static uint32_t dma_transfer(struct fw_cfg *f, uint32_t control, uint32_t len, uint64_t addr)
{
    if (control & FW_CFG_DMA_SELECT) {
        uint16_t key = control >> 16;
        f->key = key < NKEYS ? key : NKEYS;
        f->offset = 0;
    }
    const struct item *it = selected(f);
    uint32_t avail = it && f->offset < it->len ? it->len - f->offset : 0;
    uint32_t n = len < avail ? len : avail;
    if (control & FW_CFG_DMA_READ) {
        uint8_t *dst = len ? vm_gpa_ptr(f->vm, addr, len) : NULL;
        if (len && !dst)
            return FW_CFG_DMA_ERROR;
        if (n)
            memcpy(dst, it->data + f->offset, n);
        if (len > n)
            memset(dst + n, 0, len - n);
    } else if (control & FW_CFG_DMA_WRITE) {
        return FW_CFG_DMA_ERROR; /* every item is read-only */
    } else if (!(control & FW_CFG_DMA_SKIP)) {
        return 0; /* a bare select */
    }
    f->offset += n;
    return 0;
}

void fw_cfg_dma(struct fw_cfg *f, uint64_t addr)
{
    uint8_t *acc = vm_gpa_ptr(f->vm, addr, DMA_ACCESS_LEN);
    if (!acc)
        return; /* nowhere to report an error: ignored, as in QEMU */
    uint32_t control, len;
    uint64_t buf;
    memcpy(&control, acc, 4);
    memcpy(&len, acc + 4, 4);
    memcpy(&buf, acc + 8, 8);
    pthread_mutex_lock(&f->lock);
    uint32_t result = dma_transfer(f, be32toh(control), be32toh(len), be64toh(buf));
    pthread_mutex_unlock(&f->lock);
    /* Done: control goes to 0, or keeps only the error bit. */
    result = htobe32(result);
    __atomic_store_n((uint32_t *)(void *)acc, result, __ATOMIC_RELEASE);
}

/* ---- ports ---- */

static void sel_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    struct fw_cfg *f = opaque;
    memset(data, 0, len);
    if (off == 1 && len == 1)
        data[0] = fw_cfg_read_byte(f);
}

static void sel_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct fw_cfg *f = opaque;
    if (off == 0 && len == 2)
        fw_cfg_select(f, (uint16_t)(data[0] | data[1] << 8));
}

static const struct io_ops sel_ops = {.read = sel_read, .write = sel_write};

static void dma_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    (void)opaque;
    uint64_t sig = htobe64(DMA_SIGNATURE);
    memset(data, 0, len);
    if (off < 8 && len <= 8 - off)
        memcpy(data, (uint8_t *)&sig + off, len);
}

static void dma_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    struct fw_cfg *f = opaque;
    if (len != 4 || (off != 0 && off != 4))
        return;
    uint32_t v;
    memcpy(&v, data, 4);
    v = be32toh(v);
    if (off == 0) {
        pthread_mutex_lock(&f->lock);
        f->dma_hi = v;
        pthread_mutex_unlock(&f->lock);
        return;
    }
    pthread_mutex_lock(&f->lock);
    uint64_t addr = (uint64_t)f->dma_hi << 32 | v;
    f->dma_hi = 0;
    pthread_mutex_unlock(&f->lock);
    fw_cfg_dma(f, addr);
}

static const struct io_ops dma_ops = {.read = dma_read, .write = dma_write};

static void fw_cfg_reset(void *opaque)
{
    struct fw_cfg *f = opaque;
    pthread_mutex_lock(&f->lock);
    f->key = FW_CFG_SIGNATURE;
    f->offset = 0;
    f->dma_hi = 0;
    pthread_mutex_unlock(&f->lock);
}

struct fw_cfg *fw_cfg_new(struct vm *vm, bool dma)
{
    struct fw_cfg *f = calloc(1, sizeof *f);
    if (!f) {
        err_set("out of memory");
        return NULL;
    }
    pthread_mutex_init(&f->lock, NULL);
    f->vm = vm;
    if (vm_own_fn(vm, f, free_fw_cfg) < 0) {
        free_fw_cfg(f);
        return NULL;
    }
    uint32_t id = FW_CFG_VERSION | (dma ? FW_CFG_VERSION_DMA : 0);
    if (fw_cfg_add(f, FW_CFG_SIGNATURE, "QEMU", 4) < 0 || fw_cfg_add_int(f, FW_CFG_ID, id, 4) < 0 ||
        rebuild_dir(f) < 0 || vm_add_state(vm, "fw_cfg", &fw_cfg_state, f) < 0 ||
        vm_register_pio(vm, FW_CFG_PORT_SEL, 2, &sel_ops, f) < 0 ||
        (dma && vm_register_pio(vm, FW_CFG_PORT_DMA, 8, &dma_ops, f) < 0) ||
        vm_add_reset_hook(vm, fw_cfg_reset, f) < 0)
        return NULL;
    return f;
}
