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
#include <unistd.h>

#define FULL_RELOAD_MS 10000
#define SLOW_RECONCILE_MS 100
#define SLOW_RECONCILE_EVERY_MS 5000

/* A command line, or a few run in order that stop at the first failure
 * (a new pool is defined, built and started). */
#define JOB_MAX_STEPS 4

struct cmd_job {
    struct job job; /* first: the worker hands back this pointer */
    int nsteps;
    int argc[JOB_MAX_STEPS];
    char **argv[JOB_MAX_STEPS];
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
    /* the storage pane's rows, asked for while it shows */
    bool storage;
    int storage_listed; /* -1 failed (storage_err), 1 rows */
    struct inv_pool *pools;
    size_t npools;
    struct inv_volume *vols;
    size_t nvols;
    char storage_err[ERR_MSG_MAX];
};

/* ---- on the command worker ---- */

static void run_command(struct cmd_ctx *ctx, struct job *job)
{
    struct cmd_job *j = (struct cmd_job *)job;
    size_t len = 0;
    FILE *mem = open_memstream(&j->output, &len);
    FILE *saved = ctx->out;
    ctx->out = mem ? mem : saved;
    j->rc = CMD_OK;
    for (int i = 0; i < j->nsteps && j->rc == CMD_OK; i++)
        j->rc = cmd_run_argv(ctx, j->argc[i], j->argv[i]);
    snprintf(j->err, sizeof(j->err), "%s", j->rc == CMD_OK ? "" : err_msg());
    ctx->out = saved;
    if (mem)
        fclose(mem);
}

/* The command worker's progress hook (cmd_progress): figures for the
 * status line, and a wake-up of the UI when the percentage moved. */
static void on_progress(void *opaque, const char *what, uint64_t done, uint64_t total)
{
    struct app *a = opaque;
    struct job_progress *p = &a->progress;
    unsigned pct = total ? (unsigned)(done >= total ? 100 : done * 100 / total) : 0;
    pthread_mutex_lock(&p->mu);
    bool wake = !what || !p->active || pct != p->pct;
    p->active = what != NULL;
    snprintf(p->what, sizeof(p->what), "%s", what ? what : "");
    p->done = done;
    p->total = total;
    p->pct = pct;
    p->changed |= wake;
    pthread_mutex_unlock(&p->mu);
    if (wake) {
        /* A full pipe already wakes the loop. */
        ssize_t n = write(a->done.pipe[1], "", 1);
        (void)n;
    }
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

static void list_storage(struct cmd_ctx *ctx, struct refresh_job *j)
{
    if (inventory_pools(ctx, &j->pools, &j->npools) < 0 ||
        inventory_volumes(ctx, &j->vols, &j->nvols) < 0) {
        j->storage_listed = -1;
        snprintf(j->storage_err, sizeof(j->storage_err), "%s", err_msg());
        err_clear();
        return;
    }
    j->storage_listed = 1;
}

static void run_refresh(struct cmd_ctx *ctx, struct job *job)
{
    struct refresh_job *j = (struct refresh_job *)job;
    if (j->storage)
        list_storage(ctx, j);
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
    pthread_mutex_init(&a->progress.mu, NULL);
    if (worker_start(&a->cmd_worker, a->ctx->db_path, &a->done) < 0 ||
        worker_start(&a->refresh_worker, a->ctx->db_path, &a->done) < 0) {
        worker_stop(&a->cmd_worker);
        return -1;
    }
    /* Read by the worker only inside a job, which worker_submit's lock orders after this. */
    a->cmd_worker.ctx.progress = on_progress;
    a->cmd_worker.ctx.progress_opaque = a;
    return 0;
}

static bool is_cmd_job(const struct job *j)
{
    return j->run == run_command;
}

static void cmd_job_free(struct cmd_job *c)
{
    for (int i = 0; i < c->nsteps; i++)
        cmd_free_words(c->argc[i], c->argv[i]);
    free(c->output);
    free(c);
}

static void refresh_job_free(struct refresh_job *r)
{
    free(r->rows);
    free(r->pools);
    free(r->vols);
    free(r);
}

/* A job back from a worker: its run function says which kind it is. */
static void job_free(struct job *j)
{
    if (is_cmd_job(j))
        cmd_job_free((struct cmd_job *)j);
    else
        refresh_job_free((struct refresh_job *)j);
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
    pthread_mutex_destroy(&a->progress.mu);
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
    j->storage = a->view == VIEW_STORAGE;
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
        {"clone", "cloning"},
    };
    const char *ing = NULL;
    for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
        if (!strcmp(argv[0], verbs[i][0]))
            ing = verbs[i][1];
    const char *dots = a->utf8 ? "\u2026" : "...";
    /* clone names its domain with --original */
    const char *what = argc >= 3 && !strcmp(argv[1], "--original") ? argv[2]
                       : argc >= 2                                 ? argv[1]
                                                                   : NULL;
    if (ing && what)
        snprintf(buf, len, "%s %s%s", ing, what, dots);
    else
        snprintf(buf, len, "running '%s'%s", argv[0], dots);
}

