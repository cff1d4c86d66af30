/* Size units exactly as libvirt reads them (virScaleInteger):
 * b/byte/bytes = 1; a letter alone or with "iB" (K, KiB, M, MiB ... E, EiB)
 * is a power of 1024; a letter with "B" (KB, MB ... EB) a power of 1000.
 * The letter is case-insensitive, the "B"/"iB" suffix is not. */
#ifndef TVM_CORE_UNITS_H
#define TVM_CORE_UNITS_H

#include <stdint.h>

/* Bytes per `unit`; `default_scale` when unit is NULL or "". -1 with
 * "unknown unit 'XB'" in err_msg() if the unit is not one libvirt knows. */
int units_scale(const char *unit, uint64_t default_scale, uint64_t *scale);

/* value * scale(unit) into *bytes; refused above `limit` bytes
 * ("value too large"). Errors carry no location: callers prefix it. */
int units_to_bytes(uint64_t value, const char *unit, uint64_t default_scale, uint64_t limit,
                   uint64_t *bytes);

/* Parse "1024" + unit as libvirt parses <memory>: default KiB, at most
 * LLONG_MAX bytes, rounded up to whole KiB. */
int units_parse_memory_kib(const char *text, const char *unit, uint64_t *kib);

/* Parse a storage size (capacity, allocation): default bytes, up to 2^64-1. */
int units_parse_bytes(const char *text, const char *unit, uint64_t *bytes);

#endif
