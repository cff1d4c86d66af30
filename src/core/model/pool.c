/* libvirt storage pool XML: parse, normalise (uuid, sizes in bytes), format. */
#include "core/model/pool.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/base/err.h"
#include "core/xml/xml-util.h"

static int parse_sizes(struct pool *p, xmlNodePtr root, const char *origin)
{
    struct {
        const char *elem;
        uint64_t *out;
    } sizes[] = {{"capacity", &p->capacity_bytes},
                 {"allocation", &p->allocation_bytes},
                 {"available", &p->available_bytes}};
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        xmlNodePtr n = xml_child(root, sizes[i].elem);
        if (n && xml_size_bytes(n, origin, sizes[i].out) < 0)
            return -1;
    }
    return 0;
}

/* <protocol ver='N'/>: the NFS version a netfs pool mounts with (nfsvers=N). */
static int parse_protocol_ver(struct pool *p, xmlNodePtr src, const char *origin)
{
    xmlNodePtr proto = xml_child(src, "protocol");
    char *ver = xml_prop(proto, "ver");
    if (!ver)
        return 0;
    char *end = NULL;
    unsigned long v = ver[0] >= '0' && ver[0] <= '9' ? strtoul(ver, &end, 10) : 0;
    int rc = 0;
    if (!end || *end || v == 0 || v > 9)
        rc =
            xml_err(origin, proto, "protocol ver", "'%s' is malformed (an NFS version: 3, 4)", ver);
    else
        p->source_protocol_ver = (unsigned)v;
    free(ver);
    return rc;
}

static int parse_source(struct pool *p, xmlNodePtr root, const char *origin)
{
    xmlNodePtr src = xml_child(root, "source");
    p->source_device = xml_child_prop(src, "device", "path");
    p->source_host = xml_child_prop(src, "host", "name");
    p->source_dir = xml_child_prop(src, "dir", "path");
    p->source_name = xml_child_text(src, "name");
    p->source_format = xml_child_prop(src, "format", "type");
    if (parse_protocol_ver(p, src, origin) < 0)
        return -1;
    /* What each pool type cannot work without (libvirt's checks). */
    if (!strcmp(p->type, "fs") && !p->source_device)
        return xml_err(origin, src ? src : root, "source device", "missing (needed by fs pools)");
    if (!strcmp(p->type, "netfs") && (!p->source_host || !p->source_dir))
        return xml_err(origin, src ? src : root, "source",
                       "netfs pools need <host name=...> and <dir path=...>");
    if (!strcmp(p->type, "logical") && !p->source_name && !p->source_device)
        return xml_err(origin, src ? src : root, "source name",
                       "missing (logical pools need a volume group name)");
    return 0;
}

/* As libvirt cleans a pool's target path: runs of '/' become one and a
 * trailing '/' goes ("///var//lib/x/" is "/var/lib/x"), so the path
 * compares equal to the kernel's mount table and to volume keys. */
static void sanitize_path(char *path)
{
    char *w = path;
    for (const char *r = path; *r; r++)
        if (!(*r == '/' && w > path && w[-1] == '/'))
            *w++ = *r;
    if (w > path + 1 && w[-1] == '/')
        w--;
    *w = 0;
}

/* <fs:mount_opts><fs:option name=.../> (libvirt's storagepool fs
 * namespace): extra options for a netfs or fs mount, each a plain word. */
static int parse_mount_opts(struct pool *p, xmlNodePtr root, const char *origin)
{
    static const char fs_ns[] = "http://libvirt.org/schemas/storagepool/fs/1.0";
    for (xmlNodePtr n = root->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || !n->ns || !xmlStrEqual(n->ns->href, BAD_CAST fs_ns) ||
            !xmlStrEqual(n->name, BAD_CAST "mount_opts"))
            continue;
        for (xmlNodePtr o = n->children; o; o = o->next) {
            if (o->type != XML_ELEMENT_NODE || !xmlStrEqual(o->name, BAD_CAST "option"))
                continue;
            char *name = xml_prop(o, "name");
            bool ok = name && *name && strlen(name) < 64;
            for (const char *c = name; ok && *c; c++)
                ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
                     (*c >= '0' && *c <= '9') || strchr("_-.=", *c);
            size_t have = p->mount_opts ? strlen(p->mount_opts) : 0;
            char *joined = ok && have + strlen(name) < 1024
                               ? realloc(p->mount_opts, have + strlen(name) + 2)
                               : NULL;
            if (!joined) {
                int rc = xml_err(origin, o, "mount option", "'%s' is not a plain mount option",
                                 name ? name : "");
                free(name);
                return rc;
            }
            sprintf(joined + have, "%s%s", have ? "," : "", name);
            p->mount_opts = joined;
            free(name);
        }
    }
    return 0;
}

