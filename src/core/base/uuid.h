/* UUIDs as libvirt reads and writes them. */
#ifndef TVM_CORE_UUID_H
#define TVM_CORE_UUID_H

#include <stdbool.h>

#define UUID_STR_LEN 37 /* 36 chars + NUL */

/* A random version-4 UUID from getrandom(), lowercase canonical form. */
int uuid_generate(char out[UUID_STR_LEN]);
/* Accept what libvirt's virUUIDParse accepts (32 hex digits, any case,
 * '-' or ' ' anywhere between digit pairs, surrounding blanks) and write
 * the canonical lowercase 8-4-4-4-12 form. -1 with "invalid uuid 'x'". */
int uuid_parse(const char *in, char out[UUID_STR_LEN]);
/* The same test without a message: for keys that may be a uuid or a name. */
bool uuid_canonical(const char *in, char out[UUID_STR_LEN]);

#endif
