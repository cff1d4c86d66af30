/* See exit-note.h. */
#include "exit-note.h"

#include <stdarg.h>
#include <stdio.h>

static char noted[512];

void vmm_exit_note(const char *fmt, ...)
{
    char msg[sizeof noted];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "tvm-vmm: %s\n", msg);
    if (!noted[0])
        snprintf(noted, sizeof noted, "%s", msg);
}

const char *vmm_exit_noted(void)
{
    return noted[0] ? noted : NULL;
}
