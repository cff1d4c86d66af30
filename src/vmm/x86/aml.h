/* A tiny AML (ACPI Machine Language) byte-code emitter: just what the DSDT
 * needs (names, integers, strings, packages, scopes, devices, methods).
 * Encodings follow the ACPI spec, chapter "ACPI Machine Language (AML)
 * Specification". Package lengths are back-patched when a block closes, so
 * blocks nest naturally:
 *
 *     size_t dev = aml_device_begin(a, "C000");
 *     aml_name_string(a, "_HID", "ACPI0007");
 *     aml_block_end(a, dev);
 *
 * Errors (allocation, bad name) are sticky: check aml_failed() once at the
 * end; the message is in err_msg().
 */
#ifndef TVM_VMM_X86_AML_H
#define TVM_VMM_X86_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml {
    uint8_t *buf;
    size_t len, cap;
    bool failed;
};

void aml_init(struct aml *a);
void aml_free(struct aml *a);
bool aml_failed(const struct aml *a);

/* Raw bytes and name paths ("\\_SB_.C000", "_S5_", "_S5" padded with '_'). */
void aml_bytes(struct aml *a, const void *p, size_t n);
void aml_namestring(struct aml *a, const char *path);
/* Smallest integer encoding (ZeroOp/OneOp/Byte/Word/DWord/QWord). */
void aml_integer(struct aml *a, uint64_t v);
void aml_string(struct aml *a, const char *s);

/* Name (NAME, value) for common value kinds. */
void aml_name_integer(struct aml *a, const char *name, uint64_t v);
void aml_name_string(struct aml *a, const char *name, const char *s);
/* Name (NAME, Package () { v[0], ... }) with integer elements. */
void aml_name_package(struct aml *a, const char *name, const uint64_t *v, unsigned n);
/* Name (NAME, Buffer () { bytes }): resource templates (_CRS). */
void aml_name_buffer(struct aml *a, const char *name, const void *p, size_t n);
/* EisaId ("PNP0A08"): the compressed 32-bit form _HID/_CID take. */
uint32_t aml_eisaid(const char *id);

/* A package of N elements emitted by the caller (integers, packages):
 * Name (NAME, Package (N) { ... }) or a bare Package (N) { ... }. */
size_t aml_name_package_begin(struct aml *a, const char *name, unsigned n);
size_t aml_package_begin(struct aml *a, unsigned n);

/* Blocks: each *_begin returns a mark to hand to aml_block_end. */
size_t aml_scope_begin(struct aml *a, const char *path);
size_t aml_device_begin(struct aml *a, const char *name);
size_t aml_method_begin(struct aml *a, const char *name, unsigned nargs, bool serialized);
void aml_block_end(struct aml *a, size_t mark);

/* Method body helpers. */
void aml_return_integer(struct aml *a, uint64_t v);
/* Return (ArgN), N in 0..6 */
void aml_return_arg(struct aml *a, unsigned n);

#endif
