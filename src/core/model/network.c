/* libvirt network XML: parse, normalise (uuid), format. */
#include "core/model/network.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/base/err.h"
#include "core/base/mac.h"
#include "core/base/netif.h"
#include "core/xml/xml-util.h"

/* Values that end up in dnsmasq.conf (one option a line), in nft commands
 * (names in double quotes) or on a command line are checked here, so at
 * define and again at every start (which parses the stored XML). A control
 * character or a quote would let a network file add options or commands
 * run as root. The message names the element and attribute; the value is
 * shown only when it holds nothing that could garble a terminal. */
static int refuse_chars(const char *origin, xmlNodePtr n, const char *what, const char *v)
{
    for (const char *p = v; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return xml_err(origin, n, what, "invalid value: contains a control character");
        if (strchr("\"'\\`", *p))
            return xml_err(origin, n, what, "invalid value '%s': no quotes or backslashes", v);
    }
    return 0;
}

/* A host name per RFC 1123: dot-separated labels of 1..63 letters, digits
 * and inner hyphens, 253 characters at most; a trailing dot (a fully
 * qualified domain) only where TRAILING_DOT. */
static int check_hostname(const char *origin, xmlNodePtr n, const char *what, const char *v,
                          bool trailing_dot)
{
    if (!v)
        return 0;
    if (refuse_chars(origin, n, what, v) < 0)
        return -1;
    size_t len = strlen(v);
    if (trailing_dot && len > 1 && v[len - 1] == '.')
        len--;
    if (len == 0 || len > 253)
        return xml_err(origin, n, what, "invalid host name '%s': 1 to 253 characters", v);
    size_t label = 0;
    for (size_t i = 0; i <= len; i++) {
        char c = i < len ? v[i] : '.';
        if (c == '.') {
            if (label == 0 || label > 63 || v[i - 1] == '-')
                return xml_err(origin, n, what,
                               "invalid host name '%s': labels of 1 to 63 characters, not "
                               "ending in '-' (RFC 1123)",
                               v);
            label = 0;
            continue;
        }
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (!alnum && !(c == '-' && label > 0))
            return xml_err(origin, n, what,
                           "invalid host name '%s': letters, digits and inner '-' only (RFC 1123)",
                           v);
        label++;
    }
    return 0;
}

/* An interface name as the kernel takes it, and one that can stand in
 * double quotes in an nft rule. EMPTY_OK: "" means none given. */
