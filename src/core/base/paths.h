/* Where tvm keeps things on the host. */
#ifndef TVM_CORE_PATHS_H
#define TVM_CORE_PATHS_H

#include <stddef.h>

/* $TVM_RUNDIR, else /run/tvm as root, else $XDG_RUNTIME_DIR/tvm, else /tmp/tvm-$UID.
 * One directory per running guest below it: RUNDIR/<uuid>/{control.sock,console.sock,vmm.pid,...} */
const char *paths_rundir(void);
/* Creates the run directory (0700) if needed and checks it: a directory,
 * not a symlink, owned by the effective uid, writable by nobody else (a
 * mode only too open to reading is set to 0700). -1 with a message naming
 * it otherwise. Call before putting anything in it. */
int paths_rundir_ready(void);
/* mkdir -p with the given mode for the last component. */
int paths_mkdir_p(const char *path, unsigned mode);
/* Directory holding the running tvm binary (to find tvm-vmm beside it). */
int paths_self_dir(char *buf, size_t len);

#endif
