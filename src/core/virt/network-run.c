/* Starting and stopping virtual networks (see network-run.h). A start that
 * fails half-way takes back what it did, so the host is left as it was. */
#include "core/virt/network-run.h"
#include "core/base/err.h"
#include "core/base/netif.h"
#include "core/virt/network-run-priv.h"
#include "core/base/paths.h"
#include "store/store.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NET_ERR_ACTIVE "Requested operation is not valid: network is already active"
#define NET_ERR_INACTIVE "Requested operation is not valid: network is not active"

/* Modes that get a bridge of tvm's own. */
static bool owns_bridge(const struct network *n)
{
    return network_forward_is(n, NULL) || network_forward_is(n, "nat") ||
           network_forward_is(n, "route") || network_forward_is(n, "open");
}

static int run_dir(const char *name, char *buf, size_t len)
{
    if ((size_t)snprintf(buf, len, "%s/network/%s", paths_rundir(), name) >= len)
        return err_set("run directory name too long");
    return 0;
}

static int load(struct store *st, const char *name_or_uuid, struct store_object_row *row,
                struct network **n)
{
    char *xml;
    if (store_network_get_row(st, name_or_uuid, row) < 0 ||
        store_network_get_xml(st, row->uuid, &xml) < 0)
        return -1;
    char origin[300];
    snprintf(origin, sizeof origin, "network '%s'", row->name);
    int rc = network_parse(xml, strlen(xml), origin, n);
    free(xml);
    return rc;
}

static int write_sysctl(const char *path, const char *value)
{
    FILE *f = fopen(path, "we");
    if (!f)
        return err_errno("cannot open %s", path);
    int rc = fputs(value, f) < 0 ? -1 : 0;
    if (fclose(f) != 0 || rc < 0)
        return err_errno("cannot write %s", path);
    return 0;
}

/* A bridge name for a network without one, stored with it (libvirt picks
 * one at define; tvm at the first start, like PCI addresses). */
static int pick_bridge(struct store *st, struct network *n)
{
    if (n->bridge && *n->bridge)
        return 0;
    char name[16];
    if (netif_free_name("virbr%u", name, sizeof name) < 0 || network_set_bridge(n, name) < 0)
        return -1;
    return store_network_update(st, n);
}

/* The new bridge's MAC, STP and address, and up. */
static int bridge_configure(const struct network *n)
{
    const struct network_ip *ip = network_ipv4(n);
    if ((n->mac[0] && netif_set_mac(n->bridge, n->mac) < 0) ||
        netif_bridge_set_stp(n->bridge, n->stp, n->delay) < 0 ||
        (ip && netif_set_ipv4(n->bridge, ip->address, (unsigned)network_ip_prefix(ip)) < 0))
        return -1;
    return netif_set_up(n->bridge, true);
}

/* Everything a started network has, in reverse order; errors are kept
 * quiet (a stop goes as far as it can). */
