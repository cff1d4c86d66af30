/* The guest's screen as terminal output for one rectangle of the terminal
 * (see viewer.h). Each row of the rectangle is built as one string and
 * kept; a row is written only when its string changed, so an unchanged
 * screen costs nothing and a changed line costs one row. Framebuffer rows
 * are rendered by libchafa in bands: only the cell rows that cover the
 * pixel rows VNC reported changed are rendered again. */
#include "viewer/viewer.h"

#include <chafa.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_CELL_W 10
#define DEFAULT_CELL_H 20

struct render {
    enum viewer_mode mode;
    int y, x, rows, cols;
    int cell_w, cell_h;
    bool all;
    char **row;      /* what each row of the area shows now (NULL: unknown) */
    size_t *row_len; /* its length */
    bool was_text;
    unsigned was_w, was_h;
    ChafaSymbolMap *symbols;
    ChafaTermInfo *term;
};

/* ---- output buffer ---- */

void vbuf_add(struct vbuf *b, const void *data, size_t len)
{
    if (len > SIZE_MAX / 4 || b->len > SIZE_MAX / 4)
        abort(); /* no terminal output is that long: a caller's bug */
    if (b->len + len + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p)
            abort(); /* as glib, which libchafa uses, does on no memory */
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, data, len);
    b->len += len;
    b->p[b->len] = '\0';
}

