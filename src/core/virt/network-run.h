/* Virtual networks on the host, as libvirt's network driver runs them but
 * without a daemon: `net-start` builds them, `net-destroy` takes them down,
 * and what is running is found again from the host itself.
 *
 *   forward nat / route / none (isolated) / open: a bridge of tvm's own
 *     (<bridge name>, else the first free virbrN, stored) with the <ip>
 *     address, nftables rules in a table of its own (masquerade for nat,
 *     forwarding for nat and route, nothing in or out for isolated),
 *     ip_forward on, and dnsmasq for DHCP (<dhcp><range>, <host>) and DNS.
 *   forward bridge: an existing host bridge, used as it is.
 * State lives in RUNDIR/network/NAME/ (dnsmasq.conf, dnsmasq.pid).
 */
#ifndef TVM_CORE_NETWORK_RUN_H
#define TVM_CORE_NETWORK_RUN_H

#include <stdbool.h>
#include <stddef.h>

struct store;
struct store_object_row;

int network_start(struct store *st, const char *name_or_uuid);
int network_destroy(struct store *st, const char *name_or_uuid);
/* The store's active flag checked against the host: a network marked active
 * whose bridge has gone (the host rebooted) is recorded inactive. */
int network_reconcile(struct store *st, struct store_object_row *row);
/* For a guest's <interface type='network'>: the bridge of network NAME. An
 * inactive network marked autostart is started first; otherwise an
 * inactive network is an error, as in libvirt. */
int network_bridge_for(struct store *st, const char *name, char *bridge, size_t len);

#endif
