/* The display adapter: see vga.h. */
#include "dev/vga.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"
#include "pci.h"
#include "vm.h"

#define VGA_PORT_BASE 0x3C0
#define VGA_PORTS 0x20
/* offsets from 0x3C0 */
#define P_ATTR 0x00      /* attribute index/data (flip-flop) */
#define P_ATTR_READ 0x01
#define P_MISC_WRITE 0x02
#define P_SEQ_INDEX 0x04
#define P_SEQ_DATA 0x05
#define P_DAC_READ_INDEX 0x07
#define P_DAC_WRITE_INDEX 0x08
#define P_DAC_DATA 0x09
#define P_MISC_READ 0x0C
#define P_GC_INDEX 0x0E
#define P_GC_DATA 0x0F
#define P_CRTC_INDEX 0x14
#define P_CRTC_DATA 0x15
#define P_STATUS1 0x1A

#define CRTC_REGS 0x19
#define CRTC_CURSOR_START 0x0A
#define CRTC_CURSOR_END 0x0B
#define CRTC_START_HI 0x0C
#define CRTC_START_LO 0x0D
#define CRTC_CURSOR_HI 0x0E
#define CRTC_CURSOR_LO 0x0F
#define CURSOR_OFF 0x20
#define ATTR_REGS 0x15
#define SEQ_REGS 5
#define GC_REGS 9

struct vga {
    struct vm *vm;
    struct pci_device pci;
    pthread_mutex_t lock; /* registers; vCPUs write, the display reads */
    uint8_t *text;        /* VGA_TEXT_WINDOW bytes of guest memory at 0xB8000 */

    uint8_t crtc[CRTC_REGS], crtc_index;
    uint8_t attr[ATTR_REGS], attr_index;
    bool attr_data; /* the flip-flop: next write to 0x3C0 is data */
    uint8_t seq[SEQ_REGS], seq_index;
    uint8_t gc[GC_REGS], gc_index;
    uint8_t misc;
    uint8_t status_toggle;
    uint8_t dac[256][3]; /* 6 bits per component */
    unsigned dac_read, dac_write, dac_read_c, dac_write_c;

    uint8_t *fb;
    uint64_t fb_bytes;
    unsigned width, height, stride;
    int devmem; /* vm_devmem id */
    bool all_dirty;
    uint64_t *bitmap;
    struct vm_screen screen;
};

/* The EGA palette the BIOS leaves in the first 16 DAC entries' places
 * (attribute palette i -> DAC 0-7, 0x14, 0x38-0x3F), 6 bits a colour. */
static void power_on(struct vga *v)
{
    static const uint8_t attr_pal[16] = {0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x14, 0x07,
                                         0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F};
    memset(v->crtc, 0, sizeof v->crtc);
    memset(v->attr, 0, sizeof v->attr);
    memcpy(v->attr, attr_pal, sizeof attr_pal);
    v->attr[0x10] = 0x0C; /* mode control: text, line graphics enable */
    v->crtc[CRTC_CURSOR_START] = 14;
    v->crtc[CRTC_CURSOR_END] = 15;
    v->crtc[0x09] = 15; /* max scan line: 16-line characters */
    v->misc = 0x67;     /* colour, 0x3Dx ports */
    /* EGA 64-colour DAC values: rgbRGB bits -> 2 bits per component */
    for (unsigned i = 0; i < 64; i++) {
        uint8_t r = (uint8_t)(((i >> 2) & 1) * 0x2A + ((i >> 5) & 1) * 0x15);
        uint8_t g = (uint8_t)(((i >> 1) & 1) * 0x2A + ((i >> 4) & 1) * 0x15);
        uint8_t b = (uint8_t)((i & 1) * 0x2A + ((i >> 3) & 1) * 0x15);
        v->dac[i][0] = r;
        v->dac[i][1] = g;
        v->dac[i][2] = b;
    }
    v->attr_data = false;
    v->all_dirty = true;
}