static void take_down(const struct network *n, const char *dir)
{
    if (!owns_bridge(n))
        return;
    network_dnsmasq_stop(dir);
    if (!network_forward_is(n, "open"))
        network_nft_remove(n);
    if (netif_exists(n->bridge))
        netif_bridge_del(n->bridge);
    char path[PATH_MAX + 32];
    static const char *const files[] = {"dnsmasq.conf", "dnsmasq.pid", "dnsmasq.err"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
}

/* take_down() after a failure, keeping the failure's message; returns -1. */
static int undo(const struct network *n, const char *dir)
{
    char msg[ERR_MSG_MAX];
    snprintf(msg, sizeof msg, "%s", err_msg());
    take_down(n, dir);
    return err_set("%s", msg);
}

static int bring_up(const struct network *n, const char *dir)
{
    if (network_forward_is(n, "bridge")) {
        if (!n->bridge || !netif_is_bridge(n->bridge))
            return err_set("network '%s': host bridge '%s' does not exist", n->name,
                           n->bridge ? n->bridge : "");
        return 0;
    }
    if (!owns_bridge(n))
        return err_set("network '%s': forward mode '%s' is not supported", n->name,
                       n->forward_mode);
    if (netif_exists(n->bridge))
        return err_set("network '%s': bridge name '%s' is already in use", n->name, n->bridge);
    /* 0700 throughout: dnsmasq.conf lists every host's MAC and name, and
     * dnsmasq reads it as root before it drops privileges. */
    char parent[PATH_MAX];
    snprintf(parent, sizeof parent, "%s/network", paths_rundir());
    if (paths_rundir_ready() < 0 || paths_mkdir_p(parent, 0700) < 0 ||
        paths_mkdir_p(dir, 0700) < 0)
        return -1;
    /* From here on take_down() undoes it all; not before: a bridge that
     * could not be made may be somebody else's of the same name. */
    if (netif_bridge_add(n->bridge) < 0) {
        rmdir(dir);
        return -1;
    }
    bool forwards = network_forward_is(n, "nat") || network_forward_is(n, "route");
    if (bridge_configure(n) < 0 || (!network_forward_is(n, "open") && network_nft_apply(n) < 0) ||
        (forwards && write_sysctl("/proc/sys/net/ipv4/ip_forward", "1\n") < 0) ||
        (network_ipv4(n) && network_dnsmasq_start(n, dir) < 0))
        return undo(n, dir);
    return 0;
}

int network_reconcile(struct store *st, struct store_object_row *row)
{
    if (!row->active)
        return 0;
    /* row->detail is the bridge name the store indexes */
    if (row->detail[0] && netif_is_bridge(row->detail))
        return 0;
    /* What is left of it (a dnsmasq, the rules) goes too. */
    struct store_object_row again;
    struct network *n = NULL;
    char dir[PATH_MAX];
    if (load(st, row->uuid, &again, &n) == 0 && run_dir(n->name, dir, sizeof dir) == 0)
        take_down(n, dir);
    network_free(n);
    row->active = false;
    if (store_network_set_active(st, row->uuid, false) < 0)
        return -1;
    return store_event_add(st, "network", row->name, "stopped", "its bridge is gone");
}

/* The network, reconciled with the host, and its run directory; an error
 * unless it is active (WANT_ACTIVE) or inactive. *n is the caller's to free. */
static int load_checked(struct store *st, const char *name_or_uuid, bool want_active,
                        struct store_object_row *row, struct network **n, char *dir, size_t len)
{
    if (load(st, name_or_uuid, row, n) < 0 || network_reconcile(st, row) < 0)
        return -1;
    if (row->active != want_active)
        return err_set(row->active ? NET_ERR_ACTIVE : NET_ERR_INACTIVE);
    return run_dir((*n)->name, dir, len);
}

int network_start(struct store *st, const char *name_or_uuid)
{
    struct store_object_row row;
    struct network *n = NULL;
    char dir[PATH_MAX];
    int rc = load_checked(st, name_or_uuid, false, &row, &n, dir, sizeof dir);
    if (rc == 0 && owns_bridge(n))
        rc = pick_bridge(st, n);
    if (rc == 0)
        rc = bring_up(n, dir);
    if (rc == 0 && (store_network_set_active(st, row.uuid, true) < 0 ||
                    store_event_add(st, "network", n->name, "started", n->bridge) < 0))
        rc = undo(n, dir);
    network_free(n);
    return rc;
}

int network_destroy(struct store *st, const char *name_or_uuid)
{
    struct store_object_row row;
    struct network *n = NULL;
    char dir[PATH_MAX];
    int rc = load_checked(st, name_or_uuid, true, &row, &n, dir, sizeof dir);
    if (rc == 0) {
        take_down(n, dir);
        if (store_network_set_active(st, row.uuid, false) < 0 ||
            store_event_add(st, "network", n->name, "stopped", "destroyed") < 0)
            rc = -1;
    }
    network_free(n);
    return rc;
}

int network_bridge_for(struct store *st, const char *name, char *bridge, size_t len)
{
    struct store_object_row row;
    struct network *n = NULL;
    if (load(st, name, &row, &n) < 0)
        return -1;
    int rc = network_reconcile(st, &row);
    if (rc == 0 && !row.active) {
        if (row.autostart)
            rc = network_start(st, row.uuid);
        else
            rc = err_set("Requested operation is not valid: network '%s' is not active "
                         "(tvm net-start %s)",
                         row.name, row.name);
        if (rc == 0) { /* the bridge may have been picked just now */
            network_free(n);
            rc = load(st, name, &row, &n);
        }
    }
    if (rc == 0 && (!n->bridge || (size_t)snprintf(bridge, len, "%s", n->bridge) >= len))
        rc = err_set("network '%s' has no bridge", row.name);
    network_free(n);
    return rc;
}
