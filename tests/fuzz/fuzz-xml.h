/* The property every libvirt XML parser must have, whatever the bytes:
 * no crash, no leak, a refusal always says why, and what it accepted
 * formats to text that parses again and formats to the same text (the
 * stored XML is what dumpxml prints; it must survive a define of itself). */
#ifndef TVM_TESTS_FUZZ_XML_H
#define TVM_TESTS_FUZZ_XML_H

#include "fuzz-util.h"

#include "core/base/err.h"

/* One document kind; each target wraps its typed functions in these. */
struct fuzz_xml_kind {
    const char *what;
    int (*parse)(const char *xml, size_t len, void **out);
    char *(*format)(const void *obj);
    void (*free)(void *obj);
    /* More of the API on an accepted object (may be NULL). */
    void (*extra)(void *obj);
};

static inline int fuzz_xml_one(const struct fuzz_xml_kind *k, const uint8_t *data, size_t size)
{
    void *a = NULL;
    err_clear();
    if (k->parse((const char *)data, size, &a) < 0) {
        if (a)
            fuzz_fail("%s: parse failed but returned an object", k->what);
        if (!err_msg()[0])
            fuzz_fail("%s: refused without a message", k->what);
        return 0;
    }
    char *text = k->format(a);
    if (!text)
        fuzz_fail("%s: accepted, then format failed: %s", k->what, err_msg());
    void *b = NULL;
    if (k->parse(text, strlen(text), &b) < 0)
        fuzz_fail("%s: its own output is refused: %s\n--- output ---\n%s", k->what, err_msg(),
                  text);
    char *again = k->format(b);
    if (!again)
        fuzz_fail("%s: reparsed, then format failed: %s", k->what, err_msg());
    if (strcmp(text, again) != 0)
        fuzz_fail("%s: format is not stable\n--- first ---\n%s\n--- second ---\n%s", k->what,
                  text, again);
    if (k->extra)
        k->extra(a);
    free(again);
    free(text);
    k->free(a);
    k->free(b);
    return 0;
}

#endif
