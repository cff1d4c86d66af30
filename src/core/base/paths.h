/* Where tvm keeps things on the host. */
#ifndef TVM_CORE_PATHS_H
#define TVM_CORE_PATHS_H

#include <stddef.h>

/* $TVM_RUNDIR, else /run/tvm as root, else $XDG_RUNTIME_DIR/tvm, else /tmp/tvm-$UID.
 * One directory per running guest below it: RUNDIR/<uuid>/{control.sock,console.sock,vmm.pid,...} */
const char *paths_rundir(void);
/* mkdir -p with the given mode for the last component. */
int paths_mkdir_p(const char *path, unsigned mode);
/* Directory holding the running tvm binary (to find tvm-vmm beside it). */
int paths_self_dir(char *buf, size_t len);

#endif
