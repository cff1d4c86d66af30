/* What a running virtual network needs besides its bridge: nftables rules
 * (through libnftables, one transaction each) and a dnsmasq for DHCP and
 * DNS, configured the way libvirt configures its own. */
#include "core/virt/network-run-priv.h"
#include "core/base/err.h"
#include "core/base/proc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <nftables/libnftables.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DNSMASQ_STOP_MS 3000

/* ---- nftables ---- */

/* "tvm_" and the network's UUID without its dashes: unique per network
 * (bridge names that differ only in punctuation once shared one table), and
 * all letters and digits, as an nft identifier must be. */
static void nft_table(const struct network *n, char *buf, size_t len)
{
    size_t at = (size_t)snprintf(buf, len, "tvm_");
    for (const char *p = n->uuid; *p && at + 1 < len; p++)
        if (*p != '-')
            buf[at++] = *p;
    buf[at] = 0;
}

/* "192.168.122.0/24" of the network's IPv4 address. */
static int ipv4_subnet(const struct network_ip *ip, char *buf, size_t len)
{
    int prefix = network_ip_prefix(ip);
    struct in_addr a;
    if (prefix < 0 || inet_pton(AF_INET, ip->address, &a) != 1)
        return err_set("network address %s: bad address or netmask", ip->address);
    uint32_t mask = network_prefix_mask(prefix);
    a.s_addr = htonl(ntohl(a.s_addr) & mask);
    char net[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &a, net, sizeof net);
    snprintf(buf, len, "%s/%d", net, prefix);
    return 0;
}

static int nft_run(const char *cmds, const char *what)
{
    struct nft_ctx *nft = nft_ctx_new(NFT_CTX_DEFAULT);
    if (!nft)
        return err_set("%s: cannot set up libnftables", what);
    nft_ctx_buffer_output(nft);
    nft_ctx_buffer_error(nft);
    int rc = nft_run_cmd_from_buffer(nft, cmds);
    if (rc != 0) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", nft_ctx_get_error_buffer(nft));
        msg[strcspn(msg, "\n")] = 0;
        nft_ctx_free(nft);
        return err_set("%s: nftables: %s", what, msg[0] ? msg : "failed");
    }
    nft_ctx_free(nft);
    return 0;
}

/* The forward chain: libvirt's rules. NAT lets replies in and everything
 * from the subnet out; route lets both ways; isolated lets nothing through
 * but traffic between the guests on the bridge. */
static void forward_rules(const struct network *n, const char *table, const char *subnet, char *buf,
                          size_t len)
{
    const char *br = n->bridge;
    buf[0] = 0;
    if (network_forward_is(n, "nat"))
        snprintf(buf, len,
                 "add rule inet %1$s forward ip daddr %2$s oifname \"%3$s\" ct state "
                 "established,related accept\n"
                 "add rule inet %1$s forward ip saddr %2$s iifname \"%3$s\" accept\n",
                 table, subnet, br);
    else if (network_forward_is(n, "route"))
        snprintf(buf, len,
                 "add rule inet %1$s forward ip daddr %2$s oifname \"%3$s\" accept\n"
                 "add rule inet %1$s forward ip saddr %2$s iifname \"%3$s\" accept\n",
                 table, subnet, br);
}

int network_nft_apply(const struct network *n)
{
    const struct network_ip *ip = network_ipv4(n);
    char table[64], subnet[64] = "", rules[1024], cmds[4096];
    nft_table(n, table, sizeof table);
    if (ip && ipv4_subnet(ip, subnet, sizeof subnet) < 0)
        return -1;
    if (!ip && (network_forward_is(n, "nat") || network_forward_is(n, "route")))
        return err_set("network '%s': %s forwarding needs an IPv4 address", n->name,
                       n->forward_mode);
    forward_rules(n, table, subnet, rules, sizeof rules);
    int len = snprintf(cmds, sizeof cmds,
                       "add table inet %1$s\n"
                       "delete table inet %1$s\n"
                       "add table inet %1$s\n"
                       "add chain inet %1$s forward { type filter hook forward priority filter; "
                       "policy accept; }\n"
                       "%2$s"
                       "add rule inet %1$s forward iifname \"%3$s\" oifname \"%3$s\" accept\n"
                       "add rule inet %1$s forward oifname \"%3$s\" reject\n"
                       "add rule inet %1$s forward iifname \"%3$s\" reject\n",
                       table, rules, n->bridge);
    if (network_forward_is(n, "nat")) {
        char out[64] = "";
        if (n->forward_dev)
            snprintf(out, sizeof out, "oifname \"%s\" ", n->forward_dev);
        len += snprintf(cmds + len, sizeof cmds - (size_t)len,
                        "add chain inet %1$s postrouting { type nat hook postrouting priority "
                        "srcnat; policy accept; }\n"
                        "add rule inet %1$s postrouting ip saddr %2$s ip daddr 224.0.0.0/24 return\n"
                        "add rule inet %1$s postrouting ip saddr %2$s ip daddr 255.255.255.255 "
                        "return\n"
                        "add rule inet %1$s postrouting %3$sip saddr %2$s ip daddr != %2$s "
                        "masquerade\n",
                        table, subnet, out);
    }
    if (len < 0 || (size_t)len >= sizeof cmds)
        return err_set("network '%s': nftables rules too long", n->name);
    char what[300];
    snprintf(what, sizeof what, "network '%s'", n->name);
    return nft_run(cmds, what);
}

