/* How far long work got: the caller's hook (the TUI's status line), else
 * a bar on stderr when it is a terminal, as virsh draws one for
 * vol-upload. Nothing at all when stderr is a file or a pipe, so scripts
 * and logs see only the result. */
#include "core/cmd/cmd.h"
#include "core/cmd/cmd-util.h"
#include "core/base/host.h"

#include <stdio.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define BAR_EVERY_MS 100 /* a terminal need not be written more often */

static _Thread_local bool bar_shown;
static _Thread_local int64_t bar_last_ms;

static void draw_bar(const char *what, uint64_t done, uint64_t total)
{
    int64_t now = host_now_ms();
    if (bar_shown && done < total && now - bar_last_ms < BAR_EVERY_MS)
        return;
    bar_last_ms = now;
    unsigned pct = total ? (unsigned)(done * 100 / total) : 100;
    int fill = (int)(pct * BAR_WIDTH / 100);
    char bar[BAR_WIDTH + 1], d[32], t[32];
    for (int i = 0; i < BAR_WIDTH; i++)
        bar[i] = i < fill ? '#' : ' ';
    bar[BAR_WIDTH] = '\0';
    fprintf(stderr, "\r%s [%s] %3u%% %s of %s\033[K", what, bar, pct,
            cmd_format_size(done, d, sizeof(d)), cmd_format_size(total, t, sizeof(t)));
    fflush(stderr);
    bar_shown = true;
}

void cmd_progress(struct cmd_ctx *ctx, const char *what, uint64_t done, uint64_t total)
{
    if (ctx->progress) {
        ctx->progress(ctx->progress_opaque, what, done, total);
        return;
    }
    if (!ctx->in_tui && isatty(STDERR_FILENO))
        draw_bar(what, done, total);
}

void cmd_progress_end(struct cmd_ctx *ctx)
{
    if (ctx->progress) {
        ctx->progress(ctx->progress_opaque, NULL, 0, 0);
        return;
    }
    if (bar_shown)
        fputc('\n', stderr);
    bar_shown = false;
}
