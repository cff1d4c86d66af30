/* What the backends that mount their storage share (fs, netfs): whether
 * the target is a mount point, and unmounting it. */
#include "core/pool/pool-priv.h"

#include <stdio.h>
#include <string.h>

bool pool_is_mounted(const char *dir)
{
    FILE *f = fopen("/proc/self/mounts", "re");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        char dev[1024], mnt[2048];
        if (sscanf(line, "%1023s %2047s", dev, mnt) == 2 && !strcmp(mnt, dir))
            found = true;
    }
    fclose(f);
    return found;
}

int pool_unmount(const char *dir)
{
    if (!pool_is_mounted(dir))
        return 0;
    const char *argv[] = {"umount", dir, NULL};
    return pool_run(argv, NULL);
}
