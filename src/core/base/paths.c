#include "core/base/paths.h"
#include "core/base/err.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *paths_rundir(void)
{
    static char buf[PATH_MAX];
    const char *env = getenv("TVM_RUNDIR");
    if (env && *env)
        snprintf(buf, sizeof(buf), "%s", env);
    else if (geteuid() == 0)
        snprintf(buf, sizeof(buf), "/run/tvm");
    else if ((env = getenv("XDG_RUNTIME_DIR")) && *env)
        snprintf(buf, sizeof(buf), "%s/tvm", env);
    else
        snprintf(buf, sizeof(buf), "/tmp/tvm-%u", (unsigned)geteuid());
    return buf;
}

int paths_mkdir_p(const char *path, unsigned mode)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
        return err_set("path too long: %s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return err_errno("cannot create directory %s", tmp);
        *p = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST)
        return err_errno("cannot create directory %s", tmp);
    return 0;
}

int paths_rundir_ready(void)
{
    const char *dir = paths_rundir();
    if (paths_mkdir_p(dir, 0700) < 0)
        return -1;
    /* lstat: a symlink planted where the directory should be (anyone can
     * make /tmp/tvm-UID first) must not send sockets and pid files
     * elsewhere. */
    struct stat st;
    if (lstat(dir, &st) < 0)
        return err_errno("run directory %s", dir);
    if (S_ISLNK(st.st_mode))
        return err_set("run directory %s is a symbolic link; refusing it", dir);
    if (!S_ISDIR(st.st_mode))
        return err_set("run directory %s is not a directory; refusing it", dir);
    if (st.st_uid != geteuid())
        return err_set("run directory %s is owned by uid %u, not by uid %u; refusing it", dir,
                       (unsigned)st.st_uid, (unsigned)geteuid());
    if (st.st_mode & 022)
        return err_set("run directory %s is writable by others (mode %03o); refusing it", dir,
                       (unsigned)(st.st_mode & 07777));
    /* Ours and only readable by others: nothing can have been put in it
     * by them, so closing it is enough. */
    if ((st.st_mode & 077) && chmod(dir, 0700) < 0)
        return err_errno("run directory %s: chmod 0700", dir);
    return 0;
}

int paths_self_dir(char *buf, size_t len)
{
    ssize_t n = readlink("/proc/self/exe", buf, len - 1);
    if (n < 0)
        return err_errno("cannot read /proc/self/exe");
    buf[n] = '\0';
    char *slash = strrchr(buf, '/');
    if (slash)
        *slash = '\0';
    return 0;
}
