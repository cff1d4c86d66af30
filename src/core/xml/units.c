#include "core/xml/units.h"

#include <ctype.h>
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "core/base/err.h"
#include "core/xml/xml-util.h"

int units_scale(const char *unit, uint64_t default_scale, uint64_t *scale)
{
    if (!unit || !*unit) {
        *scale = default_scale;
        return 0;
    }
    if (!strcasecmp(unit, "b") || !strcasecmp(unit, "byte") || !strcasecmp(unit, "bytes")) {
        *scale = 1;
        return 0;
    }
    uint64_t base;
    if (!unit[1] || !strcasecmp(unit + 1, "iB"))
        base = 1024;
    else if (unit[1] == 'B' && !unit[2])
        base = 1000;
    else
        return err_set("unknown unit '%s'", unit);
    static const char letters[] = "kmgtpe";
    const char *at = strchr(letters, tolower((unsigned char)unit[0]));
    if (!at || !unit[0])
        return err_set("unknown unit '%s'", unit);
    uint64_t s = 1;
    for (long i = 0; i <= at - letters; i++)
        s *= base;
    *scale = s;
    return 0;
}

int units_to_bytes(uint64_t value, const char *unit, uint64_t default_scale, uint64_t limit,
                   uint64_t *bytes)
{
    uint64_t scale;
    if (units_scale(unit, default_scale, &scale) < 0)
        return -1;
    if (value && value > limit / scale)
        return err_set("value too large");
    *bytes = value * scale;
    return 0;
}

int units_parse_memory_kib(const char *text, const char *unit, uint64_t *kib)
{
    uint64_t v, bytes = 0;
    if (xml_parse_u64(text, UINT64_MAX, &v) < 0)
        return err_set("invalid value '%s'", text ? text : "");
    if (units_to_bytes(v, unit, 1024, LLONG_MAX, &bytes) < 0)
        return -1;
    /* libvirt keeps memory in KiB and rounds partial KiB up. */
    *kib = bytes / 1024 + (bytes % 1024 != 0);
    return 0;
}

int units_parse_bytes(const char *text, const char *unit, uint64_t *bytes)
{
    uint64_t v;
    if (xml_parse_u64(text, UINT64_MAX, &v) < 0)
        return err_set("invalid value '%s'", text ? text : "");
    return units_to_bytes(v, unit, 1, UINT64_MAX, bytes);
}
