/* Parts of tvm img that live in files of their own. Not a public API. */
#ifndef TVM_CORE_CMD_CMD_IMG_H
#define TVM_CORE_CMD_CMD_IMG_H

#include <stdbool.h>
#include <stdio.h>

/* img compare (cmd-img-compare.c): qemu-img compare's report on OUT;
 * *SAME says whether the images read the same. FMT_A/FMT_B NULL: probed
 * (the images are named by the user, not backing files). -1 with a
 * message when an image cannot be read. */
int cmd_img_compare(FILE *out, const char *fmt_a, const char *fmt_b, const char *path_a,
                    const char *path_b, bool strict, bool *same);

#endif
