/* Helpers shared by the inventory verbs (cmd-*.c): reading XML input,
 * virsh-style tables and sizes, and looking objects up. Not a public API. */
#ifndef TVM_CORE_CMD_UTIL_H
#define TVM_CORE_CMD_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/cmd/cmd.h"

struct domain;
struct store_domain_row;
struct store_object_row;

/* Whole file (or stdin for "-") into a NUL-terminated buffer. */
int cmd_read_input(struct cmd_ctx *ctx, const char *path, char **buf, size_t *len);
/* The name parsers put in error messages: the path, or "<stdin>". */
const char *cmd_input_origin(const char *path);

/* A virsh table: header row, a dashed rule, rows, one blank line after.
 * Cells are copied; columns are as wide as their widest cell. */
struct cmd_tbl;
struct cmd_tbl *cmd_tbl_new(int ncols, ...);
void cmd_tbl_add(struct cmd_tbl *t, ...); /* ncols strings */
void cmd_tbl_print(struct cmd_tbl *t, FILE *out);
void cmd_tbl_free(struct cmd_tbl *t);

/* An XML document followed by one blank line, as virsh's *dumpxml print it. */
void cmd_print_xml(FILE *out, const char *xml);
/* As cmd_print_xml(), or with virsh's `--xpath EXPR [--wrap]` (options
 * "xpath=,wrap" in the entry's spec) only the nodes selected. -1 with
 * err_msg() for an expression that selects no nodes. */
int cmd_print_xml_selected(FILE *out, const struct cmd_args *args, const char *xml);

/* "100.00 GiB", "0.00 B": virsh's vshPrettyCapacity. buf >= 32 bytes. */
const char *cmd_format_size(uint64_t bytes, char *buf, size_t len);

/* Loads the domain (name or uuid) as a row and, if d is not NULL, parsed. */
int cmd_domain_load(struct cmd_ctx *ctx, const char *name, struct store_domain_row *row,
                    struct domain **d);
/* The definition virsh's views show (dumpxml, domiflist, domblklist): a
 * running domain's live XML (vm_live_view: run id, taps) unless inactive
 * (--inactive) is set, else the stored one. row may be NULL. */
int cmd_domain_load_view(struct cmd_ctx *ctx, const char *name, bool inactive,
                         struct store_domain_row *row, struct domain **d);
/* Brings the store's states in line with the running VMMs (vm_reconcile)
 * before they are shown; a failure is a warning on stderr, not an error,
 * so one broken run directory does not hide the inventory. */
void cmd_reconcile(struct cmd_ctx *ctx);
/* The guest's screen on this terminal (src/viewer): vncviewer and
 * console --graphics. MODE_NAME NULL: ask the terminal. */
enum cmd_result cmd_graphics_view(struct cmd_ctx *ctx, const char *name, const char *mode_name);
/* True while the domain is running, paused or otherwise active. */
/* Whether net-list / pool-list show R under ARGS' state, autostart and
 * persistence filters, as virsh combines them. */
bool cmd_object_wanted(const struct cmd_args *args, const struct store_object_row *r);
bool cmd_domain_is_active(const struct store_domain_row *row);
/* virsh's --live/--config/--current: neither flag affects the running
 * guest if there is one, else the stored definition; --live on a domain
 * that is not running is an error. */
int cmd_affect_resolve(const struct store_domain_row *row, bool *live, bool *config);

/* The $EDITOR loop behind edit, net-edit, ... (src/core/edit.c).
 * Writes `xml` to a temporary file, runs $VISUAL or $EDITOR (default vi)
 * on it and hands the result to apply(). Unchanged text: prints
 * "WHAT XML configuration not changed." and sets *changed = false. apply()
 * failing: prints the error and, when ctx->interactive, asks
 * "Failed. Try again? [y,n,i,f,?]:" as virsh does; otherwise returns -1
 * with the error. Refuses inside the TUI (the terminal is curses'): a TUI
 * that gives the terminal back (endwin) may clear ctx->in_tui around it. */
typedef int (*cmd_edit_apply_fn)(struct cmd_ctx *ctx, const char *xml, size_t len,
                                 const char *origin, void *opaque);
int cmd_edit_xml(struct cmd_ctx *ctx, const char *xml, const char *what, cmd_edit_apply_fn apply,
                 void *opaque, bool *changed);


#endif
