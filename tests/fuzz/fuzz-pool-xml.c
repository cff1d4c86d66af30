/* Pool and volume XML in one target (a storage document is one or the
 * other; the root element decides which parser accepts it): each parser
 * round-trips what it accepts (see fuzz-xml.h). Both parsers see every
 * input, so a volume fed to pool_parse is a refusal that must say why. */
#include "fuzz-xml.h"

#include "core/model/pool.h"

static int parse_pool(const char *xml, size_t len, void **out)
{
    struct pool *p = NULL;
    int rc = pool_parse(xml, len, "fuzz.xml", &p);
    *out = p;
    return rc;
}

static char *format_pool(const void *obj)
{
    return pool_format(obj);
}

static void free_pool(void *obj)
{
    pool_free(obj);
}

static int parse_volume(const char *xml, size_t len, void **out)
{
    struct volume *v = NULL;
    int rc = volume_parse(xml, len, "fuzz.xml", &v);
    *out = v;
    return rc;
}

static char *format_volume(const void *obj)
{
    return volume_format(obj);
}

static void free_volume(void *obj)
{
    volume_free(obj);
}

static const struct fuzz_xml_kind pool = {"pool", parse_pool, format_pool, free_pool, NULL};
static const struct fuzz_xml_kind volume = {"volume", parse_volume, format_volume, free_volume,
                                            NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_xml_one(&pool, data, size);
    return fuzz_xml_one(&volume, data, size);
}
