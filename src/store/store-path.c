#include "store/store.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *store_default_path(void)
{
    static char buf[PATH_MAX];
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    if (geteuid() == 0 && !(xdg && *xdg))
        snprintf(buf, sizeof(buf), "/var/lib/tvm/tvm.db");
    else if (xdg && *xdg)
        snprintf(buf, sizeof(buf), "%s/tvm/tvm.db", xdg);
    else
        snprintf(buf, sizeof(buf), "%s/.local/share/tvm/tvm.db", home ? home : ".");
    return buf;
}
