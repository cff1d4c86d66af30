/* vncviewer DOMAIN [--mode MODE] (also console DOMAIN --graphics): the
 * guest's screen on this terminal, drawn by src/viewer — text mode as
 * text, a framebuffer as kitty graphics, sixel or Unicode symbols,
 * whichever the terminal draws best. Keys go to the guest; Ctrl-] leaves;
 * Ctrl-G is the menu of Ctrl-Alt-Del and Ctrl-Alt-F1..F12; a paste is
 * typed into the guest. */
#include "core/base/err.h"
#include "core/cmd/cmd-util.h"
#include "core/cmd/cmd.h"
#include "store/store.h"
#include "viewer/viewer.h"

#include <stdio.h>
#include <unistd.h>

enum cmd_result cmd_graphics_view(struct cmd_ctx *ctx, const char *name, const char *mode_name)
{
    if (ctx->in_tui) {
        err_set("the graphical console takes over the terminal; use the TUI's graphical console "
                "(g, or G for full screen)");
        return CMD_ERROR;
    }
    int mode = mode_name ? viewer_mode_parse(mode_name) : VIEWER_MODE_AUTO;
    if (mode < 0) {
        err_set("--mode: '%s' is not one of auto, 256, truecolor, sixel, kitty", mode_name);
        return CMD_USAGE;
    }
    struct store_domain_row row;
    if (cmd_domain_load(ctx, name, &row, NULL) < 0)
        return CMD_ERROR;
    if (!cmd_domain_is_active(&row)) {
        err_set("Domain is not running");
        return CMD_ERROR;
    }
    fflush(ctx->out);
    if (viewer_fullscreen(row.uuid, row.name, (enum viewer_mode)mode, STDIN_FILENO, STDOUT_FILENO) <
        0)
        return CMD_ERROR;
    return CMD_OK;
}

static enum cmd_result vncviewer_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    return cmd_graphics_view(ctx, args->argv[0], cmd_get(args, "mode"));
}

const struct cmd_entry cmd_vncviewer_entry = {
    .name = "vncviewer",
    .usage = "vncviewer DOMAIN [--mode auto|256|truecolor|sixel|kitty]",
    .summary = "show a running guest's screen on this terminal (Ctrl-] leaves, Ctrl-G menu)",
    .opts = "mode=",
    .min_args = 1,
    .max_args = 1,
    .exec = vncviewer_exec,
};
