/* Temporary entry point until the TUI lands. */
#include "tui/tui.h"
#include "core/err.h"

int tui_main(struct cmd_ctx *ctx, const char *theme_name)
{
    (void)ctx;
    (void)theme_name;
    err_set("the TUI is not built yet; try 'tvm help'");
    return 1;
}