void vga_port_write(struct vga *v, unsigned off, uint8_t val)
{
    pthread_mutex_lock(&v->lock);
    switch (off) {
    case P_ATTR:
        if (!v->attr_data)
            v->attr_index = val & 0x3F; /* bit 5: palette address source */
        else if ((v->attr_index & 0x1F) < ATTR_REGS)
            v->attr[v->attr_index & 0x1F] = val;
        v->attr_data = !v->attr_data;
        break;
    case P_MISC_WRITE:
        v->misc = val;
        break;
    case P_SEQ_INDEX:
        v->seq_index = val;
        break;
    case P_SEQ_DATA:
        if (v->seq_index < SEQ_REGS)
            v->seq[v->seq_index] = val;
        break;
    case P_DAC_READ_INDEX:
        v->dac_read = val;
        v->dac_read_c = 0;
        break;
    case P_DAC_WRITE_INDEX:
        v->dac_write = val;
        v->dac_write_c = 0;
        break;
    case P_DAC_DATA:
        v->dac[v->dac_write & 0xFF][v->dac_write_c] = val & 0x3F;
        if (++v->dac_write_c == 3) {
            v->dac_write_c = 0;
            v->dac_write = (v->dac_write + 1) & 0xFF;
        }
        break;
    case P_GC_INDEX:
        v->gc_index = val;
        break;
    case P_GC_DATA:
        if (v->gc_index < GC_REGS)
            v->gc[v->gc_index] = val;
        break;
    case P_CRTC_INDEX:
        v->crtc_index = val;
        break;
    case P_CRTC_DATA:
        if (v->crtc_index < CRTC_REGS)
            v->crtc[v->crtc_index] = val;
        break;
    default:
        break; /* 0x3B4/0x3BA (mono) are not ours; the rest is read-only */
    }
    pthread_mutex_unlock(&v->lock);
}

uint8_t vga_port_read(struct vga *v, unsigned off)
{
    uint8_t r = 0xFF;
    pthread_mutex_lock(&v->lock);
    switch (off) {
    case P_ATTR:
        r = v->attr_index;
        break;
    case P_ATTR_READ:
        r = (v->attr_index & 0x1F) < ATTR_REGS ? v->attr[v->attr_index & 0x1F] : 0;
        break;
    case P_SEQ_INDEX:
        r = v->seq_index;
        break;
    case P_SEQ_DATA:
        r = v->seq_index < SEQ_REGS ? v->seq[v->seq_index] : 0xFF;
        break;
    case P_DAC_DATA:
        r = v->dac[v->dac_read & 0xFF][v->dac_read_c];
        if (++v->dac_read_c == 3) {
            v->dac_read_c = 0;
            v->dac_read = (v->dac_read + 1) & 0xFF;
        }
        break;
    case P_DAC_WRITE_INDEX:
        r = (uint8_t)v->dac_write;
        break;
    case P_MISC_READ:
        r = v->misc;
        break;
    case P_GC_INDEX:
        r = v->gc_index;
        break;
    case P_GC_DATA:
        r = v->gc_index < GC_REGS ? v->gc[v->gc_index] : 0xFF;
        break;
    case P_CRTC_INDEX:
        r = v->crtc_index;
        break;
    case P_CRTC_DATA:
        r = v->crtc_index < CRTC_REGS ? v->crtc[v->crtc_index] : 0xFF;
        break;
    case P_STATUS1:
        /* Reading it resets the attribute flip-flop; retrace bits toggle
         * so that code waiting for a retrace edge sees one. */
        v->attr_data = false;
        v->status_toggle ^= 0x09;
        r = v->status_toggle;
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&v->lock);
    return r;
}

static void ports_read(void *opaque, uint64_t off, uint8_t *data, uint32_t len)
{
    for (uint32_t i = 0; i < len; i++)
        data[i] = off + i < VGA_PORTS ? vga_port_read(opaque, (unsigned)(off + i)) : 0xFF;
}

static void ports_write(void *opaque, uint64_t off, const uint8_t *data, uint32_t len)
{
    /* outw(0x3D4, index | value << 8): index then data, as the bus splits it */
    for (uint32_t i = 0; i < len; i++)
        if (off + i < VGA_PORTS)
            vga_port_write(opaque, (unsigned)(off + i), data[i]);
}

static const struct io_ops port_ops = {.read = ports_read, .write = ports_write};

