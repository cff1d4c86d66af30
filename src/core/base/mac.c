#include "core/base/mac.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "core/base/err.h"

int mac_generate(char out[MAC_STR_LEN])
{
    unsigned char b[3];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return err_errno("cannot generate MAC address: getrandom");
    snprintf(out, MAC_STR_LEN, "52:54:00:%02x:%02x:%02x", b[0], b[1], b[2]);
    return 0;
}

int mac_parse(const char *in, char out[MAC_STR_LEN])
{
    unsigned char b[6];
    const char *p = in;
    if (!p)
        return err_set("invalid MAC address ''");
    for (int i = 0; i < 6; i++) {
        if (!isxdigit((unsigned char)*p))
            return err_set("invalid MAC address '%s'", in);
        char *end;
        errno = 0;
        unsigned long v = strtoul(p, &end, 16);
        if (errno || end - p < 1 || end - p > 2 || v > 0xff)
            return err_set("invalid MAC address '%s'", in);
        if (*end != (i == 5 ? '\0' : ':'))
            return err_set("invalid MAC address '%s'", in);
        b[i] = (unsigned char)v;
        p = end + (i < 5);
    }
    snprintf(out, MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
    return 0;
}

bool mac_is_multicast(const char mac[MAC_STR_LEN])
{
    unsigned v = (unsigned)strtoul(mac, NULL, 16);
    return v & 1;
}
