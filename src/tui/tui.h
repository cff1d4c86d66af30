/* The full-screen terminal interface: `tvm` with no verb.
 *
 * Every action the TUI offers (keys, F-key menu, the ':' prompt) runs a
 * command from the shared table through cmd_run_argv()/cmd_run_line() with
 * ctx->in_tui set and the command's output captured, so the TUI can do
 * nothing a batch script could not.
 */
#ifndef TVM_TUI_TUI_H
#define TVM_TUI_TUI_H

#include "core/cmd/cmd.h"

/* Run the TUI until the user quits.
 *
 * ctx: db_path is the inventory to show (the store is opened through
 * cmd_store(ctx)); out and interactive are as the caller set them (the TUI
 * swaps in its own capture stream while a command runs and restores it).
 * theme_name: --theme NAME, or NULL to use `theme = NAME` from
 * $XDG_CONFIG_HOME/tvm/tvm.conf, else "default".
 *
 * Returns the process exit code: 0 after a normal quit; 2 when the theme
 * or config file is bad ("FILE:LINE: unknown colour 'x'") or stdin/stdout
 * is not a terminal; 1 on other failures (the store cannot be opened ...).
 * On a non-zero return err_msg() holds the message and the terminal is
 * already restored; the caller prints it as for any verb ("tvm: MSG"). */
int tui_main(struct cmd_ctx *ctx, const char *theme_name);

#endif
