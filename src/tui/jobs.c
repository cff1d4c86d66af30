/* The TUI's two kinds of job on the workers (worker.h): a command line run
 * through the command table with its output captured, and a refresh
 * (reconcile every guest, then list the domains if the store changed).
 * Submitting is instant; the result is shown when it comes back through
 * the poll loop (jobs_collect). */
#include "tui/app.h"
#include "core/base/err.h"
#include "core/cmd/inventory.h"

#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define FULL_RELOAD_MS 10000
#define SLOW_RECONCILE_MS 100
#define SLOW_RECONCILE_EVERY_MS 5000

struct cmd_job {
    struct job job; /* first: the worker hands back this pointer */
    int argc;
    char **argv;
    bool show_output;
    enum cmd_result rc;
    char *output;
    char err[ERR_MSG_MAX];
};

struct refresh_job {
    struct job job;
    bool force;
    int listed; /* -1 failed (err), 0 store unchanged, 1 rows */
    struct inv_domain *rows;
    size_t n;
    char err[ERR_MSG_MAX];
};

/* ---- on the command worker ---- */

static void run_command(struct cmd_ctx *ctx, struct job *job)
{
    struct cmd_job *j = (struct cmd_job *)job;
    size_t len = 0;
    FILE *mem = open_memstream(&j->output, &len);
    FILE *saved = ctx->out;
    ctx->out = mem ? mem : saved;
    j->rc = cmd_run_argv(ctx, j->argc, j->argv);
    snprintf(j->err, sizeof(j->err), "%s", j->rc == CMD_OK ? "" : err_msg());
    ctx->out = saved;
    if (mem)
        fclose(mem);
}

/* ---- on the refresh worker (its state is its thread's) ---- */

static _Thread_local char last_stamp[128];
static _Thread_local int64_t last_list_ms, next_reconcile_ms;

/* Sizes and mtimes of the database and its WAL: every commit by any
 * process changes one of them, so an unchanged stamp means nothing to
 * reload. But a file's mtime moves in clock ticks of a few ms: a commit
 * just after our read can keep the size and the mtime we saw. So a stamp
 * younger than STAMP_SETTLE_MS is not trusted (false: list again next time). */
#define STAMP_SETTLE_MS 200

static bool db_stamp(const char *db, char *buf, size_t len)
{
    struct stat st = {0}, wal = {0};
    char path[4096];
    if (!db) {
        snprintf(buf, len, "unknown");
        return false;
    }
    stat(db, &st);
    snprintf(path, sizeof(path), "%s-wal", db);
    stat(path, &wal);
    snprintf(buf, len, "%lld.%ld.%ld/%lld.%ld.%ld", (long long)st.st_size, (long)st.st_mtim.tv_sec,
             st.st_mtim.tv_nsec, (long long)wal.st_size, (long)wal.st_mtim.tv_sec,
             wal.st_mtim.tv_nsec);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    const struct timespec *m = st.st_mtim.tv_sec > wal.st_mtim.tv_sec ? &st.st_mtim : &wal.st_mtim;
    int64_t age_ms =
        ((int64_t)now.tv_sec - m->tv_sec) * 1000 + (now.tv_nsec - m->tv_nsec) / 1000000;
    return age_ms > STAMP_SETTLE_MS;
}

static void run_refresh(struct cmd_ctx *ctx, struct job *job)
{
    struct refresh_job *j = (struct refresh_job *)job;
    /* Guests started, stopped or crashed elsewhere: make the store right
     * first. When asking every guest gets slow (hung guests), ask less
     * often, so other tvm processes are not held up either. */
    int64_t start = host_now_ms();
    if (j->force || start >= next_reconcile_ms) {
        if (inventory_reconcile(ctx) < 0)
            err_clear();
        int64_t took = host_now_ms() - start;
        next_reconcile_ms = start + (took > SLOW_RECONCILE_MS ? SLOW_RECONCILE_EVERY_MS : 0);
    }
    char stamp[sizeof(last_stamp)];
    bool settled = db_stamp(ctx->db_path, stamp, sizeof(stamp));
    int64_t now = host_now_ms();
    /* At least every few seconds in case a change slipped between two equal stamps. */
    if (!j->force && !strcmp(stamp, last_stamp) && now - last_list_ms < FULL_RELOAD_MS)
        return;
    if (inventory_domains(ctx, &j->rows, &j->n) < 0) {
        j->listed = -1;
        snprintf(j->err, sizeof(j->err), "%s", err_msg());
        return;
    }
    j->listed = 1;
    if (settled)
        memcpy(last_stamp, stamp, sizeof(stamp));
    else
        last_stamp[0] = '\0';
    last_list_ms = now;
}

/* ---- on the UI thread ---- */

int jobs_start(struct app *a)
{
    if (done_list_init(&a->done) < 0)
        return -1;
    if (worker_start(&a->cmd_worker, a->ctx->db_path, &a->done) < 0 ||
        worker_start(&a->refresh_worker, a->ctx->db_path, &a->done) < 0) {
        worker_stop(&a->cmd_worker);
        return -1;
    }
    return 0;
}

static bool is_cmd_job(const struct job *j)
{
    return j->run == run_command;
}

static void job_free(struct job *j)
{
    if (is_cmd_job(j)) {
        struct cmd_job *c = (struct cmd_job *)j;
        cmd_free_words(c->argc, c->argv);
        free(c->output);
        free(c);
    } else {
        free(((struct refresh_job *)j)->rows);
        free(j);
    }
}

