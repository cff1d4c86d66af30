/* Shared by the backends whose volumes are files in a directory (dir, fs,
 * netfs), and by those that mount their storage (fs, netfs). */
#ifndef TVM_CORE_POOL_POOL_PRIV_H
#define TVM_CORE_POOL_POOL_PRIV_H

#include "core/pool/pool-backend.h"

int filevol_sizes(const char *dir, struct pool_sizes *out);
int filevol_list(const char *dir, struct pool_vol **vols, size_t *n);
int filevol_stat(const char *path, struct pool_vol *out);
int filevol_create(const char *dir, const struct pool_vol_spec *spec, char **path);
int filevol_delete(const char *path);
int filevol_resize(const char *path, const char *format, uint64_t size, bool shrink);
/* mkdir DIR (0711, as libvirt makes pool targets) unless it is there. */
int filevol_make_dir(const char *dir);
/* rmdir DIR: refused, naming it, while it holds anything. */
int filevol_remove_dir(const char *dir);
bool filevol_dir_exists(const char *dir);

/* The same as backend table entries, on the pool's target directory. */
int filevol_pool_remove(const struct pool *p);
int filevol_pool_sizes(const struct pool *p, struct pool_sizes *out);
int filevol_pool_list(const struct pool *p, struct pool_vol **vols, size_t *n);
int filevol_pool_vol_create(const struct pool *p, const struct pool_vol_spec *spec, char **path);
int filevol_pool_vol_delete(const struct pool *p, const char *path);
int filevol_pool_vol_resize(const struct pool *p, const char *path, const char *format,
                            uint64_t size, bool shrink);
int filevol_pool_vol_stat(const struct pool *p, const char *path, struct pool_vol *out);
/* Those entries of a backend's table, for the backends that use them all. */
#define FILEVOL_POOL_OPS                                                                           \
    .remove = filevol_pool_remove, .sizes = filevol_pool_sizes, .list = filevol_pool_list,         \
    .vol_create = filevol_pool_vol_create, .vol_delete = filevol_pool_vol_delete,                  \
    .vol_resize = filevol_pool_vol_resize, .vol_stat = filevol_pool_vol_stat

/* Whether DIR is a mount point now (/proc/self/mounts). */
bool pool_is_mounted(const char *dir);
/* umount DIR when something is mounted there. */
int pool_unmount(const char *dir);

#endif
