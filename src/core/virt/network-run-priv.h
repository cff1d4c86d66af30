/* Between network-run.c (the order of things) and network-services.c
 * (the nftables rules and dnsmasq it starts). */
#ifndef TVM_CORE_NETWORK_RUN_PRIV_H
#define TVM_CORE_NETWORK_RUN_PRIV_H

#include <stddef.h>

#include "core/model/network.h"

/* Rules for N on its bridge in table "inet tvm_<uuid digits>" (inet: the
 * rejects stop IPv6 as well), replacing any earlier table of that name in
 * one transaction. */
int network_nft_apply(const struct network *n);
/* Removes the table; absent is fine. */
int network_nft_remove(const struct network *n);
/* Writes DIR/dnsmasq.conf and starts dnsmasq on it; returns once dnsmasq
 * serves (or has said why it cannot). */
int network_dnsmasq_start(const struct network *n, const char *dir);
/* Stops the dnsmasq of DIR/dnsmasq.pid, if any. */
int network_dnsmasq_stop(const char *dir);
/* Its pid, 0 if none runs. */
int network_dnsmasq_pid(const char *dir);

#endif
