/* Domain XML: domain_parse -> domain_format -> domain_parse agree (see
 * fuzz-xml.h), the public form formats too, and PCI slot assignment is
 * stored: once domain_assign_pci() has placed every device, the formatted
 * document parses to a domain with nothing left to place. */
#include "fuzz-xml.h"

#include "core/model/domain.h"

static int parse(const char *xml, size_t len, void **out)
{
    struct domain *d = NULL;
    int rc = domain_parse(xml, len, "fuzz.xml", &d);
    *out = d;
    return rc;
}

static char *format(const void *obj)
{
    return domain_format(obj);
}

static void free_obj(void *obj)
{
    domain_free(obj);
}

static void extra(void *obj)
{
    struct domain *d = obj;
    char *pub = domain_format_public(d);
    if (!pub)
        fuzz_fail("domain: format_public failed: %s", err_msg());
    free(pub);
    if (domain_assign_pci(d) < 0) {
        if (!err_msg()[0])
            fuzz_fail("domain: assign_pci refused without a message");
        return;
    }
    char *text = domain_format(d);
    if (!text)
        fuzz_fail("domain: format after assign_pci failed: %s", err_msg());
    struct domain *e = NULL;
    if (domain_parse(text, strlen(text), "assigned.xml", &e) < 0)
        fuzz_fail("domain: refused after assign_pci: %s\n%s", err_msg(), text);
    int again = domain_assign_pci(e);
    if (again != 0)
        fuzz_fail("domain: assign_pci on its own output gave %d (%s)\n%s", again, err_msg(), text);
    domain_free(e);
    free(text);
}

static const struct fuzz_xml_kind kind = {"domain", parse, format, free_obj, extra};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_xml_one(&kind, data, size);
}
