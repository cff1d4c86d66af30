/* events [--domain NAME] [--limit N]: the event log, oldest first. */
#include "core/cmd/cmd-util.h"
#include "core/base/err.h"
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

static int events_parse_limit(const char *s, size_t *limit)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return err_set("events: --limit wants a number, not '%s'", s);
    *limit = (size_t)v;
    return 0;
}

static void events_print(FILE *out, const struct store_event_row *e)
{
    char when[96] = "";
    time_t secs = (time_t)(e->time_ms / 1000);
    struct tm tm;
    if (localtime_r(&secs, &tm)) {
        char base[48];
        strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
        char zone[16];
        strftime(zone, sizeof(zone), "%z", &tm);
        snprintf(when, sizeof(when), "%s.%03d%s", base, (int)(e->time_ms % 1000), zone);
    }
    fprintf(out, "%s: %s '%s': %s%s%s\n", when, e->object_kind, e->object_name, e->event,
            e->detail[0] ? " " : "", e->detail);
}

static enum cmd_result events_exec(struct cmd_ctx *ctx, struct cmd_args *args)
{
    size_t limit = 0;
    if (cmd_get(args, "limit") && events_parse_limit(cmd_get(args, "limit"), &limit) < 0)
        return CMD_USAGE;
    struct store *st = cmd_store(ctx);
    struct store_event_row *rows;
    size_t n;
    if (!st || store_event_list(st, cmd_get(args, "domain"), limit, &rows, &n) < 0)
        return CMD_ERROR;
    for (size_t i = 0; i < n; i++)
        events_print(ctx->out, &rows[i]);
    free(rows);
    return CMD_OK;
}

const struct cmd_entry cmd_events_entry = {
    .name = "events",
    .usage = "events [--domain NAME] [--limit N]",
    .summary = "show the event log (defines, starts, stops, crashes ...)",
    .opts = "domain=,limit=",
    .min_args = 0,
    .max_args = 0,
    .exec = events_exec,
};