void jobs_stop(struct app *a)
{
    worker_stop(&a->refresh_worker);
    worker_stop(&a->cmd_worker);
    for (struct job *j = worker_take_done(&a->done), *next; j; j = next) {
        next = j->next;
        job_free(j);
    }
    free(a->pending_pager);
    a->pending_pager = NULL;
    done_list_free(&a->done);
}

void jobs_submit_refresh(struct app *a, bool force)
{
    if (a->refresh_inflight) {
        a->refresh_again = true;
        a->refresh_again_force |= force;
        return;
    }
    struct refresh_job *j = calloc(1, sizeof(*j));
    if (!j)
        return; /* the next timer tick tries again */
    j->job.run = run_refresh;
    j->force = force;
    a->refresh_inflight = true;
    worker_submit(&a->refresh_worker, &j->job);
}

/* "starting web": what the status line says while the command runs. */
static void busy_label(struct app *a, int argc, const char **argv, char *buf, size_t len)
{
    static const char *const verbs[][2] = {
        {"start", "starting"},  {"shutdown", "shutting down"}, {"reboot", "rebooting"},
        {"reset", "resetting"}, {"destroy", "destroying"},     {"suspend", "suspending"},
        {"resume", "resuming"}, {"undefine", "undefining"},    {"define", "defining from"},
    };
    const char *ing = NULL;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (!strcmp(argv[0], verbs[i][0]))
            ing = verbs[i][1];
    const char *dots = a->utf8 ? "\u2026" : "...";
    if (ing && argc >= 2)
        snprintf(buf, len, "%s %s%s", ing, argv[1], dots);
    else
        snprintf(buf, len, "running '%s'%s", argv[0], dots);
}

static bool verb_available(const char *verb)
{
    const struct cmd_entry *e = cmd_find(verb);
    err_clear();
    return e && !strcmp(e->name, verb);
}

int actions_run(struct app *a, bool show_output, int argc, const char **argv)
{
    const struct cmd_entry *e = cmd_find(argv[0]);
    if (!e) {
        app_message(a, true, "%s", err_msg());
        return R_REDRAW;
    }
    if (!verb_available(e->name)) {
        app_message(a, true, "'%s' is not available yet", argv[0]);
        return R_REDRAW;
    }
    struct cmd_job *j = calloc(1, sizeof(*j));
    char **copy = calloc((size_t)argc + 1, sizeof(*copy));
    if (!j || !copy) {
        free(j);
        free(copy);
        app_message(a, true, "out of memory");
        return R_REDRAW;
    }
    for (int i = 0; i < argc; i++)
        copy[i] = strdup(argv[i]);
    j->job.run = run_command;
    j->argc = argc;
    j->argv = copy;
    j->show_output = show_output;
    if (a->nbusy < APP_BUSY_MAX)
        busy_label(a, argc, argv, a->busy[a->nbusy], sizeof(a->busy[0]));
    a->nbusy++;
    worker_submit(&a->cmd_worker, &j->job);
    return R_REDRAW;
}

static void trim_end(char *s)
{
    size_t n = s ? strlen(s) : 0;
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r'))
        s[--n] = '\0';
}

static void busy_pop(struct app *a)
{
    if (a->nbusy <= 0)
        return;
    int kept = a->nbusy < APP_BUSY_MAX ? a->nbusy : APP_BUSY_MAX;
    memmove(a->busy[0], a->busy[1], (size_t)(kept - 1) * sizeof(a->busy[0]));
    a->nbusy--;
}

static void pager_later(struct app *a, const char *title, const char *text)
{
    free(a->pending_pager);
    a->pending_pager = strdup(text);
    snprintf(a->pending_title, sizeof(a->pending_title), "%s", title);
}

/* The command's output first, then anything written to fds 1/2 meanwhile. */
static void command_done(struct app *a, struct cmd_job *j)
{
    busy_pop(a);
    char *stray = app_take_stray(a);
    char *out = NULL;
    if (asprintf(&out, "%s%s", j->output ? j->output : "", stray ? stray : "") < 0)
        out = NULL;
    free(stray);
    trim_end(out);
    bool multi = out && strchr(out, '\n');
    if (j->rc != CMD_OK)
        app_message(a, true, "%s", j->err[0] ? j->err : (out && *out ? out : "failed"));
    else if (!(multi && j->show_output))
        app_message(a, false, "%s", out && *out ? out : "done");
    if (multi && j->show_output)
        pager_later(a, j->argv[0], out);
    free(out);
    jobs_submit_refresh(a, true);
}

static void refresh_done(struct app *a, struct refresh_job *j)
{
    a->refresh_inflight = false;
    if (j->listed < 0) {
        app_message(a, true, "cannot read the inventory: %s", j->err);
    } else if (j->listed > 0) {
        int changed = domlist_apply(&a->list, j->rows, j->n);
        if (changed < 0)
            app_message(a, true, "cannot read the inventory: %s", err_msg());
        else if (changed > 0) {
            details_invalidate(a);
            a->redraw = true;
        }
    }
    if (a->refresh_again) {
        bool force = a->refresh_again_force;
        a->refresh_again = a->refresh_again_force = false;
        jobs_submit_refresh(a, force);
    }
}

void jobs_collect(struct app *a)
{
    for (struct job *j = worker_take_done(&a->done), *next; j; j = next) {
        next = j->next;
        if (is_cmd_job(j)) {
            command_done(a, (struct cmd_job *)j);
            a->redraw = true; /* also for a result that waits for the pager */
        } else
            refresh_done(a, (struct refresh_job *)j);
        job_free(j);
    }
}

void jobs_show_pending(struct app *a)
{
    if (!a->pending_pager)
        return;
    char *text = a->pending_pager;
    a->pending_pager = NULL;
    widget_pager(a, a->pending_title, text);
    free(text);
}
