#include "core/xml/xml-util.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "core/base/name.h"
#include "core/base/err.h"
#include "core/xml/units.h"
#include "core/base/uuid.h"

/* The first error libxml2 raises while parsing: later ones are usually
 * consequences of it and would only confuse the user. */
struct xml_first_error {
    bool seen;
    long line;
    char msg[512];
};

static void xml_capture_error(void *data, xmlErrorPtr e)
{
    xmlParserCtxtPtr ctxt = data;
    struct xml_first_error *fe = ctxt ? ctxt->_private : NULL;
    if (!fe || fe->seen || !e || e->level < XML_ERR_ERROR)
        return;
    fe->seen = true;
    fe->line = e->line;
    snprintf(fe->msg, sizeof(fe->msg), "%s", e->message ? e->message : "malformed XML");
    /* libxml2 messages end with a newline; ours are one line. */
    size_t n = strlen(fe->msg);
    while (n > 0 && (fe->msg[n - 1] == '\n' || fe->msg[n - 1] == ' '))
        fe->msg[--n] = '\0';
}

static bool xml_all_blank(const xmlChar *s)
{
    for (; s && *s; s++)
        if (!isspace(*s))
            return false;
    return true;
}

/* NOBLANKS keeps whitespace inside elements without element children
 * (<ip ...>\n  </ip>); drop those too so the output indents cleanly. */
static void xml_strip_blanks(xmlNodePtr n)
{
    xmlNodePtr c = n->children;
    while (c) {
        xmlNodePtr next = c->next;
        if (c->type == XML_TEXT_NODE && xml_all_blank(c->content)) {
            xmlUnlinkNode(c);
            xmlFreeNode(c);
        } else if (c->type == XML_ELEMENT_NODE) {
            xml_strip_blanks(c);
        }
        c = next;
    }
}

xmlDocPtr xml_read(const char *xml, size_t len, const char *origin, const char *root)
{
    if (len > INT_MAX)
        return err_set("%s: document too large", origin), NULL;
    xmlInitParser(); /* idempotent; makes later use from threads safe */
    xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
    if (!ctxt)
        return err_set("%s: out of memory", origin), NULL;
    struct xml_first_error fe = {0};
    ctxt->_private = &fe;
    ctxt->sax->serror = xml_capture_error;
    /* No NOENT: entities are not substituted from outside; NONET: no fetches. */
    int opts = XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
               XML_PARSE_NOCDATA;
    xmlDocPtr doc = xmlCtxtReadMemory(ctxt, xml, (int)len, origin, NULL, opts);
    bool ok = ctxt->wellFormed && !fe.seen;
    if (!ok && !fe.seen) {
        xmlErrorPtr e = xmlCtxtGetLastError(ctxt);
        if (e)
            xml_capture_error(ctxt, e);
    }
    xmlFreeParserCtxt(ctxt);
    if (!doc || !ok) {
        xmlFreeDoc(doc);
        if (fe.seen)
            err_set("%s:%ld: parse error: %s", origin, fe.line, fe.msg);
        else
            err_set("%s: parse error: malformed XML", origin);
        return NULL;
    }
    /* libvirt XML has no DTD; entities from one could expand without bound
     * when read and would dangle once the DTD is dropped on output. */
    if (doc->intSubset || doc->extSubset) {
        xmlFreeDoc(doc);
        return err_set("%s: <!DOCTYPE> is not accepted in libvirt XML", origin), NULL;
    }
    xmlNodePtr r = xmlDocGetRootElement(doc);
    if (!r) {
        xmlFreeDoc(doc);
        return err_set("%s: empty document, expected <%s>", origin, root), NULL;
    }
    xml_strip_blanks(r);
    if (!xml_is(r, root)) {
        err_set("%s:%ld: expected <%s>, found <%s>", origin, xml_line(r), root,
                (const char *)r->name);
        xmlFreeDoc(doc);
        return NULL;
    }
    return doc;
}

long xml_line(xmlNodePtr n)
{
    return n ? xmlGetLineNo(n) : 0;
}

/* libvirt's own elements have no namespace; <qemu:commandline> and the
 * like are someone else's and never match a libvirt name. */
bool xml_is(xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && !n->ns &&
           (!name || xmlStrEqual(n->name, BAD_CAST name));
}

xmlNodePtr xml_next(xmlNodePtr n, const char *name)
{
    for (n = n ? n->next : NULL; n; n = n->next)
        if (xml_is(n, name))
            return n;
    return NULL;
}

xmlNodePtr xml_child(xmlNodePtr parent, const char *name)
{
    if (!parent)
        return NULL;
    xmlNodePtr c = parent->children;
    return xml_is(c, name) ? c : xml_next(c, name);
}

size_t xml_count(xmlNodePtr parent, const char *name)
{
    size_t n = 0;
    for (xmlNodePtr c = xml_child(parent, name); c; c = xml_next(c, name))
        n++;
    return n;
}

char *xml_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* Copy an xmlChar string into malloc'd memory (xmlFree may differ from free). */
static char *xml_take(xmlChar *s)
{
    if (!s)
        return NULL;
    char *copy = strdup((const char *)s);
    xmlFree(s);
    return copy;
}

char *xml_prop(xmlNodePtr n, const char *attr)
{
    return n ? xml_take(xmlGetNoNsProp(n, BAD_CAST attr)) : NULL;
}

char *xml_text(xmlNodePtr n)
{
    return n ? xml_take(xmlNodeGetContent(n)) : NULL;
}

char *xml_child_text(xmlNodePtr parent, const char *name)
{
    return xml_text(xml_child(parent, name));
}

