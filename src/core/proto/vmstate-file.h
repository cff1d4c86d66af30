/* The saved-state file of a running guest (tvm save, managedsave): what
 * tvm-vmm writes for QMP `migrate` and reads for `migrate-incoming`, and
 * what tvm reads back (save-image-dumpxml) without a VMM.
 *
 * Layout, all little-endian:
 *   header   "TVMSTATE" (8 bytes), u32 version, u32 header size (32),
 *            16 bytes reserved (zero)
 *   sections each a 40-byte header: name (24 bytes, NUL-padded, at least
 *            one NUL), u32 flags (0), u32 reserved (0), u64 payload length;
 *            then the payload
 *   end      the section "end", payload u32 CRC-32 (zlib's) of every byte
 *            of the file before that payload; nothing may follow it.
 * Section names are unique. The first is "domain" (the domain XML the
 * guest ran with), the last before "end" is "ram". A reader refuses a file
 * with another magic or version, a section longer than the file or than
 * VSF_SECTION_MAX (but "ram"), and a checksum that does not match, naming
 * the file and the section.
 *
 * Payloads are sequences of fixed-width fields (vsf_put_* / vsf_get_*);
 * a change of any section's layout is a new VSF_VERSION.
 */
#ifndef TVM_CORE_PROTO_VMSTATE_FILE_H
#define TVM_CORE_PROTO_VMSTATE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VSF_MAGIC "TVMSTATE"
#define VSF_VERSION 1
#define VSF_HEADER_SIZE 32
#define VSF_SECTION_HEADER_SIZE 40
#define VSF_NAME_MAX 24 /* with the NUL */
/* Every section but "ram" is read into memory: bounded. */
#define VSF_SECTION_MAX (16u << 20)
#define VSF_SECTION_DOMAIN "domain"
#define VSF_SECTION_RAM "ram"
#define VSF_SECTION_END "end"

/* ---- building a payload in memory ---- */
struct vsf_out {
    uint8_t *data;
    size_t len, cap;
    bool oom; /* an append failed: the payload is unusable */
};
void vsf_put_u8(struct vsf_out *o, uint8_t v);
void vsf_put_u16(struct vsf_out *o, uint16_t v);
void vsf_put_u32(struct vsf_out *o, uint32_t v);
void vsf_put_u64(struct vsf_out *o, uint64_t v);
void vsf_put_bytes(struct vsf_out *o, const void *p, size_t n);
void vsf_out_free(struct vsf_out *o);

/* ---- reading a payload: every field checked against what is left ---- */
struct vsf_in {
    const char *section; /* for messages */
    const uint8_t *data;
    size_t len, off;
};
/* -1 with "section 'S': field 'F' is truncated" when the payload ends first. */
int vsf_get_u8(struct vsf_in *in, const char *field, uint8_t *v);
int vsf_get_u16(struct vsf_in *in, const char *field, uint16_t *v);
int vsf_get_u32(struct vsf_in *in, const char *field, uint32_t *v);
int vsf_get_u64(struct vsf_in *in, const char *field, uint64_t *v);
int vsf_get_bytes(struct vsf_in *in, const char *field, void *p, size_t n);
/* A bool field: 0 or 1, anything else refused. */
int vsf_get_bool(struct vsf_in *in, const char *field, bool *v);
/* -1 when bytes are left over (a payload of another layout). */
int vsf_in_done(const struct vsf_in *in);
/* "section 'S': field 'F' is N, out of range (...)": for the loaders' checks. */
int vsf_bad(const struct vsf_in *in, const char *field, uint64_t v, const char *why);

/* ---- writing a file on a descriptor ---- */
struct vsf_writer {
    int fd;
    uint32_t crc;
    uint64_t off;
};
void vsf_writer_init(struct vsf_writer *w, int fd);
int vsf_write_header(struct vsf_writer *w);
/* A section header; LEN bytes of payload must follow through vsf_write(). */
int vsf_section_begin(struct vsf_writer *w, const char *name, uint64_t len);
int vsf_write(struct vsf_writer *w, const void *p, size_t n);
/* A whole section from memory. */
int vsf_write_section(struct vsf_writer *w, const char *name, const struct vsf_out *o);
/* The "end" section with the checksum. */
int vsf_write_end(struct vsf_writer *w);

/* ---- reading a file from a descriptor (sequentially: a pipe works) ---- */
struct vsf_reader {
    int fd;
    const char *what; /* the file's name in messages */
    uint32_t crc;
    uint64_t off;
    uint64_t file_size; /* 0: unknown (not a regular file) */
    uint64_t left;      /* payload bytes of the current section not read yet */
    char name[VSF_NAME_MAX];
};
/* WHAT names the file in every message ("saved state FILE: ..."). */
void vsf_reader_init(struct vsf_reader *r, int fd, const char *what);
int vsf_read_header(struct vsf_reader *r);
/* The next section: 0 with r->name and *len set (the previous section's
 * payload must have been read whole); 1 after "end" with a checksum that
 * matches and nothing after it; -1 on anything else. */
int vsf_next(struct vsf_reader *r, uint64_t *len);
/* N bytes of the current section's payload. */
int vsf_read(struct vsf_reader *r, void *p, size_t n);
/* The current section's payload whole into memory (at most
 * VSF_SECTION_MAX), as a vsf_in over *buf, which the caller frees. */
int vsf_read_section(struct vsf_reader *r, uint8_t **buf, struct vsf_in *in);

/* The domain XML of the saved-state file PATH (its first section), after
 * checking header and version only: the checksum needs the whole file,
 * which save-image-dumpxml does not read. *xml is NUL-terminated, freed
 * by the caller. */
int vsf_file_domain_xml(const char *path, char **xml);
/* The same, and whether the guest ran when it was saved (the "machine"
 * section's first field), which restore brings back by default. */
int vsf_file_info(const char *path, char **xml, bool *running);

#endif
