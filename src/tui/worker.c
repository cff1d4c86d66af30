/* Worker threads for the TUI (see worker.h). */
#include "tui/worker.h"
#include "core/base/err.h"
#include "core/cmd/inventory.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int done_list_init(struct done_list *d)
{
    memset(d, 0, sizeof(*d));
    if (pipe2(d->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
        return err_errno("cannot make a pipe for the TUI's workers");
    pthread_mutex_init(&d->mu, NULL);
    return 0;
}

void done_list_free(struct done_list *d)
{
    close(d->pipe[0]);
    close(d->pipe[1]);
    pthread_mutex_destroy(&d->mu);
}

static void done_push(struct done_list *d, struct job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&d->mu);
    if (d->tail)
        d->tail->next = j;
    else
        d->head = j;
    d->tail = j;
    pthread_mutex_unlock(&d->mu);
    /* A full pipe already wakes the loop: a lost byte loses nothing. */
    ssize_t n = write(d->pipe[1], "", 1);
    (void)n;
}

struct job *worker_take_done(struct done_list *d)
{
    char buf[64];
    while (read(d->pipe[0], buf, sizeof(buf)) > 0)
        ;
    pthread_mutex_lock(&d->mu);
    struct job *j = d->head;
    d->head = d->tail = NULL;
    pthread_mutex_unlock(&d->mu);
    return j;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->cv, &w->mu);
        if (w->stop)
            break;
        struct job *j = w->head;
        w->head = j->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->mu);
        err_clear();
        j->run(&w->ctx, j);
        done_push(w->done, j);
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    inventory_ctx_close(&w->ctx);
    return NULL;
}

int worker_start(struct worker *w, const char *db_path, struct done_list *done)
{
    memset(w, 0, sizeof(*w));
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->done = done;
    /* Commands here never prompt or take the terminal; they read an empty
     * stdin (the TUI points fd 0 at /dev/null while it owns the screen). */
    w->ctx = (struct cmd_ctx){.db_path = db_path, .out = stdout, .in_tui = true};
    /* SIGINT/SIGTERM/SIGWINCH must reach the UI thread, whose poll() they
     * interrupt; so the worker starts with every signal blocked. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&w->thread, NULL, worker_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        errno = rc;
        return err_errno("cannot start a worker thread");
    }
    w->started = true;
    return 0;
}

void worker_submit(struct worker *w, struct job *j)
{
    j->next = NULL;
    pthread_mutex_lock(&w->mu);
    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void worker_stop(struct worker *w)
{
    if (!w->started)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = true;
    struct job *queued = w->head;
    w->head = w->tail = NULL;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    while (queued) {
        struct job *next = queued->next;
        done_push(w->done, queued);
        queued = next;
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    w->started = false;
}