char *xml_child_prop(xmlNodePtr parent, const char *child, const char *attr)
{
    return xml_prop(xml_child(parent, child), attr);
}

int xml_err(const char *origin, xmlNodePtr n, const char *what, const char *fmt, ...)
{
    char msg[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    const char *elem = what ? what : (n ? (const char *)n->name : "?");
    long line = xml_line(n);
    if (line > 0)
        return err_set("%s:%ld: <%s>: %s", origin, line, elem, msg);
    return err_set("%s: <%s>: %s", origin, elem, msg);
}

int xml_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    if (!s)
        return -1;
    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

int xml_parse_int(const char *s, int min, int max, int *out)
{
    if (!s)
        return -1;
    errno = 0;
    char *end;
    long v = strtol(s, &end, 10);
    while (isspace((unsigned char)*end))
        end++;
    if (end == s || errno || *end || v < min || v > max)
        return -1;
    *out = (int)v;
    return 0;
}

int xml_parse_yesno(const char *s, bool *out)
{
    if (s && (!strcmp(s, "yes") || !strcmp(s, "on")))
        *out = true;
    else if (s && (!strcmp(s, "no") || !strcmp(s, "off")))
        *out = false;
    else
        return -1;
    return 0;
}

xmlNodePtr xml_insert_after(xmlNodePtr parent, xmlNodePtr after, xmlNodePtr n)
{
    if (after)
        return xmlAddNextSibling(after, n);
    if (parent->children)
        return xmlAddPrevSibling(parent->children, n);
    return xmlAddChild(parent, n);
}

xmlNodePtr xml_set_child_text(xmlNodePtr parent, const char *name, const char *text,
                              xmlNodePtr after)
{
    xmlNodePtr c = xml_child(parent, name);
    if (!c) {
        c = xmlNewDocNode(parent->doc, NULL, BAD_CAST name, NULL);
        if (!c)
            return NULL;
        if (after)
            xmlAddNextSibling(after, c);
        else
            xmlAddChild(parent, c);
    }
    /* xmlNodeSetContent wants entity-encoded text; encode it ourselves. */
    xmlChar *enc = xmlEncodeSpecialChars(parent->doc, BAD_CAST text);
    xmlNodeSetContent(c, enc);
    xmlFree(enc);
    return c;
}

void xml_remove_children(xmlNodePtr parent, const char *name)
{
    xmlNodePtr c = xml_child(parent, name);
    while (c) {
        xmlNodePtr next = xml_next(c, name);
        xmlUnlinkNode(c);
        xmlFreeNode(c);
        c = next;
    }
}

int xml_set_prop(xmlNodePtr n, const char *attr, const char *value)
{
    if (!xmlSetProp(n, BAD_CAST attr, BAD_CAST value))
        return err_set("cannot set attribute %s: out of memory", attr);
    return 0;
}

int xml_set_prop_after(xmlNodePtr n, const char *attr, const char *value, const char *after)
{
    xmlAttrPtr a = xmlSetProp(n, BAD_CAST attr, BAD_CAST value);
    if (!a)
        return err_set("cannot set attribute %s: out of memory", attr);
    xmlAttrPtr prev = after ? xmlHasProp(n, BAD_CAST after) : NULL;
    if (prev == a || (prev && prev->next == a) || (!prev && n->properties == a))
        return 0;
    /* Unlink a from the attribute list ... */
    if (a->prev)
        a->prev->next = a->next;
    else
        n->properties = a->next;
    if (a->next)
        a->next->prev = a->prev;
    /* ... and link it after prev, or first. */
    a->prev = prev;
    a->next = prev ? prev->next : n->properties;
    if (a->next)
        a->next->prev = a;
    if (prev)
        prev->next = a;
    else
        n->properties = a;
    return 0;
}

bool xml_in_list(const char *value, const char *const *allowed)
{
    for (; value && *allowed; allowed++)
        if (!strcmp(value, *allowed))
            return true;
    return false;
}

int xml_name_uuid(xmlNodePtr root, const char *origin, char **name, char uuid[37])
{
    xmlNodePtr n = xml_child(root, "name");
    if (!n)
        return xml_err(origin, root, "name", "missing");
    *name = xml_text(n);
    if (name_check(*name) < 0)
        return xml_err(origin, n, NULL, "%s", err_msg());
    xmlNodePtr u = xml_child(root, "uuid");
    if (u) {
        char *text = xml_text(u);
        int rc = uuid_parse(text, uuid);
        if (rc < 0)
            xml_err(origin, u, NULL, "invalid '%s'", text ? text : "");
        free(text);
        if (rc < 0)
            return -1;
    } else {
        if (uuid_generate(uuid) < 0)
            return -1;
        u = xml_insert_after(root, n, xmlNewDocNode(root->doc, NULL, BAD_CAST "uuid", NULL));
        if (!u)
            return err_set("out of memory");
    }
    xmlNodeSetContent(u, BAD_CAST uuid);
    return 0;
}

int xml_size_bytes(xmlNodePtr n, const char *origin, uint64_t *bytes)
{
    char *text = xml_text(n), *unit = xml_prop(n, "unit");
    int rc = units_parse_bytes(text, unit, bytes);
    if (rc < 0)
        xml_err(origin, n, NULL, "%s", err_msg());
    free(text);
    free(unit);
    if (rc < 0)
        return -1;
    char buf[32];
    snprintf(buf, sizeof(buf), "%" PRIu64, *bytes);
    xmlNodeSetContent(n, BAD_CAST buf);
    return xml_set_prop(n, "unit", "bytes");
}