int network_nft_remove(const struct network *n)
{
    char table[64], cmds[256], what[300];
    nft_table(n, table, sizeof table);
    snprintf(cmds, sizeof cmds, "add table inet %1$s\ndelete table inet %1$s\n", table);
    snprintf(what, sizeof what, "network '%s'", n->name);
    return nft_run(cmds, what);
}

/* ---- dnsmasq ---- */

static int write_conf(const struct network *n, const char *dir, char *path, size_t len)
{
    snprintf(path, len, "%s/dnsmasq.conf", dir);
    /* 0600: it names every <host>; dnsmasq reads it as root. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
    if (!f) {
        if (fd >= 0)
            close(fd);
        return err_errno("cannot write %s", path);
    }
    fchmod(fd, 0600); /* one left by an older tvm */
    const struct network_ip *ip = network_ipv4(n);
    /* Leases stay in dnsmasq's memory (leasefile-ro): the dnsmasq user it
     * drops to may not write below tvm's run directory. */
    fprintf(f,
            "# written by tvm for network '%s'; rewritten at every net-start\n"
            "strict-order\n"
            "pid-file=%s/dnsmasq.pid\n"
            "except-interface=lo\n"
            "bind-dynamic\n"
            "interface=%s\n"
            "leasefile-ro\n",
            n->name, dir, n->bridge);
    if (n->domain_name)
        fprintf(f, "domain=%s\nexpand-hosts\nlocal=/%s/\n", n->domain_name, n->domain_name);
    if (ip && ip->dhcp_start && ip->dhcp_end) {
        char mask[INET_ADDRSTRLEN] = "";
        int prefix = network_ip_prefix(ip);
        struct in_addr m = {.s_addr = htonl(network_prefix_mask(prefix))};
        inet_ntop(AF_INET, &m, mask, sizeof mask);
        fprintf(f, "dhcp-range=%s,%s,%s\ndhcp-no-override\ndhcp-authoritative\n", ip->dhcp_start,
                ip->dhcp_end, mask);
    }
    for (size_t i = 0; ip && i < ip->nhosts; i++) {
        const struct network_dhcp_host *h = &ip->hosts[i];
        fprintf(f, "dhcp-host=%s%s%s%s%s\n", h->mac ? h->mac : "", h->mac && h->ip ? "," : "",
                h->ip ? h->ip : "", h->name ? "," : "", h->name ? h->name : "");
    }
    if (fclose(f) != 0)
        return err_errno("cannot write %s", path);
    return 0;
}

int network_dnsmasq_pid(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/dnsmasq.pid", dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    int pid = 0;
    if (fscanf(f, "%d", &pid) != 1)
        pid = 0;
    fclose(f);
    if (pid <= 0 || kill(pid, 0) < 0)
        return 0;
    /* a pid reused by something else is not our dnsmasq */
    char exe[64], comm[64] = "";
    snprintf(exe, sizeof exe, "/proc/%d/comm", pid);
    f = fopen(exe, "re");
    if (f) {
        if (!fgets(comm, sizeof comm, f))
            comm[0] = 0;
        fclose(f);
    }
    return strncmp(comm, "dnsmasq", 7) == 0 ? pid : 0;
}

int network_dnsmasq_start(const struct network *n, const char *dir)
{
    char conf[4096], errlog[4096];
    if (write_conf(n, dir, conf, sizeof conf) < 0)
        return -1;
    snprintf(errlog, sizeof errlog, "%s/dnsmasq.err", dir);
    pid_t pid = fork();
    if (pid < 0)
        return err_errno("cannot start dnsmasq");
    if (pid == 0) {
        int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            dup2(fd, 2);
            dup2(fd, 1);
        }
        char arg[4200];
        snprintf(arg, sizeof arg, "--conf-file=%s", conf);
        execl("/usr/sbin/dnsmasq", "dnsmasq", arg, (char *)NULL);
        execlp("dnsmasq", "dnsmasq", arg, (char *)NULL);
        fprintf(stderr, "dnsmasq: %s (install dnsmasq-base)\n", strerror(errno));
        _exit(127);
    }
    /* dnsmasq forks into the background once it serves; the first process
     * exits non-zero, with the reason on stderr, when it cannot. */
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return err_errno("waiting for dnsmasq");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* dnsmasq starts its message with an empty line: take the first real one */
        char msg[512] = "";
        FILE *f = fopen(errlog, "re");
        while (f && !msg[0] && fgets(msg, sizeof msg, f))
            msg[strcspn(msg, "\n")] = 0;
        if (f)
            fclose(f);
        return err_set("network '%s': dnsmasq failed: %s", n->name,
                       msg[0] ? msg : "no reason given");
    }
    if (network_dnsmasq_pid(dir) == 0)
        return err_set("network '%s': dnsmasq started but wrote no pid file", n->name);
    return 0;
}

int network_dnsmasq_stop(const char *dir)
{
    /* The pidfd is opened before the pid is checked: the process checked
     * is then the one every signal below reaches, and a dnsmasq that exits
     * during the wait is seen gone even if its pid is reused at once. */
    int pid = network_dnsmasq_pid(dir);
    int pidfd = proc_open(pid);
    if (pidfd < 0)
        return 0;
    if (network_dnsmasq_pid(dir) != pid) { /* not (or no longer) that dnsmasq */
        close(pidfd);
        return 0;
    }
    proc_signal(pidfd, SIGTERM);
    if (!proc_wait_exit(pidfd, DNSMASQ_STOP_MS))
        proc_signal(pidfd, SIGKILL);
    /* Gone means reaped, as before: its pid no longer shows. */
    proc_wait_reaped(pidfd, pid, DNSMASQ_STOP_MS);
    close(pidfd);
    return 0;
}
