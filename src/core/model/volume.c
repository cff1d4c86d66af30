/* libvirt storage volume XML: parse, normalise (sizes in bytes), format. */
#include "core/model/pool.h"

#include <stdlib.h>
#include <string.h>

#include <libxml/tree.h>

#include "core/base/err.h"
#include "core/xml/xml-util.h"

static int parse_volume_body(struct volume *v, xmlNodePtr root, const char *origin)
{
    v->type = xml_prop(root, "type");
    xmlNodePtr name = xml_child(root, "name");
    v->name = xml_text(name);
    if (!name)
        return xml_err(origin, root, "name", "missing");
    if (!*v->name || strchr(v->name, '/'))
        return xml_err(origin, name, NULL, "invalid volume name '%s'", v->name);
    v->key = xml_child_text(root, "key");

    xmlNodePtr cap = xml_child(root, "capacity");
    if (!cap)
        return xml_err(origin, root, "capacity", "missing");
    if (xml_size_bytes(cap, origin, &v->capacity_bytes) < 0)
        return -1;
    xmlNodePtr alloc = xml_child(root, "allocation");
    if (alloc && xml_size_bytes(alloc, origin, &v->allocation_bytes) < 0)
        return -1;
    if (!alloc)
        v->allocation_bytes = v->capacity_bytes; /* libvirt: all of it, unless told */

    xmlNodePtr target = xml_child(root, "target");
    v->target_path = xml_child_text(target, "path");
    v->format = xml_child_prop(target, "format", "type");
    xmlNodePtr backing = xml_child(root, "backingStore");
    v->backing_path = xml_child_text(backing, "path");
    v->backing_format = xml_child_prop(backing, "format", "type");
    if (backing && xml_child(backing, NULL) && !v->backing_path)
        return xml_err(origin, backing, "backingStore path", "missing");
    return 0;
}

int volume_parse(const char *xml, size_t len, const char *origin, struct volume **out)
{
    *out = NULL;
    if (!origin)
        origin = "<volume>";
    xmlDocPtr doc = xml_read(xml, len, origin, "volume");
    if (!doc)
        return -1;
    struct volume *v = calloc(1, sizeof(*v));
    if (!v) {
        xmlFreeDoc(doc);
        return err_set("%s: out of memory", origin);
    }
    v->doc = doc;
    if (parse_volume_body(v, xmlDocGetRootElement(doc), origin) < 0) {
        volume_free(v);
        return -1;
    }
    *out = v;
    return 0;
}

char *volume_format(const struct volume *v)
{
    return xml_format_doc(v->doc);
}

void volume_free(struct volume *v)
{
    if (!v)
        return;
    char *s[] = {v->name,   v->key,          v->type,          v->target_path,
                 v->format, v->backing_path, v->backing_format};
    for (size_t i = 0; i < sizeof(s) / sizeof(s[0]); i++)
        free(s[i]);
    xmlFreeDoc(v->doc);
    free(v);
}
