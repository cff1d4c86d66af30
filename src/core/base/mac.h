/* MAC addresses as libvirt reads and writes them. */
#ifndef TVM_CORE_MAC_H
#define TVM_CORE_MAC_H

#include <stdbool.h>

#define MAC_STR_LEN 18 /* "52:54:00:xx:xx:xx" + NUL */

/* 52:54:00:xx:xx:xx with random low bytes (getrandom), as libvirt's
 * QEMU/KVM prefix. */
int mac_generate(char out[MAC_STR_LEN]);
/* Six ':'-separated groups of 1-2 hex digits (virMacAddrParse), written
 * lowercase with two digits each. -1 with "invalid MAC address 'x'". */
int mac_parse(const char *in, char out[MAC_STR_LEN]);
/* The group bit of the first octet: libvirt refuses these for NICs. */
bool mac_is_multicast(const char mac[MAC_STR_LEN]);

#endif
