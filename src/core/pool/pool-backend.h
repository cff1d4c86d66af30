/* Storage pools on this host: one backend per pool type (pool-dir.c,
 * pool-fs.c, pool-logical.c), each a table of operations, as kvmtool keeps
 * one file per device. The backends act on the host (directories, mounts,
 * LVM volume groups, image files) and report what they find; recording it
 * in the inventory is the commands' work, so this layer never touches the
 * store. Every call returns 0, or -1 with a message in err.h.
 *
 * Everything a backend puts on a command line (names, paths, sizes) has
 * been checked before (pool_check_* below and the model's parsers).
 */
#ifndef TVM_CORE_POOL_POOL_BACKEND_H
#define TVM_CORE_POOL_POOL_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/model/pool.h"

/* pool-build flags (virsh's --overwrite / --no-overwrite). */
#define POOL_BUILD_OVERWRITE 0x1u
#define POOL_BUILD_NO_OVERWRITE 0x2u

struct pool_sizes {
    uint64_t capacity, allocation, available;
};

/* One volume as the host has it. */
struct pool_vol {
    char *name;
    char *path;
    char *type;   /* file | block */
    char *format; /* raw | qcow2 */
    uint64_t capacity, allocation;
    char *backing_path; /* as the image names it; NULL without one */
    char *backing_format;
};

/* What vol-create-as (and vol-create) ask for. */
struct pool_vol_spec {
    const char *name;
    uint64_t capacity;   /* 0 with a backing volume: its size */
    uint64_t allocation; /* raw: bytes reserved up front (libvirt: all of it unless told) */
    const char *format;  /* raw | qcow2; NULL: the pool's default */
    const char *backing_path;
    const char *backing_format;
    bool prealloc_metadata;
};

struct pool_backend {
    const char *type;
    /* Prepare the pool's storage: the target directory, a file system, a VG. */
    int (*build)(const struct pool *p, unsigned flags);
    int (*start)(const struct pool *p);
    int (*stop)(const struct pool *p);
    /* Undo build (the pool is inactive): remove the directory, the VG. */
    int (*remove)(const struct pool *p);
    /* Whether the pool's storage is up (a mounted file system, an active VG). */
    bool (*is_up)(const struct pool *p);
    int (*sizes)(const struct pool *p, struct pool_sizes *out);
    /* Every volume there now, whoever made it. *vols malloc'd (pool_vols_free). */
    int (*list)(const struct pool *p, struct pool_vol **vols, size_t *n);
    /* Creates the volume; *path malloc'd. Refuses an existing name. */
    int (*vol_create)(const struct pool *p, const struct pool_vol_spec *spec, char **path);
    int (*vol_delete)(const struct pool *p, const char *path);
    /* New virtual size; shrinking only when SHRINK. */
    int (*vol_resize)(const struct pool *p, const char *path, const char *format, uint64_t size,
                      bool shrink);
    /* Reads the volume at PATH as list() would report it. */
    int (*vol_stat)(const struct pool *p, const char *path, struct pool_vol *out);
};

/* The backend for a pool type; -1 with "pool type 'iscsi' is not supported
 * by tvm (dir, fs, netfs, logical)" for the types that are parsed and stored only. */
int pool_backend_find(const char *type, const struct pool_backend **out);

/* The directory volumes live in: <target><path>, or /dev/VG for a logical
 * pool without one. */
const char *pool_target(const struct pool *p, char *buf, size_t len);

void pool_vol_clear(struct pool_vol *v);
void pool_vols_free(struct pool_vol *v, size_t n);

/* A volume name tvm will put in a path or on a command line: a name
 * (core/base/name.h) that is also not "." or "..", starts with no '-', and
 * has no shell or LVM surprises. */
int pool_check_vol_name(const char *name);

/* Runs ARGV (argv[0] looked up in PATH) with no shell and waits. Its
 * stdout goes to *out (malloc'd) when out is not NULL. A nonzero exit is
 * -1 with "PROG: <its last stderr line>". */
int pool_run(const char *const argv[], char **out);

#endif