void vga_text_read(struct vga *v, struct vga_text *out)
{
    pthread_mutex_lock(&v->lock);
    unsigned start = (unsigned)v->crtc[CRTC_START_HI] << 8 | v->crtc[CRTC_START_LO];
    unsigned cursor = (unsigned)v->crtc[CRTC_CURSOR_HI] << 8 | v->crtc[CRTC_CURSOR_LO];
    bool cursor_on = !(v->crtc[CRTC_CURSOR_START] & CURSOR_OFF);
    out->cursor_start = v->crtc[CRTC_CURSOR_START] & 0x1F;
    out->cursor_end = v->crtc[CRTC_CURSOR_END] & 0x1F;
    if (out->cursor_start > 15)
        out->cursor_start = 15;
    if (out->cursor_end > 15)
        out->cursor_end = 15;
    for (unsigned i = 0; i < 16; i++) {
        /* attribute palette -> DAC (6 bits) -> 8-bit RGB */
        const uint8_t *c = v->dac[v->attr[i] & 0x3F];
        out->palette[i] = (uint32_t)(c[0] << 2 | c[0] >> 4) << 16 |
                          (uint32_t)(c[1] << 2 | c[1] >> 4) << 8 | (uint32_t)(c[2] << 2 | c[2] >> 4);
    }
    pthread_mutex_unlock(&v->lock);
    /* The guest moves the start address at will: every cell wraps inside
     * the window, as the hardware's address counter does. */
    for (unsigned i = 0; i < VGA_TEXT_COLS * VGA_TEXT_ROWS; i++) {
        unsigned at = ((start + i) * 2) % VGA_TEXT_WINDOW;
        out->cells[i] = (uint16_t)(v->text[at] | v->text[at + 1] << 8);
    }
    unsigned rel = (cursor - start) & 0xFFFF;
    out->cursor = cursor_on && rel < VGA_TEXT_COLS * VGA_TEXT_ROWS ? (int)rel : -1;
}

/* ---- the framebuffer BAR ---- */

static void follow_bar(struct vga *v)
{
    uint64_t at = pci_bar_addr(&v->pci, 0);
    if (at < PCI_MMIO_BASE || at - PCI_MMIO_BASE > PCI_MMIO_SIZE - v->fb_bytes)
        at = 0; /* outside the window (a BAR being sized): decode nothing */
    if (at)
        v->screen.lfb_base = at;
    if (vm_devmem_map(v->vm, v->devmem, at) < 0)
        err_clear(); /* KVM refused: the guest sees no framebuffer there */
    v->all_dirty = true;
}

static void cfg_written(struct pci_device *d, uint32_t off, uint32_t len)
{
    struct vga *v = d->opaque;
    if (off < PCI_BAR0 + 4 && off + len > PCI_COMMAND)
        follow_bar(v);
}

static void cfg_lock(struct pci_device *d)
{
    pthread_mutex_lock(&((struct vga *)d->opaque)->lock);
}

static void cfg_unlock(struct pci_device *d)
{
    pthread_mutex_unlock(&((struct vga *)d->opaque)->lock);
}

unsigned vga_fb_changed(struct vga *v, vga_rows_fn fn, void *opaque)
{
    pthread_mutex_lock(&v->lock);
    bool all = v->all_dirty;
    v->all_dirty = false;
    pthread_mutex_unlock(&v->lock);
    if (vm_devmem_dirty(v->vm, v->devmem, v->bitmap) != 0 || all) {
        fn(opaque, 0, v->height);
        return 1;
    }
    /* page p covers bytes [p*4096, p*4096+4096): rows from its first byte's to its last's */
    uint64_t pages = (uint64_t)v->stride * v->height / 4096 + 1;
    unsigned runs = 0;
    long y0 = -1, y1 = 0;
    for (uint64_t p = 0; p <= pages; p++) {
        bool d = p < pages && (v->bitmap[p / 64] >> (p % 64) & 1);
        if (d) {
            long a = (long)(p * 4096 / v->stride), b = (long)((p * 4096 + 4095) / v->stride) + 1;
            if (b > (long)v->height)
                b = v->height;
            if (y0 >= 0 && a <= y1) {
                y1 = b;
            } else {
                if (y0 >= 0 && y0 < y1) {
                    fn(opaque, (unsigned)y0, (unsigned)y1);
                    runs++;
                }
                y0 = a;
                y1 = b;
            }
        }
    }
    if (y0 >= 0 && y0 < y1) {
        fn(opaque, (unsigned)y0, (unsigned)y1);
        runs++;
    }
    return runs;
}

const struct vm_screen *vga_screen(struct vga *v)
{
    return &v->screen;
}

void *vga_framebuffer(struct vga *v, unsigned *width, unsigned *height, unsigned *stride)
{
    *width = v->width;
    *height = v->height;
    *stride = v->stride;
    return v->fb;
}

static void vga_reset(void *opaque)
{
    struct vga *v = opaque;
    pthread_mutex_lock(&v->lock);
    power_on(v);
    pthread_mutex_unlock(&v->lock);
}

