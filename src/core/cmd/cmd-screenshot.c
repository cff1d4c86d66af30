/* screenshot DOMAIN [FILE]: what a running guest's screen shows, saved as
 * PNG (FILE ends in .png) or PPM (anything else), as virsh's verb. The
 * VMM dumps a PPM into its run directory (QMP screendump: the sandbox
 * writes nowhere else); tvm moves it to FILE, converting it on the way. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "core/base/err.h"
#include "core/cmd/cmd-util.h"
#include "core/cmd/cmd.h"
#include "core/virt/vm.h"
#include "store/store.h"

#define MAX_DIM 8192

static void be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static int chunk(FILE *f, const char *type, const uint8_t *data, uint32_t len)
{
    uint8_t h[8];
    be32(h, len);
    memcpy(h + 4, type, 4);
    uLong crc = crc32(0, h + 4, 4);
    if (len)
        crc = crc32(crc, data, len);
    uint8_t c[4];
    be32(c, (uint32_t)crc);
    return fwrite(h, 8, 1, f) == 1 && (!len || fwrite(data, len, 1, f) == 1) &&
                   fwrite(c, 4, 1, f) == 1
               ? 0
               : -1;
}

/* RGB rows (W*H*3) as an 8-bit truecolour PNG, every row filter 0. */
static int write_png(FILE *f, const uint8_t *rgb, unsigned w, unsigned h)
{
    size_t raw_len = (size_t)h * (1 + (size_t)w * 3);
    uint8_t *raw = malloc(raw_len);
    uLongf z_len = compressBound(raw_len);
    uint8_t *z = malloc(z_len);
    int rc = -1;
    if (raw && z) {
        for (unsigned y = 0; y < h; y++) {
            raw[(size_t)y * (1 + w * 3)] = 0;
            memcpy(raw + (size_t)y * (1 + w * 3) + 1, rgb + (size_t)y * w * 3, (size_t)w * 3);
        }
        if (compress2(z, &z_len, raw, raw_len, 6) == Z_OK) {
            uint8_t ihdr[13] = {0};
            be32(ihdr, w);
            be32(ihdr + 4, h);
            ihdr[8] = 8; /* bits per sample */
            ihdr[9] = 2; /* RGB */
            rc = fwrite("\x89PNG\r\n\x1a\n", 8, 1, f) == 1 && chunk(f, "IHDR", ihdr, 13) == 0 &&
                         chunk(f, "IDAT", z, (uint32_t)z_len) == 0 && chunk(f, "IEND", NULL, 0) == 0
                     ? 0
                     : -1;
        }
    }
    free(raw);
    free(z);
    return rc;
}

/* Reads the VMM's P6 dump: header "P6\nW H\n255\n", then W*H RGB. */
static uint8_t *read_ppm(const char *path, unsigned *w, unsigned *h)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_errno("%s", path);
        return NULL;
    }
    uint8_t *px = NULL;
    int max;
    if (fscanf(f, "P6 %u %u %d", w, h, &max) != 3 || max != 255 || fgetc(f) != '\n' || !*w ||
        !*h || *w > MAX_DIM || *h > MAX_DIM) {
        err_set("%s: not the dump expected", path);
    } else if (!(px = malloc((size_t)*w * *h * 3))) {
        err_set("out of memory");
    } else if (fread(px, 3, (size_t)*w * *h, f) != (size_t)*w * *h) {
        err_set("%s: short dump", path);
        free(px);
        px = NULL;
    }
    fclose(f);
    return px;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcasecmp(s + n - m, suffix);
}

static enum cmd_result screenshot_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    struct store_domain_row row;
    if (cmd_domain_load(ctx, args->argv[0], &row, NULL) < 0)
        return CMD_ERROR;
    if (!cmd_domain_is_active(&row)) {
        err_set(VM_ERR_NOT_RUNNING);
        return CMD_ERROR;
    }
    char file[4096];
    if (args->argc > 1) {
        snprintf(file, sizeof file, "%s", args->argv[1]);
    } else {
        /* virsh's default name: DOMAIN-YYYY-MM-DD-HH:MM:SS */
        time_t now = time(NULL);
        char stamp[32];
        strftime(stamp, sizeof stamp, "%Y-%m-%d-%H:%M:%S", localtime(&now));
        snprintf(file, sizeof file, "%s-%s.ppm", row.name, stamp);
    }
    char name[64], dump[4096], qargs[128];
    snprintf(name, sizeof name, "screendump-%d.ppm", (int)getpid());
    snprintf(qargs, sizeof qargs, "{\"filename\": \"%s\"}", name);
    if (vm_run_path(row.uuid, name, dump, sizeof dump) < 0 ||
        vm_qmp(&row, VM_QMP_TIMEOUT_MS, "screendump", qargs, NULL) < 0)
        return CMD_ERROR;
    unsigned w, h;
    uint8_t *px = read_ppm(dump, &w, &h);
    unlink(dump);
    if (!px)
        return CMD_ERROR;
    bool png = ends_with(file, ".png");
    FILE *f = fopen(file, "wb");
    int rc = -1;
    if (!f) {
        err_errno("%s", file);
    } else {
        if (png)
            rc = write_png(f, px, w, h);
        else
            rc = fprintf(f, "P6\n%u %u\n255\n", w, h) > 0 && fwrite(px, 3, (size_t)w * h, f) ==
                                                                   (size_t)w * h
                     ? 0
                     : -1;
        if (fclose(f) != 0)
            rc = -1;
        if (rc < 0)
            err_errno("%s", file);
    }
    free(px);
    if (rc < 0)
        return CMD_ERROR;
    fprintf(ctx->out, "Screenshot saved to %s, with type of %s\n\n", file,
            png ? "image/png" : "image/x-portable-pixmap");
    return CMD_OK;
}

const struct cmd_entry cmd_screenshot_entry = {
    .name = "screenshot",
    .usage = "screenshot DOMAIN [FILE]",
    .summary = "save a running domain's screen as PNG (FILE.png) or PPM",
    .opts = "screen=",
    .min_args = 1,
    .max_args = 2,
    .exec = screenshot_exec,
};
