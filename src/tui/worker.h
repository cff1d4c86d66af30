/* Work the TUI must not wait for (starting a guest, reconciling every
 * guest over QMP, any command from a key or the ':' prompt) runs on
 * worker threads. Each worker has its own cmd_ctx, so its own store
 * connection (SQLite connections are not shared between threads here), and
 * runs its jobs one at a time in the order given. Finished jobs go to one
 * done list; a byte on a pipe wakes the UI's poll loop, which takes them
 * with worker_take_done() and shows the result. */
#ifndef TVM_TUI_WORKER_H
#define TVM_TUI_WORKER_H

#include <pthread.h>
#include <stdbool.h>

#include "core/cmd/cmd.h"

struct job;
/* Runs on the worker's thread with the worker's context. */
typedef void (*job_fn)(struct cmd_ctx *ctx, struct job *j);

struct job {
    job_fn run;
    void *data; /* the submitter's; freed by it when the job comes back */
    struct job *next;
};

struct done_list {
    pthread_mutex_t mu;
    struct job *head, *tail;
    int pipe[2]; /* [0] polled by the UI, [1] written when a job is done */
};

struct worker {
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct job *head, *tail;
    bool stop, started;
    struct cmd_ctx ctx;
    struct done_list *done;
};

int done_list_init(struct done_list *d);
void done_list_free(struct done_list *d);
/* Every finished job, oldest first (NULL if none); drains the pipe. */
struct job *worker_take_done(struct done_list *d);

/* A thread with its own context on db_path; signals stay with the UI thread. */
int worker_start(struct worker *w, const char *db_path, struct done_list *done);
void worker_submit(struct worker *w, struct job *j);
/* Finishes the job in hand (a start may take its full timeout), drops the
 * queued ones (they come back through the done list unrun: data intact),
 * joins the thread and closes its store. */
void worker_stop(struct worker *w);

#endif