static int parse_target(struct pool *p, xmlNodePtr root, const char *origin)
{
    xmlNodePtr target = xml_child(root, "target");
    xmlNodePtr path = xml_child(target, "path");
    p->target_path = xml_text(path);
    if (p->target_path && p->target_path[0] == '/') {
        sanitize_path(p->target_path);
        xml_set_child_text(target, "path", p->target_path, NULL);
    }
    static const char *const needs_target[] = {"dir", "fs", "netfs", NULL};
    if (!p->target_path && !xml_in_list(p->type, needs_target))
        return 0; /* logical: libvirt derives /dev/VG; network pools have none */
    if (!p->target_path || !*p->target_path)
        return xml_err(origin, path ? path : (target ? target : root), "target path", "missing");
    if (p->target_path[0] != '/')
        return xml_err(origin, path, "target path", "'%s' is not an absolute path", p->target_path);
    return 0;
}

/* libvirt names a pool without <name> after its source (a volume group,
 * an rbd pool ...) when it has one. */
static int name_from_source(xmlNodePtr root)
{
    if (xml_child(root, "name"))
        return 0;
    char *src = xml_child_text(xml_child(root, "source"), "name");
    if (!src)
        return 0;
    xmlNodePtr n = xmlNewDocNode(root->doc, NULL, BAD_CAST "name", NULL);
    if (n)
        xmlNodeSetContent(n, BAD_CAST src);
    free(src);
    if (!n || !xml_insert_after(root, NULL, n))
        return err_set("out of memory");
    return 0;
}

int pool_parse(const char *xml, size_t len, const char *origin, struct pool **out)
{
    *out = NULL;
    if (!origin)
        origin = "<pool>";
    xmlDocPtr doc = xml_read(xml, len, origin, "pool");
    if (!doc)
        return -1;
    struct pool *p = calloc(1, sizeof(*p));
    if (!p) {
        xmlFreeDoc(doc);
        return err_set("%s: out of memory", origin);
    }
    p->doc = doc;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    /* Every type libvirt knows is kept; tvm runs dir, fs and logical
     * (src/core/pool) and refuses the others when started. */
    static const char *const types[] = {"dir",      "fs",           "netfs", "logical",  "disk",
                                        "iscsi",    "iscsi-direct", "scsi",  "mpath",    "rbd",
                                        "sheepdog", "gluster",      "zfs",   "vstorage", NULL};
    p->type = xml_prop(root, "type");
    int rc = 0;
    if (!p->type)
        rc = xml_err(origin, root, "pool type", "missing");
    else if (!xml_in_list(p->type, types))
        rc = xml_err(origin, root, "pool type",
                     "unknown value '%s' (dir, fs, netfs, logical, disk, iscsi, "
                     "iscsi-direct, scsi, mpath, rbd, sheepdog, gluster, zfs, vstorage)",
                     p->type);
    if (rc == 0)
        rc = name_from_source(root);
    if (rc == 0)
        rc = xml_name_uuid(root, origin, &p->name, p->uuid);
    if (rc == 0)
        rc = parse_sizes(p, root, origin);
    if (rc == 0)
        rc = parse_source(p, root, origin);
    if (rc == 0)
        rc = parse_target(p, root, origin);
    if (rc == 0)
        rc = parse_mount_opts(p, root, origin);
    if (rc < 0) {
        pool_free(p);
        return -1;
    }
    *out = p;
    return 0;
}

char *pool_format(const struct pool *p)
{
    return xml_format_doc(p->doc);
}

void pool_free(struct pool *p)
{
    if (!p)
        return;
    char *s[] = {p->name,       p->type,        p->target_path,   p->source_device, p->source_host,
                 p->source_dir, p->source_name, p->source_format, p->mount_opts};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        free(s[i]);
    xmlFreeDoc(p->doc);
    free(p);
}
