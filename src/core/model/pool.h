/* libvirt storage pool and storage volume XML. */
#ifndef TVM_CORE_POOL_H
#define TVM_CORE_POOL_H

#include "core/model/domain.h"

struct pool {
    char *name;
    char uuid[UUID_STR_LEN];
    char *type;        /* dir | fs | netfs | logical */
    char *target_path; /* <target><path> */
    char *source_device;     /* fs/logical <source><device path=...> */
    char *source_host;       /* netfs */
    char *source_dir;        /* netfs */
    char *source_name;       /* logical VG name */
    char *source_format;     /* <source><format type=...> */
    unsigned source_protocol_ver; /* netfs <source><protocol ver=...>; 0 if not given */
    char *mount_opts;             /* <fs:mount_opts> as "a,b"; NULL if none */
    uint64_t capacity_bytes; /* as last seen; 0 if unknown */
    uint64_t allocation_bytes;
    uint64_t available_bytes;
    void *doc;
};

int pool_parse(const char *xml, size_t len, const char *origin, struct pool **out);
char *pool_format(const struct pool *p);
void pool_free(struct pool *p);

struct volume {
    char *name;
    char *key;               /* path for dir pools */
    char *type;              /* file | block ... */
    uint64_t capacity_bytes; /* units converted exactly */
    uint64_t allocation_bytes;
    char *target_path;
    char *format;       /* raw | qcow2 ... */
    char *backing_path; /* <backingStore><path> */
    char *backing_format;
    void *doc;
};

int volume_parse(const char *xml, size_t len, const char *origin, struct volume **out);
char *volume_format(const struct volume *v);
void volume_free(struct volume *v);

#endif