static void vga_release(void *p)
{
    struct vga *v = p;
    if (v->fb)
        munmap(v->fb, v->fb_bytes);
    free(v->bitmap);
    pthread_mutex_destroy(&v->lock);
    free(v);
}

static uint64_t pow2_at_least(uint64_t n)
{
    uint64_t p = 4096;
    while (p < n)
        p <<= 1;
    return p;
}

/* ---- saved state ----
 * The registers, the PCI config (the BAR's place), and the video memory
 * as its pages that are not zero, each with its index: a text console or
 * a desktop uses a few MiB of it, a section holds at most
 * VSF_SECTION_MAX; a save that would not fit fails, naming the adapter.
 * The text window is guest RAM and goes with it. */
#define FB_PAGE 4096u
#define FB_SAVE_MAX (VSF_SECTION_MAX - (1u << 16))

static bool fb_page_zero(const uint8_t *p)
{
    static const uint8_t zero[FB_PAGE];
    return memcmp(p, zero, FB_PAGE) == 0;
}

static void save_regs(const struct vga *v, struct vsf_out *o)
{
    vsf_put_bytes(o, v->crtc, sizeof v->crtc);
    vsf_put_u8(o, v->crtc_index);
    vsf_put_bytes(o, v->attr, sizeof v->attr);
    vsf_put_u8(o, v->attr_index);
    vsf_put_u8(o, v->attr_data);
    vsf_put_bytes(o, v->seq, sizeof v->seq);
    vsf_put_u8(o, v->seq_index);
    vsf_put_bytes(o, v->gc, sizeof v->gc);
    vsf_put_u8(o, v->gc_index);
    vsf_put_u8(o, v->misc);
    vsf_put_u8(o, v->status_toggle);
    vsf_put_bytes(o, v->dac, sizeof v->dac);
    vsf_put_u8(o, (uint8_t)v->dac_read);
    vsf_put_u8(o, (uint8_t)v->dac_read_c);
    vsf_put_u8(o, (uint8_t)v->dac_write);
    vsf_put_u8(o, (uint8_t)v->dac_write_c);
}

static int vga_save(void *opaque, struct vsf_out *o)
{
    struct vga *v = opaque;
    uint64_t pages = v->fb_bytes / FB_PAGE, used = 0;
    for (uint64_t i = 0; i < pages; i++)
        used += !fb_page_zero(v->fb + i * FB_PAGE);
    if (used * (FB_PAGE + 4) > FB_SAVE_MAX)
        return err_set("%llu MiB of video memory in use is more than a saved state holds (%u MiB)",
                       (unsigned long long)(used * FB_PAGE >> 20), FB_SAVE_MAX >> 20);
    pthread_mutex_lock(&v->lock);
    save_regs(v, o);
    vsf_put_bytes(o, v->pci.cfg, sizeof v->pci.cfg);
    pthread_mutex_unlock(&v->lock);
    vsf_put_u64(o, v->fb_bytes);
    vsf_put_u64(o, used);
    for (uint64_t i = 0; i < pages; i++)
        if (!fb_page_zero(v->fb + i * FB_PAGE)) {
            vsf_put_u32(o, (uint32_t)i);
            vsf_put_bytes(o, v->fb + i * FB_PAGE, FB_PAGE);
        }
    return 0;
}

