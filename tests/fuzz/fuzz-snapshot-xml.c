/* Snapshot XML: snapshot_parse -> snapshot_format -> snapshot_parse agree
 * (see fuzz-xml.h). */
#include "fuzz-xml.h"

#include "core/model/snapshot.h"

static int parse(const char *xml, size_t len, void **out)
{
    struct snapshot *s = NULL;
    int rc = snapshot_parse(xml, len, "fuzz.xml", &s);
    *out = s;
    return rc;
}

static char *format(const void *obj)
{
    return snapshot_format(obj);
}

static void free_obj(void *obj)
{
    snapshot_free(obj);
}

static const struct fuzz_xml_kind kind = {"snapshot", parse, format, free_obj, NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_xml_one(&kind, data, size);
}