void vbuf_printf(struct vbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        vbuf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void vbuf_free(struct vbuf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* ---- life ---- */

struct render *render_new(enum viewer_mode mode)
{
    struct render *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->mode = mode == VIEWER_MODE_AUTO ? VIEWER_MODE_256 : mode;
    r->cell_w = DEFAULT_CELL_W;
    r->cell_h = DEFAULT_CELL_H;
    r->all = true;
    r->symbols = chafa_symbol_map_new();
    /* Blocks and sextants: 2x3 sub-cells, the finest shapes that need no
     * particular font (Unicode 13 "Symbols for Legacy Computing"). */
    chafa_symbol_map_add_by_tags(r->symbols, CHAFA_SYMBOL_TAG_BLOCK | CHAFA_SYMBOL_TAG_SEXTANT |
                                                 CHAFA_SYMBOL_TAG_SPACE | CHAFA_SYMBOL_TAG_SOLID);
    chafa_symbol_map_remove_by_tags(r->symbols, CHAFA_SYMBOL_TAG_BAD);
    /* Every sequence libchafa knows: the mode is chosen here, not by $TERM. */
    r->term = chafa_term_db_get_fallback_info(chafa_term_db_get_default());
    return r;
}

static void forget_rows(struct render *r)
{
    for (int i = 0; r->row && i < r->rows; i++) {
        free(r->row[i]);
        r->row[i] = NULL;
    }
}

void render_free(struct render *r)
{
    if (!r)
        return;
    forget_rows(r);
    free(r->row);
    free(r->row_len);
    chafa_symbol_map_unref(r->symbols);
    chafa_term_info_unref(r->term);
    free(r);
}

enum viewer_mode render_mode(const struct render *r)
{
    return r->mode;
}

void render_set_area(struct render *r, int y, int x, int rows, int cols)
{
    if (rows < 0)
        rows = 0;
    if (cols < 0)
        cols = 0;
    if (r->y == y && r->x == x && r->rows == rows && r->cols == cols && r->row)
        return;
    forget_rows(r);
    free(r->row);
    free(r->row_len);
    r->y = y;
    r->x = x;
    r->rows = rows;
    r->cols = cols;
    r->row = calloc((size_t)rows + 1, sizeof *r->row);
    r->row_len = calloc((size_t)rows + 1, sizeof *r->row_len);
    r->all = true;
}

void render_set_cell_pixels(struct render *r, int w, int h)
{
    if (w <= 0 || h <= 0) {
        w = DEFAULT_CELL_W;
        h = DEFAULT_CELL_H;
    }
    if (w != r->cell_w || h != r->cell_h)
        r->all = true;
    r->cell_w = w;
    r->cell_h = h;
}

void render_invalidate(struct render *r)
{
    r->all = true;
}

/* Row I of the area shows TEXT now: written (after a cursor move) only if
 * it differs from what the row showed. Takes TEXT. */
static int put_row(struct render *r, int i, struct vbuf *line, struct vbuf *out)
{
    if (!r->all && r->row[i] && r->row_len[i] == line->len &&
        !memcmp(r->row[i], line->p, line->len)) {
        vbuf_free(line);
        return 0;
    }
    vbuf_printf(out, "\033[%d;%dH", r->y + i + 1, r->x + 1);
    vbuf_add(out, line->p ? line->p : "", line->len);
    free(r->row[i]);
    r->row[i] = line->p;
    r->row_len[i] = line->len;
    line->p = NULL;
    line->len = line->cap = 0;
    return 1;
}

static void pad(struct vbuf *b, int n)
{
    static const char spaces[] = "                                ";
    while (n > 0) {
        int k = n < 32 ? n : 32;
        vbuf_add(b, spaces, (size_t)k);
        n -= k;
    }
}

/* ---- text mode ---- */

/* VGA colour index to its ANSI SGR number (VGA's blue is bit 0, ANSI's bit 2). */
static int sgr_colour(uint8_t vga, bool bg)
{
    static const int ansi[8] = {0, 4, 2, 6, 1, 5, 3, 7};
    int base = vga & 8 ? (bg ? 100 : 90) : (bg ? 40 : 30);
    return base + ansi[vga & 7];
}

/* The first text row shown: all 25 when they fit, else the window that
 * keeps the cursor (where the guest is writing) on screen, lowest first. */
static int text_top(const struct render *r, const struct viewer_text *t)
{
    if (r->rows >= VIEWER_TEXT_ROWS)
        return 0;
    int cur_row = t->cursor >= 0 ? t->cursor / VIEWER_TEXT_COLS : VIEWER_TEXT_ROWS - 1;
    int top = cur_row - r->rows + 1;
    return top < 0 ? 0 : top;
}

static int render_text(struct render *r, const struct viewer_text *t, struct vbuf *out)
{
    int written = 0, top = text_top(r, t);
    int cols = r->cols < VIEWER_TEXT_COLS ? r->cols : VIEWER_TEXT_COLS;
    for (int i = 0; i < r->rows; i++) {
        struct vbuf line = {0};
        int tr = top + i;
        if (tr < VIEWER_TEXT_ROWS) {
            int last_fg = -1, last_bg = -1, last_rev = -1;
            for (int c = 0; c < cols; c++) {
                int fg = t->fg[tr][c], bg = t->bg[tr][c];
                int rev = t->cursor == tr * VIEWER_TEXT_COLS + c;
                if (fg != last_fg || bg != last_bg || rev != last_rev) {
                    vbuf_printf(&line, "\033[0;%d;%d%sm", sgr_colour((uint8_t)fg, false),
                                sgr_colour((uint8_t)bg, true), rev ? ";7" : "");
                    last_fg = fg;
                    last_bg = bg;
                    last_rev = rev;
                }
                char ch = t->chars[tr][c];
                vbuf_add(&line, ch >= 0x20 && ch < 0x7f ? &ch : " ", 1);
            }
            vbuf_add(&line, "\033[0m", 4);
            pad(&line, r->cols - cols);
        } else {
            vbuf_add(&line, "\033[0m", 4);
            pad(&line, r->cols);
        }
        written += put_row(r, i, &line, out);
    }
    return written;
}

/* ---- framebuffer ---- */

/* The picture's size in cells: as large as the area allows, keeping the
 * framebuffer's aspect with cells cell_h/cell_w times as tall as wide. */
static void image_cells(const struct render *r, unsigned w, unsigned h, int *iw, int *ih)
{
    double aspect = (double)r->cell_h / r->cell_w;
    int cw = r->cols, ch = (int)((double)r->cols * h / w / aspect + 0.5);
    if (ch > r->rows) {
        ch = r->rows;
        cw = (int)((double)r->rows * aspect * w / h + 0.5);
        if (cw > r->cols)
            cw = r->cols;
    }
    *iw = cw < 1 ? 1 : cw;
    *ih = ch < 1 ? 1 : ch;
}

static ChafaCanvas *band_canvas(struct render *r, const struct viewer_screen *s, int iw, int rows,
                                unsigned sy0, unsigned sy1)
{
    ChafaCanvasConfig *cfg = chafa_canvas_config_new();
    chafa_canvas_config_set_geometry(cfg, iw, rows);
    int cw = r->cell_w, ch = r->cell_h;
    if (r->mode == VIEWER_MODE_KITTY) {
        /* kitty scales the picture to its cells (c=, r=): send no more
         * pixels than the framebuffer has. */
        cw = (int)s->width / iw < cw ? (int)s->width / iw : cw;
        ch = (int)(sy1 - sy0) / rows < ch ? (int)(sy1 - sy0) / rows : ch;
        cw = cw < 1 ? 1 : cw;
        ch = ch < 1 ? 1 : ch;
    }
    chafa_canvas_config_set_cell_geometry(cfg, cw, ch);
    switch (r->mode) {
    case VIEWER_MODE_KITTY:
        chafa_canvas_config_set_pixel_mode(cfg, CHAFA_PIXEL_MODE_KITTY);
        break;
    case VIEWER_MODE_SIXEL:
        chafa_canvas_config_set_pixel_mode(cfg, CHAFA_PIXEL_MODE_SIXELS);
        break;
    default:
        chafa_canvas_config_set_pixel_mode(cfg, CHAFA_PIXEL_MODE_SYMBOLS);
        chafa_canvas_config_set_symbol_map(cfg, r->symbols);
        break;
    }
    chafa_canvas_config_set_canvas_mode(cfg, r->mode == VIEWER_MODE_256
                                                 ? CHAFA_CANVAS_MODE_INDEXED_240
                                                 : CHAFA_CANVAS_MODE_TRUECOLOR);
    ChafaCanvas *c = chafa_canvas_new(cfg);
    chafa_canvas_config_unref(cfg);
    chafa_canvas_draw_all_pixels(c, CHAFA_PIXEL_RGBA8_UNASSOCIATED,
                                 s->pixels + (size_t)sy0 * s->width * 4, (gint)s->width,
                                 (gint)(sy1 - sy0), (gint)s->width * 4);
    return c;
}

/* Symbols: the band's rows, each padded to the area's width. */
static int put_symbol_rows(struct render *r, GString *g, int r0, int r1, int iw, struct vbuf *out)
{
    int written = 0;
    const char *p = g->str, *end = g->str + g->len;
    for (int i = r0; i < r1; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        struct vbuf line = {0};
        vbuf_add(&line, p, n);
        vbuf_add(&line, "\033[0m", 4);
        pad(&line, r->cols - iw);
        written += put_row(r, i, &line, out);
        p = nl ? nl + 1 : end;
    }
    return written;
}

static int render_picture(struct render *r, const struct viewer_screen *s, struct vbuf *out)
{
    int iw, ih, written = 0;
    image_cells(r, s->width, s->height, &iw, &ih);
    int r0 = 0, r1 = ih;
    bool pixels = r->mode == VIEWER_MODE_SIXEL || r->mode == VIEWER_MODE_KITTY;
    if (!r->all) {
        if (s->dirty_y1 <= s->dirty_y0)
            return 0;
        if (r->mode != VIEWER_MODE_KITTY) { /* kitty: one picture, replaced whole */
            r0 = (int)((unsigned long long)s->dirty_y0 * (unsigned)ih / s->height);
            r1 =
                (int)(((unsigned long long)s->dirty_y1 * (unsigned)ih + s->height - 1) / s->height);
        }
    }
    if (r1 > ih)
        r1 = ih;
    if (r->all && pixels) {
        for (int i = 0; i < r->rows; i++) {
            struct vbuf line = {0};
            pad(&line, r->cols);
            r->row_len[i] = (size_t)-1; /* never equal: the row is under a picture */
            vbuf_printf(out, "\033[%d;%dH\033[0m", r->y + i + 1, r->x + 1);
            vbuf_add(out, line.p, line.len);
            vbuf_free(&line);
        }
    }
    if (r1 > r0) {
        unsigned sy0 = (unsigned)((unsigned long long)r0 * s->height / (unsigned)ih);
        unsigned sy1 = (unsigned)((unsigned long long)r1 * s->height / (unsigned)ih);
        if (sy1 > sy0) {
            ChafaCanvas *c = band_canvas(r, s, iw, r1 - r0, sy0, sy1);
            GString *g = chafa_canvas_print(c, r->term);
            if (pixels) {
                if (r->mode == VIEWER_MODE_KITTY && !r->all)
                    vbuf_add(out, "\033_Ga=d,d=A,q=2\033\\", 16);
                vbuf_printf(out, "\033[%d;%dH", r->y + r0 + 1, r->x + 1);
                vbuf_add(out, g->str, g->len);
                written = r1 - r0;
            } else {
                written = put_symbol_rows(r, g, r0, r1, iw, out);
            }
            g_string_free(g, TRUE);
            chafa_canvas_unref(c);
        }
    }
    if (r->all && !pixels) {
        for (int i = ih; i < r->rows; i++) {
            struct vbuf line = {0};
            vbuf_add(&line, "\033[0m", 4);
            pad(&line, r->cols);
            written += put_row(r, i, &line, out);
        }
    }
    return written;
}

int render_frame(struct render *r, const struct viewer_screen *s, struct vbuf *out)
{
    if (r->rows <= 0 || r->cols <= 0)
        return 0;
    if (s->text != r->was_text || s->width != r->was_w || s->height != r->was_h)
        r->all = true;
    if (r->all && r->mode == VIEWER_MODE_KITTY)
        vbuf_add(out, "\033_Ga=d,d=A,q=2\033\\", 16); /* the pictures drawn before */
    size_t start = out->len;
    vbuf_add(out, "\0337", 2); /* DECSC: the caller's cursor and attributes */
    int written = 0;
    if (s->text && s->cells)
        written = render_text(r, s->cells, out);
    else if (s->pixels && s->width && s->height)
        written = render_picture(r, s, out);
    if (out->len == start + 2)
        out->len = start; /* nothing changed: write nothing */
    else
        vbuf_add(out, "\033[0m\0338", 6);
    r->was_text = s->text;
    r->was_w = s->width;
    r->was_h = s->height;
    r->all = false;
    return written;
}
