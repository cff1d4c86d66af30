/* Object names as libvirt allows them (domains, networks, pools, volumes,
 * snapshots): non-empty, no '/', no control characters. */
#ifndef TVM_CORE_NAME_H
#define TVM_CORE_NAME_H

/* 0, or -1 with a message saying what is wrong with `name`. */
int name_check(const char *name);

#endif
