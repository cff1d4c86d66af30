/* See runfile.h. */
#include "runfile.h"

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "core/base/err.h"

int runfile_write(const char *rundir, const char *name, const char *text)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", rundir, name) >= (int)sizeof path ||
        snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return err_set("%s/%s: path too long", rundir, name);
    FILE *f = fopen(tmp, "we");
    if (!f)
        return err_errno("%s", tmp);
    fputs(text, f);
    if (fclose(f) != 0 || rename(tmp, path) < 0) {
        unlink(tmp);
        return err_errno("%s", path);
    }
    return 0;
}
