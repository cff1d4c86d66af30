/* Internal to domain*.c: the pieces of domain_parse() split by topic. */
#ifndef TVM_CORE_DOMAIN_PRIV_H
#define TVM_CORE_DOMAIN_PRIV_H

#include <libxml/tree.h>

#include "core/domain.h"

/* <devices>: disks, interfaces (MACs generated), graphics, chardevs, the rest. */
int domain_parse_devices(struct domain *d, xmlNodePtr devices, const char *origin);
void domain_free_devices(struct domain *d);

/* Write "N" as text of `node` with unit='KiB' (the form virsh prints). */
int domain_write_kib(xmlNodePtr node, uint64_t kib);

#endif
