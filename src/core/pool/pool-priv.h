/* Shared by the backends whose volumes are files in a directory (dir, fs). */
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

#endif
