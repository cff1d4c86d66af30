/* Host network interfaces (see netif.h): SIOC* ioctls on a throwaway
 * AF_INET socket and a few sysfs files; nothing to link. */
#include "core/base/netif.h"
#include "core/base/err.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int netif_check_name(const char *name)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0)
        return err_set("bad interface name '': empty");
    if (len >= IFNAMSIZ)
        return err_set("bad interface name '%s': longer than %d characters", name, IFNAMSIZ - 1);
    if (!strcmp(name, ".") || !strcmp(name, ".."))
        return err_set("bad interface name '%s'", name);
    for (const char *p = name; *p; p++)
        if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
            return err_set("bad interface name '%s': no '/', ':', spaces or control characters",
                           name);
    return 0;
}

int netif_ioctl(const char *name, unsigned long req, void *arg)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    if (name) {
        struct ifreq *ifr = arg;
        snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", name);
    }
    int rc = ioctl(s, req, arg);
    int saved = errno;
    close(s);
    errno = saved;
    return rc;
}

bool netif_sysfs_has(const char *name, const char *leaf)
{
    char path[128];
    struct stat st;
    snprintf(path, sizeof path, "/sys/class/net/%s/%s", name, leaf);
    return stat(path, &st) == 0;
}

bool netif_exists(const char *name)
{
    return name && *name && if_nametoindex(name) != 0;
}

bool netif_is_bridge(const char *name)
{
    return netif_exists(name) && netif_sysfs_has(name, "bridge");
}

int netif_bridge_add(const char *name)
{
    if (netif_check_name(name) < 0)
        return -1;
    if (netif_exists(name))
        return err_set("cannot create bridge '%s': an interface of that name exists", name);
    char buf[IFNAMSIZ];
    snprintf(buf, sizeof buf, "%s", name);
    if (netif_ioctl(NULL, SIOCBRADDBR, buf) < 0)
        return err_errno("cannot create bridge '%s'", name);
    return 0;
}

int netif_bridge_del(const char *name)
{
    if (netif_set_up(name, false) < 0)
        return -1;
    char buf[IFNAMSIZ];
    snprintf(buf, sizeof buf, "%s", name);
    if (netif_ioctl(NULL, SIOCBRDELBR, buf) < 0)
        return err_errno("cannot delete bridge '%s'", name);
    return 0;
}

static int bridge_attr(const char *name, const char *attr, unsigned value)
{
    char path[128];
    snprintf(path, sizeof path, "/sys/class/net/%s/bridge/%s", name, attr);
    FILE *f = fopen(path, "we");
    if (!f)
        return err_errno("bridge '%s': cannot open %s", name, path);
    int rc = fprintf(f, "%u\n", value) < 0 ? -1 : 0;
    if (fclose(f) != 0 || rc < 0)
        return err_errno("bridge '%s': cannot set %s to %u", name, attr, value);
    return 0;
}

int netif_bridge_set_stp(const char *name, bool on, unsigned delay)
{
    /* forward_delay is in hundredths of a second. The kernel checks its
     * 2 s minimum only while STP is on, so the delay goes first, as
     * libvirt does it: delay='0' means ports forward at once. */
    if (bridge_attr(name, "forward_delay", delay * 100) < 0)
        return -1;
    return bridge_attr(name, "stp_state", on ? 1 : 0);
}

int netif_set_mac(const char *name, const char *mac)
{
    unsigned b[6];
    char end;
    if (!mac || sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
                       &end) != 6)
        return err_set("%s: bad MAC address '%s'", name, mac ? mac : "");
    struct ifreq ifr = {0};
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    for (int i = 0; i < 6; i++)
        ifr.ifr_hwaddr.sa_data[i] = (char)b[i];
    if (netif_ioctl(name, SIOCSIFHWADDR, &ifr) < 0)
        return err_errno("%s: cannot set MAC address %s", name, mac);
    return 0;
}

int netif_set_ipv4(const char *name, const char *addr, unsigned prefix)
{
    struct ifreq ifr = {0};
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    sin->sin_family = AF_INET;
    if (prefix > 32 || inet_pton(AF_INET, addr, &sin->sin_addr) != 1)
        return err_set("%s: bad IPv4 address %s/%u", name, addr, prefix);
    if (netif_ioctl(name, SIOCSIFADDR, &ifr) < 0)
        return err_errno("%s: cannot set address %s", name, addr);
    memset(&ifr, 0, sizeof ifr);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(prefix ? ~0u << (32 - prefix) : 0);
    if (netif_ioctl(name, SIOCSIFNETMASK, &ifr) < 0)
        return err_errno("%s: cannot set netmask /%u", name, prefix);
    return 0;
}

int netif_set_up(const char *name, bool up)
{
    struct ifreq ifr = {0};
    if (netif_ioctl(name, SIOCGIFFLAGS, &ifr) < 0)
        return err_errno("%s: cannot read its flags", name);
    if (up)
        ifr.ifr_flags |= IFF_UP;
    else
        ifr.ifr_flags &= ~IFF_UP;
    if (netif_ioctl(name, SIOCSIFFLAGS, &ifr) < 0)
        return err_errno("%s: cannot bring it %s", name, up ? "up" : "down");
    return 0;
}

int netif_free_name(const char *fmt, char *buf, unsigned len)
{
    /* Each candidate is made whole in a buffer of the kernel's size first:
     * a name cut short by a small BUF would be checked in place of the real one. */
    char name[IFNAMSIZ];
    for (unsigned i = 0; i < 256; i++) {
        int n = snprintf(name, sizeof name, fmt, i);
        if (n < 0 || (size_t)n >= sizeof name || (unsigned)n >= len)
            return err_set("interface names of the form '%s' do not fit", fmt);
        if (!netif_exists(name)) {
            memcpy(buf, name, (size_t)n + 1);
            return 0;
        }
    }
    return err_set("no free interface name of the form '%s'", fmt);
}
