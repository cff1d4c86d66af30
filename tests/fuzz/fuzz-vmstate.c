/* The saved-state file reader (core/proto/vmstate-file.h) over hostile
 * bytes, read as tvm-vmm's migrate-incoming reads it: header, every
 * section (small ones into memory, "ram" in pieces), the checksum at the
 * end; each small section's payload is then read field by field as the
 * loaders do.
 *
 * Properties: no crash or out-of-bounds access (ASan); a read that fails
 * says why; a file that reads to its end has a checksum that matched
 * (which random bytes almost never do: the seed corpus holds good files,
 * so mutations of their lengths and names are explored).
 */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-util.h"

#include "core/base/err.h"
#include "core/proto/vmstate-file.h"

static void read_fields(struct vsf_in *in)
{
    /* What loaders do: fields until the payload runs out. */
    for (unsigned i = 0; i < 64; i++) {
        uint64_t v;
        bool b;
        int rc = i % 3 == 0   ? vsf_get_u64(in, "f", &v)
                 : i % 3 == 1 ? vsf_get_bool(in, "b", &b)
                              : vsf_get_u8(in, "c", (uint8_t *)&v);
        if (rc < 0) {
            if (!*err_msg())
                fuzz_fail("a field read failed without a message");
            break;
        }
    }
    vsf_in_done(in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int fd = memfd_create("vsf", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (size && write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return 0;
    }
    lseek(fd, 0, SEEK_SET);
    struct vsf_reader r;
    vsf_reader_init(&r, fd, "fuzz.save");
    err_clear();
    int rc = vsf_read_header(&r);
    while (rc == 0) {
        uint64_t len;
        rc = vsf_next(&r, &len);
        if (rc != 0)
            break;
        if (strcmp(r.name, VSF_SECTION_RAM) == 0) {
            uint8_t page[4096];
            while (rc == 0 && len > 0) {
                size_t n = len < sizeof page ? (size_t)len : sizeof page;
                rc = vsf_read(&r, page, n);
                len -= n;
            }
            continue;
        }
        uint8_t *buf;
        struct vsf_in in;
        rc = vsf_read_section(&r, &buf, &in);
        if (rc == 0) {
            read_fields(&in);
            free(buf);
        }
    }
    if (rc < 0 && !strstr(err_msg(), "fuzz.save"))
        fuzz_fail("a refusal does not name the file: %s", err_msg());
    close(fd);
    return 0;
}
