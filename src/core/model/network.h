/* libvirt network XML: a typed view over the document, like domain.h. */
#ifndef TVM_CORE_NETWORK_H
#define TVM_CORE_NETWORK_H

#include "core/model/domain.h"

struct network_dhcp_host {
    char *mac;
    char *name;
    char *ip;
};

struct network_ip {
    char *family; /* ipv4 | ipv6 */
    char *address;
    char *netmask;   /* ipv4 style, or NULL */
    unsigned prefix; /* 0 if netmask given */
    char *dhcp_start;
    char *dhcp_end;
    struct network_dhcp_host *hosts;
    size_t nhosts;
};

struct network {
    char *name;
    char uuid[UUID_STR_LEN];
    char *bridge; /* <bridge name=...> */
    bool stp;
    unsigned delay;     /* <bridge delay=...>: forward delay in seconds, 0 if absent */
    char *forward_mode; /* nat | route | bridge | open | NULL = isolated */
    char *forward_dev;
    char mac[MAC_STR_LEN]; /* bridge MAC, "" if absent */
    char *domain_name;     /* <domain name=...> */
    unsigned vlan_tag;     /* 0 if none */
    struct network_ip *ips;
    size_t nips;
    void *doc;
};

int network_parse(const char *xml, size_t len, const char *origin, struct network **out);
char *network_format(const struct network *n);
/* <bridge name=NAME> (created after <forward>, libvirt's place, if absent). */
int network_set_bridge(struct network *n, const char *name);
/* The prefix length of ip: prefix, or the bits of its netmask; -1 if neither. */
int network_ip_prefix(const struct network_ip *ip);
/* The netmask of a prefix length (0..32), in host byte order. */
uint32_t network_prefix_mask(int prefix);
/* The first IPv4 <ip>, or NULL. */
const struct network_ip *network_ipv4(const struct network *n);
/* <forward mode=MODE> (NULL matches no forward: isolated). */
bool network_forward_is(const struct network *n, const char *mode);
void network_free(struct network *n);

#endif
