/* netfs pools: a network file system (NFS, CIFS, GlusterFS) mounted on the
 * target directory, holding image files as a dir pool does. As libvirt
 * does: build makes the directory, start runs `mount -t FORMAT SOURCE
 * TARGET -o nodev,nosuid,noexec[,nfsvers=N][,<fs:mount_opts>]` (CIFS as a
 * guest), stop unmounts. The export's host and path reach mount's command
 * line, so both are checked to be plain names first. */
#include "core/pool/pool-priv.h"
#include "core/base/err.h"

#include <stdio.h>
#include <string.h>

/* <source><format type=...>: libvirt's netfs formats; "auto" is NFS. */
static const char *netfs_format(const struct pool *p)
{
    const char *f = p->source_format && *p->source_format ? p->source_format : "auto";
    return strcmp(f, "auto") ? f : "nfs";
}

/* A host name or an IPv4/IPv6 address: letters, digits, '.', '-', ':'
 * (and brackets around IPv6), never a leading '-'. */
static bool host_ok(const char *h)
{
    if (!h || !*h || h[0] == '-' || strlen(h) > 253)
        return false;
    for (const char *c = h; *c; c++) {
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              strchr(".-:[]", *c)))
            return false;
    }
    return true;
}

/* An absolute export path with nothing mount could read as an option
 * separator or that a shell-less argv would still mangle. */
static bool dir_ok(const char *d)
{
    if (!d || d[0] != '/' || strlen(d) > 1024)
        return false;
    for (const char *c = d; *c; c++) {
        if ((unsigned char)*c < 0x20 || *c == 0x7f || strchr(",\\\"'` ", *c))
            return false;
    }
    return true;
}

static int netfs_check_source(const struct pool *p)
{
    static const char *const formats[] = {"nfs", "cifs", "glusterfs", NULL};
    if (!host_ok(p->source_host))
        return err_set("pool '%s': source host '%s' is not a host name or address", p->name,
                       p->source_host ? p->source_host : "");
    if (!dir_ok(p->source_dir))
        return err_set("pool '%s': source path '%s' must be an absolute path without spaces, "
                       "commas, quotes or backslashes",
                       p->name, p->source_dir ? p->source_dir : "");
    const char *f = netfs_format(p);
    for (size_t i = 0; formats[i]; i++)
        if (!strcmp(f, formats[i]))
            return 0;
    return err_set("pool '%s': netfs format '%s' is not one tvm mounts (auto, nfs, cifs, "
                   "glusterfs)",
                   p->name, f);
}

static int netfs_build(const struct pool *p, unsigned flags)
{
    (void)flags; /* nothing is formatted here: the file system is the server's */
    return filevol_make_dir(p->target_path);
}

static bool netfs_is_up(const struct pool *p)
{
    return pool_is_mounted(p->target_path);
}

/* mount's source: HOST:DIR for NFS and GlusterFS, //HOST/DIR for CIFS. */
static void netfs_source(const struct pool *p, char *buf, size_t len)
{
    if (!strcmp(netfs_format(p), "cifs"))
        snprintf(buf, len, "//%s/%s", p->source_host, p->source_dir + 1);
    else
        snprintf(buf, len, "%s:%s", p->source_host, p->source_dir);
}

/* libvirt's options: never devices, set-uid programs or executables from
 * a server; an NFS version when the XML names one; CIFS without a user. */
static void netfs_options(const struct pool *p, char *buf, size_t len)
{
    const char *f = netfs_format(p);
    int n = snprintf(buf, len, "nodev,nosuid,noexec");
    if (!strcmp(f, "nfs") && p->source_protocol_ver && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, ",nfsvers=%u", p->source_protocol_ver);
    if (!strcmp(f, "cifs") && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, ",guest");
    else if (!strcmp(f, "glusterfs") && n > 0 && (size_t)n < len)
        n += snprintf(buf + n, len - (size_t)n, ",direct-io-mode=1");
    if (p->mount_opts && n > 0 && (size_t)n < len)
        snprintf(buf + n, len - (size_t)n, ",%s", p->mount_opts);
}

static int netfs_start(const struct pool *p)
{
    if (netfs_check_source(p) < 0)
        return -1;
    if (!filevol_dir_exists(p->target_path))
        return err_set("cannot mount on '%s': it does not exist (tvm pool-build %s makes it)",
                       p->target_path, p->name);
    if (netfs_is_up(p))
        return err_set("pool '%s': something is already mounted on '%s'", p->name, p->target_path);
    char src[1400], opts[1200];
    netfs_source(p, src, sizeof src);
    netfs_options(p, opts, sizeof opts);
    const char *argv[] = {"mount", "-t", netfs_format(p), src, p->target_path, "-o", opts, NULL};
    return pool_run(argv, NULL);
}

static int netfs_stop(const struct pool *p)
{
    return pool_unmount(p->target_path);
}

const struct pool_backend pool_backend_netfs = {
    .type = "netfs",
    .build = netfs_build,
    .start = netfs_start,
    .stop = netfs_stop,
    .is_up = netfs_is_up,
    FILEVOL_POOL_OPS,
};
