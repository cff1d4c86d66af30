#include "core/base/name.h"

#include "core/base/err.h"

int name_check(const char *name)
{
    if (!name || !*name)
        return err_set("name must not be empty");
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (*p == '/')
            return err_set("name '%s' must not contain '/'", name);
        if (*p < 0x20 || *p == 0x7f)
            return err_set("name must not contain control characters");
    }
    return 0;
}
