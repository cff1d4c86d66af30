/* Actions that hand the terminal to something else and take it back:
 * editing the XML (core's $EDITOR loop, exactly as `tvm edit`) and the
 * full-screen console (exactly as `tvm console`). Both run on the UI
 * thread, since the user is at the terminal meanwhile; the screen is
 * suspended (app_suspend_screen gives fds 0/1/2 back) around them. */
#include "tui/app.h"
#include "core/base/err.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Both streams get what the command prints: the terminal, so the user sees
 * virsh's "Try again?" prompt, and a copy for the message line afterwards. */
struct tee {
    FILE *a, *b;
};

static ssize_t tee_write(void *cookie, const char *buf, size_t len)
{
    struct tee *t = cookie;
    fwrite(buf, 1, len, t->a);
    fflush(t->a);
    fwrite(buf, 1, len, t->b);
    return (ssize_t)len;
}

/* The last non-empty line of text, in place. */
static const char *last_line(char *text)
{
    size_t n = text ? strlen(text) : 0;
    while (n && (text[n - 1] == '\n' || text[n - 1] == ' '))
        text[--n] = '\0';
    if (!n)
        return "";
    char *nl = strrchr(text, '\n');
    return nl ? nl + 1 : text;
}

/* Run argv on the real terminal as `tvm VERB` would; the copy of what it
 * printed goes to *printed (malloc'd). */
static enum cmd_result run_on_terminal(struct app *a, int argc, const char **argv, char **printed)
{
    struct cmd_ctx *ctx = a->ctx;
    size_t len = 0;
    FILE *copy = open_memstream(printed, &len);
    struct tee t = {stdout, copy};
    FILE *out = copy ? fopencookie(&t, "w", (cookie_io_functions_t){.write = tee_write}) : NULL;
    FILE *saved_out = ctx->out;
    bool saved_tui = ctx->in_tui, saved_inter = ctx->interactive;
    ctx->out = out ? out : stdout;
    /* The terminal is the command's now (cmd_edit_xml's comment asks for this). */
    ctx->in_tui = false;
    ctx->interactive = true;
    app_suspend_screen(a);
    err_clear();
    enum cmd_result rc = cmd_run_argv(ctx, argc, (char **)argv);
    if (out)
        fclose(out);
    if (copy)
        fclose(copy);
    fflush(stdout);
    app_resume_screen(a);
    ctx->out = saved_out;
    ctx->in_tui = saved_tui;
    ctx->interactive = saved_inter;
    return rc;
}

/* `VERB NAME` on the terminal for the selected domain (its name left in
 * name): -1 when none is selected, 0 when the command failed (both with
 * the message set), 1 when it succeeded. */
static int run_on_selected(struct app *a, const char *verb, char *name, size_t len,
                           char **printed)
{
    struct dom_item *it = domlist_selected(&a->list);
    if (!it) {
        app_message(a, true, "no domain selected");
        return -1;
    }
    snprintf(name, len, "%s", it->name);
    const char *argv[] = {verb, name};
    if (run_on_terminal(a, 2, argv, printed) == CMD_OK)
        return 1;
    app_message(a, true, "%s", err_msg());
    return 0;
}

int act_edit(struct app *a)
{
    char name[256], *printed = NULL;
    int ok = run_on_selected(a, "edit", name, sizeof name, &printed);
    if (ok < 0)
        return R_REDRAW;
    if (ok)
        app_message(a, false, "%s", last_line(printed));
    free(printed);
    details_invalidate(a);
    return R_REDRAW | R_REFRESH;
}

/* The picture is the viewer's: the TUI's own pane, if open, is drawn again after. */
int act_graphics_full(struct app *a)
{
    char name[256], *printed = NULL;
    int ok = run_on_selected(a, "vncviewer", name, sizeof name, &printed);
    if (ok < 0)
        return R_REDRAW;
    if (ok)
        app_message(a, false, "left the graphical console of '%s'", name);
    free(printed);
    a->gv_invalidate = true;
    return R_REDRAW | R_REFRESH;
}

int act_console_full(struct app *a)
{
    char name[256], *printed = NULL;
    int ok = run_on_selected(a, "console", name, sizeof name, &printed);
    if (ok < 0)
        return R_REDRAW;
    if (ok)
        app_message(a, false, "detached from the console of '%s'", name);
    free(printed);
    return R_REDRAW | R_REFRESH;
}
