#include "core/base/uuid.h"

#include <ctype.h>
#include <stdio.h>
#include <sys/random.h>

#include "core/base/err.h"

static void uuid_print(const unsigned char b[16], char out[UUID_STR_LEN])
{
    snprintf(out, UUID_STR_LEN,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
}

int uuid_generate(char out[UUID_STR_LEN])
{
    unsigned char b[16];
    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        return err_errno("cannot generate uuid: getrandom");
    b[6] = (b[6] & 0x0f) | 0x40; /* version 4 */
    b[8] = (b[8] & 0x3f) | 0x80; /* RFC 4122 variant */
    uuid_print(b, out);
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)tolower((unsigned char)c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

bool uuid_canonical(const char *in, char out[UUID_STR_LEN])
{
    unsigned char b[16];
    const char *p = in;
    if (!p)
        return false;
    while (isspace((unsigned char)*p))
        p++;
    for (int i = 0; i < 16;) {
        if (*p == '-' || *p == ' ') {
            p++;
            continue;
        }
        int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
        if (hi < 0 || lo < 0)
            return false;
        b[i++] = (unsigned char)(hi << 4 | lo);
        p += 2;
    }
    while (isspace((unsigned char)*p))
        p++;
    if (*p)
        return false;
    uuid_print(b, out);
    return true;
}

int uuid_parse(const char *in, char out[UUID_STR_LEN])
{
    return uuid_canonical(in, out) ? 0 : err_set("invalid uuid '%s'", in ? in : "");
}