/* Into R, checked: only values the ports themselves could have left. */
static int load_regs(struct vga *r, struct vsf_in *in)
{
    uint8_t attr_data, dac_read, dac_read_c, dac_write, dac_write_c;
    if (vsf_get_bytes(in, "crtc", r->crtc, sizeof r->crtc) < 0 ||
        vsf_get_u8(in, "crtc index", &r->crtc_index) < 0 ||
        vsf_get_bytes(in, "attr", r->attr, sizeof r->attr) < 0 ||
        vsf_get_u8(in, "attr index", &r->attr_index) < 0 ||
        vsf_get_u8(in, "attr flip-flop", &attr_data) < 0 ||
        vsf_get_bytes(in, "seq", r->seq, sizeof r->seq) < 0 ||
        vsf_get_u8(in, "seq index", &r->seq_index) < 0 ||
        vsf_get_bytes(in, "gc", r->gc, sizeof r->gc) < 0 ||
        vsf_get_u8(in, "gc index", &r->gc_index) < 0 || vsf_get_u8(in, "misc", &r->misc) < 0 ||
        vsf_get_u8(in, "status", &r->status_toggle) < 0 ||
        vsf_get_bytes(in, "dac", r->dac, sizeof r->dac) < 0 ||
        vsf_get_u8(in, "dac read", &dac_read) < 0 ||
        vsf_get_u8(in, "dac read c", &dac_read_c) < 0 ||
        vsf_get_u8(in, "dac write", &dac_write) < 0 ||
        vsf_get_u8(in, "dac write c", &dac_write_c) < 0)
        return -1;
    if (r->attr_index > 0x3F)
        return vsf_bad(in, "attr index", r->attr_index, "6 bits");
    if (attr_data > 1)
        return vsf_bad(in, "attr flip-flop", attr_data, "0 or 1");
    if (dac_read_c > 2 || dac_write_c > 2)
        return vsf_bad(in, "dac c", dac_read_c > 2 ? dac_read_c : dac_write_c, "0, 1 or 2");
    for (unsigned i = 0; i < 256; i++)
        for (unsigned c = 0; c < 3; c++)
            if (r->dac[i][c] > 0x3F)
                return vsf_bad(in, "dac", r->dac[i][c], "6 bits a component");
    r->attr_data = attr_data;
    r->dac_read = dac_read;
    r->dac_read_c = dac_read_c;
    r->dac_write = dac_write;
    r->dac_write_c = dac_write_c;
    return 0;
}

/* The video memory's saved pages, each checked before it is copied. */
static int load_fb(struct vga *v, struct vsf_in *in)
{
    uint64_t bytes, used, pages = v->fb_bytes / FB_PAGE;
    if (vsf_get_u64(in, "video memory", &bytes) < 0 || vsf_get_u64(in, "pages", &used) < 0)
        return -1;
    if (bytes != v->fb_bytes)
        return vsf_bad(in, "video memory", bytes, "this adapter's (<model vram>)");
    if (used > pages)
        return vsf_bad(in, "pages", used, "at most the video memory's");
    uint64_t next = 0; /* pages below it are in place */
    for (uint64_t k = 0; k < used; k++) {
        uint32_t i;
        if (vsf_get_u32(in, "page", &i) < 0)
            return -1;
        if (i >= pages || i < next)
            return vsf_bad(in, "page", i, "rising, inside the video memory");
        memset(v->fb + next * FB_PAGE, 0, (size_t)(i - next) * FB_PAGE);
        if (vsf_get_bytes(in, "page data", v->fb + (uint64_t)i * FB_PAGE, FB_PAGE) < 0)
            return -1;
        next = (uint64_t)i + 1;
    }
    memset(v->fb + next * FB_PAGE, 0, (size_t)(pages - next) * FB_PAGE);
    return 0;
}

static int vga_load(void *opaque, struct vsf_in *in)
{
    struct vga *v = opaque;
    struct vga *r = calloc(1, sizeof *r);
    uint8_t cfg[sizeof v->pci.cfg];
    if (!r)
        return err_set("out of memory");
    int rc = load_regs(r, in);
    if (rc == 0)
        rc = vsf_get_bytes(in, "pci config", cfg, sizeof cfg);
    if (rc == 0)
        rc = load_fb(v, in);
    if (rc == 0) {
        pthread_mutex_lock(&v->lock);
        memcpy(v->crtc, r->crtc, sizeof v->crtc);
        memcpy(v->attr, r->attr, sizeof v->attr);
        memcpy(v->seq, r->seq, sizeof v->seq);
        memcpy(v->gc, r->gc, sizeof v->gc);
        memcpy(v->dac, r->dac, sizeof v->dac);
        v->crtc_index = r->crtc_index;
        v->attr_index = r->attr_index;
        v->attr_data = r->attr_data;
        v->seq_index = r->seq_index;
        v->gc_index = r->gc_index;
        v->misc = r->misc;
        v->status_toggle = r->status_toggle;
        v->dac_read = r->dac_read;
        v->dac_read_c = r->dac_read_c;
        v->dac_write = r->dac_write;
        v->dac_write_c = r->dac_write_c;
        for (size_t i = 0; i < sizeof cfg; i++)
            v->pci.cfg[i] =
                (uint8_t)((v->pci.cfg[i] & ~v->pci.wmask[i]) | (cfg[i] & v->pci.wmask[i]));
        v->pci.cfg[PCI_INTERRUPT_PIN] = 0;
        pci_device_decode(&v->pci);
        follow_bar(v);
        pthread_mutex_unlock(&v->lock);
    }
    free(r);
    return rc;
}

