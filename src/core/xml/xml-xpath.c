/* virsh's `--xpath EXPR [--wrap]` on a document tvm printed: the nodes the
 * expression selects, each serialised on its own and re-indented from
 * column 0, or copied under one <nodes> element with --wrap. */
#include "core/xml/xml-util.h"
#include "core/base/err.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

/* Appends one node's text to buf, newline-terminated. */
static void dump_node(xmlBufferPtr buf, xmlDocPtr doc, xmlNodePtr n)
{
    xmlNodeDump(buf, doc, n, 0, 1);
    xmlBufferCCat(buf, "\n");
}

/* Copies the selected nodes under <nodes> (attributes onto it, as libvirt
 * does) and dumps that element indented. */
static int dump_wrapped(xmlBufferPtr buf, xmlDocPtr doc, xmlNodeSetPtr set)
{
    xmlNodePtr root = xmlNewDocNode(doc, NULL, BAD_CAST "nodes", NULL);
    if (!root)
        return err_set("out of memory");
    int count = set ? set->nodeNr : 0;
    for (int i = 0; i < count; i++) {
        xmlNodePtr n = set->nodeTab[i];
        if (n->type == XML_ATTRIBUTE_NODE) {
            xmlChar *value = xmlNodeGetContent(n);
            xmlAttrPtr a = value ? xmlNewProp(root, n->name, value) : NULL;
            xmlFree(value);
            if (!a)
                goto oom;
            continue;
        }
        xmlNodePtr copy = xmlDocCopyNode(n, doc, 1);
        if (!copy || !xmlAddChild(root, copy)) {
            xmlFreeNode(copy);
            goto oom;
        }
    }
    xmlNodeDump(buf, doc, root, 0, 1);
    xmlBufferCCat(buf, "\n");
    xmlFreeNode(root);
    return 0;
oom:
    xmlFreeNode(root);
    return err_set("out of memory");
}

static int dump_result(xmlBufferPtr buf, xmlDocPtr doc, xmlXPathObjectPtr res, const char *expr,
                       bool wrap)
{
    if (res->type != XPATH_NODESET)
        return err_set("Incorrect xpath '%s'", expr);
    if (wrap)
        return dump_wrapped(buf, doc, res->nodesetval);
    for (int i = 0; res->nodesetval && i < res->nodesetval->nodeNr; i++)
        dump_node(buf, doc, res->nodesetval->nodeTab[i]);
    return 0;
}

static void silent_errors(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

char *xml_xpath_dump(const char *xml, const char *expr, bool wrap)
{
    size_t len = strlen(xml);
    if (len > INT_MAX)
        return err_set("document too large"), NULL;
    /* Blanks dropped so that each node is indented afresh, as virsh does.
     * The text is tvm's own output. */
    xmlDocPtr doc = xmlReadMemory(xml, (int)len, "xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                      XML_PARSE_NOWARNING);
    if (!doc)
        return err_set("cannot parse the document for --xpath"), NULL;
    xmlXPathContextPtr xp = xmlXPathNewContext(doc);
    xmlBufferPtr buf = xmlBufferCreate();
    char *out = NULL;
    if (!xp || !buf) {
        err_set("out of memory");
        goto done;
    }
    xmlSetGenericErrorFunc(NULL, silent_errors);
    xmlXPathObjectPtr res = xmlXPathEvalExpression(BAD_CAST expr, xp);
    xmlSetGenericErrorFunc(NULL, NULL);
    if (!res) {
        err_set("invalid XPath expression '%s'", expr);
        goto done;
    }
    if (dump_result(buf, doc, res, expr, wrap) == 0) {
        out = strdup((const char *)xmlBufferContent(buf));
        if (!out)
            err_set("out of memory");
    }
    xmlXPathFreeObject(res);
done:
    xmlBufferFree(buf);
    xmlXPathFreeContext(xp);
    xmlFreeDoc(doc);
    return out;
}
