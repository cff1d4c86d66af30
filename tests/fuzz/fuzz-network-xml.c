/* Network XML: network_parse -> network_format -> network_parse agree (see
 * fuzz-xml.h), and the helpers net-start relies on accept what the parser
 * accepted. */
#include "fuzz-xml.h"

#include "core/model/network.h"

static int parse(const char *xml, size_t len, void **out)
{
    struct network *n = NULL;
    int rc = network_parse(xml, len, "fuzz.xml", &n);
    *out = n;
    return rc;
}

static char *format(const void *obj)
{
    return network_format(obj);
}

static void free_obj(void *obj)
{
    network_free(obj);
}

static void extra(void *obj)
{
    struct network *n = obj;
    for (size_t i = 0; i < n->nips; i++) {
        int prefix = network_ip_prefix(&n->ips[i]);
        if (prefix >= 0 && prefix <= 32)
            (void)network_prefix_mask(prefix);
    }
    (void)network_ipv4(n);
    (void)network_forward_is(n, "nat");
}

static const struct fuzz_xml_kind kind = {"network", parse, format, free_obj, extra};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_xml_one(&kind, data, size);
}
