/* Host network interfaces through plain ioctls and sysfs: the bridges
 * behind tvm's virtual networks (network-run.c). Every call returns 0 or
 * -1 with err_msg() naming the interface and what failed. */
#ifndef TVM_CORE_NETIF_H
#define TVM_CORE_NETIF_H

#include <stdbool.h>

/* A usable interface name: 1..15 characters, no '/', ':' or spaces. */
int netif_check_name(const char *name);
bool netif_exists(const char *name);
/* One SIOC* ioctl through a throwaway AF_INET socket; NAME (if not NULL)
 * goes into the struct ifreq at ARG first. errno is kept. */
int netif_ioctl(const char *name, unsigned long req, void *arg);
/* /sys/class/net/NAME/LEAF exists (a bridge has "bridge", a tap "tun_flags"). */
bool netif_sysfs_has(const char *name, const char *leaf);
bool netif_is_bridge(const char *name);
/* A new bridge; refused if any interface of that name exists. */
int netif_bridge_add(const char *name);
/* Down, then gone (its ports are released by the kernel); the kernel
 * refuses an interface that is not a bridge. */
int netif_bridge_del(const char *name);
/* STP on or off, and the forward delay in seconds (libvirt's delay). */
int netif_bridge_set_stp(const char *name, bool on, unsigned delay);
/* "52:54:00:..." */
int netif_set_mac(const char *name, const char *mac);
/* ADDR (dotted quad) with PREFIX bits of netmask. */
int netif_set_ipv4(const char *name, const char *addr, unsigned prefix);
int netif_set_up(const char *name, bool up);
/* The first name FMT ("virbr%u") gives for 0..255 that no interface has. */
int netif_free_name(const char *fmt, char *buf, unsigned len);

#endif