static bool verb_available(const char *verb)
{
    const struct cmd_entry *e = cmd_find(verb);
    err_clear();
    return e && !strcmp(e->name, verb);
}

/* The verb exists here, or the message says why not. */
static bool verb_runnable(struct app *a, const char *verb)
{
    const struct cmd_entry *e = cmd_find(verb);
    if (!e) {
        app_message(a, true, "%s", err_msg());
        return false;
    }
    if (!verb_available(e->name)) {
        app_message(a, true, "'%s' is not available yet", verb);
        return false;
    }
    return true;
}

static char **copy_words(int argc, const char *const *argv)
{
    char **copy = calloc((size_t)argc + 1, sizeof(*copy));
    for (int i = 0; copy && i < argc; i++)
        if (!(copy[i] = strdup(argv[i]))) {
            cmd_free_words(i, copy);
            return NULL;
        }
    return copy;
}

int actions_run_steps(struct app *a, const char *label, bool show_output, const char *const *words)
{
    struct cmd_job *j = calloc(1, sizeof(*j));
    if (!j) {
        app_message(a, true, "out of memory");
        return R_REDRAW;
    }
    for (const char *const *w = words; *w; j->nsteps++) {
        int argc = 0;
        while (w[argc])
            argc++;
        char **copy =
            j->nsteps < JOB_MAX_STEPS && verb_runnable(a, w[0]) ? copy_words(argc, w) : NULL;
        if (!copy) {
            if (j->nsteps >= JOB_MAX_STEPS || !a->message[0])
                app_message(a, true, "cannot queue '%s'", w[0]);
            /* not job_free(): its run function is not set yet */
            cmd_job_free(j);
            return R_REDRAW;
        }
        j->argc[j->nsteps] = argc;
        j->argv[j->nsteps] = copy;
        w += argc + 1;
    }
    if (!j->nsteps) {
        free(j);
        return R_REDRAW;
    }
    j->job.run = run_command;
    j->show_output = show_output;
    if (a->nbusy < APP_BUSY_MAX) {
        if (label)
            snprintf(a->busy[a->nbusy], sizeof(a->busy[0]), "%s%s", label,
                     a->utf8 ? "\u2026" : "...");
        else
            busy_label(a, j->argc[0], (const char **)j->argv[0], a->busy[a->nbusy],
                       sizeof(a->busy[0]));
    }
    a->nbusy++;
    worker_submit(&a->cmd_worker, &j->job);
    return R_REDRAW;
}

int actions_run(struct app *a, bool show_output, int argc, const char **argv)
{
    enum { MAX_WORDS = 64 };
    const char *words[MAX_WORDS + 2];
    if (argc > MAX_WORDS) {
        app_message(a, true, "too many words");
        return R_REDRAW;
    }
    for (int i = 0; i < argc; i++)
        words[i] = argv[i];
    words[argc] = NULL;
    words[argc + 1] = NULL;
    return actions_run_steps(a, NULL, show_output, words);
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
        pager_later(a, j->argv[0][0], out);
    free(out);
    jobs_submit_refresh(a, true);
}

static void storage_done(struct app *a, struct refresh_job *j)
{
    if (j->storage_listed < 0) {
        app_message(a, true, "cannot list the storage pools: %s", j->storage_err);
        return;
    }
    storage_apply(&a->storage, j->pools, j->npools, j->vols, j->nvols);
    j->pools = NULL;
    j->vols = NULL;
    if (a->view == VIEW_STORAGE)
        a->redraw = true;
}

static void refresh_done(struct app *a, struct refresh_job *j)
{
    a->refresh_inflight = false;
    if (j->storage)
        storage_done(a, j);
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
    pthread_mutex_lock(&a->progress.mu);
    if (a->progress.changed)
        a->redraw = true;
    a->progress.changed = false;
    pthread_mutex_unlock(&a->progress.mu);
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
