/* virsh-style output of a libvirt XML document (see xml_format_doc). */
#include "core/xml/xml-util.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base/err.h"

/* The serialiser mirrors libvirt's own formatter (virXMLFormat...): single
 * quoted attributes, the five XML entities escaped in attributes and text,
 * 2-space indentation, text-only elements on one line. Elements holding text
 * among other children (mixed content) are written as they are, unindented,
 * so their text never changes. */
void xml_put_escaped(FILE *f, const char *text, bool attr)
{
    for (const unsigned char *s = (const unsigned char *)text; s && *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '\'':
            fputs("&apos;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        case '\n':
        case '\t':
        case '\r':
            /* Kept literally in text; in attributes they would be
             * normalised to spaces on reading, so they go as references. */
            if (attr || *s == '\r')
                fprintf(f, "&#%d;", *s);
            else
                fputc(*s, f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void put_qname(FILE *f, xmlNsPtr ns, const xmlChar *name)
{
    if (ns && ns->prefix)
        fprintf(f, "%s:", (const char *)ns->prefix);
    fputs((const char *)name, f);
}

static void put_node(FILE *f, xmlNodePtr n, int depth, bool format);

static bool named(xmlNodePtr n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && !n->ns && !strcmp((const char *)n->name, name);
}

/* A domain's <metadata> is foreign XML that libvirt writes with libxml2's
 * own serialiser (xmlNodeDump: double quotes, its escaping), so tvm does
 * the same. */
static bool put_metadata(FILE *f, xmlNodePtr n, int depth)
{
    if (!named(n, "metadata") || !named(n->parent, "domain") ||
        n->parent->parent != (xmlNodePtr)n->doc)
        return false;
    xmlBufferPtr buf = xmlBufferCreate();
    int indent = xmlIndentTreeOutput;
    xmlIndentTreeOutput = 1;
    int rc = buf ? xmlNodeDump(buf, n->doc, n, depth, 1) : -1;
    xmlIndentTreeOutput = indent;
    if (rc >= 0)
        fputs((const char *)xmlBufferContent(buf), f);
    xmlBufferFree(buf);
    return rc >= 0;
}

static void put_element(FILE *f, xmlNodePtr n, int depth, bool format)
{
    if (put_metadata(f, n, depth))
        return;
    fputc('<', f);
    put_qname(f, n->ns, n->name);
    for (xmlNsPtr ns = n->nsDef; ns; ns = ns->next) {
        fputs(ns->prefix ? " xmlns:" : " xmlns", f);
        if (ns->prefix)
            fputs((const char *)ns->prefix, f);
        fputs("='", f);
        xml_put_escaped(f, (const char *)ns->href, true);
        fputc('\'', f);
    }
    for (xmlAttrPtr a = n->properties; a; a = a->next) {
        xmlChar *v = xmlNodeGetContent((xmlNodePtr)a);
        fputc(' ', f);
        put_qname(f, a->ns, a->name);
        fputs("='", f);
        xml_put_escaped(f, (const char *)v, true);
        fputc('\'', f);
        xmlFree(v);
    }
    if (!n->children && named(n, "redirdev") && format) {
        /* libvirt 9.0 writes an empty <redirdev> open and closed on two lines */
        fprintf(f, ">\n%*s</redirdev>", 2 * depth, "");
        return;
    }
    if (!n->children) {
        fputs("/>", f);
        return;
    }
    /* Indent the children only when none of them is text. */
    bool indent = format;
    for (xmlNodePtr c = n->children; c && indent; c = c->next)
        if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE ||
            c->type == XML_ENTITY_REF_NODE)
            indent = false;
    fputc('>', f);
    for (xmlNodePtr c = n->children; c; c = c->next) {
        if (indent)
            fprintf(f, "\n%*s", 2 * (depth + 1), "");
        put_node(f, c, depth + 1, indent);
    }
    if (indent)
        fprintf(f, "\n%*s", 2 * depth, "");
    fputs("</", f);
    put_qname(f, n->ns, n->name);
    fputc('>', f);
}

static void put_node(FILE *f, xmlNodePtr n, int depth, bool format)
{
    switch (n->type) {
    case XML_ELEMENT_NODE:
        put_element(f, n, depth, format);
        break;
    case XML_TEXT_NODE:
        xml_put_escaped(f, (const char *)n->content, false);
        break;
    case XML_CDATA_SECTION_NODE:
        fprintf(f, "<![CDATA[%s]]>", n->content ? (const char *)n->content : "");
        break;
    case XML_COMMENT_NODE:
        fprintf(f, "<!--%s-->", n->content ? (const char *)n->content : "");
        break;
    case XML_PI_NODE:
        fprintf(f, "<?%s%s%s?>", (const char *)n->name, n->content ? " " : "",
                n->content ? (const char *)n->content : "");
        break;
    case XML_ENTITY_REF_NODE:
        fprintf(f, "&%s;", (const char *)n->name);
        break;
    default:
        break; /* nothing else can sit inside an element */
    }
}

char *xml_format_doc(xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    if (!root)
        return err_set("cannot format XML: empty document"), NULL;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return err_errno("cannot format XML"), NULL;
    put_node(f, root, 0, true);
    fputc('\n', f);
    if (fclose(f) != 0) {
        free(out);
        return err_errno("cannot format XML"), NULL;
    }
    return out;
}
