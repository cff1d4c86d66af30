/* jpeg-probe FILE [X Y]...: a lab helper for t-vnc.sh. Prints the JPEG's
 * "WIDTH HEIGHT", then "R G B" for each X Y (vncsnapshot writes JPEG and
 * the lab has no image tools). Any image type libjpeg reads. */
#include <stdio.h>
#include <stdlib.h>

#include <jpeglib.h>

int main(int argc, char **argv)
{
    if (argc < 2 || argc % 2) {
        fprintf(stderr, "usage: jpeg-probe FILE [X Y]...\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    struct jpeg_decompress_struct c;
    struct jpeg_error_mgr e;
    c.err = jpeg_std_error(&e);
    jpeg_create_decompress(&c);
    jpeg_stdio_src(&c, f);
    jpeg_read_header(&c, TRUE);
    c.out_color_space = JCS_RGB;
    jpeg_start_decompress(&c);
    unsigned w = c.output_width, h = c.output_height;
    unsigned char *px = malloc((size_t)w * h * 3);
    while (c.output_scanline < h) {
        unsigned char *row = px + (size_t)c.output_scanline * w * 3;
        jpeg_read_scanlines(&c, &row, 1);
    }
    jpeg_finish_decompress(&c);
    fclose(f);
    printf("%u %u\n", w, h);
    for (int i = 2; i + 1 < argc; i += 2) {
        unsigned x = (unsigned)atoi(argv[i]), y = (unsigned)atoi(argv[i + 1]);
        if (x >= w || y >= h) {
            printf("- - -\n");
            continue;
        }
        const unsigned char *p = px + ((size_t)y * w + x) * 3;
        printf("%u %u %u\n", p[0], p[1], p[2]);
    }
    free(px);
    return 0;
}
