/* Tap devices for virtio-net (see tap.h). Plain ioctls: TUNSETIFF and
 * friends on the tun fd, SIOC* on an AF_INET datagram socket for the link
 * flags, MAC, MTU and bridge ports.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/base/err.h"
#include "core/base/netif.h"
#include "core/base/tap.h"

#define TUN_PATH "/dev/net/tun"

/* An existing NAME must be a tap: TUNSETIFF on anything else says only EINVAL. */
static int check_existing(const char *name)
{
    if (if_nametoindex(name) == 0)
        return 0; /* we will create it */
    if (!netif_sysfs_has(name, "tun_flags"))
        return err_set("tap %s: an interface of that name exists and is not a tap device", name);
    char path[128], buf[32] = "";
    snprintf(path, sizeof path, "/sys/class/net/%s/tun_flags", name);
    FILE *f = fopen(path, "r");
    if (f) {
        if (!fgets(buf, sizeof buf, f))
            buf[0] = 0;
        fclose(f);
    }
    unsigned long flags = strtoul(buf, NULL, 0);
    if (buf[0] && !(flags & IFF_TAP))
        return err_set("tap %s: %s is a tun (layer 3) device, not a tap", name, name);
    return 0;
}

static int open_tun(const char *name, struct tap *t)
{
    t->fd = open(TUN_PATH, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) {
        if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
            return err_set("%s does not exist: the kernel has no tun/tap support (modprobe tun)",
                           TUN_PATH);
        return err_errno("cannot open %s", TUN_PATH);
    }
    struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", name);
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        if (errno == EPERM || errno == EACCES)
            return err_set("tap %s: not permitted (it needs CAP_NET_ADMIN, or a tap made for this "
                           "user with `ip tuntap add ... user`)",
                           name);
        if (errno == EBUSY)
            return err_set("tap %s is in use by another process", name);
        return err_errno("tap %s", name);
    }
    snprintf(t->name, sizeof t->name, "%s", ifr.ifr_name);
    /* The 12-byte header of VIRTIO_F_VERSION_1, and no offloads: we
     * negotiate none of the guest's receive offloads. */
    int hdr = TAP_VNET_HDR_LEN;
    if (ioctl(t->fd, TUNSETVNETHDRSZ, &hdr) < 0)
        return err_errno("tap %s: cannot set the virtio-net header size", t->name);
    if (ioctl(t->fd, TUNSETOFFLOAD, 0) < 0)
        return err_errno("tap %s: cannot turn offloads off", t->name);
    return 0;
}

/* fe:xx:xx:xx:xx:xx from the guest's MAC, for a tap we made. */
static int set_host_mac(struct tap *t, const char *mac)
{
    unsigned b[6];
    if (!mac ||
        sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
        return 0; /* keep the kernel's random one */
    struct ifreq ifr = {0};
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    ifr.ifr_hwaddr.sa_data[0] = (char)0xfe;
    for (int i = 1; i < 6; i++)
        ifr.ifr_hwaddr.sa_data[i] = (char)b[i];
    if (netif_ioctl(t->name, SIOCSIFHWADDR, &ifr) < 0)
        return err_errno("tap %s: cannot set its MAC address", t->name);
    return 0;
}

static int join_bridge(struct tap *t, const char *bridge)
{
    if (netif_check_name(bridge) < 0)
        return err_prefix("bridge: ");
    if (if_nametoindex(bridge) == 0)
        return err_set("bridge '%s' does not exist", bridge);
    if (!netif_sysfs_has(bridge, "bridge"))
        return err_set("'%s' is not a bridge", bridge);
    struct ifreq ifr = {0};
    /* The tap takes the bridge's MTU, as libvirt does. */
    if (netif_ioctl(bridge, SIOCGIFMTU, &ifr) == 0 && netif_ioctl(t->name, SIOCSIFMTU, &ifr) < 0)
        return err_errno("tap %s: cannot set MTU %d of bridge '%s'", t->name, ifr.ifr_mtu, bridge);
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_ifindex = (int)if_nametoindex(t->name);
    if (ifr.ifr_ifindex == 0)
        return err_errno("tap %s", t->name);
    if (netif_ioctl(bridge, SIOCBRADDIF, &ifr) < 0)
        return err_errno("cannot add tap %s to bridge '%s'", t->name, bridge);
    t->enslaved = true;
    snprintf(t->bridge, sizeof t->bridge, "%s", bridge);
    return 0;
}

static int link_up(struct tap *t)
{
    struct ifreq ifr = {0};
    if (netif_ioctl(t->name, SIOCGIFFLAGS, &ifr) < 0)
        return err_errno("tap %s: cannot read its flags", t->name);
    if (ifr.ifr_flags & IFF_UP)
        return 0; /* the admin's tap, already up: a user without CAP_NET_ADMIN gets this far */
    ifr.ifr_flags |= IFF_UP;
    if (netif_ioctl(t->name, SIOCSIFFLAGS, &ifr) < 0)
        return err_errno("tap %s: cannot bring it up", t->name);
    return 0;
}

int tap_open(const struct tap_config *c, struct tap *t)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    const char *name = c->ifname && *c->ifname ? c->ifname : "vnet%d";
    if (netif_check_name(name) < 0 || check_existing(name) < 0)
        goto fail;
    bool existed = !strchr(name, '%') && if_nametoindex(name) != 0;
    if (open_tun(name, t) < 0)
        goto fail;
    t->created = !existed;
    if (t->created && set_host_mac(t, c->mac) < 0)
        goto fail;
    if (c->bridge && join_bridge(t, c->bridge) < 0)
        goto fail;
    if (link_up(t) < 0)
        goto fail;
    return 0;
fail:
    tap_close(t);
    return -1;
}

int tap_adopt(int fd, struct tap *t)
{
    memset(t, 0, sizeof *t);
    t->fd = -1;
    struct ifreq ifr = {0};
    if (ioctl(fd, TUNGETIFF, &ifr) < 0) {
        err_errno("descriptor %d is not a tap", fd);
        close(fd);
        return -1;
    }
    if (!(ifr.ifr_flags & IFF_TAP) || !(ifr.ifr_flags & IFF_VNET_HDR)) {
        close(fd);
        return err_set("%s is not a tap with virtio-net headers", ifr.ifr_name);
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
        err_errno("tap %s", ifr.ifr_name);
        close(fd);
        return -1;
    }
    t->fd = fd;
    snprintf(t->name, sizeof t->name, "%s", ifr.ifr_name);
    return 0;
}

int tap_set_offload(struct tap *t, unsigned flags)
{
    if (ioctl(t->fd, TUNSETOFFLOAD, (unsigned long)flags) < 0)
        return err_errno("tap %s: cannot set offloads 0x%x", t->name, flags);
    return 0;
}

void tap_close(struct tap *t)
{
    if (t->enslaved && !t->created) {
        /* The admin's tap goes back as we found it; ours vanishes anyway. */
        struct ifreq ifr = {.ifr_ifindex = (int)if_nametoindex(t->name)};
        if (ifr.ifr_ifindex)
            netif_ioctl(t->bridge, SIOCBRDELIF, &ifr);
    }
    t->enslaved = false;
    if (t->fd >= 0)
        close(t->fd);
    t->fd = -1;
}