static int check_ifname(const char *origin, xmlNodePtr n, const char *what, const char *v,
                        bool empty_ok)
{
    if (!v || (empty_ok && !*v))
        return 0;
    if (refuse_chars(origin, n, what, v) < 0)
        return -1;
    if (netif_check_name(v) < 0) {
        char msg[ERR_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", err_msg());
        return xml_err(origin, n, what, "%s", msg);
    }
    return 0;
}

/* An IP address attribute of `n`, checked for `family` (AF_INET/AF_INET6). */
static int parse_addr(xmlNodePtr n, const char *attr, int family, const char *origin, char **out)
{
    *out = xml_prop(n, attr);
    unsigned char buf[sizeof(struct in6_addr)];
    if (*out && inet_pton(family, *out, buf) != 1) {
        char what[64];
        snprintf(what, sizeof(what), "%s %s", (const char *)n->name, attr);
        return xml_err(origin, n, what, "invalid %s address '%s'",
                       family == AF_INET ? "IPv4" : "IPv6", *out);
    }
    return 0;
}

static int parse_dhcp(struct network_ip *ip, xmlNodePtr dhcp, int family, const char *origin)
{
    xmlNodePtr range = xml_child(dhcp, "range");
    if (range && (parse_addr(range, "start", family, origin, &ip->dhcp_start) < 0 ||
                  parse_addr(range, "end", family, origin, &ip->dhcp_end) < 0))
        return -1;
    if (range && (!ip->dhcp_start || !ip->dhcp_end))
        return xml_err(origin, range, "range", "needs start and end");
    size_t n = xml_count(dhcp, "host");
    ip->hosts = n ? calloc(n, sizeof(*ip->hosts)) : NULL;
    if (n && !ip->hosts)
        return err_set("out of memory");
    for (xmlNodePtr h = xml_child(dhcp, "host"); h; h = xml_next(h, "host")) {
        struct network_dhcp_host *host = &ip->hosts[ip->nhosts++];
        host->name = xml_prop(h, "name");
        if (check_hostname(origin, h, "host name", host->name, false) < 0)
            return -1;
        if (parse_addr(h, "ip", family, origin, &host->ip) < 0)
            return -1;
        char *mac = xml_prop(h, "mac");
        if (mac) {
            char canon[MAC_STR_LEN];
            int rc = mac_parse(mac, canon);
            if (rc < 0)
                xml_err(origin, h, "host mac", "invalid '%s'", mac);
            free(mac);
            if (rc < 0)
                return -1;
            host->mac = strdup(canon);
        }
        if (!host->ip)
            return xml_err(origin, h, "host ip", "missing");
    }
    return 0;
}

static int parse_ip(struct network_ip *ip, xmlNodePtr n, const char *origin)
{
    ip->family = xml_prop(n, "family");
    int family = AF_INET;
    if (ip->family && !strcmp(ip->family, "ipv6"))
        family = AF_INET6;
    else if (ip->family && strcmp(ip->family, "ipv4"))
        return xml_err(origin, n, "ip family", "invalid value '%s'", ip->family);
    if (parse_addr(n, "address", family, origin, &ip->address) < 0 ||
        parse_addr(n, "netmask", AF_INET, origin, &ip->netmask) < 0)
        return -1;
    if (!ip->address)
        return xml_err(origin, n, "ip address", "missing");
    char *prefix = xml_prop(n, "prefix");
    uint64_t p = 0;
    int rc = 0;
    if (prefix && xml_parse_u64(prefix, family == AF_INET ? 32 : 128, &p) < 0)
        rc = xml_err(origin, n, "ip prefix", "invalid value '%s'", prefix);
    else if (prefix && ip->netmask)
        rc = xml_err(origin, n, "ip", "give netmask or prefix, not both");
    free(prefix);
    if (rc < 0)
        return -1;
    ip->prefix = (unsigned)p;
    xmlNodePtr dhcp = xml_child(n, "dhcp");
    return dhcp ? parse_dhcp(ip, dhcp, family, origin) : 0;
}

static int parse_forward(struct network *net, xmlNodePtr root, const char *origin)
{
    xmlNodePtr fwd = xml_child(root, "forward");
    if (!fwd)
        return 0;
    net->forward_mode = xml_prop(fwd, "mode");
    if (!net->forward_mode) { /* libvirt's default for <forward/>, spelled out as virsh does */
        net->forward_mode = strdup("nat");
        if (!net->forward_mode || xml_set_prop_after(fwd, "mode", "nat", "dev") < 0)
            return err_set("out of memory");
    }
    static const char *const modes[] = {"nat",  "route",       "bridge",  "open", "private",
                                        "vepa", "passthrough", "hostdev", NULL};
    if (!xml_in_list(net->forward_mode, modes))
        return xml_err(origin, fwd, "forward mode", "invalid value '%s'", net->forward_mode);
    net->forward_dev = xml_prop(fwd, "dev");
    return check_ifname(origin, fwd, "forward dev", net->forward_dev, false);
}

static int parse_bridge_mac(struct network *net, xmlNodePtr root, const char *origin)
{
    xmlNodePtr br = xml_child(root, "bridge");
    net->bridge = xml_prop(br, "name");
    if (check_ifname(origin, br, "bridge name", net->bridge, true) < 0)
        return -1;
    net->stp = true; /* libvirt: stp on unless stp='off' */
    char *stp = xml_prop(br, "stp");
    int rc = 0;
    if (stp && xml_parse_yesno(stp, &net->stp) < 0)
        rc = xml_err(origin, br, "bridge stp", "invalid value '%s'", stp);
    free(stp);
    char *delay = xml_prop(br, "delay");
    int d = 0;
    if (rc == 0 && delay && xml_parse_int(delay, 0, 255, &d) < 0)
        rc = xml_err(origin, br, "bridge delay", "invalid value '%s'", delay);
    net->delay = (unsigned)d;
    free(delay);
    if (rc < 0)
        return -1;
    xmlNodePtr mac = xml_child(root, "mac");
    if (mac) {
        char *addr = xml_prop(mac, "address");
        rc = mac_parse(addr, net->mac);
        if (rc < 0)
            xml_err(origin, mac, "mac address", "invalid '%s'", addr ? addr : "");
        else if (mac_is_multicast(net->mac))
            rc = xml_err(origin, mac, "mac address", "'%s' is a multicast address", addr);
        free(addr);
        if (rc < 0)
            return -1;
        xml_set_prop(mac, "address", net->mac);
    }
    net->domain_name = xml_child_prop(root, "domain", "name");
    return check_hostname(origin, xml_child(root, "domain"), "domain name", net->domain_name, true);
}

static int parse_vlan(struct network *net, xmlNodePtr root, const char *origin)
{
    xmlNodePtr tag = xml_child(xml_child(root, "vlan"), "tag");
    if (!tag)
        return 0;
    char *id = xml_prop(tag, "id");
    uint64_t v = 0;
    int rc = 0;
    if (xml_parse_u64(id, 4095, &v) < 0)
        rc = xml_err(origin, tag, "tag id", "invalid value '%s'", id ? id : "");
    free(id);
    net->vlan_tag = (unsigned)v;
    return rc;
}

int network_parse(const char *xml, size_t len, const char *origin, struct network **out)
{
    *out = NULL;
    if (!origin)
        origin = "<network>";
    xmlDocPtr doc = xml_read(xml, len, origin, "network");
    if (!doc)
        return -1;
    struct network *net = calloc(1, sizeof(*net));
    if (!net) {
        xmlFreeDoc(doc);
        return err_set("%s: out of memory", origin);
    }
    net->doc = doc;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    int rc = xml_name_uuid(root, origin, &net->name, net->uuid);
    if (rc == 0)
        rc = parse_forward(net, root, origin);
    if (rc == 0)
        rc = parse_bridge_mac(net, root, origin);
    if (rc == 0)
        rc = parse_vlan(net, root, origin);
    size_t nips = xml_count(root, "ip");
    if (rc == 0 && nips && !(net->ips = calloc(nips, sizeof(*net->ips))))
        rc = err_set("out of memory");
    for (xmlNodePtr ip = xml_child(root, "ip"); rc == 0 && ip; ip = xml_next(ip, "ip"))
        rc = parse_ip(&net->ips[net->nips++], ip, origin);
    /* NAT and routing need an address on the bridge to work at all. */
    if (rc == 0 && net->forward_mode && nips == 0 &&
        (!strcmp(net->forward_mode, "nat") || !strcmp(net->forward_mode, "route")))
        rc = xml_err(origin, xml_child(root, "forward"), "forward mode",
                     "%s forwarding needs an <ip> address on the network", net->forward_mode);
    if (rc < 0) {
        network_free(net);
        return -1;
    }
    *out = net;
    return 0;
}

int network_set_bridge(struct network *n, const char *name)
{
    xmlNodePtr root = xmlDocGetRootElement(n->doc);
    xmlNodePtr br = xml_child(root, "bridge");
    if (!br) {
        xmlNodePtr after = xml_child(root, "forward");
        if (!after)
            after = xml_child(root, "uuid");
        br = xml_insert_after(root, after, xmlNewDocNode(n->doc, NULL, BAD_CAST "bridge", NULL));
    }
    char *copy = xml_strdup(name);
    if (!br || !copy || xml_set_prop_after(br, "name", name, NULL) < 0) {
        free(copy);
        return err_set("out of memory");
    }
    free(n->bridge);
    n->bridge = copy;
    return 0;
}

int network_ip_prefix(const struct network_ip *ip)
{
    if (ip->prefix)
        return (int)ip->prefix;
    if (!ip->netmask)
        return -1;
    unsigned a, b, c, d;
    if (sscanf(ip->netmask, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a > 255 || b > 255 || c > 255 ||
        d > 255)
        return -1;
    uint32_t m = a << 24 | b << 16 | c << 8 | d;
    int bits = 0;
    while (bits < 32 && (m & (0x80000000u >> bits)))
        bits++;
    return network_prefix_mask(bits) == m ? bits : -1;
}

uint32_t network_prefix_mask(int prefix)
{
    return prefix > 0 ? ~0u << (32 - prefix) : 0;
}

const struct network_ip *network_ipv4(const struct network *n)
{
    for (size_t i = 0; i < n->nips; i++)
        if (!n->ips[i].family || !strcmp(n->ips[i].family, "ipv4"))
            return &n->ips[i];
    return NULL;
}

bool network_forward_is(const struct network *n, const char *mode)
{
    if (!mode)
        return !n->forward_mode;
    return n->forward_mode && !strcmp(n->forward_mode, mode);
}

char *network_format(const struct network *n)
{
    return xml_format_doc(n->doc);
}

void network_free(struct network *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nips; i++) {
        struct network_ip *ip = &n->ips[i];
        for (size_t j = 0; j < ip->nhosts; j++) {
            free(ip->hosts[j].mac);
            free(ip->hosts[j].name);
            free(ip->hosts[j].ip);
        }
        free(ip->hosts);
        free(ip->family);
        free(ip->address);
        free(ip->netmask);
        free(ip->dhcp_start);
        free(ip->dhcp_end);
    }
    free(n->ips);
    free(n->name);
    free(n->bridge);
    free(n->forward_mode);
    free(n->forward_dev);
    free(n->domain_name);
    xmlFreeDoc(n->doc);
    free(n);
}
