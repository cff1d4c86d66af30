/* See fdmap.h. */
#include "fdmap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/proto/vmm-protocol.h"

struct fd_entry {
    int fd; /* -1 once taken */
    char kind[16];
    char key[32];
    char *path; /* NULL: none ("-") */
};

static struct {
    bool loaded;
    struct fd_entry e[VMM_FDS_MAX];
    unsigned n, taken;
} map;

bool fdmap_loaded(void)
{
    return map.loaded;
}

/* "FD KIND KEY PATH": PATH is the rest of the line, "-" for none. */
static int parse_line(char *line, const char *file, unsigned lineno, struct fd_entry *e)
{
    char kind[16], key[32];
    int fd, used = 0;
    if (sscanf(line, "%d %15s %31s %n", &fd, kind, key, &used) != 3 || used == 0)
        return err_set("%s:%u: expected 'FD KIND KEY PATH'", file, lineno);
    const char *path = line + used;
    if (fd < 3)
        return err_set("%s:%u: descriptor %d is stdio", file, lineno, fd);
    if (fcntl(fd, F_GETFD) < 0)
        return err_set("%s:%u: descriptor %d (%s %s) was not passed", file, lineno, fd, kind, key);
    for (unsigned i = 0; i < map.n; i++)
        if (map.e[i].fd == fd)
            return err_set("%s:%u: descriptor %d listed twice", file, lineno, fd);
    /* Never handed on to anything this process might start. */
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    e->fd = fd;
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->path = strcmp(path, "-") == 0 ? NULL : strdup(path);
    if (strcmp(path, "-") != 0 && !e->path)
        return err_set("out of memory");
    return 0;
}

int fdmap_load(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return err_errno("%s", path);
    char line[4096 + 64];
    unsigned lineno = 0;
    int rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        else if (!feof(f))
            rc = err_set("%s:%u: line too long", path, lineno);
        if (rc < 0 || line[0] == '#' || line[0] == '\0')
            continue;
        if (map.n == VMM_FDS_MAX)
            rc = err_set("%s:%u: more than %d descriptors", path, lineno, VMM_FDS_MAX);
        else if (parse_line(line, path, lineno, &map.e[map.n]) == 0)
            map.n++;
        else
            rc = -1;
    }
    fclose(f);
    map.loaded = rc == 0;
    return rc;
}

static struct fd_entry *find(const char *kind, const char *key, const char *path)
{
    for (unsigned i = 0; i < map.n; i++) {
        struct fd_entry *e = &map.e[i];
        if (e->fd >= 0 && strcmp(e->kind, kind) == 0 && strcmp(e->key, key ? key : "-") == 0 &&
            (!path || (e->path && strcmp(e->path, path) == 0)))
            return e;
    }
    return NULL;
}

int fdmap_take(const char *kind, const char *key, const char *path)
{
    struct fd_entry *e = find(kind, key, path);
    if (!e)
        return err_set("tvm passed no descriptor for %s%s%s%s%s (tvm-vmm opens nothing itself "
                       "when given --fds)",
                       kind, key ? " " : "", key ? key : "", path ? " " : "", path ? path : "");
    int fd = e->fd;
    e->fd = -1;
    map.taken++;
    return fd;
}

/* The descriptor tvm opened is O_RDONLY or O_RDWR as image_open_files()
 * chose; O_DIRECT is a status flag that may be switched here. */
static int open_disk_file(void *opaque, const char *path, int oflags)
{
    const char *target = opaque;
    struct fd_entry *e = find("disk", target, path);
    if (!e)
        return err_set("disk %s: tvm passed no descriptor for %s", target, path);
    int fl = fcntl(e->fd, F_GETFL);
    if (fl < 0)
        return err_errno("disk %s: %s", target, path);
    if ((oflags & O_ACCMODE) == O_RDWR && (fl & O_ACCMODE) != O_RDWR) {
        errno = EACCES;
        return err_set("disk %s: %s was passed read-only", target, path);
    }
    int want = (fl & ~O_DIRECT) | (oflags & O_DIRECT);
    if (want != fl && fcntl(e->fd, F_SETFL, want) < 0)
        return err_errno("disk %s: %s", target, path); /* EINVAL: no O_DIRECT here */
    return fdmap_take("disk", target, path);
}

struct image_opener fdmap_disk_opener(const char *target)
{
    return (struct image_opener){.open = open_disk_file, .opaque = (void *)target};
}

unsigned fdmap_finish(bool warn)
{
    for (unsigned i = 0; i < map.n; i++) {
        struct fd_entry *e = &map.e[i];
        if (e->fd >= 0) {
            if (warn)
                fprintf(stderr, "tvm-vmm: warning: descriptor %d (%s %s %s) from tvm is not used\n",
                        e->fd, e->kind, e->key, e->path ? e->path : "-");
            close(e->fd);
            e->fd = -1;
        }
        free(e->path);
        e->path = NULL;
    }
    unsigned taken = map.taken;
    map.n = map.taken = 0;
    return taken;
}
