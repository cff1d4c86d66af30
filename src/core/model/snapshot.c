/* libvirt domain snapshot XML (<domainsnapshot>): parse, format. */
#include "core/model/snapshot.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/tree.h>

#include "core/base/err.h"
#include "core/base/uuid.h"
#include "core/xml/xml-util.h"

static int parse_time(struct snapshot *s, xmlNodePtr root, const char *origin)
{
    xmlNodePtr ct = xml_child(root, "creationTime");
    if (!ct)
        return 0;
    char *text = xml_text(ct);
    uint64_t v = 0;
    int rc = 0;
    if (xml_parse_u64(text, INT64_MAX, &v) < 0)
        rc = xml_err(origin, ct, NULL, "invalid value '%s'", text ? text : "");
    free(text);
    s->creation_time = (int64_t)v;
    return rc;
}

/* libvirt names an unnamed snapshot after its creation time. */
static int parse_name(struct snapshot *s, xmlNodePtr root, const char *origin)
{
    xmlNodePtr name = xml_child(root, "name");
    if (!name) {
        char buf[32];
        snprintf(buf, sizeof(buf), "%" PRId64,
                 s->creation_time ? s->creation_time : (int64_t)time(NULL));
        name = xml_insert_after(root, NULL,
                                xmlNewDocNode(root->doc, NULL, BAD_CAST "name", BAD_CAST buf));
    }
    s->name = xml_text(name);
    if (name_check(s->name) < 0)
        return xml_err(origin, name, NULL, "%s", err_msg());
    return 0;
}

static int parse_memory_disks(struct snapshot *s, xmlNodePtr root, const char *origin)
{
    static const char *const kinds[] = {"no", "internal", "external", "manual", NULL};
    xmlNodePtr mem = xml_child(root, "memory");
    s->memory = xml_prop(mem, "snapshot");
    s->memory_file = xml_prop(mem, "file");
    if (s->memory && !xml_in_list(s->memory, kinds))
        return xml_err(origin, mem, "memory snapshot", "invalid value '%s'", s->memory);
    if (s->memory && !strcmp(s->memory, "external") && !s->memory_file)
        return xml_err(origin, mem, "memory file", "missing (external memory snapshot)");

    xmlNodePtr disks = xml_child(root, "disks");
    size_t n = xml_count(disks, "disk");
    if (n && !(s->disks = calloc(n, sizeof(*s->disks))))
        return err_set("out of memory");
    for (xmlNodePtr d = xml_child(disks, "disk"); d; d = xml_next(d, "disk")) {
        struct snapshot_disk *sd = &s->disks[s->ndisks++];
        sd->name = xml_prop(d, "name");
        sd->snapshot = xml_prop(d, "snapshot");
        sd->source = xml_child_prop(d, "source", "file");
        if (!sd->name || !*sd->name)
            return xml_err(origin, d, "disk name", "missing");
        if (sd->snapshot && !xml_in_list(sd->snapshot, kinds))
            return xml_err(origin, d, "disk snapshot", "invalid value '%s'", sd->snapshot);
    }
    return 0;
}

/* The embedded <domain> is the guest's definition at snapshot time; only its
 * uuid is needed here, the rest is kept as is. */
static int parse_domain_uuid(struct snapshot *s, xmlNodePtr root, const char *origin)
{
    xmlNodePtr uuid = xml_child(xml_child(root, "domain"), "uuid");
    if (!uuid)
        return 0;
    char *text = xml_text(uuid);
    char canon[UUID_STR_LEN];
    int rc = uuid_parse(text, canon);
    if (rc < 0)
        xml_err(origin, uuid, NULL, "invalid '%s'", text ? text : "");
    free(text);
    if (rc == 0)
        s->domain_uuid = strdup(canon);
    return rc;
}

int snapshot_parse(const char *xml, size_t len, const char *origin, struct snapshot **out)
{
    *out = NULL;
    if (!origin)
        origin = "<domainsnapshot>";
    xmlDocPtr doc = xml_read(xml, len, origin, "domainsnapshot");
    if (!doc)
        return -1;
    struct snapshot *s = calloc(1, sizeof(*s));
    if (!s) {
        xmlFreeDoc(doc);
        return err_set("%s: out of memory", origin);
    }
    s->doc = doc;
    xmlNodePtr root = xmlDocGetRootElement(doc);
    static const char *const states[] = {"nostate",       "running", "blocked", "paused",
                                         "shutdown",      "shutoff", "crashed", "pmsuspended",
                                         "disk-snapshot", NULL};
    int rc = parse_time(s, root, origin);
    if (rc == 0)
        rc = parse_name(s, root, origin);
    if (rc == 0) {
        s->description = xml_child_text(root, "description");
        xmlNodePtr state = xml_child(root, "state");
        s->state = xml_text(state);
        if (s->state && !xml_in_list(s->state, states))
            rc = xml_err(origin, state, NULL, "invalid value '%s'", s->state);
        s->parent = xml_child_text(xml_child(root, "parent"), "name");
    }
    if (rc == 0)
        rc = parse_memory_disks(s, root, origin);
    if (rc == 0)
        rc = parse_domain_uuid(s, root, origin);
    if (rc < 0) {
        snapshot_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

int snapshot_check_redefine(const struct snapshot *s, const char *origin)
{
    xmlNodePtr root = xmlDocGetRootElement(s->doc);
    if (!xml_child(root, "creationTime"))
        return err_set("%s: internal error: missing creationTime from existing snapshot", origin);
    if (!xml_child(root, "state"))
        return err_set("%s: XML error: missing state from existing snapshot", origin);
    if (!xml_child(root, "domain"))
        return err_set("%s: internal error: missing domain in snapshot", origin);
    return 0;
}

/* The snapshot's XML without its <description>; malloc'd, NULL on failure. */
static char *format_without_description(const struct snapshot *s)
{
    xmlDocPtr copy = xmlCopyDoc(s->doc, 1);
    if (!copy)
        return NULL;
    xml_remove_children(xmlDocGetRootElement(copy), "description");
    char *xml = xml_format_doc(copy);
    xmlFreeDoc(copy);
    return xml;
}

int snapshot_check_edit(const struct snapshot *before, const struct snapshot *after,
                        const char *origin)
{
    char *a = format_without_description(before), *b = format_without_description(after);
    int rc = 0;
    if (!a || !b)
        rc = err_set("%s: out of memory", origin);
    else if (strcmp(a, b) != 0)
        rc = err_set("%s: only the snapshot's <description> can be edited: its name, parent, "
                     "state, disks, memory and domain record what was taken",
                     origin);
    free(a);
    free(b);
    return rc;
}

char *snapshot_format(const struct snapshot *s)
{
    return xml_format_doc(s->doc);
}

void snapshot_free(struct snapshot *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->ndisks; i++) {
        free(s->disks[i].name);
        free(s->disks[i].snapshot);
        free(s->disks[i].source);
    }
    free(s->disks);
    char *f[] = {s->name,   s->description, s->state,      s->parent,
                 s->memory, s->memory_file, s->domain_uuid};
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        free(f[i]);
    xmlFreeDoc(s->doc);
    free(s);
}
