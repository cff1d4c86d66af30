/* Shared libxml2 helpers for the libvirt XML parsers (domain, network,
 * pool, volume, snapshot): reading a document with line-numbered errors,
 * element/attribute getters, in-place edits and virsh-style output.
 *
 * Error messages follow one shape so users can find the fault:
 *   "web.xml:12: parse error: ..."          (malformed XML)
 *   "web.xml:7: <memory>: invalid value 'abc'"   (a field)
 */
#ifndef TVM_CORE_XML_UTIL_H
#define TVM_CORE_XML_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libxml/tree.h>

/* Parse `xml` (no network, no external entities, blank text dropped so the
 * output can be re-indented) and check the root element is `<root>`.
 * NULL with "origin:LINE: ..." in err_msg() on failure. */
xmlDocPtr xml_read(const char *xml, size_t len, const char *origin, const char *root);

/* The document as virsh prints it: root element only, 2-space indent,
 * no XML declaration, trailing newline. Caller frees. NULL on failure. */
char *xml_format_doc(xmlDocPtr doc);
/* virsh's `--xpath EXPR [--wrap]`: the nodes EXPR selects in the document
 * `xml`, one per line as they stand in it, or copied under one <nodes>
 * element with `wrap`. An expression that selects no nodes (a string, a
 * number) or does not parse is an error. Caller frees; NULL with err_msg(). */
char *xml_xpath_dump(const char *xml, const char *expr, bool wrap);
/* TEXT with the five XML entities escaped, as xml_format_doc() writes
 * attribute values (ATTR: newlines and tabs as references too) and text. */
void xml_put_escaped(FILE *f, const char *text, bool attr);

/* Line of `n` in the source (0 for nodes added after parsing). */
long xml_line(xmlNodePtr n);

/* Element lookups match libvirt's un-namespaced elements only. */
/* First element child of `parent` named `name` (NULL: any element). */
xmlNodePtr xml_child(xmlNodePtr parent, const char *name);
/* Next element sibling after `n` named `name` (NULL: any element). */
xmlNodePtr xml_next(xmlNodePtr n, const char *name);
/* Number of element children named `name`. */
size_t xml_count(xmlNodePtr parent, const char *name);
bool xml_is(xmlNodePtr n, const char *name);

/* malloc'd copies (free()), NULL when absent. */
char *xml_prop(xmlNodePtr n, const char *attr);
char *xml_text(xmlNodePtr n);                              /* whole text content */
char *xml_child_text(xmlNodePtr parent, const char *name); /* text of first child `name` */
char *xml_child_prop(xmlNodePtr parent, const char *child, const char *attr);
char *xml_strdup(const char *s); /* NULL-safe strdup */

/* "origin:LINE: <elem>: " + message; returns -1. `what` is the element (or
 * "elem attr") named in the message, NULL to use n's own name. */
int xml_err(const char *origin, xmlNodePtr n, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Decimal unsigned integer with optional surrounding blanks; -1 if invalid
 * or above `max`. */
int xml_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* Signed decimal integer in [min, max]. */
int xml_parse_int(const char *s, int min, int max, int *out);
/* yes/no (also on/off) into a bool. */
int xml_parse_yesno(const char *s, bool *out);

/* Set the text of child `name` of `parent`, creating it after `after`
 * (or as last child when `after` is NULL) if absent. Returns the child. */
xmlNodePtr xml_set_child_text(xmlNodePtr parent, const char *name, const char *text,
                              xmlNodePtr after);
/* Remove (and free) every child `name` of `parent`. */
void xml_remove_children(xmlNodePtr parent, const char *name);
/* Insert `n` right after `after`, or first in `parent` when `after` is NULL. */
xmlNodePtr xml_insert_after(xmlNodePtr parent, xmlNodePtr after, xmlNodePtr n);
int xml_set_prop(xmlNodePtr n, const char *attr, const char *value);
/* Set `attr` and place it right after attribute `after` (first when NULL or
 * absent), so added defaults sit where libvirt writes them. */
int xml_set_prop_after(xmlNodePtr n, const char *attr, const char *value, const char *after);

/* <name> (required, checked as name_check) and <uuid> (canonicalised,
 * or generated and inserted right after <name> as libvirt does). */
int xml_name_uuid(xmlNodePtr root, const char *origin, char **name, char uuid[37]);

/* A storage size element (<capacity unit='G'>10</capacity>): bytes, default
 * unit bytes, rewritten as unit='bytes' the way virsh prints it. */
int xml_size_bytes(xmlNodePtr n, const char *origin, uint64_t *bytes);

/* Value checked against a NULL-terminated list; names the allowed ones on error. */
bool xml_in_list(const char *value, const char *const *allowed);

#endif
