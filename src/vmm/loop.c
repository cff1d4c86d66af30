/* The main thread's event loop: epoll over file descriptors with one
 * callback each. A callback may add or remove any registration, its own
 * included: removed entries are only marked during a dispatch round and
 * freed after it, so a later event of the same round never reaches a
 * stale callback.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/base/err.h"
#include "vmm.h"

#define LOOP_MAX_EVENTS 32

struct loop_entry {
    int fd;
    loop_fn fn;
    void *opaque;
    bool dead;
    struct loop_entry *next;
};

struct loop {
    int epfd;
    struct loop_entry *entries;
    bool dispatching;
};

struct loop *loop_new(void)
{
    struct loop *l = calloc(1, sizeof *l);
    if (!l) {
        err_set("out of memory");
        return NULL;
    }
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        err_errno("epoll_create1");
        free(l);
        return NULL;
    }
    return l;
}

static void reap(struct loop *l)
{
    struct loop_entry **pp = &l->entries;
    while (*pp) {
        struct loop_entry *e = *pp;
        if (e->dead) {
            *pp = e->next;
            free(e);
        } else {
            pp = &e->next;
        }
    }
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    for (struct loop_entry *e = l->entries; e; e = e->next)
        e->dead = true;
    reap(l);
    close(l->epfd);
    free(l);
}

static struct loop_entry *lookup(struct loop *l, int fd)
{
    for (struct loop_entry *e = l->entries; e; e = e->next)
        if (e->fd == fd && !e->dead)
            return e;
    return NULL;
}

int loop_add(struct loop *l, int fd, uint32_t epoll_events, loop_fn fn, void *opaque)
{
    if (lookup(l, fd))
        return err_set("loop: fd %d is already watched", fd);
    struct loop_entry *e = calloc(1, sizeof *e);
    if (!e)
        return err_set("out of memory");
    *e = (struct loop_entry){.fd = fd, .fn = fn, .opaque = opaque, .next = l->entries};
    struct epoll_event ev = {.events = epoll_events, .data.ptr = e};
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        free(e);
        return err_errno("epoll_ctl add fd %d", fd);
    }
    l->entries = e;
    return 0;
}

int loop_mod(struct loop *l, int fd, uint32_t epoll_events)
{
    struct loop_entry *e = lookup(l, fd);
    if (!e)
        return err_set("loop: fd %d is not watched", fd);
    struct epoll_event ev = {.events = epoll_events, .data.ptr = e};
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return err_errno("epoll_ctl mod fd %d", fd);
    return 0;
}

void loop_del(struct loop *l, int fd)
{
    struct loop_entry *e = lookup(l, fd);
    if (!e)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    e->dead = true;
    if (!l->dispatching)
        reap(l);
}

int loop_run_once(struct loop *l, int timeout_ms)
{
    struct epoll_event ev[LOOP_MAX_EVENTS];
    int n = epoll_wait(l->epfd, ev, LOOP_MAX_EVENTS, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : err_errno("epoll_wait");
    l->dispatching = true;
    for (int i = 0; i < n; i++) {
        struct loop_entry *e = ev[i].data.ptr;
        if (!e->dead)
            e->fn(e->opaque, ev[i].events);
    }
    l->dispatching = false;
    reap(l);
    return 0;
}