static const struct vm_state_ops vga_state = {.save = vga_save, .load = vga_load};

struct vga *vga_new(struct vm *vm, struct pci_bus *bus, const struct vga_config *c)
{
    unsigned w = c->width ? c->width : VGA_DEFAULT_WIDTH;
    unsigned h = c->height ? c->height : VGA_DEFAULT_HEIGHT;
    if (w < 16 || h < 16 || w > VGA_MAX_DIM || h > VGA_MAX_DIM || (w & 7)) {
        err_set("video resolution %ux%u is not supported (16-%u pixels each way, width a "
                "multiple of 8)", w, h, VGA_MAX_DIM);
        return NULL;
    }
    uint64_t need = (uint64_t)w * h * 4;
    uint64_t bytes = pow2_at_least(c->vram_bytes > need ? c->vram_bytes : need);
    if (bytes > VGA_MAX_VRAM) {
        err_set("video memory of %llu MiB is more than tvm-vmm gives (%u MiB)",
                (unsigned long long)(bytes >> 20), VGA_MAX_VRAM >> 20);
        return NULL;
    }
    struct vga *v = calloc(1, sizeof *v);
    uint64_t *bitmap = calloc((size_t)((bytes / 4096 + 63) / 64), 8);
    if (!v || !bitmap) {
        free(v);
        free(bitmap);
        err_set("out of memory");
        return NULL;
    }
    v->vm = vm;
    v->bitmap = bitmap;
    pthread_mutex_init(&v->lock, NULL);
    if (vm_own_fn(vm, v, vga_release) < 0) {
        vga_release(v);
        return NULL;
    }
    /* From here the VM owns v: failures just return. */
    void *fb = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fb == MAP_FAILED) {
        err_errno("video memory");
        return NULL;
    }
    madvise(fb, bytes, MADV_DONTDUMP); /* the guest's pixels are the guest's */
    v->fb = fb;
    v->fb_bytes = bytes;
    v->width = w;
    v->height = h;
    v->stride = w * 4;
    v->text = vm_gpa_ptr(vm, VGA_TEXT_GPA, VGA_TEXT_WINDOW);
    if (!v->text) {
        err_set("no guest memory at 0x%x for VGA text", VGA_TEXT_GPA);
        return NULL;
    }
    power_on(v);
    v->screen = (struct vm_screen){.text = c->text,
                                    .lfb_size = (uint32_t)bytes,
                                    .width = (uint16_t)w,
                                    .height = (uint16_t)h,
                                    .stride = (uint16_t)(v->stride > 0xFFFF ? 0 : v->stride)};
    if (!v->screen.stride) {
        err_set("video resolution %ux%u: a row is too long", w, h);
        return NULL;
    }
    v->devmem = vm_devmem_add(vm, fb, bytes, true);
    if (v->devmem < 0)
        return NULL;
    v->pci.bar_size[0] = (uint32_t)bytes;
    v->pci.opaque = v;
    v->pci.cfg_written = cfg_written;
    v->pci.lock = cfg_lock;
    v->pci.unlock = cfg_unlock;
    pci_device_setup(&v->pci, VGA_PCI_VENDOR, VGA_PCI_DEVICE, 1, VGA_PCI_CLASS, VGA_PCI_VENDOR,
                     0x0100);
    if (pci_add_device(bus, &v->pci, c->slot) < 0)
        return NULL;
    /* A display needs no interrupt */
    v->pci.cfg[PCI_INTERRUPT_PIN] = 0;
    /* memory decoding on, as firmware leaves a boot display */
    v->pci.cfg[PCI_COMMAND] |= PCI_COMMAND_MEMORY;
    pci_device_decode(&v->pci);
    follow_bar(v);
    if (vm_add_state(vm, "vga", &vga_state, v) < 0 ||
        vm_register_pio(vm, VGA_PORT_BASE, VGA_PORTS, &port_ops, v) < 0 ||
        vm_add_reset_hook(vm, vga_reset, v) < 0)
        return NULL;
    return v;
}

struct vga *vga_new_text_only(uint8_t *mem)
{
    struct vga *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    pthread_mutex_init(&v->lock, NULL);
    v->text = mem;
    power_on(v);
    return v;
}

void vga_free_text_only(struct vga *v)
{
    if (v)
        vga_release(v);
}
