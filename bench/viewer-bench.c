/* The terminal viewer's drawing cost (src/viewer/render.c), per render
 * mode: CPU time and bytes written per frame for a 1024x768 framebuffer
 * drawn into a COLSxROWS terminal, when the whole screen changes and when
 * one 16-pixel band changes (a line of text scrolling in), and for VGA
 * text mode when one line changes. Side by side with the same renderer
 * forced to redraw everything each frame (what a viewer that does not
 * keep rows writes): the ratio is what only-changed-rows saves.
 *   tvm-viewer-bench [FRAMES [COLS ROWS]]   (bench/viewer.sh runs it) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "viewer/viewer.h"

#define W 1024
#define H 768

static uint8_t pixels[W * H * 4];

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* A picture that differs everywhere from frame to frame: diagonal bands of
 * colour that move, with a few solid areas as a desktop has. */
static void paint(unsigned frame, unsigned y0, unsigned y1)
{
    for (unsigned y = y0; y < y1; y++)
        for (unsigned x = 0; x < W; x++) {
            uint8_t *p = pixels + ((size_t)y * W + x) * 4;
            unsigned t = (x + y + frame * 37) & 255;
            bool solid = (x / 256 + y / 192 + frame) % 3 == 0;
            p[0] = solid ? 40 : (uint8_t)t;
            p[1] = solid ? 90 : (uint8_t)(255 - t);
            p[2] = solid ? 160 : (uint8_t)(x * 255 / W);
            p[3] = 255;
        }
}

struct result {
    double ms, bytes;
};

static struct result run(enum viewer_mode mode, int cols, int rows, int frames, bool band,
                         bool redraw_all)
{
    struct render *r = render_new(mode);
    render_set_cell_pixels(r, 10, 20);
    render_set_area(r, 0, 0, rows, cols);
    struct viewer_screen s = {.width = W, .height = H, .pixels = pixels, .dirty_y1 = H};
    struct vbuf out = {0};
    paint(0, 0, H);
    render_frame(r, &s, &out); /* the first, full frame is not counted */
    double ms = 0, bytes = 0;
    for (int f = 1; f <= frames; f++) {
        unsigned y0 = band ? (unsigned)(f * 16) % H : 0, y1 = band ? y0 + 16 : H;
        paint((unsigned)f, y0, y1);
        s.dirty_y0 = y0;
        s.dirty_y1 = y1;
        if (redraw_all)
            render_invalidate(r);
        out.len = 0;
        double t0 = cpu_ms();
        render_frame(r, &s, &out);
        ms += cpu_ms() - t0;
        bytes += (double)out.len;
    }
    vbuf_free(&out);
    render_free(r);
    return (struct result){ms / frames, bytes / frames};
}

static struct result run_text(int cols, int rows, int frames, bool redraw_all)
{
    static struct viewer_text t;
    memset(t.chars, ' ', sizeof t.chars);
    memset(t.fg, 7, sizeof t.fg);
    memset(t.bg, 0, sizeof t.bg);
    struct viewer_screen s = {.text = true, .width = 640, .height = 400, .cells = &t};
    struct render *r = render_new(VIEWER_MODE_256);
    render_set_area(r, 0, 0, rows, cols);
    struct vbuf out = {0};
    render_frame(r, &s, &out);
    double ms = 0, bytes = 0;
    for (int f = 1; f <= frames; f++) {
        t.cursor = (f % VIEWER_TEXT_ROWS) * VIEWER_TEXT_COLS;
        snprintf(t.chars[f % VIEWER_TEXT_ROWS], VIEWER_TEXT_COLS,
                 "line %d of a log being written %*s", f, 40, "");
        if (redraw_all)
            render_invalidate(r);
        out.len = 0;
        double t0 = cpu_ms();
        render_frame(r, &s, &out);
        ms += cpu_ms() - t0;
        bytes += (double)out.len;
    }
    vbuf_free(&out);
    render_free(r);
    return (struct result){ms / frames, bytes / frames};
}

int main(int argc, char **argv)
{
    int frames = argc > 1 ? atoi(argv[1]) : 20;
    int cols = argc > 3 ? atoi(argv[2]) : 200, rows = argc > 3 ? atoi(argv[3]) : 60;
    if (frames < 1 || cols < 1 || rows < 1) {
        fprintf(stderr, "usage: tvm-viewer-bench [FRAMES [COLS ROWS]]\n");
        return 2;
    }
    printf("viewer bench: %dx%d framebuffer in a %dx%d-cell terminal (10x20-pixel cells), %d "
           "frames each\n",
           W, H, cols, rows, frames);
    printf("%-10s %-16s %10s %12s %14s %12s\n", "mode", "change", "ms/frame", "bytes/frame",
           "all-rows bytes", "ratio");
    static const enum viewer_mode modes[] = {VIEWER_MODE_TRUECOLOR, VIEWER_MODE_256,
                                             VIEWER_MODE_SIXEL, VIEWER_MODE_KITTY};
    for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++)
        for (int band = 0; band < 2; band++) {
            struct result kept = run(modes[m], cols, rows, frames, band, false);
            struct result all = run(modes[m], cols, rows, frames, band, true);
            printf("%-10s %-16s %10.2f %12.0f %14.0f %11.2fx\n", viewer_mode_name(modes[m]),
                   band ? "16-pixel band" : "whole screen", kept.ms, kept.bytes, all.bytes,
                   kept.bytes > 0 ? all.bytes / kept.bytes : 0.0);
        }
    struct result tk = run_text(cols, rows, frames, false), ta = run_text(cols, rows, frames, true);
    printf("%-10s %-16s %10.3f %12.0f %14.0f %11.2fx\n", "text", "one line", tk.ms, tk.bytes,
           ta.bytes, tk.bytes > 0 ? ta.bytes / tk.bytes : 0.0);
    printf("(ratio: bytes a redraw of every row writes / bytes written; raw pixels are %d bytes a "
           "frame)\n",
           W * H * 4);
    return 0;
}
