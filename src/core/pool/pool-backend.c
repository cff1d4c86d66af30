/* The pool-type table and what every backend shares: volume names, the
 * target directory, running the host's storage tools. */
#include "core/pool/pool-backend.h"
#include "core/base/err.h"
#include "core/base/name.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern const struct pool_backend pool_backend_dir, pool_backend_fs, pool_backend_netfs,
    pool_backend_logical;

static const struct pool_backend *const backends[] = {
    &pool_backend_dir,
    &pool_backend_fs,
    &pool_backend_netfs,
    &pool_backend_logical,
};

int pool_backend_find(const char *type, const struct pool_backend **out)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        if (type && strcmp(backends[i]->type, type) == 0) {
            *out = backends[i];
            return 0;
        }
    }
    *out = NULL;
    return err_set("pool type '%s' is not supported by tvm (dir, fs, netfs, logical): it can be "
                   "defined and dumped, not started",
                   type ? type : "");
}

const char *pool_target(const struct pool *p, char *buf, size_t len)
{
    if (p->target_path && *p->target_path)
        snprintf(buf, len, "%s", p->target_path);
    else
        snprintf(buf, len, "/dev/%s", p->source_name ? p->source_name : "");
    return buf;
}

void pool_vol_clear(struct pool_vol *v)
{
    free(v->name);
    free(v->path);
    free(v->type);
    free(v->format);
    free(v->backing_path);
    free(v->backing_format);
    memset(v, 0, sizeof(*v));
}

void pool_vols_free(struct pool_vol *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        pool_vol_clear(&v[i]);
    free(v);
}

int pool_check_vol_name(const char *name)
{
    if (name_check(name) < 0)
        return err_prefix("volume name: ");
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return err_set("volume name '%s' is not allowed", name);
    if (name[0] == '-')
        return err_set("volume name '%s' may not start with '-'", name);
    for (const char *c = name; *c; c++) {
        if (strchr("\"'`$\\;&|<>*?[]{}() \t", *c))
            return err_set("volume name '%s': character '%c' is not allowed", name, *c);
    }
    return 0;
}

/* Reads both pipes until the child closes them; stderr's last line is kept for the message. */
static int drain(int out_fd, int err_fd, char **out, char *err_buf, size_t err_len)
{
    size_t used = 0, cap = 0, elen = 0;
    char *buf = NULL;
    struct pollfd fds[2] = {{.fd = out_fd, .events = POLLIN}, {.fd = err_fd, .events = POLLIN}};
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            free(buf);
            return err_errno("poll");
        }
        char chunk[4096];
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
            if (n <= 0) {
                fds[i].fd = -1;
                continue;
            }
            if (i == 1) {
                for (ssize_t k = 0; k < n; k++) {
                    if (elen + 1 < err_len)
                        err_buf[elen++] = chunk[k];
                }
                err_buf[elen] = 0;
                continue;
            }
            if (used + (size_t)n + 1 > cap) {
                cap = (used + (size_t)n + 1) * 2;
                char *nb = realloc(buf, cap);
                if (!nb) {
                    free(buf);
                    return err_set("out of memory");
                }
                buf = nb;
            }
            memcpy(buf + used, chunk, (size_t)n);
            used += (size_t)n;
            buf[used] = 0;
        }
    }
    if (out)
        *out = buf ? buf : strdup("");
    else
        free(buf);
    return 0;
}

/* What a tool said on stderr, on one line in OUT: its lines joined with
 * "; ", warnings about the environment left out when more follows. */
static const char *one_line(char *text, char *out, size_t len)
{
    char *save = NULL;
    size_t used = 0;
    out[0] = 0;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        while (*l == ' ')
            l++;
        if (!*l || (strstr(l, "WARNING") && save && *save))
            continue;
        int n = snprintf(out + used, len - used, "%s%s", used ? "; " : "", l);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
    return out;
}

int pool_run(const char *const argv[], char **out)
{
    int op[2], ep[2];
    if (pipe2(op, O_CLOEXEC) < 0)
        return err_errno("pipe");
    if (pipe2(ep, O_CLOEXEC) < 0) {
        close(op[0]);
        close(op[1]);
        return err_errno("pipe");
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(op[0]), close(op[1]), close(ep[0]), close(ep[1]);
        return err_errno("fork");
    }
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(op[1], 1);
        dup2(ep[1], 2);
        /* lvm2's tools warn about every descriptor they inherit */
        setenv("LVM_SUPPRESS_FD_WARNINGS", "1", 1);
        setenv("LC_ALL", "C", 1);
        execvp(argv[0], (char *const *)argv);
        dprintf(2, "cannot run: %s\n", strerror(errno));
        _exit(127);
    }
    close(op[1]);
    close(ep[1]);
    char errtext[2048] = "";
    int rc = drain(op[0], ep[0], out, errtext, sizeof(errtext));
    close(op[0]);
    close(ep[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return err_errno("waitpid %s", argv[0]);
    }
    if (rc < 0)
        return -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (out) {
        free(*out);
        *out = NULL;
    }
    char said[2048];
    const char *why = one_line(errtext, said, sizeof said);
    if (WIFEXITED(status))
        return err_set("%s: %s (exit %d)", argv[0], *why ? why : "failed", WEXITSTATUS(status));
    return err_set("%s: killed by signal %d", argv[0], WTERMSIG(status));
}
